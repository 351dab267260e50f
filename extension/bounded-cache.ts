/**
 * A map with a fixed size limit and an expiry time per entry.
 *
 * - An entry is never returned at or after its expiry time (checked on every read).
 * - When the map is full, the least recently used entry makes room for a new one
 *   (a JavaScript Map keeps insertion order, so a read re-inserts its entry at the end
 *   and the first key is always the least recently used one).
 * - `prune()` drops expired entries that nobody reads any more; the hook calls it on a timer.
 *
 * Memory is therefore bounded by `maxEntries` times the size of one entry, whatever
 * the traffic, and nothing outlives its expiry by more than one prune interval.
 */
export class BoundedCache<K, V> {
	private readonly entries = new Map<K, { readonly value: V; readonly expiresAt: number }>();

	constructor(
		readonly maxEntries: number,
		private readonly now: () => number = Date.now,
	) {
		if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
	}

	get size(): number {
		return this.entries.size;
	}

	/** The live value for `key`, which becomes the most recently used; undefined when absent or expired. */
	get(key: K): V | undefined {
		const entry = this.entries.get(key);
		if (entry === undefined) return undefined;
		this.entries.delete(key);
		if (this.now() >= entry.expiresAt) return undefined;
		this.entries.set(key, entry);
		return entry.value;
	}

	/** Stores `value` until `expiresAt` (same clock as `now`); an already expired value is not stored. */
	set(key: K, value: V, expiresAt: number): void {
		this.entries.delete(key);
		if (!(expiresAt > this.now())) return;
		if (this.entries.size >= this.maxEntries) {
			const oldest = this.entries.keys().next();
			if (!oldest.done) this.entries.delete(oldest.value);
		}
		this.entries.set(key, { value, expiresAt });
	}

	delete(key: K): boolean {
		return this.entries.delete(key);
	}

	/** Drops every entry whose value matches; returns how many were dropped. */
	deleteWhere(matches: (value: V, key: K) => boolean): number {
		let dropped = 0;
		for (const [key, entry] of this.entries) {
			if (matches(entry.value, key)) {
				this.entries.delete(key);
				dropped++;
			}
		}
		return dropped;
	}

	/** Drops expired entries; returns how many were dropped. */
	prune(): number {
		const now = this.now();
		let dropped = 0;
		for (const [key, entry] of this.entries) {
			if (now >= entry.expiresAt) {
				this.entries.delete(key);
				dropped++;
			}
		}
		return dropped;
	}

	clear(): void {
		this.entries.clear();
	}
}
