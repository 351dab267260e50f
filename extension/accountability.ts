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

/**
 * The accountability Directus itself computes for a user with a static token
 * (api/src/utils/get-accountability-for-token.ts): the user, its role, the
 * role tree root to leaf, and admin/app access from the policies of the user
 * and its roles, filtered by the request IP. Reads only.
 *
 * Any database failure is `directory_unavailable` (503): a client is never let
 * in, nor passed on to Directus's own check, because the database is down.
 */
export async function accountabilityForClient(
	client: VerifiedClient,
	base: Accountability,
	knex: Knex,
): Promise<Accountability> {
	let user: ClientUserRow | undefined;
	try {
		user = await knex
			.select('id', 'role', 'status', 'external_identifier')
			.from('directus_users')
			.where({ id: client.userId })
			.first();
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
	try {
		const roles = await fetchRolesTree(user.role, { knex });
		const { admin, app } = await fetchGlobalAccess({ user: user.id, roles, ip: base.ip ?? null }, { knex });
		return { ...base, user: user.id, role: user.role, roles, admin, app };
	} catch (error) {
		throw directoryUnavailable(error);
	}
}

function directoryUnavailable(error: unknown): TokenRefusedError {
	const message = error instanceof Error ? error.message : String(error);
	return new TokenRefusedError('directory_unavailable', `database query failed: ${message.slice(0, 200)}`, { cause: error });
}
