import type { IssuerConfig, SupportedAlgorithm } from './config.js';
import { TokenRefusedError } from './errors.js';
import { isValidIdentifier } from './identity.js';
import type { JsonObject } from './token.js';

/** Auth0 marks a client-credentials token with `gty`. */
export const MACHINE_GRANT_TYPE = 'client-credentials';

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

type ClaimCheck = (payload: JsonObject, context: ClaimContext) => void;

/**
 * The claim checks of a verified payload, in a fixed order: identity of the
 * issuer and audience first, then the token kind, then time. Each failure
 * names its claim. Scopes come last (a 403 only for an otherwise good token).
 */
const CLAIM_CHECKS: ReadonlyArray<ClaimCheck> = [
	function issuer(payload, { canonicalIssuer }) {
		if (payload['iss'] !== canonicalIssuer) throw new TokenRefusedError('issuer_mismatch', 'iss differs from the provider\'s issuer');
	},
	function audience(payload, { issuer }) {
		const aud = payload['aud'];
		if (aud === undefined) throw new TokenRefusedError('audience_mismatch', 'aud missing');
		const audiences = Array.isArray(aud) ? aud : [aud];
		if (audiences.length === 0 || audiences.some((value) => typeof value !== 'string')) {
			throw new TokenRefusedError('claim_invalid', 'aud is not a string or an array of strings');
		}
		if (!audiences.some((value) => issuer.audiences.includes(value as string))) {
			throw new TokenRefusedError('audience_mismatch', 'aud does not name this API');
		}
	},
	function numericDates(payload) {
		for (const claim of ['exp', 'nbf', 'iat'] as const) {
			const value = payload[claim];
			if (value === undefined && claim !== 'exp') continue;
			if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
				throw new TokenRefusedError('claim_invalid', value === undefined ? `${claim} missing` : `${claim} is not a valid NumericDate`);
			}
		}
	},
	function machineToken(payload) {
		if (payload['gty'] !== MACHINE_GRANT_TYPE) {
			throw new TokenRefusedError('not_machine_token', `gty is ${describe(payload['gty'])}, not ${MACHINE_GRANT_TYPE}`);
		}
	},
	function clientIdentifier(payload) {
		if (!isValidIdentifier(payload['sub'])) throw new TokenRefusedError('client_id_invalid', 'sub is missing or not a usable client identifier');
	},
	function scopeType(payload) {
		const scope = payload['scope'];
		if (scope !== undefined && typeof scope !== 'string') throw new TokenRefusedError('claim_invalid', 'scope is not a string');
	},
	function lifetime(payload, { nowSeconds, clockToleranceSeconds }) {
		const exp = payload['exp'] as number;
		const nbf = payload['nbf'] as number | undefined;
		const iat = payload['iat'] as number | undefined;
		if (nowSeconds - clockToleranceSeconds >= exp) throw new TokenRefusedError('token_expired', 'exp is in the past');
		if (nbf !== undefined && nowSeconds + clockToleranceSeconds < nbf) throw new TokenRefusedError('token_not_yet_valid', 'nbf is in the future');
		if (iat !== undefined && nowSeconds + clockToleranceSeconds < iat) throw new TokenRefusedError('token_not_yet_valid', 'iat is in the future');
	},
	function requiredScopes(payload, { issuer }) {
		const granted = scopesOf(payload);
		const missing = issuer.requiredScopes.filter((scope) => !granted.includes(scope));
		if (missing.length > 0) throw new TokenRefusedError('scope_missing', `missing scope ${missing.join(' ')}`);
	},
];

export function checkClaims(payload: JsonObject, context: ClaimContext): CheckedClaims {
	for (const check of CLAIM_CHECKS) check(payload, context);
	return {
		identifier: payload['sub'] as string,
		scopes: scopesOf(payload),
		expiresAt: payload['exp'] as number,
	};
}

function scopesOf(payload: JsonObject): string[] {
	const scope = payload['scope'];
	return typeof scope === 'string' ? scope.split(' ').filter((item) => item !== '') : [];
}

/** A short, log-safe rendering of an untrusted value. */
function describe(value: unknown): string {
	if (value === undefined) return 'missing';
	const text = typeof value === 'string' ? JSON.stringify(value) : typeof value;
	return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
