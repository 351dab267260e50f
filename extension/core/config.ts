import type { Algorithm } from 'jsonwebtoken';
import { ConfigError } from './errors.js';

/** Asymmetric algorithms jsonwebtoken can verify with a public key from a JWKS. */
export const SUPPORTED_ALGORITHMS = [
	'RS256',
	'RS384',
	'RS512',
	'PS256',
	'PS384',
	'PS512',
	'ES256',
	'ES384',
	'ES512',
] as const satisfies readonly Algorithm[];

export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export interface IssuerConfig {
	/** The issuer as configured (trimmed). */
	readonly issuer: string;
	/** The issuer without a trailing slash: how a token's `iss` is routed to this entry. */
	readonly routingKey: string;
	readonly audiences: readonly string[];
	/** Explicit JWKS URI; null means "discover it from the issuer". */
	readonly jwksUri: string | null;
	readonly requiredScopes: readonly string[];
	readonly algorithms: readonly SupportedAlgorithm[];
}

export interface KeyFetchConfig {
	/** Deadline for one discovery or JWKS request, body included. */
	readonly timeoutMs: number;
	/** Least time between two JWKS fetches caused by unknown kids. */
	readonly cooldownMs: number;
	/** Keys older than this are refetched before use. */
	readonly maxAgeMs: number;
	/** How long past maxAge cached keys keep serving while the key server is unreachable. */
	readonly staleMaxAgeMs: number;
	/** Largest discovery or JWKS response accepted. */
	readonly maxResponseBytes: number;
}

export interface VerifierConfig {
	readonly issuers: readonly IssuerConfig[];
	readonly clockToleranceSeconds: number;
	/** Longest token (characters) the hook will look at; longer ones are not ours. */
	readonly maxTokenLength: number;
	readonly keys: KeyFetchConfig;
	/** Deadline for reading a client's user, roles and access from the database. */
	readonly directoryTimeoutMs: number;
}

/** Environment as Directus hands it to extensions: values may already be cast to numbers, booleans or arrays. */
export type Environment = Readonly<Record<string, unknown>>;

export const ENV = {
	issuer: 'BCC_AUTH_ISSUER',
	audience: 'BCC_AUTH_AUDIENCE',
	jwksUri: 'BCC_AUTH_JWKS_URI',
	requiredScopes: 'BCC_AUTH_REQUIRED_SCOPES',
	algorithms: 'BCC_AUTH_ALGORITHMS',
	clockTolerance: 'BCC_AUTH_CLOCK_TOLERANCE',
	jwksTimeout: 'BCC_AUTH_JWKS_TIMEOUT',
	jwksCooldown: 'BCC_AUTH_JWKS_COOLDOWN',
	jwksMaxAge: 'BCC_AUTH_JWKS_MAX_AGE',
	jwksStaleMaxAge: 'BCC_AUTH_JWKS_STALE_MAX_AGE',
	dbTimeout: 'BCC_AUTH_DB_TIMEOUT',
} as const;

export const DEFAULTS = {
	algorithms: ['RS256'] as SupportedAlgorithm[],
	clockToleranceSeconds: 5,
	jwksTimeoutSeconds: 5,
	jwksCooldownSeconds: 30,
	jwksMaxAgeSeconds: 600,
	jwksStaleMaxAgeSeconds: 3600,
	dbTimeoutSeconds: 5,
	maxTokenLength: 16 * 1024,
	maxResponseBytes: 512 * 1024,
} as const;

const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Reads and validates the hook's configuration once, at startup. Every problem
 * is a ConfigError naming the variable, so Directus refuses to start with a
 * message an operator can act on instead of refusing every token later.
 */
