/**
 * An in-memory Directus behind the CLI's DirectusApi, for unit tests of the
 * commands: roles with policies, users, policies attached to users,
 * permissions, extensions and a licence. Every call is recorded in `calls`.
 */
import type {
	DirectusApi,
	DirectusUserRecord,
	ExtensionRecord,
	LicenseInfo,
	NewUser,
	PermissionRecord,
	PolicyDetail,
	PolicySummary,
	Role,
	ServerInfo,
	UserChanges,
	UserPolicy,
} from '../../cli/directus.js';
import { CliError } from '../../cli/errors.js';

export class FakeDirectus implements DirectusApi {
	readonly url = 'https://directus.test';
	roles: Role[] = [];
	users = new Map<string, DirectusUserRecord & { description?: string; email?: string | null }>();
	/** Policy details by id (ip_access, enforce_tfa); policies attached to roles are added here too. */
	policies = new Map<string, PolicyDetail>();
	userPolicies: UserPolicy[] = [];
	permissions: PermissionRecord[] = [];
	extensions: ExtensionRecord[] = [];
	/** null: Directus 11 (no /license). */
	license: LicenseInfo | null = null;
	calls: string[] = [];
	version: ServerInfo = { version: '12.4.0', major: 12 };
	private nextRole = 1;

	addRole(name: string, options: { app?: boolean; admin?: boolean; parent?: string; id?: string; policies?: PolicySummary[] } = {}): Role {
		const id = options.id ?? `00000000-0000-4000-8000-${String(this.nextRole++).padStart(12, '0')}`;
		const policies =
			options.policies ??
			(options.app || options.admin
				? [{ id: `policy-${id}`, name: `${name} policy`, app_access: options.app === true, admin_access: options.admin === true }]
				: []);
		for (const policy of policies) this.addPolicy(policy);
		const role: Role = { id, name, parent: options.parent ?? null, policies };
		this.roles.push(role);
		return role;
	}

	addPolicy(policy: PolicySummary & Partial<PolicyDetail>): PolicyDetail {
		const detail: PolicyDetail = { ip_access: null, enforce_tfa: false, ...policy };
		this.policies.set(policy.id, detail);
		return detail;
	}

	addUser(user: Partial<DirectusUserRecord> & { id: string }): void {
		this.users.set(user.id, {
			external_identifier: null,
			provider: 'default',
			status: 'active',
			role: null,
			first_name: null,
			last_name: null,
			sign_in: [],
			...user,
		});
	}

	async serverInfo() {
		this.calls.push('serverInfo');
		return this.version;
	}
	async listRoles() {
		this.calls.push('listRoles');
		return structuredClone(this.roles);
	}
	async createRole(name: string) {
		this.calls.push(`createRole ${name}`);
		return this.addRole(name);
	}
	async readUser(id: string) {
		this.calls.push(`readUser ${id}`);
		const user = this.users.get(id);
		return user ? pick(user) : null;
	}
	async findUsersByIdentifier(identifier: string) {
		this.calls.push(`findUsersByIdentifier ${identifier}`);
		return [...this.users.values()].filter((user) => user.external_identifier === identifier).map(pick);
	}
	async listUsersWithIdentifier(onProgress?: (read: number) => void) {
		this.calls.push('listUsersWithIdentifier');
		const users = [...this.users.values()].filter((user) => user.external_identifier !== null).map(pick);
		onProgress?.(users.length);
		return users;
	}
	async createUser(user: NewUser) {
		this.calls.push(`createUser ${user.id}`);
		this.users.set(user.id, { ...user, sign_in: [] });
		return pick(this.users.get(user.id)!);
	}
	async updateUser(id: string, changes: UserChanges) {
		this.calls.push(`updateUser ${id} ${JSON.stringify(changes)}`);
		const user = this.users.get(id);
		if (!user) throw new CliError('DIRECTUS_ERROR', 'no such user');
		Object.assign(user, changes);
		return pick(user);
	}
	async deleteUser(id: string) {
		this.calls.push(`deleteUser ${id}`);
		this.users.delete(id);
	}
	async listPolicies(ids: readonly string[]) {
		this.calls.push(`listPolicies ${ids.join(',')}`);
		return ids.flatMap((id) => {
			const policy = this.policies.get(id);
			return policy ? [structuredClone(policy)] : [];
		});
	}
	async listUserPolicies(userIds?: readonly string[]) {
		this.calls.push(`listUserPolicies ${userIds?.join(',') ?? '*'}`);
		return structuredClone(this.userPolicies.filter((row) => userIds === undefined || userIds.includes(row.user)));
	}
	async listPermissions(policyIds: readonly string[]) {
		this.calls.push(`listPermissions ${policyIds.join(',')}`);
		return structuredClone(this.permissions.filter((permission) => policyIds.includes(permission.policy)));
	}
	async listExtensions() {
		this.calls.push('listExtensions');
		return structuredClone(this.extensions);
	}
	async readLicense() {
		this.calls.push('readLicense');
		return structuredClone(this.license);
	}

	get writes(): string[] {
		return this.calls.filter((call) => /^(create|update|delete)/.test(call));
	}
}

function pick(user: DirectusUserRecord): DirectusUserRecord {
	const { id, external_identifier, provider, status, role, first_name, last_name, sign_in } = user;
	return { id, external_identifier, provider, status, role, first_name, last_name, sign_in: [...sign_in] };
}

/** The Core licence of an unlicensed Directus 12.4.0, as GET /license returns it. */
export function coreLicense(usage: { seats?: number } = {}): LicenseInfo {
	return {
		name: 'Core',
		status: 'active',
		entitlements: {
			seats: { limit: 3 },
			collections: { limit: 25 },
			flows: { limit: 5 },
			sso_enabled: { default: false },
			custom_permission_rules_enabled: { default: false },
		},
		usage: { seats: usage.seats ?? 1, collections: 0, flows: 0 },
	};
}
