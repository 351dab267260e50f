import type { Algorithm } from 'jsonwebtoken';
import { ConfigError } from './errors.js';
import { isSecureTransport } from './http.js';
import { isValidNamespace } from './identity.js';
import { isProfileName, PROFILE_NAMES, PROFILES, type ProfileName, type ScopeFormat } from './profiles.js';

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
	readonly profile: ProfileName;
	/** Claims holding the client's identifier (the profile's, unless overridden); first present wins. */
	readonly clientIdClaims: readonly string[];
	/** Prefix of this issuer's identifiers (`<namespace>:<identifier>`), or null. */
	readonly namespace: string | null;
	/**
	 * For an issuer without a namespace, `<namespace>:` of every configured namespace:
	 * an identifier of its own that starts so would name another issuer's client.
	 */
	readonly foreignPrefixes: readonly string[];
	/** Claim holding the scopes (the profile's, unless overridden), and its shape. */
	readonly scopeClaim: string;
	readonly scopeFormat: ScopeFormat;
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
	/** How long a client's user, roles and access are reused before the database is read again (0: never reused). */
	readonly cacheTtlMs: number;
}

/** Environment as Directus hands it to extensions: values may already be cast to numbers, booleans or arrays. */
export type Environment = Readonly<Record<string, unknown>>;

export const ENV = {
	issuers: 'BCC_AUTH_ISSUERS',
	issuer: 'BCC_AUTH_ISSUER',
	audience: 'BCC_AUTH_AUDIENCE',
	profile: 'BCC_AUTH_PROFILE',
	clientIdClaim: 'BCC_AUTH_CLIENT_ID_CLAIM',
	namespace: 'BCC_AUTH_NAMESPACE',
	scopeClaim: 'BCC_AUTH_SCOPE_CLAIM',
	jwksUri: 'BCC_AUTH_JWKS_URI',
	requiredScopes: 'BCC_AUTH_REQUIRED_SCOPES',
	algorithms: 'BCC_AUTH_ALGORITHMS',
	clockTolerance: 'BCC_AUTH_CLOCK_TOLERANCE',
	jwksTimeout: 'BCC_AUTH_JWKS_TIMEOUT',
	jwksCooldown: 'BCC_AUTH_JWKS_COOLDOWN',
	jwksMaxAge: 'BCC_AUTH_JWKS_MAX_AGE',
	jwksStaleMaxAge: 'BCC_AUTH_JWKS_STALE_MAX_AGE',
	dbTimeout: 'BCC_AUTH_DB_TIMEOUT',
	cacheTtl: 'BCC_AUTH_CACHE_TTL',
	redis: 'BCC_AUTH_REDIS',
} as const;

export const DEFAULTS = {
	profile: 'auth0' as ProfileName,
	algorithms: ['RS256'] as SupportedAlgorithm[],
	clockToleranceSeconds: 5,
	jwksTimeoutSeconds: 5,
	jwksCooldownSeconds: 30,
	jwksMaxAgeSeconds: 600,
	jwksStaleMaxAgeSeconds: 3600,
	dbTimeoutSeconds: 5,
	cacheTtlSeconds: 5,
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
	const issuers = [...issuersFromVariables(env), ...issuersFromJson(env)];
	if (issuers.length === 0) {
		throw new ConfigError(ENV.issuer, 'is required (the token issuer, for Auth0 "https://<tenant>.auth0.com/"), or set BCC_AUTH_ISSUERS');
	}
	const seen = new Set<string>();
	for (const issuer of issuers) {
		if (seen.has(issuer.routingKey)) throw new ConfigError(ENV.issuers, `issuer ${issuer.issuer} is configured twice`);
		seen.add(issuer.routingKey);
	}
	const namespacePrefixes = [...new Set(issuers.flatMap((issuer) => (issuer.namespace === null ? [] : [`${issuer.namespace}:`])))];

	return {
		issuers: issuers.map((issuer) => (issuer.namespace === null ? { ...issuer, foreignPrefixes: namespacePrefixes } : issuer)),
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
		cacheTtlMs: seconds(env, ENV.cacheTtl, DEFAULTS.cacheTtlSeconds, { min: 0, max: 300 }) * 1000,
	};
}

/**
 * One issuer's settings, read from the BCC_AUTH_* variables or from one entry
 * of BCC_AUTH_ISSUERS; `name(field)` is what an error message calls the field.
 */
interface IssuerSource {
	get(field: IssuerField): unknown;
	name(field: IssuerField): string;
}

