/**
 * The built bcc-cc (dist/cli.js) against a real Directus: one instance for the
 * whole file (SQLite, no extensions: the CLI does not need the hook). Results
 * are read from --json and checked again through Directus's REST API.
 *
 * BCC_TEST_DIRECTUS_VERSION picks the Directus version (default 12.4.0).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi, api } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { PROJECT_ROOT } from '../../dev/extension-install.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli, USER_FIELDS, type CliResult, type UserRow } from '../support/e2e.js';

const DIRECTUS_VERSION = process.env['BCC_TEST_DIRECTUS_VERSION'] ?? '12.4.0';
const MAJOR = Number(DIRECTUS_VERSION.split('.')[0]);

const CLIENT = 'e2eOrdersSvc01';
const CLIENT_USER_ID = userIdForIdentifier(`${CLIENT}@clients`);
const ROLE = 'E2E Machine Clients';
const SEED_IDENTIFIER = 'e2eSeedGuide01@clients';
const SEED_USER_ID = userIdForIdentifier(SEED_IDENTIFIER);

async function closedPort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const address = probe.address();
	assert.ok(address && typeof address === 'object');
	await new Promise((resolve) => probe.close(resolve));
	return address.port;
}

function parse(result: CliResult): any {
	assert.equal(result.code, 0, `exit code 0 expected, got ${result.code}; stderr:\n${result.stderr}`);
	return JSON.parse(result.stdout);
}

describe(`bcc-cc against Directus ${DIRECTUS_VERSION}`, () => {
	const run = e2eRun(`cli-${DIRECTUS_VERSION}`);
	const { test } = run;
	let directus: RunningDirectus;

	const cli = (...args: string[]): Promise<CliResult> => runCli(['--url', directus.url, '--token', directus.adminToken, ...args]);
	const admin = (route: string, method = 'GET', body?: unknown): Promise<any> => adminApi(directus.url, directus.adminToken, route, method, body);
	const readUser = async (id: string): Promise<UserRow | undefined> => {
		const rows = (await admin(`/users?filter[id][_eq]=${id}&fields=${USER_FIELDS}`)) as UserRow[];
		return rows[0];
	};
	const activityCount = async (id: string): Promise<number> => {
		const rows = await admin(`/activity?filter[collection][_eq]=directus_users&filter[item][_eq]=${id}&aggregate[count]=*`);
		return Number(rows[0].count);
	};

	run.before(
		async () => {
			const cliPath = path.join(PROJECT_ROOT, 'dist', 'cli.js');
			if (!existsSync(cliPath)) {
				const build = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'build-cli.mjs')], { encoding: 'utf8' });
				assert.equal(build.status, 0, `building dist/cli.js failed:\n${build.stderr}`);
			}
			const folder = run.folder;
			const extensionsPath = path.join(folder, 'extensions');
			mkdirSync(extensionsPath, { recursive: true });
			directus = await startDirectus({
				version: DIRECTUS_VERSION,
				dataDir: path.join(folder, 'directus'),
				extensionsPath,
				database: { client: 'sqlite3' },
				log: () => undefined,
			});
		},
		{ timeout: 20 * 60_000 },
	);

	after(async () => {
		await directus?.stop();
		run.finish();
	});

	test('provision --create-role creates the role and a default-provider user with the derived id', async () => {
		const result = await cli('provision', CLIENT, '--role', ROLE, '--create-role', '--json');
		const json = parse(result);
		assert.equal(json.action, 'created');
		assert.equal(json.roleCreated, true);
		assert.equal(json.userId, CLIENT_USER_ID);
		assert.equal(json.identifier, `${CLIENT}@clients`);
		assert.match(result.stderr, /^Warning: the new role "E2E Machine Clients" has no policies yet/);

		const role = await admin(`/roles/${json.role.id}?fields=id,name,policies`);
		assert.equal(role.name, ROLE);
		assert.deepEqual(role.policies, []);

		const user = await readUser(CLIENT_USER_ID);
		assert.deepEqual(user, {
			id: CLIENT_USER_ID,
			external_identifier: `${CLIENT}@clients`,
			provider: 'default',
			status: 'active',
			role: json.role.id,
			first_name: CLIENT,
			last_name: null,
			email: null,
			password: null,
		});
	});

	test('provision again (also as "<id>@clients") changes nothing and says so', async () => {
		const before = await activityCount(CLIENT_USER_ID);
		const human = await cli('provision', CLIENT, '--role', ROLE);
		assert.equal(human.code, 0, human.stderr);
		assert.match(human.stdout, new RegExp(`^Unchanged \\(already up to date\\): client ${CLIENT} -> user ${CLIENT_USER_ID}, role "${ROLE}"`));
		assert.equal(parse(await cli('provision', `${CLIENT}@clients`, '--role', ROLE, '--json')).action, 'unchanged');
		assert.equal(await activityCount(CLIENT_USER_ID), before, 'no write reached Directus');
	});

	test('an unknown role without --create-role exits 5 and lists the roles', async () => {
		const result = await cli('provision', 'e2eNoRole01', '--role', 'No Such Role', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /^Error: No role "No Such Role" in Directus\. Existing roles: .*"Administrator"/);
		assert.ok(result.stderr.includes(`"${ROLE}"`), result.stderr);
		assert.equal(await readUser(userIdForIdentifier('e2eNoRole01@clients')), undefined);
	});

	test('provision by role id with --name updates role and name', async () => {
		const other = await admin('/roles', 'POST', { name: 'E2E Other Role' });
		const json = parse(await cli('provision', CLIENT, '--role', other.id, '--name', 'Orders service', '--json'));
		assert.equal(json.action, 'updated');
		assert.deepEqual(json.role, { id: other.id, name: 'E2E Other Role' });
		const user = await readUser(CLIENT_USER_ID);
		assert.equal(user?.role, other.id);
		assert.equal(user?.first_name, 'Orders service');
		assert.equal(user?.provider, 'default');
	});

	test(`a user made the way the seed guide's hook did is listed (Directus ${MAJOR})`, async () => {
		const seedUser = {
			id: SEED_USER_ID,
			external_identifier: SEED_IDENTIFIER,
			first_name: 'External',
			last_name: 'Client',
		};
		const guideProvider = await api(directus.url, '/users', {
			token: directus.adminToken,
			method: 'POST',
			body: { ...seedUser, provider: 'bcc-client-credentials' },
		});
		let expectedProvider: string;
		if (MAJOR >= 12) {
			// Unlicensed Directus 12 refuses custom providers.
			assert.equal(guideProvider.status, 400);
			assert.equal(guideProvider.body.errors[0].extensions.code, 'INVALID_PAYLOAD');
			assert.equal(guideProvider.body.errors[0].message, 'Invalid payload. Setting a custom "provider" isn\'t included in the current license.');
			await admin('/users', 'POST', { ...seedUser, provider: 'default' });
			expectedProvider = 'default';
		} else {
			assert.equal(guideProvider.status, 200, JSON.stringify(guideProvider.body));
			expectedProvider = 'bcc-client-credentials';
		}
		// Not clients: an SSO-style user (identifier, unrelated id) and a plain user.
		await admin('/users', 'POST', { email: 'sso@example.org', external_identifier: 'sso-person@example.org' });
		await admin('/users', 'POST', { email: 'plain@example.org' });

		const entries = parse(await cli('list', '--json')) as any[];
		const seed = entries.find((entry) => entry.userId === SEED_USER_ID);
		assert.deepEqual(seed, {
			clientId: 'e2eSeedGuide01',
			identifier: SEED_IDENTIFIER,
			userId: SEED_USER_ID,
			role: null,
			status: 'active',
			provider: expectedProvider,
		});
		const orders = entries.find((entry) => entry.clientId === CLIENT);
		assert.equal(orders?.role?.name, 'E2E Other Role');
		assert.ok(!entries.some((entry) => entry.identifier === 'sso-person@example.org'), 'SSO users are not clients');
		assert.equal(entries.length, 2);
	});

	test('provision of the seed-guide user gives it a role and keeps its provider and name', async () => {
		const json = parse(await cli('provision', SEED_IDENTIFIER, '--role', ROLE, '--json'));
		assert.equal(json.action, 'updated');
		const user = await readUser(SEED_USER_ID);
		assert.equal(user?.role, json.role.id);
		assert.equal(user?.provider, MAJOR >= 12 ? 'default' : 'bcc-client-credentials');
		assert.equal(user?.first_name, 'External');
		assert.equal(user?.last_name, 'Client');
	});

	test('list pages through more than 100 users, and prints a table without --json', async () => {
		const many = Array.from({ length: 105 }, (_, index) => {
			const identifier = `e2eBulk${String(index).padStart(3, '0')}@clients`;
			return { id: userIdForIdentifier(identifier), external_identifier: identifier, status: 'active' };
		});
		await admin('/users', 'POST', many);
		const entries = parse(await cli('list', '--json')) as any[];
		assert.equal(entries.length, 107);
		assert.equal(entries.filter((entry) => entry.clientId.startsWith('e2eBulk')).length, 105);

		const table = await cli('list');
		assert.equal(table.code, 0);
		const lines = table.stdout.trimEnd().split('\n');
		assert.match(lines[0] ?? '', /^CLIENT ID\s+IDENTIFIER\s+USER ID\s+ROLE\s+STATUS\s+PROVIDER$/);
		assert.equal(lines.at(-1), '107 clients.');
		await admin('/users', 'DELETE', many.map((user) => user.id));
	});

	test('revoke suspends; provision reactivates', async () => {
		const revoked = parse(await cli('revoke', CLIENT, '--json'));
		assert.deepEqual(revoked, {
			action: 'suspended',
			clientId: CLIENT,
			identifier: `${CLIENT}@clients`,
			userId: CLIENT_USER_ID,
			status: 'suspended',
		});
		assert.equal((await readUser(CLIENT_USER_ID))?.status, 'suspended');
		const listed = (parse(await cli('list', '--json')) as any[]).find((entry) => entry.clientId === CLIENT);
		assert.equal(listed?.status, 'suspended');

		const again = await cli('revoke', CLIENT);
		assert.match(again.stdout, /^Unchanged \(already suspended\)/);

		const reactivated = parse(await cli('provision', CLIENT, '--role', 'E2E Other Role', '--json'));
		assert.equal(reactivated.action, 'updated');
		assert.equal(reactivated.status, 'active');
		assert.equal((await readUser(CLIENT_USER_ID))?.status, 'active');
	});

	test('a role with admin access works but warns on stderr; stdout stays JSON', async () => {
		const result = await cli('provision', 'e2eAdminish01', '--role', 'Administrator', '--json');
		const json = parse(result);
		assert.equal(json.role.name, 'Administrator');
		assert.match(result.stderr, /^Warning: role "Administrator" grants admin access/);
		if (MAJOR >= 12) assert.match(result.stderr, /3 seats/);
		assert.equal(parse(await cli('revoke', 'e2eAdminish01', '--delete', '--json')).action, 'deleted');
	});

	test('revoke --delete deletes the user; then the client is unknown (exit 5)', async () => {
		const json = parse(await cli('revoke', CLIENT, '--delete', '--json'));
		assert.equal(json.action, 'deleted');
		assert.equal(await readUser(CLIENT_USER_ID), undefined);
		const again = await cli('revoke', CLIENT);
		assert.equal(again.code, 5);
		assert.match(again.stderr, new RegExp(`^Error: No Directus user for client ${CLIENT} `));
	});

	test('an unknown client exits 5', async () => {
		const result = await cli('revoke', 'e2eNeverProvisioned', '--json');
		assert.equal(result.code, 5);
		assert.equal(result.stdout, '');
	});

	test('provision gives no role to a user made with a client\'s id and identifier that can also sign in by itself', async () => {
		const id = userIdForIdentifier('e2eSignsIn01@clients');
		await admin('/users', 'POST', { id, external_identifier: 'e2eSignsIn01@clients', email: 'squatter@example.com', password: 'a password of theirs' });
		const result = await cli('provision', 'e2eSignsIn01', '--role', ROLE);
		assert.equal(result.code, 1);
		assert.match(result.stderr, new RegExp(`^Error: The Directus user ${id} of client e2eSignsIn01 can also sign in by itself \\(email, password set\\)`));
		assert.equal((await readUser(id))?.role, null, 'the user got no role');
	});

	test('revoke refuses a user whose id does not derive from its identifier', async () => {
		const impostor = await admin('/users', 'POST', { external_identifier: 'e2eImpostor01@clients' });
		const result = await cli('revoke', 'e2eImpostor01', '--delete');
		assert.equal(result.code, 1);
		assert.match(result.stderr, /is not a client user/);
		assert.ok(await readUser(impostor.id), 'the user is still there');
	});

	test('a wrong token exits 4 with Directus\'s reason', async () => {
		const result = await runCli(['list', '--url', directus.url, '--token', 'not-the-token']);
		assert.equal(result.code, 4);
		assert.equal(
			result.stderr.split('\n')[0],
			`Error: Directus at ${directus.url} rejected the token (401 INVALID_CREDENTIALS: Invalid user credentials).`,
		);
	});

	test('a valid token of a user without admin access exits 4', async () => {
		await admin('/users', 'POST', { email: 'not-admin@example.org', token: 'e2e-not-admin-token' });
		const result = await runCli(['list', '--url', directus.url, '--token', 'e2e-not-admin-token']);
		assert.equal(result.code, 4);
		assert.match(result.stderr, /^Error: The token is valid at .*, but its user has no admin access\./);
	});

	test('an unreachable URL exits 3 with a one-line error', async () => {
		const url = `http://127.0.0.1:${await closedPort()}`;
		const result = await runCli(['list', '--url', url, '--token', directus.adminToken]);
		assert.equal(result.code, 3);
		const [first, ...rest] = result.stderr.trimEnd().split('\n');
		assert.equal(first, `Error: Cannot reach Directus at ${url}: connection refused (ECONNREFUSED).`);
		assert.ok(rest.length <= 1 && !/^\s+at /m.test(result.stderr), `at most one hint line, no stack:\n${result.stderr}`);
	});

	test('missing --url or --token exits 2', async () => {
		const noUrl = await runCli(['list', '--token', directus.adminToken]);
		assert.equal(noUrl.code, 2);
		assert.match(noUrl.stderr, /^Error: No Directus URL given\./);
		const noToken = await runCli(['list', '--url', directus.url]);
		assert.equal(noToken.code, 2);
		assert.match(noToken.stderr, /^Error: No Directus token given\./);
		// The environment works as well as the flags.
		const fromEnv = await runCli(['list', '--json'], { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
		assert.ok(Array.isArray(parse(fromEnv)));
	});
});
