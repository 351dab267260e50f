/**
 * Hostile tokens as data, shared by the verifier's unit tests and the
 * end-to-end tests against a real Directus, so that both prove the same
 * cases. Each case names the refusal reason it must produce; the HTTP status
 * and Directus code a client sees follow from HTTP_FOR_REASON.
 *
 * The cases assume a token maker whose valid token is an Auth0-shaped
 * client-credentials token for client `svc-orders` with scope `read:items`,
 * signed by `key` (published as the only RS256 key under its kid), for an
 * issuer configured with `read:items` as required scope and an allow list
 * without RS384, ES384 or any HMAC algorithm.
 */
import type { RefusalReason } from '../../extension/core/errors.js';
import { base64url, ecKey, rsaKey, signWith, type TestKey } from './tokens.js';

export interface TokenMaker {
	/** The issuer exactly as the provider writes it (with Auth0's trailing slash). */
	readonly issuer: string;
	readonly audience: string;
	/** The issuer's signing key; its public JWK is published under `key.kid`. */
	readonly key: TestKey;
	/** Seconds since the epoch on the verifier's clock. */
	now(): number;
	/** A valid token, with claim overrides (an undefined value removes the claim) and header overrides. */
	token(overrides?: Record<string, unknown>, options?: { header?: Record<string, unknown>; key?: TestKey; clientId?: string }): string;
}

export interface HostileCase {
	readonly name: string;
	readonly make: (maker: TokenMaker) => string;
	readonly reason: RefusalReason;
}

/**
 * What a client must see for each refusal reason (security.md, "Errors and
 * logs"). Written out here rather than read from REFUSAL_REASONS so that a
 * change to the product's mapping fails a test (test/unit/refusals.test.ts).
 */
export const HTTP_FOR_REASON: Record<RefusalReason, { status: 401 | 403 | 503; code: string }> = {
	token_malformed: { status: 401, code: 'INVALID_CREDENTIALS' },
	algorithm_not_allowed: { status: 401, code: 'INVALID_CREDENTIALS' },
	header_unsupported: { status: 401, code: 'INVALID_CREDENTIALS' },
	key_unknown: { status: 401, code: 'INVALID_CREDENTIALS' },
	key_unusable: { status: 401, code: 'INVALID_CREDENTIALS' },
	signature_invalid: { status: 401, code: 'INVALID_CREDENTIALS' },
	issuer_mismatch: { status: 401, code: 'INVALID_CREDENTIALS' },
	audience_mismatch: { status: 401, code: 'INVALID_CREDENTIALS' },
	claim_invalid: { status: 401, code: 'INVALID_CREDENTIALS' },
	token_expired: { status: 401, code: 'TOKEN_EXPIRED' },
	token_not_yet_valid: { status: 401, code: 'INVALID_CREDENTIALS' },
	not_machine_token: { status: 401, code: 'INVALID_CREDENTIALS' },
	client_id_invalid: { status: 401, code: 'INVALID_CREDENTIALS' },
	scope_missing: { status: 403, code: 'FORBIDDEN' },
	client_unknown: { status: 401, code: 'INVALID_CREDENTIALS' },
	client_inactive: { status: 401, code: 'INVALID_CREDENTIALS' },
	keys_unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE' },
	directory_unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE' },
};

/** The valid payload segment of the maker's token. */
export function payloadSegment(maker: TokenMaker, overrides: Record<string, unknown> = {}): string {
	return maker.token(overrides).split('.')[1] as string;
}

/** The maker's valid payload under another header and a given signature segment. */
export function withHeader(maker: TokenMaker, header: Record<string, unknown>, signature: string): string {
	return `${base64url(JSON.stringify(header))}.${payloadSegment(maker)}.${signature}`;
}

