import jwt from 'jsonwebtoken';
import { checkClaims, checkHeader, type TraceStep } from './claims.js';
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
	/** The kid of the key that verified the token, for logs. */
	readonly kid: string | undefined;
}

export interface VerifierOptions {
	readonly fetchJson?: FetchJson;
	/** Milliseconds since the epoch; injectable so tests can move time. */
	readonly now?: () => number;
	readonly onKeyEvent?: (event: KeySetEvent) => void;
}

export interface VerifyOptions {
	/** Called with each step's outcome, in order; for `bcc-cc check`. */
	readonly trace?: TraceStep;
}

export interface Verifier {
	/** True when the token is a JWT from a configured issuer, i.e. this hook must accept or refuse it. */
	owns(token: unknown): token is string;
	/** Verifies an owned token; throws TokenRefusedError with the reason. */
	verify(token: string, options?: VerifyOptions): Promise<VerifiedClient>;
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
		async verify(token: string, options: VerifyOptions = {}): Promise<VerifiedClient> {
			const { trace } = options;
			const step = async <T>(name: string, work: () => T | Promise<T>): Promise<T> => {
				try {
					const result = await work();
					trace?.({ name, ok: true, detail: 'ok' });
					return result;
				} catch (error) {
					if (error instanceof TokenRefusedError) trace?.({ name, ok: false, detail: `${error.reason}: ${error.detail}` });
					throw error;
				}
			};
			const issuer = await step('issuer routing', () => {
				const routed = issuerOf(token);
				if (routed === null) throw new TokenRefusedError('token_malformed', 'not a token from a configured issuer');
				return routed;
			});
			const { header, payload } = await step('structure', () => parseToken(token));
			const { alg, kid } = await step('header', () => checkHeader(header, issuer));
			try {
				const resolved = await step('key', () => (keySets.get(issuer.routingKey) as RemoteKeySet).getKey(kid));
				await step('key fits algorithm', () => assertKeyFitsAlgorithm(resolved.key, alg));
				await step('signature', () => verifySignature(token, resolved.key, alg));
				const claims = checkClaims(
					payload,
					{
						issuer,
						header,
						canonicalIssuer: resolved.canonicalIssuer,
						nowSeconds: now() / 1000,
						clockToleranceSeconds: config.clockToleranceSeconds,
					},
					trace,
				);
				return {
					issuer: resolved.canonicalIssuer,
					identifier: claims.identifier,
					userId: userIdForIdentifier(claims.identifier),
					scopes: claims.scopes,
					expiresAt: claims.expiresAt,
					kid,
				};
			} catch (error) {
				if (error instanceof TokenRefusedError) error.kid = kid;
				throw error;
			}
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
