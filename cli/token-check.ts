/**
 * Explains what the hook would do with one token: the hook's own verifier
 * (parseConfig + createVerifier, traced step by step), then the lookup of the
 * client's Directus user that the hook makes (extension/accountability.ts),
 * done here over the REST API.
 *
 * Nothing here prints or returns the token's signature: only the decoded
 * header and claims, and the same short fingerprint the hook logs. Of a token
 * from no configured issuer (one the hook does not take: a Directus session
 * token, an ID token, anyone's) only iss, alg, kid and typ are shown; claims
 * that are secrets by nature (see SECRET_CLAIM) are never shown.
 */
import { createHash } from 'node:crypto';
import type { IssuerConfig, VerifierConfig } from '../extension/core/config.js';
import { routingKeyFor } from '../extension/core/config.js';
import { REFUSAL_REASONS, TokenRefusedError, type RefusalReason } from '../extension/core/errors.js';
import type { FetchJson } from '../extension/core/http.js';
import { clientIdForIdentifier, userIdForIdentifier } from '../extension/core/identity.js';
import { PROFILES } from '../extension/core/profiles.js';
import { createVerifier, type VerifiedClient } from '../extension/core/verifier.js';
import type { DirectusApi, Role } from './directus.js';
import { isCliError, type CliError } from './errors.js';
import { roleAccess } from './roles.js';

export type StepStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckStep {
	/** The verifier's step name (`signature`, `lifetime`, ...) or `directus user`, `user status`, `role`. */
	name: string;
	status: StepStatus;
	detail: string;
}

export interface Refusal {
	/**
	 * A refusal reason of the hook (its log's `reason`); `not_owned` when the hook does not take the token
	 * (not a JWT of a configured issuer: Directus checks it as a static token and answers 401);
	 * `unexpected_error` when the check itself failed (the hook answers 503).
	 */
	reason: RefusalReason | 'not_owned' | 'unexpected_error';
	/** What the service would get from Directus. */
	status: number;
	code: string;
	detail: string;
}

export interface TokenReport {
	/** True only when the verifier accepts the token and its Directus user lets it in (or --token-only). */
	accepted: boolean;
	/** `unconfirmed`: the token passes the verifier, but its Directus user was not checked. */
	verdict: 'accepted' | 'refused' | 'unconfirmed';
	refusal: Refusal | null;
	token: {
		/** sha256 prefix, the `token` field of the hook's log lines. */
		fingerprint: string;
		/**
		 * Whether iss names a configured issuer. When not, `header` holds only alg, kid and typ,
		 * and `claims` only iss: the token is none of the hook's, its claims are none of bcc-cc's business.
		 */
		fromConfiguredIssuer: boolean;
		/** The decoded header; values of secret-named members are REDACTED. */
		header: Record<string, unknown> | null;
		/** The decoded claims; values of secret-named claims (session, *secret*, *password*, *refresh*) are REDACTED. */
		claims: Record<string, unknown> | null;
	};
	client: { identifier: string; clientId: string; userId: string } | null;
	/** exp as an ISO date, and the seconds left (negative once expired). */
	expiresAt: string | null;
	expiresInSeconds: number | null;
	steps: CheckStep[];
}

export interface TokenCheckOptions {
	config: VerifierConfig;
	/**
	 * Opens the Directus connection for the user lookup; null skips it. A
	 * CliError it throws (unreachable, token rejected) is reported as a failed
	 * step and returned as `directusError`.
	 */
	directus: (() => Promise<DirectusApi>) | null;
	/** Whether a skipped user lookup still counts as accepted (`check --token-only`). */
	tokenOnly?: boolean;
	now?: () => number;
	fetchJson?: FetchJson;
}

export interface TokenCheckResult {
	report: TokenReport;
	directusError: CliError | null;
}

/** Same as the hook's log field: enough to find the token's log lines, useless for replaying it. */
export function tokenFingerprint(token: string): string {
	return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}

