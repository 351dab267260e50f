/**
 * The provision, list and revoke actions against an in-memory Directus, run
 * through the real commander program (`main`) so that flags, output streams
 * and exit codes are those of the shipped CLI.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { USER_DESCRIPTION } from '../../cli/commands/provision.js';
import { FAKE_DIRECTUS_FLAGS, runInProcess, type CliResult } from '../support/cli-in-process.js';
import { plainHttpWarning } from '../../cli/directus.js';
import { FakeDirectus } from '../support/fake-directus.js';

let directus: FakeDirectus;
let connections: { url?: string | undefined; token?: string | undefined }[];

const run = (...args: string[]): Promise<CliResult> =>
	runInProcess([...FAKE_DIRECTUS_FLAGS, ...args], async (options) => {
		connections.push(options);
		return directus;
	});

function parseJson(result: CliResult): any {
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
			sign_in: [],
		});
		assert.match(result.stdout, new RegExp(`^Created: client ${CLIENT} -> user ${USER_ID}, role "Reporting API", status active\\.\\n$`));
		assert.equal(result.stderr, '');
		assert.deepEqual(connections, [{ url: 'https://directus.test', token: 't0ken' }]);
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

	it('refuses to give a role to a user with the client\'s id that can also sign in by itself, before creating any role', async () => {
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, sign_in: ['email', 'password'] });
		const result = await run('provision', CLIENT, '--role', 'New role', '--create-role');
		assert.equal(result.code, 1);
		assert.match(result.stderr, new RegExp(`^Error: The Directus user ${USER_ID} of client ${CLIENT} can also sign in by itself \\(email, password set\\)`));
		assert.deepEqual(directus.writes, []);
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

describe('a Directus URL in plain http', () => {
	const listAt = (url: string) => runInProcess(['--url', url, '--token', 't0ken', 'list', '--json'], async () => directus);

	it('to another host: the command runs, with a warning on stderr that the token crosses the network unencrypted', async () => {
		const result = await listAt('http://directus.internal:8055');
		assert.deepEqual(parseJson(result), []);
		assert.equal(result.stderr, `Warning: ${plainHttpWarning('http://directus.internal:8055')}\n`);
		assert.match(result.stderr, /http:\/\/directus\.internal:8055 is plain http: the Directus token .* unencrypted/);
	});

	it('to this machine, or in https: no warning', async () => {
		for (const url of ['http://127.0.0.1:8055', 'http://localhost:8055', 'http://[::1]:8055', 'https://directus.internal']) {
			const result = await listAt(url);
			assert.equal(result.code, 0, result.stderr);
			assert.equal(result.stderr, '', url);
		}
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

describe('list filters', () => {
	beforeEach(() => {
		const api = directus.addRole('api');
		const other = directus.addRole('other');
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: api.id });
		for (const [client, role, status] of [['Susp0001', api.id, 'suspended'], ['Other0001', other.id, 'active'], ['Arch0001', other.id, 'archived']] as const) {
			directus.addUser({ id: userIdForIdentifier(`${client}@clients`), external_identifier: `${client}@clients`, role, status });
		}
	});

	it('--role keeps the clients of that role (by name or id)', async () => {
		const byName = parseJson(await run('list', '--role', 'api', '--json'));
		assert.deepEqual(byName.map((entry: { clientId: string }) => entry.clientId), [CLIENT, 'Susp0001']);
		const byId = parseJson(await run('list', '--role', directus.roles[1]!.id, '--json'));
		assert.deepEqual(byId.map((entry: { clientId: string }) => entry.clientId), ['Arch0001', 'Other0001']);
	});

	it('--status takes one or several statuses, and combines with --role', async () => {
		assert.deepEqual(parseJson(await run('list', '--status', 'suspended,archived', '--json')).map((entry: { clientId: string }) => entry.clientId), ['Arch0001', 'Susp0001']);
		assert.deepEqual(parseJson(await run('list', '--role', 'other', '--status', 'active', '--json')).map((entry: { clientId: string }) => entry.clientId), ['Other0001']);
		assert.equal((await run('list', '--role', 'api', '--status', 'archived')).stdout, 'No machine client matches the filters.\n');
	});

	it('an unknown status is a usage error (exit 2) listing the valid ones, before connecting', async () => {
		const result = await run('list', '--status', 'activ');
		assert.equal(result.code, 2);
		assert.match(result.stderr, /^Error: Unknown status "activ"\.\nUse some of: active, suspended, archived, draft, invited, unverified, inactive-license\.\n$/);
		assert.deepEqual(connections, []);
	});

	it('an unknown role: exit 5 with the existing roles', async () => {
		const result = await run('list', '--role', 'nope', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /No role "nope" in Directus\. Existing roles: "api", "other"\./);
	});
});

describe('show', () => {
	beforeEach(() => {
		const base = directus.addRole('Base', { policies: [{ id: 'p-base', name: 'Read articles', admin_access: false, app_access: false }] });
		const role = directus.addRole('Orders API', { parent: base.id, policies: [{ id: 'p-orders', name: 'Write orders', admin_access: false, app_access: false }] });
		directus.addPolicy({ id: 'p-orders', name: 'Write orders', admin_access: false, app_access: false, ip_access: ['10.0.0.0/8'] });
		directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: role.id, first_name: 'Orders' });
		directus.userPolicies = [{ user: USER_ID, policy: directus.addPolicy({ id: 'p-user', name: 'Own files', admin_access: false, app_access: false }) }];
		directus.permissions = [
			{ policy: 'p-base', collection: 'articles', action: 'read', fields: ['*'], permissions: {}, validation: null, presets: null },
			{ policy: 'p-orders', collection: 'orders', action: 'create', fields: ['*'], permissions: null, validation: { total: { _gt: 0 } }, presets: null },
			{ policy: 'p-orders', collection: 'orders', action: 'read', fields: ['id', 'total'], permissions: { owner: { _eq: '$CURRENT_USER' } }, validation: null, presets: null },
			{ policy: 'p-user', collection: 'directus_files', action: 'read', fields: null, permissions: null, validation: null, presets: null },
			{ policy: 'someone-elses', collection: 'secrets', action: 'read', fields: ['*'], permissions: null, validation: null, presets: null },
		];
	});

	it('--json: the user, the role with its parents, every policy with its source, and their permissions', async () => {
		const json = parseJson(await run('show', CLIENT, '--json'));
		assert.equal(json.userId, USER_ID);
		assert.equal(json.status, 'active');
		assert.deepEqual(json.role, { id: directus.roles[1]!.id, name: 'Orders API', parents: [{ id: directus.roles[0]!.id, name: 'Base' }] });
		assert.deepEqual(json.access, { admin: false, app: false });
		assert.deepEqual(
			json.policies.map((policy: { name: string; via: string; ip_access: unknown }) => [policy.name, policy.via, policy.ip_access]),
			[
				['Write orders', 'role "Orders API"', ['10.0.0.0/8']],
				['Read articles', 'role "Base"', null],
				['Own files', 'user', null],
			],
		);
		assert.deepEqual(
			json.permissions.map((permission: { collection: string; action: string; policyName: string }) => `${permission.collection} ${permission.action} (${permission.policyName})`),
			['articles read (Read articles)', 'orders create (Write orders)', 'orders read (Write orders)', 'directus_files read (Own files)'],
		);
	});

	it('prints the facts, a policy table and what it may access per collection', async () => {
		const result = await run('show', IDENTIFIER);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /^Client {6}Hx7PqK2mVZ1cR9bT$/m);
		assert.match(result.stdout, /^Role {8}Orders API \(.*\), inherits from Base$/m);
		assert.match(result.stdout, /^Access {6}API only \(no app or admin access\)$/m);
		assert.match(result.stdout, /^POLICY +FROM +ADMIN +APP +IP ACCESS$/m);
		assert.match(result.stdout, /^Write orders +role "Orders API" +no +no +10\.0\.0\.0\/8$/m);
		assert.match(result.stdout, /^COLLECTION +ACTIONS +LIMITED BY$/m);
		assert.match(result.stdout, /^articles +read +nothing \(all items, all fields\)$/m);
		assert.match(result.stdout, /^orders +create, read +create: validation; read: fields id,total; read: item filter$/m);
		assert.doesNotMatch(result.stdout, /secrets/);
	});

	it('an admin client: admin access, no permission list', async () => {
		const admin = directus.addRole('Administrator', { admin: true });
		directus.users.get(USER_ID)!.role = admin.id;
		directus.userPolicies = [];
		const result = await run('show', CLIENT);
		assert.match(result.stdout, /^Access {6}admin: may do anything/m);
		assert.doesNotMatch(result.stdout, /COLLECTION/);
		assert.deepEqual(parseJson(await run('show', CLIENT, '--json')).permissions, []);
	});

	it('an unknown client: exit 5', async () => {
		const result = await run('show', 'nobody', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /^Error: No Directus user for client nobody/);
	});
});
