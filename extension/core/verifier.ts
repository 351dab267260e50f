import jwt from 'jsonwebtoken';
import { checkClaims, checkHeader, type CheckedClaims } from './claims.js';
import type { IssuerConfig, VerifierConfig } from './config.js';
import { routingKeyFor } from './config.js';
import { TokenRefusedError } from './errors.js';
import { fetchJson as defaultFetchJson, type FetchJson } from './http.js';
import { userIdForIdentifier } from './identity.js';
import { assertKeyFitsAlgorithm, RemoteKeySet, type KeySetEvent, type VerificationKey } from './keys.js';
import { parseToken, peekIssuer } from './token.js';

export interface VerifiedClient {
	/** The issuer exactly as the token wrote it. */
	readonly issuer: string;
	/** The client's identifier as the token carries it (Auth0: `<clientId>@clients`). */
	readonly identifier: string;
	/** The Directus user this client maps to. */
	readonly userId: string;
	readonly scopes: readonly string[];
	/** `exp`, seconds since the epoch. */
	readonly expiresAt: number;
}

export interface VerifierOptions {
	readonly fetchJson?: FetchJson;
	/** Milliseconds since the epoch; injectable so tests can move time. */
	readonly now?: () => number;
	readonly onKeyEvent?: (event: KeySetEvent) => void;
}

export interface Verifier {
	/** True when the token is a JWT from a configured issuer, i.e. this hook must accept or refuse it. */
	owns(token: unknown): token is string;
	/** Verifies an owned token; throws TokenRefusedError with the reason. */
	verify(token: string): Promise<VerifiedClient>;
	/** The key set of each issuer, by routing key; for diagnostics and benchmarks. */
	readonly keySets: ReadonlyMap<string, RemoteKeySet>;
}

/** Built once at startup; verify() is the only per-request work. */
export function createVerifier(config: VerifierConfig, options: VerifierOptions = {}): Verifier {
	const now = options.now ?? Date.now;
	const issuers = new Map<string, IssuerConfig>(config.issuers.map((issuer) => [issuer.routingKey, issuer]));
	const keySets = new Map<string, RemoteKeySet>(
		config.issuers.map((issuer) => [
			issuer.routingKey,
			new RemoteKeySet({
				issuer,
				config: config.keys,
				fetchJson: options.fetchJson ?? defaultFetchJson,
				now,
				...(options.onKeyEvent ? { onEvent: options.onKeyEvent } : {}),
			}),
		]),
	);

	function issuerOf(token: unknown): IssuerConfig | null {
		const iss = peekIssuer(token, config.maxTokenLength);
		return iss === null ? null : (issuers.get(routingKeyFor(iss)) ?? null);
	}

	return {
		keySets,
		owns(token: unknown): token is string {
			return issuerOf(token) !== null;
		},
		async verify(token: string): Promise<VerifiedClient> {
			const issuer = issuerOf(token);
			if (issuer === null) throw new TokenRefusedError('token_malformed', 'not a token from a configured issuer');
			const { header, payload } = parseToken(token);
			const { alg, kid } = checkHeader(header, issuer);
			let claims: CheckedClaims;
			let canonicalIssuer: string;
			try {
				const resolved = await (keySets.get(issuer.routingKey) as RemoteKeySet).getKey(kid);
				canonicalIssuer = resolved.canonicalIssuer;
				assertKeyFitsAlgorithm(resolved.key, alg);
				verifySignature(token, resolved.key, alg);
				claims = checkClaims(payload, {
					issuer,
					canonicalIssuer,
					nowSeconds: now() / 1000,
					clockToleranceSeconds: config.clockToleranceSeconds,
				});
			} catch (error) {
				if (error instanceof TokenRefusedError) error.kid = kid;
				throw error;
			}
			return {
				issuer: canonicalIssuer,
				identifier: claims.identifier,
				userId: userIdForIdentifier(claims.identifier),
				scopes: claims.scopes,
				expiresAt: claims.expiresAt,
			};
		},
	};
}

/** Signature only: jsonwebtoken's own time checks are off because ours run on the injectable clock. */
function verifySignature(token: string, key: VerificationKey, alg: jwt.Algorithm): void {
	if (token.endsWith('.')) throw new TokenRefusedError('signature_invalid', 'signature is empty');
	try {
		jwt.verify(token, key.key, { algorithms: [alg], ignoreExpiration: true, ignoreNotBefore: true });
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		if (message === 'invalid signature') throw new TokenRefusedError('signature_invalid', 'signature does not verify', { cause: error });
		throw new TokenRefusedError('token_malformed', `rejected by jsonwebtoken: ${message}`, { cause: error });
	}
}