export async function checkToken(token: string, options: TokenCheckOptions): Promise<TokenCheckResult> {
	const now = options.now ?? Date.now;
	const decoded = decodeLeniently(token);
	const issuer = findIssuer(options.config, decoded.claims);
	const steps: CheckStep[] = [];
	const explain = explainer({ decoded, issuer, config: options.config, now });

	const verifier = createVerifier(options.config, { now, ...(options.fetchJson ? { fetchJson: options.fetchJson } : {}) });
	let verified: VerifiedClient | null = null;
	let refusal: Refusal | null = null;
	try {
		verified = await verifier.verify(token, {
			trace: (step) => steps.push({ name: step.name, status: step.ok ? 'pass' : 'fail', detail: explain(step.name, step.ok, step.detail) }),
		});
	} catch (error) {
		if (error instanceof TokenRefusedError && !verifier.owns(token)) {
			refusal = { reason: 'not_owned', status: 401, code: 'INVALID_CREDENTIALS', detail: error.detail };
			if (!steps.some((step) => step.status === 'fail')) steps.push({ name: 'issuer routing', status: 'fail', detail: error.detail });
		} else if (error instanceof TokenRefusedError) {
			refusal = refusalOf(error.reason, error.detail);
			// A refusal no step reported (the verifier changed): still show it.
			if (!steps.some((step) => step.status === 'fail')) {
				steps.push({ name: 'verifier', status: 'fail', detail: `${error.reason}: ${error.detail}` });
			}
		} else {
			const message = error instanceof Error ? error.message : String(error);
			steps.push({ name: 'verifier', status: 'fail', detail: `unexpected error: ${message}` });
			refusal = { reason: 'unexpected_error', status: 503, code: 'SERVICE_UNAVAILABLE', detail: message };
		}
	}

	// The client the token names: verified, else (for diagnosis only) as its unverified claims say.
	const identifier = verified?.identifier ?? unverifiedIdentifier(decoded.claims, issuer);
	const client = identifier === null ? null : { identifier, clientId: clientIdForIdentifier(identifier), userId: userIdForIdentifier(identifier) };

	let directusError: CliError | null = null;
	let userChecked = false;
	if (client === null) {
		// Nothing to look up.
	} else if (options.directus === null) {
		steps.push({
			name: 'directus user',
			status: 'skip',
			detail: options.tokenOnly ? 'not checked (--token-only)' : 'not checked: no Directus URL and token (pass --url and --token, or --token-only to check the token alone)',
		});
	} else {
		const lookup = await checkUser(client, options.directus, verified === null);
		steps.push(...lookup.steps);
		directusError = lookup.error;
		userChecked = lookup.error === null;
		if (refusal === null && lookup.refusal !== null) refusal = lookup.refusal;
	}

	const verdict: TokenReport['verdict'] =
		refusal !== null ? 'refused' : userChecked || options.tokenOnly === true ? 'accepted' : 'unconfirmed';
	const exp = issuer === null ? undefined : decoded.claims?.['exp'];
	const expSeconds = typeof exp === 'number' && Number.isFinite(exp) ? exp : null;
	return {
		report: {
			accepted: verdict === 'accepted',
			verdict,
			refusal,
			token: { fingerprint: tokenFingerprint(token), ...shownParts(decoded, issuer !== null) },
			client,
			expiresAt: expSeconds === null || Math.abs(expSeconds) > 8.64e12 ? null : new Date(expSeconds * 1000).toISOString(),
			expiresInSeconds: expSeconds === null ? null : Math.round(expSeconds - now() / 1000),
			steps,
		},
		directusError,
	};
}

function refusalOf(reason: RefusalReason, detail: string): Refusal {
	const { status, code } = REFUSAL_REASONS[reason];
	return { reason, status, code, detail };
}

