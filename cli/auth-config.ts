/**
 * The hook's configuration, read the way the hook reads it, for `check` and
 * `doctor`: the BCC_AUTH_* variables of the environment (optionally merged with
 * a Directus .env file), then the flags. The result goes through the hook's own
 * `parseConfig`, so a setting the hook would refuse is refused here with the
 * same message.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { Option, type Command } from 'commander';
import { ENV, parseConfig, type VerifierConfig } from '../extension/core/config.js';
import { PROFILE_NAMES } from '../extension/core/profiles.js';
import { CliError } from './errors.js';

/** Flags that override one BCC_AUTH_* variable each. */
export interface AuthFlags {
	issuer?: string | undefined;
	audience?: string | undefined;
	profile?: string | undefined;
	jwksUri?: string | undefined;
	requiredScopes?: string | undefined;
	algorithms?: string | undefined;
	envFile?: string | undefined;
}

const FLAG_VARIABLES = {
	issuer: ENV.issuer,
	audience: ENV.audience,
	profile: ENV.profile,
	jwksUri: ENV.jwksUri,
	requiredScopes: ENV.requiredScopes,
	algorithms: ENV.algorithms,
} as const satisfies Record<Exclude<keyof AuthFlags, 'envFile'>, string>;

/** Adds the configuration flags to `command`. */
export function addAuthOptions(command: Command): Command {
	return command
		.addOption(new Option('--env-file <file>', 'read BCC_AUTH_* settings from this .env file (e.g. the one Directus uses); its values beat the environment'))
		.addOption(new Option('--issuer <url>', `token issuer (default: ${ENV.issuer}); replaces ${ENV.issuers}`))
		.addOption(new Option('--audience <list>', `accepted audiences, comma-separated (default: ${ENV.audience})`))
		.addOption(new Option('--profile <profile>', `identity provider profile (default: ${ENV.profile}, else auth0)`).choices(PROFILE_NAMES))
		.addOption(new Option('--jwks-uri <url>', `key set URL instead of discovery (default: ${ENV.jwksUri})`))
		.addOption(new Option('--required-scopes <scopes>', `scopes every token needs, space-separated (default: ${ENV.requiredScopes})`))
		.addOption(new Option('--algorithms <list>', `accepted signature algorithms (default: ${ENV.algorithms}, else RS256)`));
}

export const AUTH_SETTINGS_HELP = `Hook settings (read like the hook reads them; a flag beats --env-file, which beats the environment):
  BCC_AUTH_ISSUER, BCC_AUTH_ISSUERS, BCC_AUTH_AUDIENCE, BCC_AUTH_PROFILE, BCC_AUTH_JWKS_URI,
  BCC_AUTH_REQUIRED_SCOPES, BCC_AUTH_ALGORITHMS, BCC_AUTH_CLOCK_TOLERANCE, BCC_AUTH_JWKS_TIMEOUT, ...
  Run bcc-cc where it sees the same values as Directus (e.g. docker compose exec directus bcc-cc doctor).`;

/**
 * The environment the hook would see: `env`, then the --env-file, then the
 * flags. --issuer describes one issuer, so it replaces BCC_AUTH_ISSUERS.
 */
export function authEnvironment(flags: AuthFlags, env: Readonly<Record<string, string | undefined>> = process.env): Record<string, unknown> {
	const result: Record<string, unknown> = {};
	for (const [name, value] of Object.entries(env)) if (name.startsWith('BCC_AUTH_') && value !== undefined) result[name] = value;
	if (flags.envFile !== undefined) Object.assign(result, readEnvFile(flags.envFile));
	for (const [flag, variable] of Object.entries(FLAG_VARIABLES) as [keyof typeof FLAG_VARIABLES, string][]) {
		const value = flags[flag];
		if (value !== undefined) result[variable] = value;
	}
	if (flags.issuer !== undefined) delete result[ENV.issuers];
	return result;
}

/** Parses the configuration; a ConfigError propagates (callers report it their way). */
export function loadAuthConfig(flags: AuthFlags, env: Readonly<Record<string, string | undefined>> = process.env): VerifierConfig {
	return parseConfig(authEnvironment(flags, env));
}

function readEnvFile(file: string): Record<string, string> {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'error';
		throw new CliError('INVALID_SETTING', `Cannot read the --env-file ${JSON.stringify(file)} (${code}).`, { cause: error });
	}
	const parsed = parseEnv(text) as Record<string, string>;
	const result: Record<string, string> = {};
	for (const [name, value] of Object.entries(parsed)) if (name.startsWith('BCC_AUTH_')) result[name] = value;
	return result;
}
