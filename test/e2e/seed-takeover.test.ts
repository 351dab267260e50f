/**
 * Taking over a deployment of the seed guide's hook, end to end, on one
 * PostgreSQL database that lives through the whole story:
 *
 * 1. Directus 11.17.4 runs the guide's hook (its code verbatim, built like the
 *    guide builds it); clients call Directus and the hook creates their users.
 * 2. The hook is replaced by this extension: the same users, untouched, keep
 *    working with the same tokens, over REST, GraphQL and WebSocket, and
 *    `bcc-cc list` shows them.
 * 3. `bcc-cc migrate-provider` (dry run, --apply, again) moves them to provider
 *    "default"; they keep working.
 * 4. The database is upgraded to Directus 12.4.0 (bootstrap runs the
 *    migrations): no licence lock, the clients keep working.
 * 5. A user still on the seed provider (the API refuses to create one on 12, so
 *    it is inserted into the database, as an upgrade without step 3 leaves it)
 *    locks Directus 12; PATCHing only its provider (migrate-provider --apply)
 *    is allowed and ends the lock.
 * Plus `bcc-cc provision` on both versions: warnings for roles with app/admin
 * access, and on 12 a refusal at the seat limit that creates nothing.
 *
 * The steps depend on each other and run in order.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi, api, errorCode } from '../../dev/directus-api.js';
import { directusInstallDir, startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { EXTENSION_NAME, installBuiltExtension } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli, USER_FIELDS, type CliResult, type UserRow } from '../support/e2e.js';
import { installSeedGuideHook, SEED_GUIDE_EXTENSION, SEED_GUIDE_PROVIDER, SEED_GUIDE_SCOPE } from '../support/seed-guide-hook.js';
import { GRAPHQL_WS_PROTOCOL, openSocket } from '../support/websocket.js';

const OLD_VERSION = '11.17.4';
const NEW_VERSION = '12.4.0';
const AUDIENCE = 'https://directus.e2e.test/api';
const SECRET = 'e2e-client-secret-0123456789';
/** The role id operators pasted into the guide's hook in place of its placeholder. */
const SEED_ROLE_ID = 'b1e55ed0-5eed-4c1a-8b0c-5eed00000001';
const SEED_ROLE_NAME = 'Seed hook API access';
/** Clients that used the guide's hook. */
const LEGACY = ['svc-legacy-a', 'svc-legacy-b'] as const;
/** A client whose user an upgrade without migrate-provider left on the seed provider. */
const FORGOTTEN = 'svc-forgotten';
const WS_ANSWER_MS = 5000;

const identifierOf = (clientId: string) => `${clientId}@clients`;
const userIdOf = (clientId: string) => userIdForIdentifier(identifierOf(clientId));

interface PgClient {
	connect(): Promise<void>;
	query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
	end(): Promise<void>;
}

/** A pg client (the driver Directus itself ships) on the test database. */
async function withDatabase<T>(database: string, work: (client: PgClient) => Promise<T>): Promise<T> {
	const pg = createRequire(path.join(directusInstallDir(NEW_VERSION), 'package.json'))('pg') as { Client: new (config: object) => PgClient };
	const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database });
	await client.connect();
	try {
		return await work(client);
	} finally {
		await client.end();
	}
}

