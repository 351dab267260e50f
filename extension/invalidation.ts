import type { Invalidation } from './invalidation-bus.js';

/** Changes to users: the answers of the named users are dropped. */
export const USER_EVENTS = ['users.create', 'users.update', 'users.delete'] as const;

/**
 * Changes that can touch any user's standing: a role's parent or deletion
 * changes role trees; a policy's admin/app/ip access, and which roles or users
 * a policy is attached to (directus_access), change admin/app. Permissions do
 * not enter the cached answer (Directus reads them per request) but are listed
 * too: dropping answers is cheap and a permission change is rare.
 */
export const GLOBAL_EVENTS = [
	'roles.create',
	'roles.update',
	'roles.delete',
	'policies.create',
	'policies.update',
	'policies.delete',
	'access.create',
	'access.update',
	'access.delete',
	'permissions.create',
	'permissions.update',
	'permissions.delete',
] as const;

/**
 * The user fields a client's standing depends on (`policies` is the alias through
 * which a user's own policies are attached). An update that touches none of them
 * (the Data Studio saving `last_page`, `theme`, ...) drops nothing.
 */
export const USER_FIELDS_THAT_MATTER = ['id', 'status', 'role', 'external_identifier', 'policies'] as const;

type ActionRegistrar = (event: string, handler: (meta: Record<string, any>) => void) => void;

/**
 * Registers Directus action hooks (they run after the change was committed)
 * that report what a change invalidates.
 */
export function registerInvalidationHooks(action: ActionRegistrar, onChange: (change: Invalidation) => void): void {
	for (const event of USER_EVENTS) {
		action(event, (meta) => {
			const change = event === 'users.update' && !touchesStanding(meta['payload']) ? null : userChange(meta);
			if (change !== null) onChange(change);
		});
	}
	for (const event of GLOBAL_EVENTS) action(event, () => onChange({ kind: 'all' }));
}

/** False only for an update payload that names fields, none of which matters; anything unclear matters. */
export function touchesStanding(payload: unknown): boolean {
	if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return true;
	const fields = Object.keys(payload);
	return fields.length === 0 || fields.some((field) => (USER_FIELDS_THAT_MATTER as readonly string[]).includes(field));
}

/** The users a users.* action names (`keys` on update and delete, `key` on create); everything when unclear. */
export function userChange(meta: Record<string, unknown>): Invalidation {
	const keys = Array.isArray(meta['keys']) ? meta['keys'] : meta['key'] !== undefined ? [meta['key']] : null;
	if (keys === null || keys.length === 0 || !keys.every((key) => typeof key === 'string')) return { kind: 'all' };
	return { kind: 'users', userIds: keys as string[] };
}
