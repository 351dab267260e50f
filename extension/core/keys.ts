import { createPublicKey, type KeyObject } from 'node:crypto';
import jwksRsa from 'jwks-rsa';
import { routingKeyFor, type IssuerConfig, type KeyFetchConfig, type SupportedAlgorithm } from './config.js';
import { TokenRefusedError } from './errors.js';
import { FetchFailedError, type FetchJson } from './http.js';

export interface VerificationKey {
	readonly kid: string | undefined;
	/** The JWK's own `alg`, when it names one. */
	readonly alg: string | undefined;
	readonly key: KeyObject;
}

export interface ResolvedKey {
	readonly key: VerificationKey;
	/** The issuer exactly as the provider writes it (from discovery), else as configured. */
	readonly canonicalIssuer: string;
}

export type KeySetEvent =
	| { type: 'keys_fetched'; issuer: string; jwksUri: string; count: number }
	| { type: 'keys_fetch_failed'; issuer: string; url: string; error: Error }
	| { type: 'keys_stale'; issuer: string; ageSeconds: number };

export interface RemoteKeySetOptions {
	readonly issuer: IssuerConfig;
	readonly config: KeyFetchConfig;
	readonly fetchJson: FetchJson;
	readonly now: () => number;
	readonly onEvent?: (event: KeySetEvent) => void;
}

interface KeySnapshot {
	readonly keys: readonly VerificationKey[];
	readonly fetchedAt: number;
}

interface Endpoint {
	readonly jwksUri: string;
	readonly canonicalIssuer: string;
}

/** After a failed fetch, requests fail fast for this long instead of each waiting on a dead server. */
const FAILURE_BACKOFF_MS = 1000;

/**
 * One issuer's signing keys. Fetches are shared (one in flight at a time),
 * bounded by a deadline, refreshed after maxAge, refetched for an unknown kid
 * at most once per cooldown, and never cached when they fail; the last good
 * keys keep serving for staleMaxAge while the key server is unreachable.
 */
export class RemoteKeySet {
	private snapshot: KeySnapshot | null = null;
	private endpoint: Endpoint | null = null;
	private inFlight: Promise<KeySnapshot> | null = null;
	private lastAttemptAt = Number.NEGATIVE_INFINITY;
	private lastFailure: { at: number; error: Error } | null = null;

	constructor(private readonly options: RemoteKeySetOptions) {}

	async getKey(kid: string | undefined): Promise<ResolvedKey> {
		const { config, now } = this.options;
		let snapshot = this.snapshot;
		if (snapshot === null || now() - snapshot.fetchedAt >= config.maxAgeMs) {
			snapshot = await this.refreshOrServeStale();
		}
		let key = findKey(snapshot, kid);
		if (key === null && this.inFlight) {
			// Another request is already fetching, maybe because of this very kid.
			snapshot = await this.inFlight.catch(() => snapshot as KeySnapshot);
			key = findKey(snapshot, kid);
		}
		if (key === null && now() - this.lastAttemptAt >= config.cooldownMs) {
			snapshot = await this.refresh().catch((error: unknown) => {
				throw keysUnavailable(error);
			});
			key = findKey(snapshot, kid);
		}
		if (key === null && this.lastFailure !== null) {
			// The latest fetch failed (we may be serving stale keys): the kid may be a genuine new key that
			// cannot be had right now, which is "unavailable" (503, retry), not "unknown" (401).
			throw keysUnavailable(this.lastFailure.error);
		}
		if (key === null) {
			throw new TokenRefusedError('key_unknown', kid === undefined ? 'token has no kid and the key set has several keys' : 'kid not in the key set');
		}
		return { key, canonicalIssuer: (this.endpoint as Endpoint).canonicalIssuer };
	}

	private async refreshOrServeStale(): Promise<KeySnapshot> {
		try {
			return await this.refresh();
		} catch (error) {
			const stale = this.snapshot;
			const age = stale === null ? Infinity : this.options.now() - stale.fetchedAt;
			if (stale !== null && age < this.options.config.maxAgeMs + this.options.config.staleMaxAgeMs) {
				this.options.onEvent?.({ type: 'keys_stale', issuer: this.options.issuer.issuer, ageSeconds: Math.round(age / 1000) });
				return stale;
			}
			throw keysUnavailable(error);
		}
	}

	private refresh(): Promise<KeySnapshot> {
		if (this.inFlight) return this.inFlight;
		const now = this.options.now();
		if (this.lastFailure && now - this.lastFailure.at < FAILURE_BACKOFF_MS) {
			return Promise.reject(this.lastFailure.error);
		}
		this.lastAttemptAt = now;
		this.inFlight = this.fetchSnapshot()
			.then((snapshot) => {
				this.snapshot = snapshot;
				this.lastFailure = null;
				return snapshot;
			})
			.catch((error: unknown) => {
				const failure = error instanceof Error ? error : new Error(String(error));
				this.lastFailure = { at: this.options.now(), error: failure };
				throw failure;
			})
			.finally(() => {
				this.inFlight = null;
			});
		return this.inFlight;
	}