export function parseConfig(env: Environment): VerifierConfig {
	const issuer = parseIssuer(env);
	const issuerConfig: IssuerConfig = {
		issuer,
		routingKey: routingKeyFor(issuer),
		audiences: requiredList(env, ENV.audience),
		jwksUri: optionalUrl(env, ENV.jwksUri),
		requiredScopes: optionalList(env, ENV.requiredScopes, /\s+/) ?? [],
		algorithms: parseAlgorithms(env),
	};

	return {
		issuers: [issuerConfig],
		clockToleranceSeconds: seconds(env, ENV.clockTolerance, DEFAULTS.clockToleranceSeconds, {
			min: 0,
			max: MAX_CLOCK_TOLERANCE_SECONDS,
		}),
		maxTokenLength: DEFAULTS.maxTokenLength,
		keys: {
			timeoutMs: seconds(env, ENV.jwksTimeout, DEFAULTS.jwksTimeoutSeconds, { min: 0.1, max: 60 }) * 1000,
			cooldownMs: seconds(env, ENV.jwksCooldown, DEFAULTS.jwksCooldownSeconds, { min: 0, max: 3600 }) * 1000,
			maxAgeMs: seconds(env, ENV.jwksMaxAge, DEFAULTS.jwksMaxAgeSeconds, { min: 1, max: 86400 }) * 1000,
			staleMaxAgeMs: seconds(env, ENV.jwksStaleMaxAge, DEFAULTS.jwksStaleMaxAgeSeconds, { min: 0, max: 7 * 86400 }) * 1000,
			maxResponseBytes: DEFAULTS.maxResponseBytes,
		},
		directoryTimeoutMs: seconds(env, ENV.dbTimeout, DEFAULTS.dbTimeoutSeconds, { min: 0.1, max: 60 }) * 1000,
	};
}

/** `https://tenant.auth0.com/` and `https://tenant.auth0.com` route to the same issuer entry. */
export function routingKeyFor(issuer: string): string {
	return issuer.endsWith('/') ? issuer.slice(0, -1) : issuer;
}

function parseIssuer(env: Environment): string {
	const value = optionalString(env, ENV.issuer);
	if (value === null) throw new ConfigError(ENV.issuer, 'is required (the token issuer, for Auth0 "https://<tenant>.auth0.com/")');
	checkUrl(ENV.issuer, value);
	return value;
}

function parseAlgorithms(env: Environment): SupportedAlgorithm[] {
	const listed = optionalList(env, ENV.algorithms, /[\s,]+/);
	if (listed === null) return [...DEFAULTS.algorithms];
	const supported: readonly string[] = SUPPORTED_ALGORITHMS;
	for (const algorithm of listed) {
		if (!supported.includes(algorithm)) {
			throw new ConfigError(
				ENV.algorithms,
				`"${algorithm}" is not supported; use some of ${SUPPORTED_ALGORITHMS.join(', ')} (symmetric algorithms and "none" are never accepted)`,
			);
		}
	}
	return listed as SupportedAlgorithm[];
}

function optionalString(env: Environment, name: string): string | null {
	const raw = env[name];
	if (raw === undefined || raw === null) return null;
	// Directus casts env values: a value with commas arrives as an array, digits as a number.
	const text = Array.isArray(raw) ? raw.map(String).join(',') : String(raw);
	const trimmed = text.trim();
	return trimmed === '' ? null : trimmed;
}

function optionalList(env: Environment, name: string, separator: RegExp): string[] | null {
	const raw = env[name];
	const items = Array.isArray(raw)
		? raw.flatMap((item) => String(item).split(separator))
		: (optionalString(env, name)?.split(separator) ?? []);
	const cleaned = items.map((item) => item.trim()).filter((item) => item !== '');
	return cleaned.length === 0 ? null : cleaned;
}

function requiredList(env: Environment, name: string): string[] {
	const list = optionalList(env, name, /,/);
	if (list === null) throw new ConfigError(name, 'is required (the API identifier your tokens carry in "aud")');
	return list;
}

function optionalUrl(env: Environment, name: string): string | null {
	const value = optionalString(env, name);
	if (value !== null) checkUrl(name, value);
	return value;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function checkUrl(name: string, value: string): void {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new ConfigError(name, `"${value}" is not a URL`);
	}
	if (url.protocol === 'https:') return;
	if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
	throw new ConfigError(name, `"${value}" must use https (http is allowed only for localhost)`);
}

function seconds(env: Environment, name: string, fallback: number, range: { min: number; max: number }): number {
	const value = optionalString(env, name);
	if (value === null) return fallback;
	const parsed = Number(value);
	if (!Number.isFinite(parsed) || parsed < range.min || parsed > range.max) {
		throw new ConfigError(name, `"${value}" must be a number of seconds from ${range.min} to ${range.max}`);
	}
	return parsed;
}
