import type { IssuerConfig, SupportedAlgorithm } from './config.js';
import { TokenRefusedError } from './errors.js';
import { isValidIdentifier, namespaced } from './identity.js';
import { PROFILES } from './profiles.js';
import type { JsonObject } from './token.js';

const MAX_KID_LENGTH = 256;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
/** Header parameters that carry or point to a key: a verifier that used them would trust the attacker's key (RFC 8725 §3.10). */
const KEY_CARRYING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;
/** `typ` values of access tokens; an absent typ is tolerated (Auth0 and most providers send "JWT"). */
const ACCEPTED_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

export interface CheckedHeader {
	readonly alg: SupportedAlgorithm;
	readonly kid: string | undefined;
}

/** Everything decidable from the header alone, so that such tokens never cause a key fetch. */
export function checkHeader(header: JsonObject, issuer: IssuerConfig): CheckedHeader {
	const { alg, kid, typ, crit } = header;
	if (typeof alg !== 'string' || !(issuer.algorithms as readonly string[]).includes(alg)) {
		throw new TokenRefusedError('algorithm_not_allowed', `alg ${describe(alg)} is not in the allow list`);
	}
	if (crit !== undefined) {
		// RFC 7515 §4.1.11: we understand no extensions, so any crit is fatal.
		throw new TokenRefusedError('header_unsupported', 'crit header present');
	}
	for (const name of KEY_CARRYING_HEADERS) {
		if (name in header) throw new TokenRefusedError('header_unsupported', `${name} header present`);
	}
	if ('b64' in header) throw new TokenRefusedError('header_unsupported', 'b64 header present');
	if (typ !== undefined && (typeof typ !== 'string' || !ACCEPTED_TYPES.has(typ.toLowerCase()))) {
		throw new TokenRefusedError('header_unsupported', `typ ${describe(typ)} is not an access token type`);
	}
	if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH || !PRINTABLE_ASCII.test(kid))) {
		throw new TokenRefusedError('header_unsupported', 'kid is not a short printable string');
	}
	return { alg: alg as SupportedAlgorithm, kid: kid as string | undefined };
}

export interface ClaimContext {
	readonly issuer: IssuerConfig;
	/** The verified header (RFC 9068 marks access tokens there). */
	readonly header: JsonObject;
	/** The issuer exactly as the provider writes it. */
	readonly canonicalIssuer: string;
	readonly nowSeconds: number;
	readonly clockToleranceSeconds: number;
}

export interface CheckedClaims {
	readonly identifier: string;
	readonly scopes: readonly string[];
	/** `exp`, seconds since the epoch. */
	readonly expiresAt: number;
}

/** Later than this is not a date anyone issues (year 5138); such values are refused rather than trusted. */
const MAX_NUMERIC_DATE = 1e11;

/** One check of a verified payload; it throws a TokenRefusedError naming its claim. */
interface ClaimCheck {
	readonly name: string;
	check(payload: JsonObject, context: ClaimContext): void;
}

/**
 * The claim checks of a verified payload, in a fixed order: identity of the
 * issuer and audience first, then the token kind and client, then time, and
 * scopes last (a 403 only for an otherwise good token). What varies by
 * provider comes from the issuer's profile and claim settings.
 */