/** CVE-2022-23541 class: HMAC keyed with the issuer's public key, which anyone can download. */
export function hmacWithPublicKey(maker: TokenMaker, alg: string, overrides: Record<string, unknown> = {}): string {
	const pem = maker.key.publicKey.export({ format: 'pem', type: 'spki' }) as string;
	const signingInput = `${base64url(JSON.stringify({ alg, typ: 'JWT', kid: maker.key.kid }))}.${payloadSegment(maker, overrides)}`;
	return `${signingInput}.${signWith(alg, signingInput, pem)}`;
}

/** A payload written as raw JSON text (duplicate members, odd spellings), correctly signed by the issuer's key. */
export function signedRawPayload(maker: TokenMaker, json: string): string {
	const [header] = maker.token().split('.');
	const signingInput = `${header}.${base64url(json)}`;
	return `${signingInput}.${signWith(maker.key.alg, signingInput, maker.key.privateKey)}`;
}

/** The maker's valid token with its payload replaced after signing. */
export function tampered(maker: TokenMaker, overrides: Record<string, unknown>, base: Record<string, unknown> = {}): string {
	const [header, payload, signature] = maker.token(base).split('.') as [string, string, string];
	const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
	return `${header}.${base64url(JSON.stringify({ ...claims, ...overrides }))}.${signature}`;
}

/** The same signature bytes written with non-zero unused trailing bits: another string for the same token. */
export function nonCanonicalSignature(token: string): string {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
	// A 256-byte signature ends in a character of which only the top 2 bits count.
	const last = token.at(-1) as string;
	return token.slice(0, -1) + (alphabet[alphabet.indexOf(last) ^ 1] as string);
}

export interface ForeignCase {
	readonly name: string;
	readonly make: (maker: TokenMaker) => string;
}

/**
 * Strings the hook must not own (not a compact JWS of sane size whose
 * unverified iss is the configured issuer): they fall through to Directus's
 * own check untouched, with no key fetch and no log line of the hook.
 */
