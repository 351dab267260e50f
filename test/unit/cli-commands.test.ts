/**
 * The provision, list and revoke actions against an in-memory Directus, run
 * through the real commander program (`main`) so that flags, output streams
 * and exit codes are those of the shipped CLI.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { USER_DESCRIPTION } from '../../cli/commands/provision.js';
import type { DirectusApi, DirectusUserRecord, NewUser, Role, ServerInfo, UserChanges } from '../../cli/directus.js';
import { CliError } from '../../cli/errors.js';
import { main } from '../../cli/index.js';

class FakeDirectus implements DirectusApi {
	readonly url = 'http://directus.test';
	roles: Role[] = [];
	users = new Map<string, DirectusUserRecord & { description?: string; email?: string | null }>();
	calls: string[] = [];
	version: ServerInfo = { version: '12.4.0', major: 12 };
	private nextRole = 1;

	addRole(name: string, options: { app?: boolean; admin?: boolean; parent?: string; id?: string } = {}): Role {
		const id = options.id ?? `00000000-0000-4000-8000-${String(this.nextRole++).padStart(12, '0')}`;
		const policies =
			options.app || options.admin
				? [{ id: `policy-${id}`, name: `${name} policy`, app_access: options.app === true, admin_access: options.admin === true }]
				: [];
		const role: Role = { id, name, parent: options.parent ?? null, policies };
		this.roles.push(role);
		return role;
	}

	addUser(user: Partial<DirectusUserRecord> & { id: string }): void {
		this.users.set(user.id, {
			external_identifier: null,
			provider: 'default',
			status: 'active',
			role: null,
			first_name: null,
			last_name: null,
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
	async listUsersWithIdentifier() {
		this.calls.push('listUsersWithIdentifier');
		return [...this.users.values()].filter((user) => user.external_identifier !== null).map(pick);
	}
	async createUser(user: NewUser) {
		this.calls.push(`createUser ${user.id}`);
		this.users.set(user.id, { ...user });
		return pick(user);
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

	get writes(): string[] {
		return this.calls.filter((call) => /^(create|update|delete)/.test(call));
	}
}

function pick(user: DirectusUserRecord): DirectusUserRecord {
	const { id, external_identifier, provider, status, role, first_name, last_name } = user;
	return { id, external_identifier, provider, status, role, first_name, last_name };
}

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

let directus: FakeDirectus;
let connections: { url?: string | undefined; token?: string | undefined }[];

async function run(...args: string[]): Promise<Run> {
	let stdout = '';
	let stderr = '';
	const code = await main(['node', 'bcc-cc', '--url', 'http://directus.test', '--token', 't0ken', ...args], {
		connector: async (options) => {
			connections.push(options);
			return directus;
		},
		stdout: { write: (text: string) => (stdout += text) },
		stderr: { write: (text: string) => (stderr += text) },
	});
	return { code, stdout, stderr };
}

function parseJson(result: Run): any {
	assert.equal(result.code, 0, `exit code 0 expected; stderr: ${result.stderr}`);
	return JSON.parse(result.stdout);
}

const CLIENT = 'Hx7PqK2mVZ1cR9bT';
const IDENTIFIER = `${CLIENT}@clients`;
const USER_ID = userIdForIdentifier(IDENTIFIER);

beforeEach(() => {
	directus = new FakeDirectus();
	connections = [];
});

describe('provision', () => {
	it('creates the user with the derived id, provider default, and no email or password', async () => {
		const role = directus.addRole('Reporting API');
		const result = await run('provision', CLIENT, '--role', 'Reporting API');
		assert.equal(result.code, 0, result.stderr);
		assert.deepEqual(directus.users.get(USER_ID), {
			id: USER_ID,
			external_identifier: IDENTIFIER,
			provider: 'default',
			status: 'active',
			role: role.id,
			first_name: CLIENT,
			last_name: null,
			description: USER_DESCRIPTION,
		});
		assert.match(result.stdout, new RegExp(`^Created: client ${CLIENT} -> user ${USER_ID}, role "Reporting API", status active\\.\\n$`));
		assert.equal(result.stderr, '');
		assert.deepEqual(connections, [{ url: 'http://directus.test', token: 't0ken' }]);
	});

	it('treats "<id>@clients" as the same client', async () => {
		directus.addRole('api');
		await run('provision', CLIENT, '--role', 'api');
		const again = await run('provision', IDENTIFIER, '--role', 'api', '--json');
		assert.equal(parseJson(again).action, 'unchanged');
		assert.equal(directus.users.size, 1);
	});

	it('is idempotent: the second run writes nothing and says so', async () => {
		directus.addRole('api');
		await run('provision', CLIENT, '--role', 'api', '--name', 'Invoices');
		const writesAfterFirst = directus.writes.length;
		const second = await run('provision', CLIENT, '--role', 'api', '--name', 'Invoices');
		assert.equal(second.code, 0);
		assert.equal(directus.writes.length, writesAfterFirst);
		assert.match(second.stdout, /^Unchanged/);
	});

	it('--json prints exactly the result object and nothing else on stdout', async () => {
		const role = directus.addRole('api');
		const result = await run('provision', CLIENT, '--role', 'api', '--json');
		assert.deepEqual(parseJson(result), {
			action: 'created',
			clientId: CLIENT,
			identifier: IDENTIFIER,
			userId: USER_ID,
			role: { id: role.id, name: 'api' },
			status: 'active',
			roleCreated: false,
		});
	});

	it('updates role and name of an existing user, and reactivates a suspended one', async () => {
		const oldRole = directus.addRole('old');
		const newRole = directus.addRole('new');
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: oldRole.id, status: 'suspended', first_name: 'x' });
		const result = await run('provision', CLIENT, '--role', 'new', '--name', 'Billing', '--json');
		const json = parseJson(result);
		assert.equal(json.action, 'updated');
		assert.equal(json.status, 'active');
		assert.deepEqual(directus.writes, [`updateUser ${USER_ID} {"role":"${newRole.id}","first_name":"Billing","status":"active"}`]);
	});

	it('keeps the provider and name of a user made by the seed guide hook when no --name is given', async () => {
		const role = directus.addRole('api');
		directus.addUser({
			id: USER_ID,
			external_identifier: IDENTIFIER,
			provider: 'bcc-client-credentials',
			first_name: 'External',
			last_name: 'Client',
			role: null,
		});
		const result = await run('provision', CLIENT, '--role', 'api');
		assert.equal(result.code, 0, result.stderr);
		assert.deepEqual(directus.writes, [`updateUser ${USER_ID} {"role":"${role.id}"}`]);
		assert.equal(directus.users.get(USER_ID)?.provider, 'bcc-client-credentials');
		assert.equal(directus.users.get(USER_ID)?.first_name, 'External');
	});

	it('accepts a role id', async () => {
		directus.addRole('first');
		const role = directus.addRole('second');
		const json = parseJson(await run('provision', CLIENT, '--role', role.id.toUpperCase(), '--json'));
		assert.equal(json.role.id, role.id);
	});

	it('unknown role: exit 5, ROLE_NOT_FOUND listing the existing role names, nothing written', async () => {
		directus.addRole('Administrator', { admin: true });
		directus.addRole('Reporting API');
		const result = await run('provision', CLIENT, '--role', 'Reporting', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /^Error: No role "Reporting" in Directus\. Existing roles: "Administrator", "Reporting API"\.\n/);
		assert.match(result.stderr, /--create-role/);
		assert.deepEqual(directus.writes, []);
	});

	it('two roles with the name: exit 2 naming both ids', async () => {
		const a = directus.addRole('api');
		const b = directus.addRole('api');
		const result = await run('provision', CLIENT, '--role', 'api');
		assert.equal(result.code, 2);
		assert.ok(result.stderr.includes(a.id) && result.stderr.includes(b.id), result.stderr);
		assert.deepEqual(directus.writes, []);
	});

	it('--create-role creates the role and warns that it has no policies', async () => {
		const result = await run('provision', CLIENT, '--role', 'Machines', '--create-role', '--json');
		const json = parseJson(result);
		assert.equal(json.roleCreated, true);
		assert.equal(json.role.name, 'Machines');
		assert.deepEqual(directus.writes, ['createRole Machines', `createUser ${USER_ID}`]);
		assert.match(result.stderr, /^Warning: the new role "Machines" has no policies yet/);
	});

	it('--create-role does not create a role named like a uuid', async () => {
		const result = await run('provision', CLIENT, '--role', '6a1e2c1e-5f0b-4d0a-9a4e-2b8a1f7c9d10', '--create-role');
		assert.equal(result.code, 5);
		assert.deepEqual(directus.writes, []);
	});

	it('warns on stderr when the role (or a parent role) grants app access, keeping stdout pure JSON', async () => {
		const parent = directus.addRole('Staff', { app: true });
		directus.addRole('Child', { parent: parent.id });
		const result = await run('provision', CLIENT, '--role', 'Child', '--json');
		assert.equal(parseJson(result).action, 'created');
		assert.match(result.stderr, /^Warning: role "Child" grants app access \(through "Staff policy"\)/);
		assert.match(result.stderr, /3 seats/);
	});

	it('does not mention seats on Directus 11', async () => {
		directus.version = { version: '11.17.4', major: 11 };
		directus.addRole('Admins', { admin: true });
		const result = await run('provision', CLIENT, '--role', 'Admins');
		assert.match(result.stderr, /grants admin access/);
		assert.doesNotMatch(result.stderr, /seats/);
	});

	it('gives no warning for a role without app access', async () => {
		directus.addRole('api');
		const result = await run('provision', CLIENT, '--role', 'api');
		assert.equal(result.stderr, '');
		assert.ok(!directus.calls.includes('serverInfo'));
	});

	it('refuses a user that holds the identifier under another id, before creating any role', async () => {
		directus.addUser({ id: '11111111-1111-4111-8111-111111111111', external_identifier: IDENTIFIER, provider: 'auth0' });
		const result = await run('provision', CLIENT, '--role', 'New role', '--create-role');
		assert.equal(result.code, 1);
		assert.match(result.stderr, /is not a client user/);
		assert.deepEqual(directus.writes, []);
	});

	it('rejects an invalid client id with exit 2 before connecting', async () => {
		for (const bad of ['', ' abc', 'abc\u0007', '@clients', 'x'.repeat(300)]) {
			const result = await run('provision', bad, '--role', 'api');
			assert.equal(result.code, 2, `client id ${JSON.stringify(bad)}`);
			assert.match(result.stderr, /^Error: Invalid client id/);
		}
		assert.deepEqual(connections, []);
	});

	it('rejects an empty or too long --name with exit 2 before connecting', async () => {
		assert.equal((await run('provision', CLIENT, '--role', 'api', '--name', '  ')).code, 2);
		assert.equal((await run('provision', CLIENT, '--role', 'api', '--name', 'n'.repeat(51))).code, 2);
		assert.deepEqual(connections, []);
	});
});

describe('list', () => {
	it('lists client users only, including seed-guide users, sorted by client id', async () => {
		const role = directus.addRole('api');
		const seedIdentifier = 'Seed0001@clients';
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: role.id });
		directus.addUser({
			id: userIdForIdentifier(seedIdentifier),
			external_identifier: seedIdentifier,
			provider: 'bcc-client-credentials',
			role: 'deleted-role',
			status: 'suspended',
		});
		// An SSO user: external_identifier set, id not derived from it.
		directus.addUser({ id: '22222222-2222-4222-8222-222222222222', external_identifier: 'jane@example.org', provider: 'keycloak' });
		// A user without an identifier.
		directus.addUser({ id: '33333333-3333-4333-8333-333333333333' });

		const json = parseJson(await run('list', '--json'));
		assert.deepEqual(json, [
			{
				clientId: CLIENT,
				identifier: IDENTIFIER,
				userId: USER_ID,
				role: { id: role.id, name: 'api' },
				status: 'active',
				provider: 'default',
			},
			{
				clientId: 'Seed0001',
				identifier: seedIdentifier,
				userId: userIdForIdentifier(seedIdentifier),
				role: { id: 'deleted-role', name: null },
				status: 'suspended',
				provider: 'bcc-client-credentials',
			},
		]);
	});

	it('prints a table for people', async () => {
		const role = directus.addRole('api');
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: role.id });
		const result = await run('list');
		assert.equal(result.code, 0);
		const lines = result.stdout.split('\n');
		assert.match(lines[0] ?? '', /^CLIENT ID\s+IDENTIFIER\s+USER ID\s+ROLE\s+STATUS\s+PROVIDER$/);
		assert.match(lines[1] ?? '', new RegExp(`^${CLIENT}\\s+${IDENTIFIER}\\s+${USER_ID}\\s+api\\s+active\\s+default$`));
		assert.match(result.stdout, /1 client\.\n$/);
	});

	it('says so when there are no clients, and --json gives []', async () => {
		assert.equal((await run('list')).stdout, 'No machine clients are provisioned.\n');
		assert.deepEqual(parseJson(await run('list', '--json')), []);
	});
});

describe('revoke', () => {
	beforeEach(() => {
		directus.addRole('api');
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: directus.roles[0]?.id ?? null });
	});

	it('suspends the user, and a second revoke changes nothing', async () => {
		const json = parseJson(await run('revoke', CLIENT, '--json'));
		assert.deepEqual(json, { action: 'suspended', clientId: CLIENT, identifier: IDENTIFIER, userId: USER_ID, status: 'suspended' });
		assert.equal(directus.users.get(USER_ID)?.status, 'suspended');
		const writes = directus.writes.length;
		const again = await run('revoke', CLIENT);
		assert.match(again.stdout, /^Unchanged \(already suspended\)/);
		assert.equal(directus.writes.length, writes);
	});

	it('--delete deletes the user', async () => {
		const json = parseJson(await run('revoke', IDENTIFIER, '--delete', '--json'));
		assert.equal(json.action, 'deleted');
		assert.equal(json.status, null);
		assert.equal(directus.users.has(USER_ID), false);
	});

	it('unknown client: exit 5, CLIENT_NOT_FOUND', async () => {
		const result = await run('revoke', 'nobody', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /^Error: No Directus user for client nobody/);
	});

	it('refuses a user whose id does not match its external_identifier', async () => {
		const other = 'Other0001@clients';
		directus.addUser({ id: '44444444-4444-4444-8444-444444444444', external_identifier: other, provider: 'openid' });
		const result = await run('revoke', 'Other0001', '--delete');
		assert.equal(result.code, 1);
		assert.match(result.stderr, /not a client user/);
		assert.ok(directus.users.has('44444444-4444-4444-8444-444444444444'));
	});

	it('refuses a user at the client id whose external_identifier was changed', async () => {
		directus.users.get(USER_ID)!.external_identifier = 'something-else';
		const result = await run('revoke', CLIENT);
		assert.equal(result.code, 1);
		assert.match(result.stderr, /bcc-cc will not touch it/);
		assert.equal(directus.users.get(USER_ID)?.status, 'active');
	});
});