describe(`taking over the seed guide's hook: Directus ${OLD_VERSION} -> this extension -> migrate-provider -> Directus ${NEW_VERSION} (PostgreSQL)`, () => {
	const database = `bcc_takeover_${randomBytes(4).toString('hex')}`;
	const run = e2eRun('seed-takeover');
	const { test } = run;
	let extensionsPath: string;
	let oauth: RunningOAuthServer;
	let directus: RunningDirectus;
	let adminToken: string;
	let secret: string;
	let databaseCreated = false;
	/** Tokens minted while the guide's hook ran: the takeover must not need new ones. */
	const oldTokens = new Map<string, string>();

	/** Directus's environment at every start, under the guide's hook and under this extension. */
	const env = () => ({
		// The guide's hook reads the same two variables as this extension.
		BCC_AUTH_ISSUER: oauth.issuer,
		BCC_AUTH_AUDIENCE: AUDIENCE,
		// Read by this extension only: the scope the guide's hook insisted on.
		BCC_AUTH_REQUIRED_SCOPES: SEED_GUIDE_SCOPE,
		EXTENSIONS_MUST_LOAD: 'true',
	});
	const cli = (...args: string[]): Promise<CliResult> => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: adminToken });
	const cliJson = async (...args: string[]): Promise<any> => {
		const result = await cli(...args, '--json');
		assert.equal(result.code, 0, `bcc-cc ${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
		return JSON.parse(result.stdout);
	};
	const tokenFor = (clientId: string) => oauth.getToken(identifierOf(clientId), SECRET);
	const articles = (token: string) => api(directus.url, '/items/articles', { token });
	const readUsers = async (): Promise<UserRow[]> =>
		adminApi(directus.url, adminToken, `/users?filter[external_identifier][_nnull]=true&fields=${USER_FIELDS}&sort=id`);
	const readUser = async (id: string): Promise<UserRow | undefined> => (await readUsers()).find((user) => user.id === id);
	const userActivity = async (): Promise<number> =>
		Number((await adminApi(directus.url, adminToken, '/activity?filter[collection][_eq]=directus_users&aggregate[count]=*'))[0].count);

	/** What "the client works" means at each step: REST, GraphQL, and a WebSocket subscription. */
	async function assertClientWorks(clientId: string, token: string): Promise<void> {
		const rest = await articles(token);
		assert.equal(rest.status, 200, `${clientId} REST: ${JSON.stringify(rest.body)}`);
		assert.ok(rest.body.data.some((item: { title: string }) => item.title === 'First'));
		const me = await api(directus.url, '/users/me?fields=id', { token });
		assert.equal(me.body.data?.id, userIdOf(clientId), `${clientId} /users/me`);
		const graphql = await api(directus.url, '/graphql', { token, method: 'POST', body: { query: '{ articles { title } }' } });
		assert.equal(graphql.status, 200, `${clientId} GraphQL: ${JSON.stringify(graphql.body)}`);
		const socket = openSocket(`${directus.url.replace(/^http/, 'ws')}/websocket?access_token=${encodeURIComponent(token)}`);
		try {
			await socket.opened();
			socket.send({ type: 'subscribe', collection: 'articles', uid: 'check' });
			const init = await socket.waitForMessage((m) => m.uid === 'check', WS_ANSWER_MS, 'subscription answer');
			assert.equal(init.event, 'init', `${clientId} WebSocket: ${JSON.stringify(init)}`);
		} finally {
			socket.terminate();
		}
	}

	run.before(async () => {
		const folder = run.folder;
		extensionsPath = path.join(folder, 'extensions');
		await installSeedGuideHook(extensionsPath, { roleId: SEED_ROLE_ID });
		oauth = await startOAuthServer({
			audience: AUDIENCE,
			scopes: [SEED_GUIDE_SCOPE],
			clients: [...LEGACY, FORGOTTEN].map((clientId) => ({ clientId: identifierOf(clientId), clientSecret: SECRET })),
		});
		directus = await startDirectus({
			version: OLD_VERSION,
			dataDir: path.join(folder, 'directus-11'),
			extensionsPath,
			database: { client: 'pg', database, keepDatabase: true },
			env: env(),
			log: () => undefined,
		});
		databaseCreated = true;
		adminToken = directus.adminToken;
		secret = directus.secret;
		await seedSchema(directus.url, adminToken);
		const [policy] = await adminApi(directus.url, adminToken, '/policies?filter[name][_eq]=Read%20articles&fields=id');
		await adminApi(directus.url, adminToken, '/roles', 'POST', { id: SEED_ROLE_ID, name: SEED_ROLE_NAME, policies: [{ policy: policy.id }] });
	});

	after(async () => {
		await directus?.stop();
		await oauth?.stop();
		if (databaseCreated) await withDatabase('postgres', (client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
		run.finish();
	});

	test(`the guide's hook on Directus ${OLD_VERSION} creates each client's user on first use`, async () => {
		for (const clientId of LEGACY) {
			const token = await tokenFor(clientId);
			oldTokens.set(clientId, token);
			assert.equal((await articles(token)).status, 200, clientId);
		}
		const users = await readUsers();
		assert.deepEqual(
			users,
			LEGACY.map((clientId) => ({
				id: userIdOf(clientId),
				external_identifier: identifierOf(clientId),
				provider: SEED_GUIDE_PROVIDER,
				status: 'active',
				role: SEED_ROLE_ID,
				first_name: 'External',
				last_name: 'Client',
				email: null,
				password: null,
			})).sort((a, b) => (a.id < b.id ? -1 : 1)),
		);
	});

	test('after the switch to this extension the same users work with the same tokens, and are not written to', async () => {
		const before = await readUsers();
		const activity = await userActivity();
		await directus.stop();
		rmSync(path.join(extensionsPath, SEED_GUIDE_EXTENSION), { recursive: true, force: true });
		installBuiltExtension(extensionsPath);
		await directus.restart();
		// Directus logs the extensions it loaded at each start: first the guide's hook, now this one.
		const loaded = [...directus.readLog().matchAll(/"msg":"Loaded extensions: ([^"]*)"/g)].map((match) => match[1]?.split(', '));
		assert.deepEqual(loaded, [[SEED_GUIDE_EXTENSION], [EXTENSION_NAME]]);

		for (const clientId of LEGACY) await assertClientWorks(clientId, oldTokens.get(clientId) as string);
		for (const clientId of LEGACY) await assertClientWorks(clientId, await tokenFor(clientId));
		assert.deepEqual(await readUsers(), before, 'the extension changed no user');
		assert.equal(await userActivity(), activity, 'no write to directus_users');
	});

	test('bcc-cc list shows them, with the seed provider', async () => {
		const entries = await cliJson('list');
		assert.deepEqual(
			entries.map((entry: any) => [entry.clientId, entry.userId, entry.role?.name, entry.status, entry.provider]),
			LEGACY.map((clientId) => [clientId, userIdOf(clientId), SEED_ROLE_NAME, 'active', SEED_GUIDE_PROVIDER]),
		);
	});

	test(`bcc-cc provision on Directus ${OLD_VERSION}: a role with admin access warns (without the seat sentence of 12)`, async () => {
		const result = await cli('provision', 'svc-admin-11', '--role', 'Administrator', '--json');
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stderr, /^Warning: role "Administrator" grants admin access \(through "Administrator"\)\. A machine client should not be an administrator/);
		assert.doesNotMatch(result.stderr, /seats/);
		assert.equal(JSON.parse(result.stdout).action, 'created');
		assert.equal((await readUser(userIdOf('svc-admin-11')))?.provider, 'default');
		assert.equal((await cli('revoke', 'svc-admin-11', '--delete')).code, 0);
	});

	test('migrate-provider: the dry run shows both users and changes nothing', async () => {
		const before = await readUsers();
		const activity = await userActivity();
		const human = await cli('migrate-provider');
		assert.equal(human.code, 0, human.stderr);
		assert.match(human.stdout, /^Dry run: 2 client users have provider "bcc-client-credentials"/);
		for (const clientId of LEGACY) assert.match(human.stdout, new RegExp(`^${clientId}\\s+${userIdOf(clientId)}\\s+${SEED_ROLE_NAME}\\s+active\\s+bcc-client-credentials -> default$`, 'm'));
		const dry = await cliJson('migrate-provider');
		assert.equal(dry.applied, false);
		assert.equal(dry.pending, 2);
		assert.deepEqual(dry.users.map((user: any) => user.userId).sort(), LEGACY.map(userIdOf).sort());
		assert.deepEqual(await readUsers(), before);
		assert.equal(await userActivity(), activity, 'no write to directus_users');
	});

	test('migrate-provider --apply moves them to "default" and nothing else; they still work; a second run has nothing to do', async () => {
		const before = await readUsers();
		const applied = await cliJson('migrate-provider', '--apply');
		assert.deepEqual([applied.applied, applied.moved, applied.pending, applied.cacheCleared], [true, 2, 0, false]);
		assert.deepEqual(await readUsers(), before.map((user) => ({ ...user, provider: 'default' })));
		for (const clientId of LEGACY) await assertClientWorks(clientId, oldTokens.get(clientId) as string);

		const activity = await userActivity();
		const again = await cliJson('migrate-provider', '--apply');
		assert.deepEqual([again.moved, again.pending, again.users], [0, 0, []]);
		assert.equal(await userActivity(), activity, 'the second run wrote nothing');
	});

	test(`the database upgraded to Directus ${NEW_VERSION}: not locked, the clients work`, async () => {
		await directus.stop();
		directus = await startDirectus({
			version: NEW_VERSION,
			dataDir: path.join(run.folder, 'directus-12'),
			extensionsPath,
			database: { client: 'pg', database },
			adminToken,
			secret,
			env: env(),
			log: () => undefined,
		});
		const info = await adminApi(directus.url, adminToken, '/server/info');
		assert.equal(info.version, NEW_VERSION);
		const license = await adminApi(directus.url, adminToken, '/license');
		assert.deepEqual([license.name, license.status], ['Core', 'active']);
		for (const clientId of LEGACY) await assertClientWorks(clientId, await tokenFor(clientId));
		assert.deepEqual(
			(await cliJson('list')).map((entry: any) => [entry.clientId, entry.provider, entry.status]),
			LEGACY.map((clientId) => [clientId, 'default', 'active']),
		);
	});

	test(`Directus ${NEW_VERSION}: a user left on the seed provider locks Directus; PATCHing only its provider is allowed and ends the lock`, async () => {
		const forgotten = {
			id: userIdOf(FORGOTTEN),
			external_identifier: identifierOf(FORGOTTEN),
			provider: SEED_GUIDE_PROVIDER,
			first_name: 'External',
			last_name: 'Client',
			role: SEED_ROLE_ID,
		};
		// Directus 12 without a licence refuses to create such a user...
		const refused = await api(directus.url, '/users', { token: adminToken, method: 'POST', body: forgotten });
		assert.equal(refused.status, 400);
		assert.equal(errorCode(refused), 'INVALID_PAYLOAD');
		assert.equal(refused.body.errors[0].message, 'Invalid payload. Setting a custom "provider" isn\'t included in the current license.');
		// ...but an upgrade keeps the ones the guide's hook made: the row as that hook wrote it.
		await withDatabase(database, (client) =>
			client.query(
				`INSERT INTO directus_users (id, external_identifier, provider, first_name, last_name, role, status, last_access)
				 VALUES ($1, $2, $3, $4, $5, $6, 'active', now())`,
				[forgotten.id, forgotten.external_identifier, forgotten.provider, forgotten.first_name, forgotten.last_name, forgotten.role],
			),
		);
		await directus.restart(); // Directus caches its licence usage; a restart recounts (as after an upgrade).

		const license = await adminApi(directus.url, adminToken, '/license');
		assert.equal(license.status, 'locked');
		// Locked: the content APIs refuse everyone, the admin and every client alike.
		const restricted = { status: 403, code: 'RESOURCE_RESTRICTED', message: 'items is a restricted resource.' };
		for (const token of [adminToken, await tokenFor(LEGACY[0]), await tokenFor(FORGOTTEN)]) {
			const response = await articles(token);
			assert.deepEqual({ status: response.status, code: errorCode(response), message: response.body.errors?.[0]?.message }, restricted);
		}
		const graphql = await api(directus.url, '/graphql', { token: await tokenFor(LEGACY[0]), method: 'POST', body: { query: '{ articles { title } }' } });
		assert.equal(graphql.status, 403);
		assert.equal(errorCode(graphql), 'RESOURCE_RESTRICTED');
		const socket = openSocket(`${directus.url.replace(/^http/, 'ws')}/graphql?access_token=${encodeURIComponent(await tokenFor(LEGACY[0]))}`, { protocol: GRAPHQL_WS_PROTOCOL });
		const end = await socket.waitForEnd(WS_ANSWER_MS);
		assert.equal(end.kind === 'refused' && end.status, 403, 'WebSocket upgrades are refused while locked');
		// /users stays open to the admin: list and migrate-provider work while locked.
		assert.deepEqual(
			(await cliJson('list')).filter((entry: any) => entry.provider !== 'default').map((entry: any) => entry.clientId),
			[FORGOTTEN],
		);
		const dry = await cliJson('migrate-provider');
		assert.deepEqual(dry.users.map((user: any) => user.clientId), [FORGOTTEN]);

		// migrate-provider sends PATCH /users/<id> { provider: "default" } and nothing else: Core allows it.
		const applied = await cliJson('migrate-provider', '--apply');
		assert.deepEqual([applied.moved, applied.pending, applied.cacheCleared], [1, 0, true]);
		assert.equal((await readUser(forgotten.id))?.provider, 'default');
		assert.equal((await adminApi(directus.url, adminToken, '/license')).status, 'active');
		for (const clientId of [...LEGACY, FORGOTTEN]) await assertClientWorks(clientId, await tokenFor(clientId));
	});

	test(`bcc-cc provision on Directus ${NEW_VERSION}: warns about seats, and at the seat limit creates nothing`, async () => {
		// Fill the 3 seats: the bootstrap admin and two more users with admin access.
		const [adminRole] = await adminApi(directus.url, adminToken, '/roles?filter[name][_eq]=Administrator&fields=id');
		for (const email of ['second-admin@example.org', 'third-admin@example.org']) {
			await adminApi(directus.url, adminToken, '/users', 'POST', { email, role: adminRole.id });
		}
		const refused = await cli('provision', 'svc-admin-12', '--role', 'Administrator', '--json');
		assert.equal(refused.code, 1);
		assert.equal(refused.stdout, '');
		const lines = refused.stderr.trimEnd().split('\n');
		assert.match(lines[0] ?? '', /^Warning: role "Administrator" grants admin access .* every active user with app or admin access takes one of only 3 seats\.$/);
		assert.equal(lines[1], `Error: Directus refused to create the user ${userIdOf('svc-admin-12')}: seats limit exceeded.`);
		assert.equal(await readUser(userIdOf('svc-admin-12')), undefined, 'nothing was created');
		// A role without app access takes no seat: provisioning still works at the limit.
		const reader = await cliJson('provision', 'svc-reader-12', '--role', READER_ROLE);
		assert.equal(reader.action, 'created');
		assert.deepEqual(
			await readUser(userIdOf('svc-reader-12')).then((user) => [user?.provider, user?.status]),
			['default', 'active'],
		);
	});
});