	private async fetchSnapshot(): Promise<KeySnapshot> {
		const endpoint = this.endpoint ?? (this.endpoint = await this.discover());
		const body = await this.fetch(endpoint.jwksUri);
		const keys = await toVerificationKeys(body, endpoint.jwksUri);
		this.options.onEvent?.({ type: 'keys_fetched', issuer: this.options.issuer.issuer, jwksUri: endpoint.jwksUri, count: keys.length });
		return { keys, fetchedAt: this.options.now() };
	}

	/** Where the keys are, and how the provider writes its issuer. */
	private async discover(): Promise<Endpoint> {
		const { issuer } = this.options;
		if (issuer.jwksUri !== null) return { jwksUri: issuer.jwksUri, canonicalIssuer: issuer.issuer };
		const discoveryUrl = `${issuer.routingKey}/.well-known/openid-configuration`;
		let document: unknown;
		try {
			document = await this.fetch(discoveryUrl);
		} catch (error) {
			if (error instanceof FetchFailedError && error.status === 404) {
				return { jwksUri: `${issuer.routingKey}/.well-known/jwks.json`, canonicalIssuer: issuer.issuer };
			}
			throw error;
		}
		const { jwks_uri: jwksUri, issuer: discoveredIssuer } = (document ?? {}) as Record<string, unknown>;
		if (typeof discoveredIssuer !== 'string' || routingKeyFor(discoveredIssuer) !== issuer.routingKey) {
			throw new FetchFailedError(`discovery document at ${discoveryUrl} names a different issuer`);
		}
		if (typeof jwksUri !== 'string' || !isAcceptableKeyUrl(jwksUri)) {
			throw new FetchFailedError(`discovery document at ${discoveryUrl} has no usable jwks_uri`);
		}
		return { jwksUri, canonicalIssuer: discoveredIssuer };
	}

	private async fetch(url: string): Promise<unknown> {
		const { config } = this.options;
		try {
			return await this.options.fetchJson(url, { timeoutMs: config.timeoutMs, maxBytes: config.maxResponseBytes });
		} catch (error) {
			const failure = error instanceof Error ? error : new Error(String(error));
			this.options.onEvent?.({ type: 'keys_fetch_failed', issuer: this.options.issuer.issuer, url, error: failure });
			throw failure;
		}
	}
}

function findKey(snapshot: KeySnapshot, kid: string | undefined): VerificationKey | null {
	if (kid === undefined) return snapshot.keys.length === 1 ? (snapshot.keys[0] as VerificationKey) : null;
	return snapshot.keys.find((key) => key.kid === kid) ?? null;
}

function keysUnavailable(error: unknown): TokenRefusedError {
	if (error instanceof TokenRefusedError) return error;
	const message = error instanceof Error ? error.message : String(error);
	return new TokenRefusedError('keys_unavailable', message, { cause: error });
}

function isAcceptableKeyUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
	} catch {
		return false;
	}
}

/** Converts a JWKS document into public keys with jwks-rsa (which drops non-signing and unusable keys). */
async function toVerificationKeys(body: unknown, jwksUri: string): Promise<VerificationKey[]> {
	const keys = (body as { keys?: unknown } | null)?.keys;
	if (!Array.isArray(keys) || keys.some((key) => key === null || typeof key !== 'object' || Array.isArray(key))) {
		throw new FetchFailedError(`${jwksUri} is not a JWK set`);
	}
	const client = new jwksRsa.JwksClient({ jwksUri, cache: false, rateLimit: false, fetcher: async () => ({ keys }) });
	let signingKeys: jwksRsa.SigningKey[];
	try {
		signingKeys = await client.getSigningKeys();
	} catch (error) {
		throw new FetchFailedError(`${jwksUri} has no usable signing keys`, { cause: error });
	}
	return signingKeys.map((signingKey) => ({
		kid: signingKey.kid,
		alg: (signingKey as { alg?: string }).alg,
		key: createPublicKey(signingKey.getPublicKey()),
	}));
}

const MIN_RSA_BITS = 2048;
const CURVE_FOR: Partial<Record<SupportedAlgorithm, string>> = {
	ES256: 'prime256v1',
	ES384: 'secp384r1',
	ES512: 'secp521r1',
};

/** RFC 8725 §3.1/§3.5: the key decides the algorithm family, and weak keys are refused. */
export function assertKeyFitsAlgorithm(key: VerificationKey, alg: SupportedAlgorithm): void {
	if (key.alg !== undefined && key.alg !== alg) {
		throw new TokenRefusedError('key_unusable', `token alg ${alg} differs from the key's alg ${key.alg}`);
	}
	const type = key.key.asymmetricKeyType;
	const details = key.key.asymmetricKeyDetails ?? {};
	if (alg.startsWith('RS') || alg.startsWith('PS')) {
		const fits = type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'));
		if (!fits) throw new TokenRefusedError('key_unusable', `token alg ${alg} needs an RSA key, key is ${type}`);
		if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
			throw new TokenRefusedError('key_unusable', `RSA key of ${details.modulusLength} bits is too weak`);
		}
		return;
	}
	const curve = CURVE_FOR[alg];
	if (type !== 'ec' || details.namedCurve !== curve) {
		throw new TokenRefusedError('key_unusable', `token alg ${alg} needs an EC ${curve} key, key is ${type} ${details.namedCurve ?? ''}`.trim());
	}
}
