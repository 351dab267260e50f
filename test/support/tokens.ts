import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** A signing key of the test's own, with its public JWK as a key server would publish it. */
export interface TestKey {
	readonly kid: string;
	readonly alg: string;
	readonly privateKey: KeyObject;
	readonly publicKey: KeyObject;
	readonly jwk: Record<string, unknown>;
}

export function rsaKey(kid: string, options: { bits?: number; alg?: string } = {}): TestKey {
	const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
	const alg = options.alg ?? 'RS256';
	return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

export function ecKey(kid: string, curve: 'P-256' | 'P-384' | 'P-521' = 'P-256'): TestKey {
	const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
	const alg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[curve];
	return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

export function base64url(input: string | Buffer): string {
	return Buffer.from(input).toString('base64url');
}

/** Joins raw segments: for tokens that no library would produce. */
export function compact(header: string, payload: string, signature = 'c2ln'): string {
	return `${base64url(header)}.${base64url(payload)}.${signature}`;
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** Signs `<header>.<payload>` with whatever the header's alg says, including the dangerous ones. */
export function signWith(alg: string, signingInput: string, key: KeyObject | Buffer | string): string {
	const hash = HASH[alg.slice(2)] ?? 'sha256';
	const data = Buffer.from(signingInput);
	if (alg.toLowerCase() === 'none') return '';
	if (alg.startsWith('HS')) return createHmac(hash, key as Buffer | string).update(data).digest('base64url');
	if (alg.startsWith('RS')) return sign(hash, data, key as KeyObject).toString('base64url');
	if (alg.startsWith('PS')) {
		return sign(hash, data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }).toString('base64url');
	}
	if (alg.startsWith('ES')) return sign(hash, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url');
	throw new Error(`signWith: unknown alg ${alg}`);
}

export interface SignOptions {
	readonly key: TestKey;
	readonly payload: Record<string, unknown>;
	/** Replaces or adds header members; `undefined` values remove them. */
	readonly header?: Record<string, unknown>;
	/** Sign with this key material instead of key.privateKey (e.g. HMAC with the public key). */
	readonly signingKey?: KeyObject | Buffer | string;
}

export function signToken({ key, payload, header = {}, signingKey }: SignOptions): string {
	const fullHeader: Record<string, unknown> = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header };
	for (const [name, value] of Object.entries(fullHeader)) if (value === undefined) delete fullHeader[name];
	const signingInput = `${base64url(JSON.stringify(fullHeader))}.${base64url(JSON.stringify(payload))}`;
	return `${signingInput}.${signWith(String(fullHeader['alg']), signingInput, signingKey ?? key.privateKey)}`;
}

/** Claims of an Auth0 client-credentials access token, valid now for an hour. */
export function auth0Claims(options: { issuer: string; audience: string; clientId: string; scope?: string; now?: number }): Record<string, unknown> {
	const now = Math.floor((options.now ?? Date.now()) / 1000);
	return {
		iss: options.issuer,
		sub: `${options.clientId}@clients`,
		aud: options.audience,
		iat: now,
		exp: now + 3600,
		scope: options.scope ?? '',
		gty: 'client-credentials',
		azp: options.clientId,
	};
}
