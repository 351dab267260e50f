import { hash } from 'node:crypto';
import { BoundedCache } from './bounded-cache.js';
import type { VerifiedClient, Verifier } from './core/verifier.js';

/** Default size limit: see docs/scaling.md for the memory this stands for. */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

export interface TokenCacheOptions {
	readonly maxEntries?: number;
	/**
	 * Longest time a verification is reused even if `exp` is later (the hook passes
	 * BCC_AUTH_JWKS_MAX_AGE): the token then proves itself again against a key set
	 * at most that old, so a signing key withdrawn by the provider stops working
	 * within twice that time even for tokens seen before. Default: no limit but `exp`.
	 */
	readonly maxAgeMs?: number;
	/** Milliseconds since the epoch; injectable for tests. */
	readonly now?: () => number;
}

/**
 * Tokens that verified, remembered until their `exp` and never longer, so a
 * token seen before costs no key lookup and no signature verification.
 *
 * Keyed by the SHA-256 of the token (43 characters instead of the ~1 KB token;
 * a collision would need a second token with the same SHA-256). Only successful
 * verifications are stored; a refused token is checked again every time.
 * Nothing here depends on the database: whether the client's Directus user may
 * act is decided per request by the client directory (client-directory.ts).
 */
export class TokenCache {
	private readonly cache: BoundedCache<string, VerifiedClient>;
	private readonly now: () => number;
	private readonly maxAgeMs: number;
	/** Bumped by clear(): a verification that was running across a clear() (old keys) is not stored. */
	private epoch = 0;

	constructor(options: TokenCacheOptions = {}) {
		this.now = options.now ?? Date.now;
		this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
		this.cache = new BoundedCache(options.maxEntries ?? TOKEN_CACHE_MAX_ENTRIES, this.now);
	}

	get size(): number {
		return this.cache.size;
	}

	get maxEntries(): number {
		return this.cache.maxEntries;
	}

	/** The client of a token that verified before and has not expired yet. */
	get(token: string): VerifiedClient | undefined {
		return this.cache.get(keyOf(token));
	}

	/** The cached client, else the verifier's answer, remembered only when the token verified. */
	async verify(token: string, verifier: Pick<Verifier, 'verify'>): Promise<VerifiedClient> {
		const cached = this.get(token);
		if (cached !== undefined) return cached;
		const epoch = this.epoch;
		const client = await verifier.verify(token);
		if (epoch === this.epoch) this.remember(token, client);
		return client;
	}

	/** Remembers a verified token until `client.expiresAt` (its `exp`), or maxAgeMs from now if that is sooner. */
	remember(token: string, client: VerifiedClient): void {
		this.cache.set(keyOf(token), client, Math.min(client.expiresAt * 1000, this.now() + this.maxAgeMs));
	}

	/** Forgets every token: after the signing keys changed, each token proves itself again. */
	clear(): void {
		this.epoch++;
		this.cache.clear();
	}

	prune(): number {
		return this.cache.prune();
	}
}

function keyOf(token: string): string {
	return hash('sha256', token, 'base64url');
}