type IssuerField = 'issuer' | 'audience' | 'profile' | 'clientIdClaim' | 'scopeClaim' | 'namespace' | 'jwksUri' | 'requiredScopes' | 'algorithms';

const ISSUER_FIELDS: readonly IssuerField[] = ['issuer', 'audience', 'profile', 'clientIdClaim', 'scopeClaim', 'namespace', 'jwksUri', 'requiredScopes', 'algorithms'];

/** BCC_AUTH_ISSUER (one issuer, or several sharing the other settings, e.g. Entra's v1 and v2 forms of one tenant). */
function issuersFromVariables(env: Environment): IssuerConfig[] {
	const source: IssuerSource = { get: (field) => env[ENV[field]], name: (field) => ENV[field] };
	const issuers = optionalList(source, 'issuer', /[\s,]+/);
	if (issuers === null) return [];
	return issuers.map((issuer) => issuerConfig(source, issuer));
}

/** BCC_AUTH_ISSUERS: a JSON array of issuer objects, for issuers that differ in more than their name. */
function issuersFromJson(env: Environment): IssuerConfig[] {
	let raw = env[ENV.issuers];
	if (raw === undefined || raw === null || raw === '') return [];
	if (typeof raw === 'string') {
		try {
			raw = JSON.parse(raw);
		} catch {
			throw new ConfigError(ENV.issuers, 'is not valid JSON (expected an array of issuer objects)');
		}
	}
	if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError(ENV.issuers, 'must be a non-empty JSON array of issuer objects');
	if (raw.some((entry) => typeof entry === 'string')) {
		// Directus casts a value containing commas to an array of its comma-separated parts before we see it.
		throw new ConfigError(ENV.issuers, 'was split at its commas by Directus; write it with the json: prefix, e.g. BCC_AUTH_ISSUERS=json:[{...}]');
	}
	return raw.map((entry: unknown, index) => {
		const label = `${ENV.issuers}[${index}]`;
		if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(label, 'must be an object');
		const record = entry as Record<string, unknown>;
		for (const key of Object.keys(record)) {
			if (!(ISSUER_FIELDS as readonly string[]).includes(key)) {
				throw new ConfigError(`${label}.${key}`, `is not a known setting (known: ${ISSUER_FIELDS.join(', ')})`);
			}
		}
		const source: IssuerSource = { get: (field) => record[field], name: (field) => `${label}.${field}` };
		const issuer = optionalString(source, 'issuer');
		if (issuer === null) throw new ConfigError(source.name('issuer'), 'is required');
		return issuerConfig(source, issuer);
	});
}

function issuerConfig(source: IssuerSource, issuer: string): IssuerConfig {
	checkUrl(source.name('issuer'), issuer);
	const profile = parseProfile(source);
	return {
		issuer,
		routingKey: routingKeyFor(issuer),
		audiences: requiredList(source, 'audience', profile),
		jwksUri: optionalUrl(source, 'jwksUri'),
		requiredScopes: optionalList(source, 'requiredScopes', /\s+/) ?? [],
		algorithms: parseAlgorithms(source),
		profile,
		clientIdClaims: optionalList(source, 'clientIdClaim', /[\s,]+/) ?? PROFILES[profile].clientIdClaims,
		namespace: parseNamespace(source),
		foreignPrefixes: [],
		...scopeSettings(source, profile),
	};
}

/** An overridden scope claim may be a string or an array: we cannot know how an unlisted provider writes it. */
function scopeSettings(source: IssuerSource, profile: ProfileName): { scopeClaim: string; scopeFormat: ScopeFormat } {
	const claim = optionalString(source, 'scopeClaim');
	return claim === null ? { scopeClaim: PROFILES[profile].scopeClaim, scopeFormat: PROFILES[profile].scopeFormat } : { scopeClaim: claim, scopeFormat: 'either' };
}

function parseNamespace(source: IssuerSource): string | null {
	const value = optionalString(source, 'namespace');
	if (value !== null && !isValidNamespace(value)) {
		throw new ConfigError(source.name('namespace'), `"${value}" must be 1 to 64 letters, digits, ".", "_" or "-"`);
	}
	return value;
}

function parseProfile(source: IssuerSource): ProfileName {
	const value = optionalString(source, 'profile');
	if (value === null) return DEFAULTS.profile;
	if (!isProfileName(value)) throw new ConfigError(source.name('profile'), `"${value}" is not one of ${PROFILE_NAMES.join(', ')}`);
	return value;
}

/** Profiles whose client ids are random and globally unique (Auth0's `<id>@clients`, Entra's GUIDs). */
const UNIQUE_ID_PROFILES: ReadonlySet<ProfileName> = new Set(['auth0', 'entra']);