/** The hook's lookup (accountability.ts): the user with the derived id, its external_identifier, its status; then its role. */
async function checkUser(
	client: NonNullable<TokenReport['client']>,
	connect: () => Promise<DirectusApi>,
	unverified: boolean,
): Promise<{ steps: CheckStep[]; refusal: Refusal | null; error: CliError | null }> {
	const steps: CheckStep[] = [];
	const note = unverified ? ' (for the client the unverified token names)' : '';
	try {
		const api = await connect();
		const user = await api.readUser(client.userId);
		if (user === null) {
			const detail = `no Directus user with id ${client.userId}${note}`;
			steps.push({ name: 'directus user', status: 'fail', detail: `client_unknown: ${detail}; run "bcc-cc provision ${client.clientId} --role <role>"` });
			return { steps, refusal: refusalOf('client_unknown', detail), error: null };
		}
		if (user.external_identifier !== client.identifier) {
			const detail = `user ${user.id} has external_identifier ${describe(user.external_identifier)}, not ${describe(client.identifier)}`;
			steps.push({ name: 'directus user', status: 'fail', detail: `client_unknown: ${detail}${note}` });
			return { steps, refusal: refusalOf('client_unknown', detail), error: null };
		}
		steps.push({ name: 'directus user', status: 'pass', detail: `user ${user.id} exists with external_identifier ${describe(user.external_identifier)}${note}` });
		if (user.status !== 'active') {
			const detail = `Directus user status is ${user.status}`;
			steps.push({ name: 'user status', status: 'fail', detail: `client_inactive: ${detail}; "bcc-cc provision ${client.clientId} --role <role>" reactivates it` });
			return { steps, refusal: refusalOf('client_inactive', detail), error: null };
		}
		steps.push({ name: 'user status', status: 'pass', detail: 'active' });
		steps.push(roleStep(user.role, user.role === null ? [] : await api.listRoles(), client.clientId));
		return { steps, refusal: null, error: null };
	} catch (error) {
		if (!isCliError(error)) throw error;
		steps.push({ name: 'directus user', status: 'fail', detail: `could not check: ${error.message}` });
		return { steps, refusal: null, error };
	}
}

function roleStep(roleId: string | null, roles: readonly Role[], clientId: string): CheckStep {
	if (roleId === null) {
		return { name: 'role', status: 'warn', detail: 'the user has no role: it gets in, but only policies attached to the user itself apply' };
	}
	const role = roles.find((candidate) => candidate.id === roleId);
	if (!role) return { name: 'role', status: 'warn', detail: `role ${roleId} not found: the client gets in with no role permissions` };
	const access = roleAccess(roles, role.id);
	if (access.admin) {
		return { name: 'role', status: 'warn', detail: `${describe(role.name)} grants admin access: the client may do anything; give it an API-only role` };
	}
	if (access.app) {
		return { name: 'role', status: 'warn', detail: `${describe(role.name)} grants app access (on Directus 12 without a licence it takes one of 3 seats); a client needs no app access` };
	}
	const policies = role.policies.length === 0 ? 'no policies: the client may read nothing' : `${role.policies.length} polic${role.policies.length === 1 ? 'y' : 'ies'}, API only`;
	return { name: 'role', status: 'pass', detail: `${describe(role.name)} (${policies}); "bcc-cc show ${clientId}" lists what it may access` };
}

// ---------------------------------------------------------------------------------------------
// Decoding for display and diagnosis (the verifier decodes strictly on its own)
// ---------------------------------------------------------------------------------------------

interface Decoded {
	/** Number of dot-separated segments. */
	segments: number;
	header: Record<string, unknown> | null;
	claims: Record<string, unknown> | null;
}

/** Header and claims as far as they can be read; never the signature. */
export function decodeLeniently(token: string): Decoded {
	const parts = token.split('.');
	const part = (index: number): Record<string, unknown> | null => {
		const segment = parts[index];
		if (segment === undefined || !/^[A-Za-z0-9_-]*$/.test(segment)) return null;
		try {
			const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
			return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
		} catch {
			return null;
		}
	};
	return { segments: parts.length, header: part(0), claims: part(1) };
}

/** Stands for the value of a claim that is a secret by nature. */
export const REDACTED = '(redacted)';

/**
 * Claims that are secrets by nature: Directus's `session` (a refresh token of a session), and any
 * name with secret, password or refresh in it. Never shown, at any depth.
 */
const SECRET_CLAIM = /^session$|secret|password|passwd|refresh/i;

/** What the report shows of the token: everything but secret-named claims, or, for a token from no configured issuer, only iss, alg, kid and typ. */
function shownParts(decoded: Decoded, fromConfiguredIssuer: boolean): Omit<TokenReport['token'], 'fingerprint'> {
	if (!fromConfiguredIssuer) {
		const pick = (source: Record<string, unknown> | null, names: readonly string[]): Record<string, unknown> | null => {
			if (source === null) return null;
			const picked: Record<string, unknown> = {};
			for (const name of names) {
				const value = source[name];
				// Only short strings: these name things, a long or structured value may carry anything.
				if (typeof value === 'string') picked[name] = value.length > 200 ? `${value.slice(0, 200)}...` : value;
			}
			return picked;
		};
		return { fromConfiguredIssuer, header: pick(decoded.header, ['alg', 'kid', 'typ']), claims: pick(decoded.claims, ['iss']) };
	}
	return { fromConfiguredIssuer, header: redactSecrets(decoded.header), claims: redactSecrets(decoded.claims) };
}

