import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { ConfigError } from '../../extension/core/errors.js';
import type { VerifierConfig } from '../../extension/core/config.js';
import { addAuthOptions, AUTH_SETTINGS_HELP, loadAuthConfig, type AuthFlags } from '../auth-config.js';
import type { CommandContext, CommandDeps, GlobalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { safe, type Output } from '../output.js';
import { formatSteps } from '../report.js';
import { checkToken, describe, duration, type TokenReport } from '../token-check.js';
import { commandContext } from './shared.js';

/** Longest input read from standard input; the hook looks at tokens of at most 16 KiB. */
const MAX_INPUT_BYTES = 64 * 1024;

export interface CheckOptions extends AuthFlags {
	tokenOnly?: boolean | undefined;
}

export function registerCheckCommand(program: Command, deps: CommandDeps, io: { stdin?: Readable & { isTTY?: boolean } } = {}): Command {
	const command = program
		.command('check')
		.summary('explain, step by step, whether the hook would accept an access token')
		.description(
			'Run the hook\'s own verifier on an access token, with the hook\'s configuration (the BCC_AUTH_* variables, ' +
				'a Directus .env file, or flags), and print each step with its outcome and the reason: issuer, structure, ' +
				'header, key, signature, audience, token kind, client identifier, scopes, lifetime (with the time left). ' +
				'Then look up the Directus user the client maps to (with --url and --token): whether it exists, its ' +
				'external_identifier, its status and its role.\n\n' +
				'Exit code 0 only when the token would be accepted. The token\'s signature is never printed; its ' +
				'fingerprint matches the "token" field of the hook\'s log lines. Of a token from no configured issuer ' +
				'(not one the hook takes) only iss, alg, kid and typ are printed; claims that are secrets by nature ' +
				'(session, and any name with secret, password or refresh in it) never are.',
		)
		.argument('[token]', 'the access token; "-" or nothing: read it from standard input (keeps it out of shell history and process lists)');
	addAuthOptions(command)
		.option('--token-only', 'check the token alone, not its Directus user (then exit 0 means the verifier accepts it)')
		.option('--json', 'print the report as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ pbpaste | bcc-cc check
  $ curl -s ... | jq -r .access_token | bcc-cc check --json | jq '.steps[] | select(.status == "fail")'
  $ bcc-cc check --token-only --issuer https://tenant.eu.auth0.com/ --audience https://api.example.org - < token.txt
  $ echo "$TOKEN" | docker compose exec -T directus bcc-cc check

JSON output: { accepted, verdict: "accepted" | "refused" | "unconfirmed", refusal: { reason, status, code, detail } | null,
  token: { fingerprint, fromConfiguredIssuer, header, claims }, client: { identifier, clientId, userId } | null, expiresAt, expiresInSeconds,
  steps: [ { name, status: "pass" | "warn" | "fail" | "skip", detail } ] }

${AUTH_SETTINGS_HELP}`,
		)
		.action(async (token: string | undefined, options: CheckOptions & { json?: boolean }, cmd: Command) => {
			const context = commandContext(cmd, deps, options.json === true);
			const globals = cmd.optsWithGlobals<GlobalOptions>();
			const input = await readTokenInput(token, io.stdin ?? process.stdin);
			await check(input, options, context, { directus: options.tokenOnly !== true && (globals.url !== undefined || globals.token !== undefined) });
		});
	return command;
}

/** The `check` action: prints the report, then throws unless the token would be accepted. */
export async function check(
	token: string,
	options: CheckOptions,
	context: CommandContext,
	settings: { directus: boolean; env?: Readonly<Record<string, string | undefined>>; now?: () => number },
): Promise<TokenReport> {
	const config = configOrUsageError(options, settings.env);
	const { report, directusError } = await checkToken(token, {
		config,
		directus: settings.directus ? () => context.connect() : null,
		tokenOnly: options.tokenOnly === true,
		...(settings.now ? { now: settings.now } : {}),
	});
	context.output.result(report);
	printReport(report, context.output);
	if (report.verdict === 'refused') {
		const refusal = report.refusal;
		throw new CliError('TOKEN_REFUSED', `The token would be refused (${refusal?.reason}: Directus answers ${refusal?.status} ${refusal?.code}).`);
	}
	// The token passes, but its user could not be looked up: say why, with that error's exit code.
	if (directusError) throw directusError;
	if (report.verdict === 'unconfirmed') {
		throw new CliError('TOKEN_REFUSED', 'The token passes the verifier, but its Directus user was not checked.', {
			hint: 'Pass --url and --token (or DIRECTUS_URL and DIRECTUS_TOKEN), or --token-only to check the token alone.',
		});
	}
	return report;
}

/** The hook's configuration; a setting the hook would refuse is a usage error (exit 2) naming the variable. */
export function configOrUsageError(flags: AuthFlags, env?: Readonly<Record<string, string | undefined>>): VerifierConfig {
	try {
		return loadAuthConfig(flags, env);
	} catch (error) {
		if (error instanceof ConfigError) {
			throw new CliError('INVALID_SETTING', `Invalid hook configuration: ${error.message}.`, {
				hint: 'Set the BCC_AUTH_* variables as Directus has them (or pass --env-file, --issuer, --audience); "bcc-cc doctor" checks them all.',
				cause: error,
			});
		}
		throw error;
	}
}

/**
 * The token from the argument, else from standard input (also for "-"). Tolerates
 * surrounding white space and a leading "Bearer " or "Authorization: Bearer ".
 */
export async function readTokenInput(argument: string | undefined, stdin: Readable & { isTTY?: boolean }): Promise<string> {
	let text: string;
	if (argument !== undefined && argument !== '-') {
		text = argument;
	} else {
		if (argument === undefined && stdin.isTTY === true) {
			throw new CliError('USAGE', 'No token given.', {
				hint: 'Pipe it in (e.g. "pbpaste | bcc-cc check") or pass it as the argument; "bcc-cc check -" reads it from standard input.',
			});
		}
		text = await readLimited(stdin, MAX_INPUT_BYTES);
	}
	const token = text
		.trim()
		.replace(/^authorization:\s*/i, '')
		.replace(/^bearer\s+/i, '')
		.trim();
	if (token === '') throw new CliError('USAGE', 'The token is empty.');
	if (/\s/.test(token)) throw new CliError('USAGE', 'The input holds more than one word; pass exactly one access token.');
	return token;
}

async function readLimited(stream: Readable, maxBytes: number): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream) {
		const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
		size += buffer.length;
		if (size > maxBytes) throw new CliError('USAGE', `Standard input holds more than ${maxBytes / 1024} KiB; that is not an access token.`);
		chunks.push(buffer);
	}
	return Buffer.concat(chunks).toString('utf8');
}

const DATE_CLAIMS = new Set(['exp', 'nbf', 'iat', 'auth_time']);

function printReport(report: TokenReport, output: Output): void {
	if (output.json) return;
	const { style } = output;
	const lines: string[] = [];
	lines.push(`${style.bold('Token')}  fingerprint ${report.token.fingerprint} (the "token" field of the hook's log lines; the signature is not shown)`);
	const header = report.token.header;
	if (header) lines.push(`  ${'header'.padEnd(10)}  ${safe(Object.entries(header).map(([key, value]) => `${key} ${describe(value)}`).join(', '))}`);
	const claims = report.token.claims;
	if (!report.token.fromConfiguredIssuer) {
		if (claims && 'iss' in claims) lines.push(`  ${'iss'.padEnd(10)}  ${safe(describe(claims['iss']))}`);
		lines.push(
			claims === null
				? '  (the token is not a JWT with a JSON payload)'
				: '  (not a token the hook would own: its issuer is not configured, so only iss, alg, kid and typ are shown)',
		);
	} else if (claims) {
		const nowSeconds = Date.now() / 1000;
		for (const [name, value] of Object.entries(claims)) {
			let text = describe(value);
			if (DATE_CLAIMS.has(name) && typeof value === 'number' && Math.abs(value) < 1e11) {
				const date = new Date(value * 1000).toISOString().replace('.000Z', 'Z');
				const delta = value - nowSeconds;
				text += ` (${date}, ${delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`})`;
			}
			lines.push(`  ${safe(name).padEnd(10)}  ${safe(text)}`);
		}
	} else {
		lines.push('  (the token is not a JWT with a JSON payload)');
	}
	lines.push('', style.bold('Steps'), formatSteps(report.steps, style), '');
	lines.push(`${style.bold('Result')}  ${verdictLine(report, output)}`);
	output.info(lines.join('\n'));
}

function verdictLine(report: TokenReport, output: Output): string {
	const { style } = output;
	switch (report.verdict) {
		case 'accepted': {
			const who = report.client ? ` as client ${safe(report.client.clientId)} (user ${report.client.userId})` : '';
			const left = report.expiresInSeconds === null ? '' : `, for ${duration(report.expiresInSeconds)} more`;
			return `${style.green(style.bold('ACCEPTED'))}: Directus lets the token in${who}${left}.`;
		}
		case 'refused': {
			const refusal = report.refusal;
			const why = refusal?.reason === 'not_owned' ? 'the hook does not take this token; Directus checks it as one of its own static tokens' : `reason ${refusal?.reason}`;
			return `${style.red(style.bold('REFUSED'))}: Directus answers ${refusal?.status} ${refusal?.code} (${why}).`;
		}
		case 'unconfirmed':
			return `${style.yellow(style.bold('NOT CONFIRMED'))}: the token passes the verifier; its Directus user was not checked.`;
	}
}
