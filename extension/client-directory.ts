import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import { accountabilityOf, type ClientStanding } from './accountability.js';
import { BoundedCache } from './bounded-cache.js';
import type { VerifiedClient } from './core/verifier.js';

/** Default size limit (client user x request IP pairs): see docs/scaling.md. */
export const DIRECTORY_MAX_ENTRIES = 10_000;

/**
 * How long after a change answers read are not kept. Directus announces some
 * changes from inside the transaction that makes them (deleting a role
 * suspends its users, a batch update of users), so a read just after the
 * announcement can still see the database as it was before the change.
 */
export const SETTLE_MS = 1000;

/** Reads a client's standing from the database (accountability.ts `loadClientStanding`). */
export type StandingLoader = (client: VerifiedClient, ip: string | null, knex: Knex) => Promise<ClientStanding>;

export interface ClientDirectoryOptions {
	readonly load: StandingLoader;
	/** How long an answer is reused; 0 reads the database on every request. */
	readonly ttlMs: number;
	readonly maxEntries?: number;
	/** For this long after a change, answers read are not kept (default SETTLE_MS). */
	readonly settleMs?: number;
	readonly now?: () => number;
}

/**
 * Each client's standing (user, role tree, admin/app access), read from the
 * database once and reused for `ttlMs`.
 *
 * - Keyed by user, identifier and request IP: policies with `ip_access` make
 *   admin/app depend on the IP, so an answer for one IP is never used for another.
 * - Only answers that let a client in are stored; a refusal (unknown, suspended,
 *   database down) is read again on the next request, so re-provisioning is instant.
 * - Concurrent requests of one client share one database read, except within
 *   `settleMs` after a change: a read started then may predate the commit, and a
 *   request arriving after the commit must not be answered by it.
 * - `invalidateUsers`/`invalidateAll` drop answers at once. A read that was already
 *   running when they were called may still answer its own request (it started
 *   before the change) but is not stored, so no answer from before a change
 *   outlives the change: the epoch counter tells them apart.
 * - An answer read within `settleMs` after a change is not stored: the change
 *   may not have been committed yet when it was announced (SETTLE_MS).
 */
export class ClientDirectory {
	private readonly cache: BoundedCache<string, ClientStanding>;
	private readonly inFlight = new Map<string, Promise<ClientStanding>>();
	private readonly now: () => number;
	private epochValue = 0;
	/** Until when an answer read may predate the commit of the latest change. */
	private unsettledUntil = Number.NEGATIVE_INFINITY;
	readonly settleMs: number;

	constructor(private readonly options: ClientDirectoryOptions) {
		this.now = options.now ?? Date.now;
		this.settleMs = options.settleMs ?? SETTLE_MS;
		this.cache = new BoundedCache(options.maxEntries ?? DIRECTORY_MAX_ENTRIES, this.now);
	}

	get size(): number {
		return this.cache.size;
	}

	get maxEntries(): number {
		return this.cache.maxEntries;
	}

	/** Changes with every invalidation: a caller that saw it change during its read knows its answer may be older than a change. */
	get epoch(): number {
		return this.epochValue;
	}

	/** The accountability of a verified client for this request; throws TokenRefusedError when it may not act. */
	async accountabilityFor(client: VerifiedClient, base: Accountability, knex: Knex): Promise<Accountability> {
		const ip = base.ip ?? null;
		const key = `${client.userId}\n${client.identifier}\n${ip ?? ''}`;
		const standing = this.cache.get(key) ?? (await this.read(key, client, ip, knex));
		return accountabilityOf(base, standing);
	}

	/** Drops the answers of these users (a change to them was made). */
	invalidateUsers(userIds: Iterable<string>): void {
		const ids = new Set(userIds);
		this.changed();
		this.cache.deleteWhere((standing) => ids.has(standing.user));
	}

	/** Drops every answer (a role, policy or access change can touch any user). */
	invalidateAll(): void {
		this.changed();
		this.cache.clear();
	}

	prune(): number {
		return this.cache.prune();
	}

	private changed(): void {
		this.epochValue++;
		this.inFlight.clear();
		this.unsettledUntil = this.now() + this.settleMs;
	}

	private read(key: string, client: VerifiedClient, ip: string | null, knex: Knex): Promise<ClientStanding> {
		const running = this.inFlight.get(key);
		if (running) return running;
		const epoch = this.epochValue;
		// The answer is as old as the moment the read started, not when it ended: a slow read must not extend the TTL.
		const startedAt = this.now();
		const settled = startedAt >= this.unsettledUntil;
		const reading = this.options.load(client, ip, knex).then(
			(standing) => {
				if (this.inFlight.get(key) === reading) this.inFlight.delete(key);
				if (epoch === this.epochValue && settled && this.options.ttlMs > 0) {
					this.cache.set(key, Object.freeze({ ...standing, roles: Object.freeze([...standing.roles]) }), startedAt + this.options.ttlMs);
				}
				return standing;
			},
			(error: unknown) => {
				if (this.inFlight.get(key) === reading) this.inFlight.delete(key);
				throw error;
			},
		);
		if (settled) this.inFlight.set(key, reading);
		return reading;
	}
}
