/**
 * Errors the CLI reports to people and scripts.
 *
 * Every failure a command can foresee is a `CliError` with a stable `code`
 * (for scripts and tests) and the process exit code that goes with it. The one
 * top-level handler in `index.ts` prints the message and exits; commands only
 * throw.
 */

/** Documented exit codes (also listed in `bcc-cc --help`). */
export const ExitCode = {
	OK: 0,
	/** An unexpected error, or one of the few errors without a class of its own. */
	UNEXPECTED: 1,
	/** Bad flags or arguments, a missing or invalid setting, an invalid client id. */
	USAGE: 2,
	/** Directus could not be reached (connection refused, DNS, timeout). */
	UNREACHABLE: 3,
	/** Directus rejected the token, or the token lacks the rights the command needs. */
	AUTH: 4,
	/** The client or role named does not exist. */
	NOT_FOUND: 5,
	/** `check`: the token would be refused (or could not be confirmed); `doctor`: a problem blocks clients. */
	REFUSED: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const EXIT_CODE_BY_ERROR_CODE = {
	USAGE: ExitCode.USAGE,
	MISSING_SETTING: ExitCode.USAGE,
	INVALID_SETTING: ExitCode.USAGE,
	INVALID_CLIENT_ID: ExitCode.USAGE,
	ROLE_AMBIGUOUS: ExitCode.USAGE,
	DIRECTUS_UNREACHABLE: ExitCode.UNREACHABLE,
	DIRECTUS_TOKEN_REJECTED: ExitCode.AUTH,
	DIRECTUS_FORBIDDEN: ExitCode.AUTH,
	ROLE_NOT_FOUND: ExitCode.NOT_FOUND,
	CLIENT_NOT_FOUND: ExitCode.NOT_FOUND,
	CLIENT_CONFLICT: ExitCode.UNEXPECTED,
	DIRECTUS_LIMIT_EXCEEDED: ExitCode.UNEXPECTED,
	DIRECTUS_ERROR: ExitCode.UNEXPECTED,
	TOKEN_REFUSED: ExitCode.REFUSED,
	PROBLEMS_FOUND: ExitCode.REFUSED,
} as const satisfies Record<string, ExitCodeValue>;

export type CliErrorCode = keyof typeof EXIT_CODE_BY_ERROR_CODE;

export interface CliErrorOptions {
	/** A second line telling the reader what to do about it. */
	hint?: string;
	cause?: unknown;
}

export class CliError extends Error {
	override readonly name = 'CliError';
	readonly code: CliErrorCode;
	readonly exitCode: ExitCodeValue;
	readonly hint: string | undefined;

	constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.code = code;
		this.exitCode = EXIT_CODE_BY_ERROR_CODE[code];
		this.hint = options.hint;
	}
}

export function isCliError(error: unknown): error is CliError {
	return error instanceof CliError;
}

/** The exit-code table as printed at the end of the root help. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected error (also: Directus refused the change, e.g. a licence limit)
  2  usage or configuration error (bad flags, missing --url/--token, invalid client id, ambiguous role)
  3  Directus unreachable (connection refused, DNS failure, timeout)
  4  token rejected by Directus, or it lacks the rights the command needs
  5  not found (unknown client or role)
  6  check: the token would be refused, or its Directus user could not be checked;
     doctor: found a problem that keeps clients out`;
