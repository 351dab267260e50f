/**
 * Why a token was refused. The list is fixed and documented (README, "Refusal
 * reasons"): operators grep logs for these codes, so never rename one.
 */
export const REFUSAL_REASONS = {
	token_malformed: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	algorithm_not_allowed: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	header_unsupported: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	key_unknown: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	key_unusable: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	signature_invalid: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	issuer_mismatch: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	audience_mismatch: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	claim_invalid: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	token_expired: { status: 401, code: 'TOKEN_EXPIRED', level: 'info' },
	token_not_yet_valid: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	not_machine_token: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	client_id_invalid: { status: 401, code: 'INVALID_CREDENTIALS', level: 'warn' },
	scope_missing: { status: 403, code: 'FORBIDDEN', level: 'info' },
	client_unknown: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	client_inactive: { status: 401, code: 'INVALID_CREDENTIALS', level: 'info' },
	keys_unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE', level: 'error' },
	directory_unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE', level: 'error' },
} as const satisfies Record<string, { status: 401 | 403 | 503; code: string; level: 'info' | 'warn' | 'error' }>;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/**
 * A token the hook owns was refused. `detail` is for the log only (never sent
 * to the client); it must not contain the token or its signature.
 */
/** Longest detail kept: details quote bits of the token (member names, parser messages), which an attacker sizes. */
export const MAX_DETAIL_LENGTH = 200;

export class TokenRefusedError extends Error {
	override readonly name = 'TokenRefusedError';
	readonly reason: RefusalReason;
	readonly status: 401 | 403 | 503;
	readonly code: string;
	readonly detail: string;
	/** The token's kid, once the header parsed; log-safe (short printable ASCII). */
	kid: string | undefined;

	constructor(reason: RefusalReason, detail: string, options?: { cause?: unknown }) {
		const bounded = detail.length > MAX_DETAIL_LENGTH ? `${detail.slice(0, MAX_DETAIL_LENGTH - 1)}…` : detail;
		super(`Token refused: ${reason} (${bounded})`, options);
		this.reason = reason;
		this.detail = bounded;
		this.status = REFUSAL_REASONS[reason].status;
		this.code = REFUSAL_REASONS[reason].code;
	}
}

/** Configuration that cannot work; thrown once at startup, naming the variable. */
export class ConfigError extends Error {
	override readonly name = 'ConfigError';
	readonly variable: string;

	constructor(variable: string, problem: string) {
		super(`${variable}: ${problem}`);
		this.variable = variable;
	}
}
