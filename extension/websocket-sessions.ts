import type { Accountability } from '@directus/types';
import type { VerifiedClient } from './core/verifier.js';

/** What the hook decided for a WebSocket connection, and what it needs to decide again. */
interface Session {
	/** The object Directus stores on the connection and reads for every operation on it. */
	readonly accountability: WeakRef<Accountability>;
	readonly client: VerifiedClient;
	/** The defaults Directus passed in (ip, user agent, origin): the base of a fresh decision. */
	readonly base: Accountability;
	/** Counts the decisions started for this connection: only the latest one may write its rights. */
	decisions: number;
	/** Set once its rights were taken away: nothing gives them back (the client opens a new connection). */
	ended: boolean;
}

/** Decides a client's accountability again (the client directory); throws when it may no longer act. */
export type Redecide = (client: VerifiedClient, base: Accountability) => Promise<Accountability>;

const NO_ACCESS = { user: null, role: null, roles: [], admin: false, app: false } as const;

/**
 * WebSocket connections are authenticated once, when they open: Directus keeps
 * the accountability the `websocket.authenticate` filter returned on the
 * connection and reads it for every operation and every subscription event,
 * and never ends GraphQL subscriptions at the token's `exp`.
 *
 * So the hook remembers (weakly: a closed connection is simply collected) the
 * objects it handed out, and changes them in place: a change to a client's
 * user, role or policies decides its open connections again, taking every
 * right away when the client may no longer act; and a connection whose token
 * expired loses every right, as Directus does for REST subscriptions.
 *
 * Decisions run concurrently and finish in any order, so each carries a number
 * and only the newest may write; an ended connection stays ended.
 */
export class WebSocketSessions {
	private readonly sessions = new Set<Session>();
	private readonly now: () => number;

	constructor(options: { now?: () => number } = {}) {
		this.now = options.now ?? Date.now;
	}

	get size(): number {
		return this.sessions.size;
	}

	track(accountability: Accountability, client: VerifiedClient, base: Accountability): void {
		this.sessions.add({ accountability: new WeakRef(accountability), client, base, decisions: 0, ended: false });
	}

	/** Takes every right from connections whose token expired, and forgets closed ones. */
	expire(): void {
		const nowSeconds = this.now() / 1000;
		for (const session of this.sessions) {
			const accountability = session.accountability.deref();
			if (accountability === undefined) this.sessions.delete(session);
			else if (nowSeconds >= session.client.expiresAt) this.end(session, accountability);
		}
	}

	/** Decides again for the connections of these users (or all); a refusal takes every right away. */
	async recheck(userIds: ReadonlySet<string> | 'all', redecide: Redecide): Promise<void> {
		const affected = [...this.sessions].filter((session) => userIds === 'all' || userIds.has(session.client.userId));
		await Promise.all(
			affected.map(async (session) => {
				const decision = ++session.decisions;
				let fresh: Accountability | null;
				try {
					fresh = await redecide(session.client, session.base);
				} catch {
					fresh = null;
				}
				// A newer decision started meanwhile (it saw a later change), or the connection lost its rights for good.
				if (session.ended || decision !== session.decisions) return;
				const accountability = session.accountability.deref();
				if (accountability === undefined) this.sessions.delete(session);
				else if (fresh === null) this.end(session, accountability);
				else Object.assign(accountability, { user: fresh.user, role: fresh.role, roles: fresh.roles, admin: fresh.admin, app: fresh.app });
			}),
		);
	}

	private end(session: Session, accountability: Accountability): void {
		session.ended = true;
		Object.assign(accountability, NO_ACCESS, { roles: [] });
		this.sessions.delete(session);
	}
}
