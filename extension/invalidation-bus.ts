import { RedisConnection, type RedisTarget } from './redis-connection.js';

/** What changed: some users, or anything that can touch every user (roles, policies, access). */
export type Invalidation = { readonly kind: 'users'; readonly userIds: readonly string[] } | { readonly kind: 'all' };

/** A message naming more users than this says "everything" instead (the effect is the same, the message small). */
export const MAX_USERS_PER_MESSAGE = 500;

/**
 * "Drop everything" arriving from Redis is applied at most once per this many ms: the first at
 * once, those that follow within the window as one more drop at its end (so none is lost, and a
 * flood of them, or of unreadable messages, cannot keep emptying the cache).
 */
export const DROP_ALL_INTERVAL_MS = 100;

export interface BusLog {
	info(message: string): void;
	warn(message: string): void;
	debug(message: string): void;
}

export interface InvalidationBusOptions {
	readonly target: RedisTarget;
	/** The Redis channel; every instance of one deployment uses the same. */
	readonly channel: string;
	/** Tells this instance's own messages apart (they were applied locally already). */
	readonly instanceId: string;
	/** A change made on another instance. */
	readonly onInvalidation: (change: Invalidation) => void;
	/** (Re)subscribed: changes made while we were not listening were missed, so drop every cached answer. */
	readonly onResync: () => void;
	readonly log: BusLog;
	/** How a fallback is described in the warning, e.g. "within 5 s (BCC_AUTH_CACHE_TTL)". */
	readonly fallback: string;
	readonly connectTimeoutMs?: number;
	readonly pingIntervalMs?: number;
	readonly retryMaxMs?: number;
}

export type BusState = 'connecting' | 'up' | 'down' | 'closed';

/**
 * Cross-instance cache invalidation over Redis publish/subscribe.
 *
 * Every instance subscribes to one channel and publishes the changes made
 * through it; a subscriber drops the named answers at once. While Redis is
 * unreachable the hook keeps working: answers simply expire after the cache
 * TTL, one warning is logged per outage, and reconnection is retried in the
 * background (every second at most). After each (re)subscription every cached
 * answer is dropped, because messages sent meanwhile were lost.
 *
 * Nothing here is in a request's path: publishing happens in Directus action
 * hooks (after the change was committed), subscribing in the background.
 */
export class InvalidationBus {
	private stateValue: BusState = 'connecting';
	private subscriber: RedisConnection | null = null;
	private publisher: Promise<RedisConnection> | null = null;
	private retryTimer: NodeJS.Timeout | null = null;
	private wake: (() => void) | null = null;
	/** When a "drop everything" from Redis was last applied, and the timer of the one deferred after it. */
	private lastDropAll = Number.NEGATIVE_INFINITY;
	private deferredDropAll: NodeJS.Timeout | null = null;
	private readonly running: Promise<void>;
	/** True after a failed publish, until one succeeds. */
	private publishFailing = false;
	/** Messages received from other instances; for tests and diagnostics. */
	received = 0;

	constructor(private readonly options: InvalidationBusOptions) {
		this.running = this.run();
	}

	get state(): BusState {
		return this.stateValue;
	}

	private isClosed(): boolean {
		return this.stateValue === 'closed';
	}

	/** Tells the other instances; false when Redis could not be reached (they fall back to their TTL). */
	async publish(change: Invalidation): Promise<boolean> {
		if (this.isClosed()) return false;
		const body =
			change.kind === 'all' || change.userIds.length > MAX_USERS_PER_MESSAGE
				? { v: 1, from: this.options.instanceId, all: true }
				: { v: 1, from: this.options.instanceId, users: change.userIds };
		try {
			const connection = await this.connectPublisher();
			await connection.command(['PUBLISH', this.options.channel, JSON.stringify(body)]);
			this.publishFailing = false;
			return true;
		} catch (error) {
			// Once per run of failures: a batch change announces one message per user.
			const level = this.publishFailing ? 'debug' : 'warn';
			this.publishFailing = true;
			this.options.log[level](`could not tell the other instances about a change on Redis (${messageOf(error)}); they apply it ${this.options.fallback}`);
			return false;
		}
	}

	async close(): Promise<void> {
		if (this.isClosed()) return;
		this.stateValue = 'closed';
		if (this.retryTimer) clearTimeout(this.retryTimer);
		if (this.deferredDropAll) clearTimeout(this.deferredDropAll);
		this.deferredDropAll = null;
		this.wake?.();
		this.subscriber?.destroy();
		const publisher = this.publisher;
		this.publisher = null;
		await publisher?.then((connection) => connection.destroy()).catch(() => undefined);
		await this.running;
	}