function redactSecrets(value: Record<string, unknown> | null): Record<string, unknown> | null {
	if (value === null) return null;
	const redact = (item: unknown, depth: number): unknown => {
		if (Array.isArray(item)) return depth > 8 ? REDACTED : item.map((element) => redact(element, depth + 1));
		if (typeof item !== 'object' || item === null) return item;
		if (depth > 8) return REDACTED;
		return Object.fromEntries(Object.entries(item).map(([name, member]) => [name, SECRET_CLAIM.test(name) ? REDACTED : redact(member, depth + 1)]));
	};
	return redact(value, 0) as Record<string, unknown>;
}

function findIssuer(config: VerifierConfig, claims: Record<string, unknown> | null): IssuerConfig | null {
	const iss = claims?.['iss'];
	if (typeof iss !== 'string') return null;
	return config.issuers.find((issuer) => issuer.routingKey === routingKeyFor(iss)) ?? null;
}

function clientIdClaimsOf(issuer: IssuerConfig | null): readonly string[] {
	return issuer?.clientIdClaims ?? [];
}

function unverifiedIdentifier(claims: Record<string, unknown> | null, issuer: IssuerConfig | null): string | null {
	if (claims === null || issuer === null) return null;
	for (const name of clientIdClaimsOf(issuer)) {
		const value = claims[name];
		if (typeof value === 'string' && value !== '' && value.length <= 255) return value;
	}
	return null;
}

// ---------------------------------------------------------------------------------------------
// Details for people: the verifier says "ok" or "<reason>: <detail>"; add what the token and the configuration say
// ---------------------------------------------------------------------------------------------

interface ExplainContext {
	decoded: Decoded;
	issuer: IssuerConfig | null;
	config: VerifierConfig;
	now: () => number;
}

function explainer(context: ExplainContext): (name: string, ok: boolean, detail: string) => string {
	return (name, ok, detail) => {
		const extra = EXPLAIN[name]?.(ok, context, detail) ?? null;
		if (ok) return extra ?? (detail === 'ok' ? 'ok' : detail);
		return extra === null ? detail : `${detail}; ${extra}`;
	};
}

type Explain = (ok: boolean, context: ExplainContext, detail: string) => string | null;

