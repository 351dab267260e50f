/**
 * Role lookups that need no Directus connection: choosing the role an operator
 * meant, and finding out what global access a role grants through its policies.
 */
import { CliError } from './errors.js';
import type { PolicySummary, Role } from './directus.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for input shaped like a role id (a uuid), which --create-role must not turn into a role name. */
export function looksLikeRoleId(value: string): boolean {
	return UUID.test(value);
}

/**
 * The role meant by `nameOrId`: the role with that id, else the one role with
 * exactly that name. Returns null when nothing matches; throws ROLE_AMBIGUOUS
 * when several roles share the name.
 */
export function pickRole(roles: readonly Role[], nameOrId: string): Role | null {
	if (UUID.test(nameOrId)) {
		const byId = roles.find((role) => role.id.toLowerCase() === nameOrId.toLowerCase());
		if (byId) return byId;
	}
	const byName = roles.filter((role) => role.name === nameOrId);
	if (byName.length > 1) {
		throw new CliError('ROLE_AMBIGUOUS', `${byName.length} roles are named "${nameOrId}": ${byName.map((role) => role.id).join(', ')}.`, {
			hint: 'Pass the id of the one you mean to --role.',
		});
	}
	return byName[0] ?? null;
}

/** The error for a role that does not exist, listing the roles that do. */
export function roleNotFound(nameOrId: string, roles: readonly Role[]): CliError {
	const names = roles.map((role) => JSON.stringify(role.name)).join(', ');
	return new CliError('ROLE_NOT_FOUND', `No role "${nameOrId}" in Directus. Existing roles: ${names || '(none)'}.`, {
		hint: looksLikeRoleId(nameOrId)
			? 'Pass the name or id of an existing role to --role; --create-role takes a role name, not an id.'
			: 'Pass one of those names (or a role id) to --role, or add --create-role to create the role.',
	});
}

export interface RoleAccess {
	admin: boolean;
	app: boolean;
	/** The policies (of the role or its parent roles) that grant admin or app access. */
	grantedBy: PolicySummary[];
}

/**
 * The global access a role grants: Directus gives a user the policies of its
 * role and of every parent role up the tree, and a user has app (admin)
 * access when any of them has app_access (admin_access).
 */
export function roleAccess(roles: readonly Role[], roleId: string): RoleAccess {
	const byId = new Map(roles.map((role) => [role.id, role]));
	const grantedBy: PolicySummary[] = [];
	const visited = new Set<string>();
	let current = byId.get(roleId);
	while (current && !visited.has(current.id)) {
		visited.add(current.id);
		for (const policy of current.policies) {
			if (policy.admin_access || policy.app_access) grantedBy.push(policy);
		}
		current = current.parent ? byId.get(current.parent) : undefined;
	}
	return {
		admin: grantedBy.some((policy) => policy.admin_access),
		app: grantedBy.some((policy) => policy.app_access || policy.admin_access),
		grantedBy,
	};
}