export const FOREIGN_CASES: readonly ForeignCase[] = [
	{ name: 'a static-token-like string', make: () => 'AbCdEf0123456789-static-token' },
	{ name: 'a Directus-style JWT (iss directus) signed by another key', make: (m) => m.token({ iss: 'directus', id: 'u' }, { key: rsaKey('x') }) },
	{ name: "another issuer's JWT", make: (m) => m.token({ iss: 'https://other.example.com/' }) },
	{ name: 'iss with a second trailing slash', make: (m) => m.token({ iss: `${m.issuer}/` }) },
	{ name: 'iss in upper case', make: (m) => m.token({ iss: m.issuer.toUpperCase() }) },
	{ name: 'iss with a path added', make: (m) => m.token({ iss: `${m.issuer}evil/` }) },
	{ name: 'no iss', make: (m) => m.token({ iss: undefined }) },
	{ name: 'iss not a string', make: (m) => m.token({ iss: [m.issuer] }) },
	{ name: 'two segments', make: (m) => m.token().split('.').slice(0, 2).join('.') },
	{ name: 'four segments', make: (m) => `${m.token()}.abc` },
	{ name: 'padding characters', make: (m) => m.token().replace(/\./, '=.') },
	{ name: 'standard base64 characters (+ and /)', make: (m) => `${m.token().split('.')[0]}.${standardBase64Payload(m)}.AA` },
	{ name: 'a payload that is not JSON', make: (m) => `${m.token().split('.')[0]}.${base64url('not json')}.AA` },
	{ name: 'a payload that is a JSON array', make: (m) => `${m.token().split('.')[0]}.${base64url(`["${m.issuer}"]`)}.AA` },
	{ name: 'a payload with a byte order mark', make: (m) => `${m.token().split('.')[0]}.${base64url(`\ufeff{"iss":"${m.issuer}"}`)}.AA` },
	{ name: 'a payload with invalid UTF-8 after the iss', make: (m) => `${m.token().split('.')[0]}.${Buffer.concat([Buffer.from(`{"iss":"${m.issuer}","sub":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64url')}.AA` },
];

/** A payload in standard base64 (with `+` or `/`, unpadded) that would name the issuer if read leniently. */
function standardBase64Payload(m: TokenMaker): string {
	for (let filler = '';; filler += 'x') {
		const encoded = Buffer.from(JSON.stringify({ iss: m.issuer, x: `${filler}\u00fb\u00ff\u00fe>?` })).toString('base64').replace(/=+$/, '');
		if (/[+/]/.test(encoded)) return encoded;
	}
}

/**
 * Tokens refused on their header or structure alone: none of them may cause a
 * request to the key server.
 */
export const HEADER_CASES: readonly HostileCase[] = [
	{ name: 'alg none with an empty signature', make: (m) => withHeader(m, { alg: 'none' }, ''), reason: 'algorithm_not_allowed' },
	{ name: 'alg none with a signature', make: (m) => withHeader(m, { alg: 'none' }, 'AA'), reason: 'algorithm_not_allowed' },
	{ name: 'alg None', make: (m) => withHeader(m, { alg: 'None' }, ''), reason: 'algorithm_not_allowed' },
	{ name: 'alg NONE', make: (m) => withHeader(m, { alg: 'NONE' }, ''), reason: 'algorithm_not_allowed' },
	{ name: 'alg nOnE', make: (m) => withHeader(m, { alg: 'nOnE', kid: m.key.kid }, 'AA'), reason: 'algorithm_not_allowed' },
	{ name: 'alg missing', make: (m) => withHeader(m, { kid: m.key.kid }, 'AA'), reason: 'algorithm_not_allowed' },
	{ name: 'alg empty', make: (m) => withHeader(m, { alg: '', kid: m.key.kid }, 'AA'), reason: 'algorithm_not_allowed' },
	{ name: 'alg not a string', make: (m) => m.token({}, { header: { alg: ['RS256'] } }), reason: 'algorithm_not_allowed' },
	{ name: 'alg rs256 (wrong case)', make: (m) => withHeader(m, { alg: 'rs256', kid: m.key.kid }, m.token().split('.')[2] as string), reason: 'algorithm_not_allowed' },
	{ name: 'HS256 signed with the public key (algorithm confusion)', make: (m) => hmacWithPublicKey(m, 'HS256'), reason: 'algorithm_not_allowed' },
	{ name: 'HS512 signed with the public key', make: (m) => hmacWithPublicKey(m, 'HS512'), reason: 'algorithm_not_allowed' },
	{ name: 'RS384, outside the allow list', make: (m) => m.token({}, { header: { alg: 'RS384' } }), reason: 'algorithm_not_allowed' },
	{ name: 'ES384, outside the allow list', make: (m) => m.token({}, { key: ecKey(m.key.kid, 'P-384') }), reason: 'algorithm_not_allowed' },
	{ name: 'EdDSA, outside the allow list', make: (m) => withHeader(m, { alg: 'EdDSA', kid: m.key.kid }, 'AAAA'), reason: 'algorithm_not_allowed' },
	{ name: 'crit header', make: (m) => m.token({}, { header: { crit: ['exp'] } }), reason: 'header_unsupported' },
	{ name: 'crit header that is empty', make: (m) => m.token({}, { header: { crit: [] } }), reason: 'header_unsupported' },
	{ name: 'jku header pointing at the real key set', make: (m) => m.token({}, { header: { jku: `${m.issuer}.well-known/jwks.json` } }), reason: 'header_unsupported' },
	{ name: 'x5u header', make: (m) => m.token({}, { header: { x5u: `${m.issuer}cert.pem` } }), reason: 'header_unsupported' },
	{ name: 'embedded jwk header', make: (m) => m.token({}, { header: { jwk: m.key.jwk } }), reason: 'header_unsupported' },
	{ name: 'embedded jwk of an attacker key, signed with it', make: (m) => { const evil = rsaKey(m.key.kid); return m.token({}, { key: evil, header: { jwk: evil.jwk } }); }, reason: 'header_unsupported' },
	{ name: 'x5c header', make: (m) => m.token({}, { header: { x5c: ['MIIB'] } }), reason: 'header_unsupported' },
	{ name: 'b64 false', make: (m) => m.token({}, { header: { b64: false } }), reason: 'header_unsupported' },
	{ name: 'typ of an ID token style value', make: (m) => m.token({}, { header: { typ: 'id_token+jwt' } }), reason: 'header_unsupported' },
	{ name: 'typ of a logout token (secevent+jwt)', make: (m) => m.token({}, { header: { typ: 'secevent+jwt' } }), reason: 'header_unsupported' },
	{ name: 'typ of a DPoP proof', make: (m) => m.token({}, { header: { typ: 'dpop+jwt' } }), reason: 'header_unsupported' },
	{ name: 'typ not a string', make: (m) => m.token({}, { header: { typ: 1 } }), reason: 'header_unsupported' },
	{ name: 'kid a number', make: (m) => m.token({}, { header: { kid: 1 } }), reason: 'header_unsupported' },
	{ name: 'kid an object', make: (m) => m.token({}, { header: { kid: { $ne: null } } }), reason: 'header_unsupported' },
	{ name: 'kid empty', make: (m) => m.token({}, { header: { kid: '' } }), reason: 'header_unsupported' },
	{ name: 'kid with a newline (log injection)', make: (m) => m.token({}, { header: { kid: `${m.key.kid}\nlevel=error` } }), reason: 'header_unsupported' },
	{ name: 'kid with a path and a NUL', make: (m) => m.token({}, { header: { kid: '../../etc/passwd\u0000' } }), reason: 'header_unsupported' },
	{ name: 'kid with non-ASCII text', make: (m) => m.token({}, { header: { kid: 'clé-\u202e1' } }), reason: 'header_unsupported' },
	{ name: 'kid of 300 characters', make: (m) => m.token({}, { header: { kid: 'k'.repeat(300) } }), reason: 'header_unsupported' },
	{ name: 'header that is not JSON', make: (m) => `${base64url('{"alg":')}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header that is a JSON string', make: (m) => `${base64url('"RS256"')}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header that is JSON null', make: (m) => `${base64url('null')}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header with invalid UTF-8', make: (m) => `${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header with a byte order mark', make: (m) => `${base64url(`\ufeff${JSON.stringify({ alg: 'RS256', kid: m.key.kid })}`)}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header with duplicate alg', make: (m) => `${base64url(`{"alg":"none","alg":"RS256","kid":"${m.key.kid}"}`)}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'header with __proto__', make: (m) => `${base64url('{"alg":"RS256","__proto__":{"admin":true}}')}.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'payload with duplicate sub', make: (m) => signedRawPayload(m, duplicateSubPayload(m)), reason: 'token_malformed' },
	{ name: 'payload with nested __proto__', make: (m) => `${m.token().split('.')[0]}.${base64url(`{"iss":"${m.issuer}","x":{"__proto__":{}}}`)}.AA`, reason: 'token_malformed' },
	{ name: 'payload with a constructor member', make: (m) => signedRawPayload(m, JSON.stringify(JSON.parse(Buffer.from(payloadSegment(m), 'base64url').toString())).replace('{', '{"constructor":{"prototype":{"admin":true}},')), reason: 'token_malformed' },
	{ name: 'a header segment of impossible base64url length', make: (m) => `${m.token().split('.')[0]}A.${payloadSegment(m)}.AA`, reason: 'token_malformed' },
	{ name: 'a signature with non-zero unused bits (same bytes, other string)', make: (m) => nonCanonicalSignature(m.token()), reason: 'token_malformed' },
	{ name: 'a signature of impossible base64url length', make: (m) => `${m.token()}AAA`, reason: 'token_malformed' },
];

function duplicateSubPayload(m: TokenMaker): string {
	return `{"iss":"${m.issuer}","sub":"svc-orders@clients","sub":"admin@clients","aud":"${m.audience}","exp":${m.now() + 60},"gty":"client-credentials","scope":"read:items"}`;
}

/** Tokens whose signature or key is wrong; refused after the key lookup. */
export const SIGNATURE_CASES: readonly HostileCase[] = [
	{ name: 'an unknown kid', make: (m) => m.token({}, { header: { kid: 'no-such-key' } }), reason: 'key_unknown' },
	{ name: 'signed by another key under the published kid', make: (m) => m.token({}, { key: rsaKey(m.key.kid) }), reason: 'signature_invalid' },
	{ name: 'sub changed after signing', make: (m) => tampered(m, { sub: 'admin@clients' }), reason: 'signature_invalid' },
	{ name: 'scope widened after signing', make: (m) => tampered(m, { scope: 'read:items write:items admin' }), reason: 'signature_invalid' },
	{ name: 'header kid changed after signing', make: (m) => { const [, p, s] = m.token().split('.'); return `${base64url(JSON.stringify({ alg: 'RS256', kid: m.key.kid, typ: 'at+jwt' }))}.${p}.${s}`; }, reason: 'signature_invalid' },
	{ name: 'an empty signature', make: (m) => m.token().replace(/\.[^.]+$/, '.'), reason: 'signature_invalid' },
	{ name: 'a signature with one character appended', make: (m) => `${m.token()}A`, reason: 'signature_invalid' },
	{ name: 'a signature stripped to garbage', make: (m) => m.token().replace(/\.[^.]+$/, '.AAAA'), reason: 'signature_invalid' },
	{ name: 'the signature of another valid token', make: (m) => { const [h, p] = m.token().split('.'); return `${h}.${p}.${m.token({ jti: 'other' }).split('.')[2]}`; }, reason: 'signature_invalid' },
	{ name: 'a signature made with the payload only', make: (m) => { const [h, p] = m.token().split('.'); return `${h}.${p}.${signWith('RS256', p as string, m.key.privateKey)}`; }, reason: 'signature_invalid' },
];

/**
 * Claims of a correctly signed token. The issuer requires scope `read:items`
 * and tolerates 5 s of clock skew.
 */
export const CLAIM_CASES: readonly HostileCase[] = [
	{ name: 'iss without the trailing slash the provider writes', make: (m) => m.token({ iss: m.issuer.slice(0, -1) }), reason: 'issuer_mismatch' },
	{ name: 'aud of another API', make: (m) => m.token({ aud: 'https://other.example.test' }), reason: 'audience_mismatch' },
	{ name: 'aud missing', make: (m) => m.token({ aud: undefined }), reason: 'audience_mismatch' },
	{ name: 'aud with a trailing slash added', make: (m) => m.token({ aud: `${m.audience}/` }), reason: 'audience_mismatch' },
	{ name: 'aud in another case', make: (m) => m.token({ aud: m.audience.toUpperCase() }), reason: 'audience_mismatch' },
	{ name: 'aud array without this API', make: (m) => m.token({ aud: ['a', 'b'] }), reason: 'audience_mismatch' },
	{ name: 'aud a number', make: (m) => m.token({ aud: 1 }), reason: 'claim_invalid' },
	{ name: 'aud an empty array', make: (m) => m.token({ aud: [] }), reason: 'claim_invalid' },
	{ name: 'aud array with an object', make: (m) => m.token({ aud: [m.audience, {}] }), reason: 'claim_invalid' },
	{ name: 'aud an object', make: (m) => m.token({ aud: { 0: m.audience } }), reason: 'claim_invalid' },
	{ name: 'exp missing', make: (m) => m.token({ exp: undefined }), reason: 'claim_invalid' },
	{ name: 'exp a string', make: (m) => m.token({ exp: String(m.now() + 60) }), reason: 'claim_invalid' },
	{ name: 'exp absurdly far', make: (m) => m.token({ exp: 1e15 }), reason: 'claim_invalid' },
	{ name: 'exp negative', make: (m) => m.token({ exp: -1 }), reason: 'claim_invalid' },
	{ name: 'exp a boolean', make: (m) => m.token({ exp: true }), reason: 'claim_invalid' },
	{ name: 'exp in milliseconds (far future)', make: (m) => m.token({ exp: (m.now() + 3600) * 1000 }), reason: 'claim_invalid' },
	{ name: 'nbf a string', make: (m) => m.token({ nbf: 'yesterday' }), reason: 'claim_invalid' },
	{ name: 'iat null', make: (m) => m.token({ iat: null }), reason: 'claim_invalid' },
	{ name: 'iat an array', make: (m) => m.token({ iat: [m.now()] }), reason: 'claim_invalid' },
	{ name: 'exp in the past', make: (m) => m.token({ exp: m.now() - 3600, iat: m.now() - 7200 }), reason: 'token_expired' },
	{ name: 'exp exactly at the tolerance', make: (m) => m.token({ exp: m.now() - 5 }), reason: 'token_expired' },
	{ name: 'exp 0 (1970)', make: (m) => m.token({ exp: 0 }), reason: 'token_expired' },
	{ name: 'nbf in the future', make: (m) => m.token({ nbf: m.now() + 60 }), reason: 'token_not_yet_valid' },
	{ name: 'iat in the future', make: (m) => m.token({ iat: m.now() + 60 }), reason: 'token_not_yet_valid' },
	{ name: 'gty missing (a user access token)', make: (m) => m.token({ gty: undefined }), reason: 'not_machine_token' },
	{ name: 'gty password', make: (m) => m.token({ gty: 'password' }), reason: 'not_machine_token' },
	{ name: 'gty as an array', make: (m) => m.token({ gty: ['client-credentials'] }), reason: 'not_machine_token' },
	{ name: 'gty with different case', make: (m) => m.token({ gty: 'Client-Credentials' }), reason: 'not_machine_token' },
	{ name: 'sub missing', make: (m) => m.token({ sub: undefined }), reason: 'client_id_invalid' },
	{ name: 'sub a number', make: (m) => m.token({ sub: 12 }), reason: 'client_id_invalid' },
	{ name: 'sub an array', make: (m) => m.token({ sub: ['svc-orders@clients'] }), reason: 'client_id_invalid' },
	{ name: 'sub empty', make: (m) => m.token({ sub: '' }), reason: 'client_id_invalid' },
	{ name: 'sub with a newline', make: (m) => m.token({ sub: 'svc\n@clients' }), reason: 'client_id_invalid' },
	{ name: 'sub with a NUL', make: (m) => m.token({ sub: 'svc\u0000@clients' }), reason: 'client_id_invalid' },
	{ name: 'sub with an escape sequence', make: (m) => m.token({ sub: 'svc\u001b[31m@clients' }), reason: 'client_id_invalid' },
	{ name: 'sub with a lone surrogate', make: (m) => m.token({ sub: 'svc\ud800@clients' }), reason: 'client_id_invalid' },
	{ name: 'sub with surrounding spaces', make: (m) => m.token({ sub: ' svc@clients' }), reason: 'client_id_invalid' },
	{ name: 'sub of 256 characters', make: (m) => m.token({ sub: 's'.repeat(256) }), reason: 'client_id_invalid' },
	{ name: 'scope as an array', make: (m) => m.token({ scope: ['read:items'] }), reason: 'claim_invalid' },
	{ name: 'scope a number', make: (m) => m.token({ scope: 1 }), reason: 'claim_invalid' },
	{ name: 'scope missing', make: (m) => m.token({ scope: undefined }), reason: 'scope_missing' },
	{ name: 'scope empty', make: (m) => m.token({ scope: '' }), reason: 'scope_missing' },
	{ name: 'scope a near miss', make: (m) => m.token({ scope: 'read:itemsx read:item' }), reason: 'scope_missing' },
	{ name: 'scope as a prefix (read vs readonly)', make: (m) => m.token({ scope: 'read:itemsonly' }), reason: 'scope_missing' },
	{ name: 'scope in another case', make: (m) => m.token({ scope: 'READ:ITEMS' }), reason: 'scope_missing' },
	{ name: 'scopes separated by a tab', make: (m) => m.token({ scope: 'write:items\tread:items' }), reason: 'scope_missing' },
	{ name: 'scopes separated by a comma', make: (m) => m.token({ scope: 'write:items,read:items' }), reason: 'scope_missing' },
];

/** Tokens that are not a machine client's access token, whatever else is right about them. */
export const TOKEN_KIND_CASES: readonly HostileCase[] = [
	{ name: 'an ID token (aud is the client id, a nonce, no gty)', make: (m) => m.token({ aud: 'svc-orders', nonce: 'n-0S6_WzA2Mj', gty: undefined, auth_time: m.now() }), reason: 'audience_mismatch' },
	{ name: 'an ID token that also names the API in aud', make: (m) => m.token({ aud: ['svc-orders', m.audience], nonce: 'n-0S6_WzA2Mj', gty: undefined }), reason: 'not_machine_token' },
	{ name: 'a user access token (auth0|user sub, no gty)', make: (m) => m.token({ sub: 'auth0|5f7c8ec7c33c6c004bbafe82', gty: undefined, azp: 'spa-client' }), reason: 'not_machine_token' },
	{ name: 'an access token from a refresh (gty refresh_token)', make: (m) => m.token({ gty: 'refresh_token' }), reason: 'not_machine_token' },
	{ name: 'a refresh token as a JWT (typ Refresh in the payload, no gty)', make: (m) => m.token({ typ: 'Refresh', gty: undefined }), reason: 'not_machine_token' },
	{ name: 'a device-code access token', make: (m) => m.token({ gty: 'urn:ietf:params:oauth:grant-type:device_code' }), reason: 'not_machine_token' },
];

/**
 * TOKEN_EXPIRED only after the signature verified and every identity check
 * passed: an expired token that is also forged or foreign gets
 * INVALID_CREDENTIALS, so the code tells nothing about a forgery.
 */
export const PRECEDENCE_CASES: readonly HostileCase[] = [
	{ name: 'expired and signed by another key', make: (m) => m.token(expired(m), { key: rsaKey(m.key.kid) }), reason: 'signature_invalid' },
	{ name: 'expired and changed after signing', make: (m) => tampered(m, { sub: 'admin@clients' }, expired(m)), reason: 'signature_invalid' },
	{ name: 'expired with an unknown kid', make: (m) => m.token(expired(m), { header: { kid: 'no-such-key' } }), reason: 'key_unknown' },
	{ name: 'expired and alg none', make: (m) => `${base64url(JSON.stringify({ alg: 'none' }))}.${payloadSegment(m, expired(m))}.`, reason: 'algorithm_not_allowed' },
	{ name: 'expired and HS256 with the public key', make: (m) => hmacWithPublicKey(m, 'HS256', expired(m)), reason: 'algorithm_not_allowed' },
	{ name: 'expired for another audience', make: (m) => m.token({ ...expired(m), aud: 'https://other.example.test' }), reason: 'audience_mismatch' },
	{ name: 'expired and not a machine token', make: (m) => m.token({ ...expired(m), gty: 'password' }), reason: 'not_machine_token' },
	{ name: 'expired and a non-numeric nbf', make: (m) => m.token({ ...expired(m), nbf: 'soon' }), reason: 'claim_invalid' },
	{ name: 'expired and without the required scope', make: (m) => m.token({ ...expired(m), scope: 'write:items' }), reason: 'token_expired' },
];

function expired(m: TokenMaker): Record<string, unknown> {
	return { iat: m.now() - 7200, exp: m.now() - 3600 };
}