/**
 * Groups of issuers that share one identifier space (the same namespace, or
 * none) although a client id of one could name a client of another: at least
 * one of them lets its administrators choose client ids, or they are Entra
 * issuers of different tenants (a multi-tenant app has one application id in
 * every tenant, and each tenant's administrators can give it credentials).
 * Empty when there is nothing to fear.
 */
export function issuersSharingIdentifiers(config: VerifierConfig): IssuerConfig[][] {
	const spaces = new Map<string | null, IssuerConfig[]>();
	for (const issuer of config.issuers) spaces.set(issuer.namespace, [...(spaces.get(issuer.namespace) ?? []), issuer]);
	return [...spaces.values()].filter(
		(issuers) =>
			issuers.length > 1 &&
			(issuers.some((issuer) => !UNIQUE_ID_PROFILES.has(issuer.profile)) ||
				new Set(issuers.filter((issuer) => issuer.profile === 'entra').map((issuer) => entraTenantOf(issuer.issuer))).size > 1),
	);
}

/**
 * The tenant segment of an Entra issuer: `https://sts.windows.net/{tenant}/` (v1.0) and
 * `https://login.microsoftonline.com/{tenant}/v2.0` (v2.0, also the national clouds) name it first.
 */
function entraTenantOf(issuer: string): string {
	return new URL(issuer).pathname.split('/')[1]?.toLowerCase() ?? '';
}

/** `https://tenant.auth0.com/` and `https://tenant.auth0.com` route to the same issuer entry. */
export function routingKeyFor(issuer: string): string {
	return issuer.endsWith('/') ? issuer.slice(0, -1) : issuer;
}

function parseAlgorithms(source: IssuerSource): SupportedAlgorithm[] {
	const listed = optionalList(source, 'algorithms', /[\s,]+/);
	if (listed === null) return [...DEFAULTS.algorithms];
	const supported: readonly string[] = SUPPORTED_ALGORITHMS;
	for (const algorithm of listed) {
		if (!supported.includes(algorithm)) {
			throw new ConfigError(
				source.name('algorithms'),
				`"${algorithm}" is not supported; use some of ${SUPPORTED_ALGORITHMS.join(', ')} (symmetric algorithms and "none" are never accepted)`,
			);
		}
	}
	return listed as SupportedAlgorithm[];
}

/** A value as text. Directus casts env values: one with commas arrives as an array, digits as a number. */
function textOf(raw: unknown): string | null {
	if (raw === undefined || raw === null) return null;
	const text = Array.isArray(raw) ? raw.map(String).join(',') : String(raw);
	const trimmed = text.trim();
	return trimmed === '' ? null : trimmed;
}

function optionalString(source: IssuerSource, field: IssuerField): string | null {
	return textOf(source.get(field));
}

function optionalList(source: IssuerSource, field: IssuerField, separator: RegExp): string[] | null {
	const raw = source.get(field);
	const items = Array.isArray(raw) ? raw.flatMap((item) => String(item).split(separator)) : (textOf(raw)?.split(separator) ?? []);
	const cleaned = items.map((item) => item.trim()).filter((item) => item !== '');
	return cleaned.length === 0 ? null : cleaned;
}

function requiredList(source: IssuerSource, field: IssuerField, profile: ProfileName): string[] {
	const list = optionalList(source, field, /,/);
	if (list === null) {
		const what = PROFILES[profile].audienceClaim === 'client_id' ? 'the app client ids whose tokens are accepted (Cognito tokens have no "aud")' : 'the API identifier your tokens carry in "aud"';
		throw new ConfigError(source.name(field), `is required (${what})`);
	}
	return list;
}

function optionalUrl(source: IssuerSource, field: IssuerField): string | null {
	const value = optionalString(source, field);
	if (value !== null) checkUrl(source.name(field), value);
	return value;
}

function checkUrl(name: string, value: string): void {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		throw new ConfigError(name, `"${value}" is not a URL`);
	}
	if (isSecureTransport(url)) return;
	throw new ConfigError(name, `"${value}" must use https (http is allowed only for localhost)`);
}

function seconds(env: Environment, name: string, fallback: number, range: { min: number; max: number }): number {
	const value = textOf(env[name]);
	if (value === null) return fallback;
	const parsed = Number(value);
	if (!Number.isFinite(parsed) || parsed < range.min || parsed > range.max) {
		throw new ConfigError(name, `"${value}" must be a number of seconds from ${range.min} to ${range.max}`);
	}
	return parsed;
}