	private async run(): Promise<void> {
		const { target, channel } = this.options;
		let attempt = 0;
		while (!this.isClosed()) {
			let connection: RedisConnection | null = null;
			try {
				connection = await RedisConnection.open(target, { timeoutMs: this.options.connectTimeoutMs ?? 2000 });
				if (this.isClosed()) break;
				connection.unref();
				connection.onMessage = (from, message) => {
					if (from === channel) this.receive(message);
				};
				await connection.command(['SUBSCRIBE', channel]);
				this.subscriber = connection;
				attempt = 0;
				this.markUp();
				const open = connection;
				const ping = setInterval(() => {
					open.command(['PING']).catch(() => undefined);
				}, this.options.pingIntervalMs ?? 5000);
				ping.unref();
				const reason = await connection.closed;
				clearInterval(ping);
				this.subscriber = null;
				if (!this.isClosed()) this.markDown(reason);
			} catch (error) {
				connection?.destroy();
				if (!this.isClosed()) this.markDown(error);
			}
			if (this.isClosed()) break;
			await this.sleep(Math.min(this.options.retryMaxMs ?? 1000, 100 * 2 ** attempt++));
		}
		connectionCleanup(this.subscriber);
	}

	private markUp(): void {
		const previous = this.stateValue;
		this.stateValue = 'up';
		this.options.onResync();
		if (previous === 'down') {
			this.options.log.info(`Redis at ${this.options.target.label} is reachable again; changes made on other instances apply here at once again`);
		} else {
			this.options.log.info(`listening on Redis ${this.options.target.label} for changes made on other instances`);
		}
	}

	/** Logs once per outage, not once per retry. */
	private markDown(error: unknown): void {
		if (this.stateValue === 'down') return;
		this.stateValue = 'down';
		this.options.log.warn(
			`Redis at ${this.options.target.label} is unreachable (${messageOf(error)}); the hook keeps working, and changes made on other instances take effect here ${this.options.fallback} until Redis is back`,
		);
	}

	private receive(raw: string): void {
		let message: unknown = null;
		try {
			message = JSON.parse(raw);
		} catch {
			// handled below
		}
		const change = invalidationOf(message);
		if (change === null) {
			// Not ours to understand: drop everything, which is always safe.
			this.options.log.debug('unreadable message on the invalidation channel; dropping every cached answer');
			this.dropAll();
			return;
		}
		if ((message as { from: string }).from === this.options.instanceId) return;
		this.received++;
		if (change.kind === 'all') this.dropAll();
		else this.options.onInvalidation(change);
	}

	/** Applies a "drop everything" now, or once at the end of the current DROP_ALL_INTERVAL_MS window. */
	private dropAll(): void {
		if (this.deferredDropAll !== null || this.isClosed()) return; // one is coming, and covers this one
		const wait = this.lastDropAll + DROP_ALL_INTERVAL_MS - performance.now();
		if (wait <= 0) {
			this.lastDropAll = performance.now();
			this.options.onInvalidation({ kind: 'all' });
			return;
		}
		this.deferredDropAll = setTimeout(() => {
			this.deferredDropAll = null;
			if (this.isClosed()) return;
			this.lastDropAll = performance.now();
			this.options.onInvalidation({ kind: 'all' });
		}, wait);
		this.deferredDropAll.unref();
	}

	private connectPublisher(): Promise<RedisConnection> {
		if (this.publisher === null) {
			const opening: Promise<RedisConnection> = RedisConnection.open(this.options.target, { timeoutMs: this.options.connectTimeoutMs ?? 2000 }).then(
				(connection) => {
					connection.unref();
					void connection.closed.then(() => {
						if (this.publisher === opening) this.publisher = null;
					});
					return connection;
				},
				(error: unknown) => {
					if (this.publisher === opening) this.publisher = null;
					throw error;
				},
			);
			this.publisher = opening;
		}
		return this.publisher;
	}

	private sleep(ms: number): Promise<void> {
		return new Promise((resolve) => {
			this.wake = resolve;
			this.retryTimer = setTimeout(resolve, ms);
			this.retryTimer.unref();
		});
	}
}

function connectionCleanup(connection: RedisConnection | null): void {
	connection?.destroy();
}

/** The change a message carries, or null when it is not a message of ours. */
export function invalidationOf(message: unknown): Invalidation | null {
	if (message === null || typeof message !== 'object' || Array.isArray(message)) return null;
	const { v, from, all, users } = message as Record<string, unknown>;
	if (v !== 1 || typeof from !== 'string') return null;
	if (all === true) return { kind: 'all' };
	if (Array.isArray(users) && users.length <= MAX_USERS_PER_MESSAGE && users.every((id) => typeof id === 'string')) {
		return { kind: 'users', userIds: users as string[] };
	}
	return null;
}

function messageOf(error: unknown): string {
	return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