const EXPLAIN: Record<string, Explain> = {
	'issuer routing'(ok, { decoded, issuer, config }) {
		const iss = decoded.claims?.['iss'];
		if (ok) return `iss ${describe(iss)} is a configured issuer${profileNote(issuer)}`;
		if (decoded.segments !== 3 || decoded.claims === null) {
			return `not a JWT (expected header.payload.signature with JSON header and payload; got ${decoded.segments} segment${decoded.segments === 1 ? '' : 's'}); Directus treats it as a static token`;
		}
		if (iss === undefined) return 'the token has no iss claim; Directus treats it as a static token';
		return `iss ${describe(iss)} is not configured (configured: ${config.issuers.map((entry) => describe(entry.issuer)).join(', ')}); Directus treats it as a static token`;
	},
	structure(ok) {
		return ok ? 'three base64url segments; header and payload are JSON objects' : null;
	},
	'key fits algorithm'(ok, { decoded }) {
		const alg = decoded.header?.['alg'];
		return ok ? `the key's type and size fit ${describe(alg)}` : 'the key set publishes this kid for another algorithm or key type';
	},
	dates(ok, { decoded }) {
		const present = ['exp', 'nbf', 'iat'].filter((claim) => decoded.claims?.[claim] !== undefined);
		return ok ? `${present.join(', ')} ${present.length === 1 ? 'is a valid NumericDate' : 'are valid NumericDates'}` : null;
	},
	header(ok, { decoded, issuer }) {
		const header = decoded.header ?? {};
		if (ok) return ['alg', 'typ', 'kid'].filter((key) => header[key] !== undefined).map((key) => `${key} ${describe(header[key])}`).join(', ');
		return issuer ? `allowed algorithms: ${issuer.algorithms.join(', ')}` : null;
	},
	key(ok, { decoded }, detail) {
		const kid = decoded.header?.['kid'];
		if (ok) return kid === undefined ? "the issuer's only key (the token has no kid)" : `kid ${describe(kid)} is in the issuer's key set`;
		if (detail.startsWith('keys_unavailable')) return 'the hook cannot fetch the signing keys either: Directus answers 503; run "bcc-cc doctor"';
		if (detail.startsWith('key_unknown')) return 'was the token issued by another tenant, environment or issuer?';
		return null;
	},
	signature(ok) {
		return ok ? "verifies with the issuer's key" : 'the token was altered, or signed by a key that merely reuses the kid';
	},
	issuer(ok, { decoded, issuer }) {
		const iss = decoded.claims?.['iss'];
		return ok ? `iss equals ${describe(iss)}` : `token iss ${describe(iss)}; the provider's discovery document names another form${issuer ? ` of ${describe(issuer.issuer)}` : ''}`;
	},
	audience(ok, { decoded, issuer }) {
		const claim = audienceClaim(issuer);
		const value = decoded.claims?.[claim];
		if (ok) return `${claim} ${describe(value)} names this API`;
		return `token ${claim} ${describe(value)}; configured: ${issuer?.audiences.map((item) => describe(item)).join(', ') ?? '?'}`;
	},
	'client identifier'(ok, { decoded, issuer }) {
		if (!ok) return `looked in ${clientIdClaimsOf(issuer).join(', ')}`;
		const claim = clientIdClaimsOf(issuer).find((name) => decoded.claims?.[name] !== undefined);
		return claim === undefined ? null : `${claim} = ${describe(decoded.claims?.[claim])}`;
	},
	'token kind'(ok, { issuer }) {
		return ok ? `a client-credentials access token${profileNote(issuer)}` : `not a client-credentials access token${profileNote(issuer)}`;
	},
	'scope format'(ok, { decoded, issuer }) {
		const claim = scopeClaim(issuer);
		return ok ? `${claim} ${describe(decoded.claims?.[claim])}` : null;
	},
	lifetime(ok, { decoded, now }) {
		const claims = decoded.claims ?? {};
		const nowSeconds = now() / 1000;
		const exp = claims['exp'];
		const nbf = claims['nbf'];
		const iat = claims['iat'];
		if (typeof exp !== 'number') return null;
		const expiry = `${isoDate(exp)}`;
		if (ok) return `expires in ${duration(exp - nowSeconds)} (${expiry})`;
		if (exp <= nowSeconds + 300) return `expired ${duration(nowSeconds - exp)} ago (${expiry}); get a new token`;
		const start = typeof nbf === 'number' && nbf > nowSeconds ? nbf : typeof iat === 'number' ? iat : null;
		return start === null ? null : `valid from ${isoDate(start)}, in ${duration(start - nowSeconds)}: is this machine's clock or the issuer's wrong?`;
	},
	'required scopes'(ok, { decoded, issuer }) {
		const claim = scopeClaim(issuer);
		const required = issuer?.requiredScopes ?? [];
		const granted = describe(decoded.claims?.[claim]);
		if (ok) return required.length === 0 ? `none required (token ${claim}: ${granted})` : `has ${required.join(' ')} (token ${claim}: ${granted})`;
		return `token ${claim}: ${granted}; required: ${required.join(' ')}; grant the scope to the client at the identity provider (Directus answers 403)`;
	},
};

function profileNote(issuer: IssuerConfig | null): string {
	return issuer ? ` (profile ${issuer.profile})` : '';
}

function audienceClaim(issuer: IssuerConfig | null): string {
	return issuer ? PROFILES[issuer.profile].audienceClaim : 'aud';
}

function scopeClaim(issuer: IssuerConfig | null): string {
	return issuer?.scopeClaim ?? 'scope';
}

/** A short rendering of an untrusted value. */
export function describe(value: unknown): string {
	if (value === undefined) return '(missing)';
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function isoDate(seconds: number): string {
	const date = new Date(seconds * 1000);
	return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace('.000Z', 'Z');
}

/** `2 h 5 min`, `59 min 12 s`, `12 s`. */
export function duration(seconds: number): string {
	let rest = Math.max(0, Math.round(seconds));
	const days = Math.floor(rest / 86400);
	rest -= days * 86400;
	const hours = Math.floor(rest / 3600);
	rest -= hours * 3600;
	const minutes = Math.floor(rest / 60);
	const secs = rest - minutes * 60;
	if (days > 0) return `${days} d ${hours} h`;
	if (hours > 0) return `${hours} h ${minutes} min`;
	if (minutes > 0) return `${minutes} min ${secs} s`;
	return `${secs} s`;
}
