import type { Accountability } from '@directus/types';
import { fetchGlobalAccess, fetchRolesTree } from '@directus/utils/node';
import type { Knex } from 'knex';
import { TokenRefusedError } from './core/errors.js';
import type { VerifiedClient } from './core/verifier.js';

interface ClientUserRow {
	id: string;
	role: string | null;
	status: string;
	external_identifier: string | null;
}

/** What decides a client's access: its user, the role tree root to leaf, and admin/app access. */
export interface ClientStanding {
	readonly user: string;
	readonly role: string | null;
	readonly roles: readonly string[];
	readonly admin: boolean;
	readonly app: boolean;
}

/**
 * Reads what Directus itself computes for a user with a static token
 * (api/src/utils/get-accountability-for-token.ts): the user, its role, the
 * role tree root to leaf, and admin/app access from the policies of the user
 * and its roles, filtered by the request IP. Reads only.
 *
 * Any database failure is `directory_unavailable` (503): a client is never let
 * in, nor passed on to Directus's own check, because the database is down.
 */
export async function loadClientStanding(
	client: VerifiedClient,
	ip: string | null,
	options: { knex: Knex; timeoutMs: number },
): Promise<ClientStanding> {
	const { knex, timeoutMs } = options;
	let user: ClientUserRow | undefined;
	try {
		user = await withDeadline(
			knex.select('id', 'role', 'status', 'external_identifier').from('directus_users').where({ id: client.userId }).first(),
			timeoutMs,
		);
	} catch (error) {
		throw directoryUnavailable(error);
	}
	// The id is a hash of the identifier; also comparing the stored identifier
	// makes a user that merely reuses the id (or was re-purposed) not count.
	if (!user || user.external_identifier !== client.identifier) {
		throw new TokenRefusedError('client_unknown', 'no Directus user provisioned for this client');
	}
	if (user.status !== 'active') {
		throw new TokenRefusedError('client_inactive', `Directus user status is ${user.status}`);
	}
	const { id, role } = user;
	try {
		return await withDeadline(
			(async () => {
				const roles = await fetchRolesTree(role, { knex });
				const { admin, app } = await fetchGlobalAccess({ user: id, roles, ip }, { knex });
				return { user: id, role, roles, admin, app };
			})(),
			timeoutMs,
		);
	} catch (error) {
		throw directoryUnavailable(error);
	}
}

/** The accountability Directus gets: the request's own fields (ip, user agent, origin) and the client's standing. */
export function accountabilityOf(base: Accountability, standing: ClientStanding): Accountability {
	const { user, role, roles, admin, app } = standing;
	// A fresh roles array: whatever Directus or another extension does with it cannot change a cached standing.
	return { ...base, user, role, roles: [...roles], admin, app };
}

/**
 * A database that hangs (pool exhausted, network black hole) must not hang the
 * request: the caller gets 503 after the deadline while the query finishes or
 * fails in the background.
 */
function withDeadline<T>(work: PromiseLike<T>, timeoutMs: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const deadline = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
	});
	// A knex query builder is a thenable that runs its query on every then(): turn it into one promise first.
	const running = Promise.resolve(work);
	running.catch(() => undefined); // a late failure after the deadline must not be an unhandled rejection
	return Promise.race([running, deadline]).finally(() => clearTimeout(timer));
}

function directoryUnavailable(error: unknown): TokenRefusedError {
	const message = error instanceof Error ? error.message : String(error);
	return new TokenRefusedError('directory_unavailable', `database query failed: ${message.slice(0, 200)}`, { cause: error });
}