const CLAIM_CHECKS: readonly ClaimCheck[] = [
	{
		name: 'issuer',
		check(payload, { canonicalIssuer }) {
			if (payload['iss'] !== canonicalIssuer) throw new TokenRefusedError('issuer_mismatch', "iss differs from the provider's issuer");
		},
	},
	{
		name: 'audience',
		check(payload, { issuer }) {
			const claim = PROFILES[issuer.profile].audienceClaim;
			const value = payload[claim];
			if (value === undefined) throw new TokenRefusedError('audience_mismatch', `${claim} missing`);
			const audiences = Array.isArray(value) && claim === 'aud' ? value : [value];
			if (audiences.length === 0 || audiences.some((item) => typeof item !== 'string')) {
				throw new TokenRefusedError('claim_invalid', `${claim} is not a string${claim === 'aud' ? ' or an array of strings' : ''}`);
			}
			if (!audiences.some((item) => issuer.audiences.includes(item as string))) {
				throw new TokenRefusedError('audience_mismatch', `${claim} does not name this API`);
			}
		},
	},
	{
		name: 'dates',
		check(payload) {
			for (const claim of ['exp', 'nbf', 'iat'] as const) {
				const value = payload[claim];
				if (value === undefined && claim !== 'exp') continue;
				if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
					throw new TokenRefusedError('claim_invalid', value === undefined ? `${claim} missing` : `${claim} is not a valid NumericDate`);
				}
			}
		},
	},
	{
		name: 'client identifier',
		check(payload, { issuer }) {
			const claim = issuer.clientIdClaims.find((name) => payload[name] !== undefined);
			if (claim === undefined) throw new TokenRefusedError('client_id_invalid', `none of ${issuer.clientIdClaims.join(', ')} present`);
			const value = payload[claim];
			if (!isValidIdentifier(value) || !isValidIdentifier(namespaced(value, issuer.namespace))) {
				throw new TokenRefusedError('client_id_invalid', `${claim} is not a usable client identifier`);
			}
			const foreign = issuer.foreignPrefixes.find((prefix) => value.startsWith(prefix));
			if (foreign !== undefined) {
				throw new TokenRefusedError('client_id_invalid', `${claim} starts with "${foreign}", the namespace of another issuer's clients`);
			}
		},
	},
	{
		name: 'token kind',
		check(payload, context) {
			const problem = PROFILES[context.issuer.profile].notMachineToken(context.header, payload, identifierOf(payload, context));
			if (problem !== null) throw new TokenRefusedError('not_machine_token', problem);
		},
	},
	{
		name: 'scope format',
		check(payload, { issuer }) {
			scopesOf(payload, issuer);
		},
	},
	{
		name: 'lifetime',
		check(payload, { nowSeconds, clockToleranceSeconds }) {
			const exp = payload['exp'] as number;
			const nbf = payload['nbf'] as number | undefined;
			const iat = payload['iat'] as number | undefined;
			if (nowSeconds - clockToleranceSeconds >= exp) throw new TokenRefusedError('token_expired', 'exp is in the past');
			if (nbf !== undefined && nowSeconds + clockToleranceSeconds < nbf) throw new TokenRefusedError('token_not_yet_valid', 'nbf is in the future');
			if (iat !== undefined && nowSeconds + clockToleranceSeconds < iat) throw new TokenRefusedError('token_not_yet_valid', 'iat is in the future');
		},
	},
	{
		name: 'required scopes',
		check(payload, { issuer }) {
			const granted = scopesOf(payload, issuer);
			const missing = issuer.requiredScopes.filter((scope) => !granted.includes(scope));
			if (missing.length > 0) throw new TokenRefusedError('scope_missing', `missing scope ${missing.join(' ')}`);
		},
	},
];

/** Reports each check's outcome; used by `bcc-cc check` to explain a token. */
export type TraceStep = (step: { name: string; ok: boolean; detail: string }) => void;

export function checkClaims(payload: JsonObject, context: ClaimContext, trace?: TraceStep): CheckedClaims {
	for (const { name, check } of CLAIM_CHECKS) {
		try {
			check(payload, context);
		} catch (error) {
			if (error instanceof TokenRefusedError) trace?.({ name, ok: false, detail: `${error.reason}: ${error.detail}` });
			throw error;
		}
		trace?.({ name, ok: true, detail: 'ok' });
	}
	return {
		identifier: namespaced(identifierOf(payload, context), context.issuer.namespace),
		scopes: scopesOf(payload, context.issuer),
		expiresAt: payload['exp'] as number,
	};
}

function identifierOf(payload: JsonObject, { issuer }: ClaimContext): string {
	const claim = issuer.clientIdClaims.find((name) => payload[name] !== undefined) as string;
	return payload[claim] as string;
}

/** Scopes in the shape the issuer's profile writes them; any other shape is refused. */
function scopesOf(payload: JsonObject, { scopeClaim, scopeFormat }: IssuerConfig): string[] {
	const value = payload[scopeClaim];
	if (value === undefined) return [];
	if (typeof value === 'string' && scopeFormat !== 'array') return value.split(' ').filter((item) => item !== '');
	if (Array.isArray(value) && scopeFormat !== 'string' && value.every((item) => typeof item === 'string')) return value as string[];
	throw new TokenRefusedError('claim_invalid', `${scopeClaim} is not ${scopeFormat === 'either' ? 'a string or an array of strings' : `a${scopeFormat === 'array' ? 'n array of strings' : ' string'}`}`);
}

/** A short, log-safe rendering of an untrusted value. */
function describe(value: unknown): string {
	if (value === undefined) return 'missing';
	const text = typeof value === 'string' ? JSON.stringify(value) : typeof value;
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
