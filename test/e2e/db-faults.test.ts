/**
 * Database faults against a real Directus (default 12.4.0) on PostgreSQL,
 * reached through a TCP proxy of the test's own (test/support/tcp-proxy.ts):
 * the database refuses connections, cuts them, black-holes them (a network
 * partition: queries hang, the pool runs dry), or answers slowly.
 *
 * An owned request must get 503 SERVICE_UNAVAILABLE within a bounded time:
 * never accepted, never a fall-through to Directus's own check, never a 500.
 * Requests the hook does not own must get exactly what a Directus without the
 * extension answers in the same state: a second Directus on the same database
 * and proxy, without the extension, is the reference.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli } from '../support/e2e.js';
import { assertNoSecretsInLog, hookLines, LEVEL, linesForToken, type LogLine } from '../support/hook-log.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { codeOf, refusalBody, sleep, timedCall, unavailableBody, type TimedResponse } from '../support/timed-call.js';
import { auth0Claims, rsaKey, signToken } from '../support/tokens.js';

const DIRECTUS_VERSION = process.env['BCC_TEST_DIRECTUS_VERSION'] ?? '12.4.0';
const AUDIENCE = 'https://directus.dbfaults.test/api';
const ROUTE = '/items/articles';
const DB_TIMEOUT_MS = 1000;
/** An owned request must be answered within this, whatever the database does. */
const BOUND_MS = 3000;
/** How long a test waits for Directus's own answer before calling it a hang. */
const PATIENCE_MS = 2500;

const DIRECTORY_UNAVAILABLE_BODY = unavailableBody('The user directory could not be read');

describe(`database faults against Directus ${DIRECTUS_VERSION} on PostgreSQL`, () => {
	const run = e2eRun(`db-faults-${DIRECTUS_VERSION}`);
	const { test } = run;
	let proxy: TcpProxy;
	let server: KeyServer;
	/** With the extension. */
	let directus: RunningDirectus;
	/** Without it, on the same database through the same proxy: what Directus itself answers. */
	let plain: RunningDirectus;
	const sent: string[] = [];
	const owned: TimedResponse[] = [];
	const key = rsaKey('key-1');

	/**
	 * Clients provisioned up front and each used first while the database is down: an answer cached for a
	 * client from an earlier request (issue 5) must not hide the fault under test.
	 */
	const fresh = Array.from({ length: 6 }, (_, index) => `svc-db-${index}`);
	let nextFresh = 0;
	const freshClient = (): string => fresh[nextFresh++] as string;

	const token = (overrides: Record<string, unknown> = {}, signingKey = key, clientId = 'svc-orders'): string => {
		const value = signToken({
			key: signingKey,
			payload: { ...auth0Claims({ issuer: server.issuer, audience: AUDIENCE, clientId, scope: 'read:items' }), jti: randomUUID(), ...overrides },
		});
		sent.push(value);
		return value;
	};

	async function send(value: string, route = ROUTE): Promise<TimedResponse> {
		const response = await timedCall(directus.url, route, { token: value, deadlineMs: 10_000 });
		owned.push(response);
		return response;
	}

	async function assertDirectoryUnavailable(value: string, client = 'svc-orders@clients'): Promise<TimedResponse> {
		const response = await send(value);
		assert.equal(response.status, 503, `status; body ${JSON.stringify(response.body)}`);
		assert.deepEqual(response.body, DIRECTORY_UNAVAILABLE_BODY);
		assert.ok(response.ms < BOUND_MS, `answered in ${Math.round(response.ms)} ms`);
		const lines = linesForToken(directus.readLog(), value);
		assert.equal(lines.length, 1, 'one log line for the refusal');
		const [line] = lines as [LogLine];
		assert.equal(line['reason'], 'directory_unavailable');
		assert.equal(line.level, LEVEL.error);
		assert.equal(line['client'], client, 'after verification, the client is named');
		return response;
	}

	/**
	 * Requests the hook does not own, sent to both instances at once: the answers must match (status and
	 * Directus code, or both no answer within PATIENCE_MS). Returns what Directus answered, sorted.
	 */
	async function assertSameAsDirectus(): Promise<string[]> {
		const foreign = signToken({ key: rsaKey('other'), payload: { iss: 'https://other.example.com/', sub: 'x', aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 } });
		const probes: Array<[string, string, string | undefined]> = [
			['no token', ROUTE, undefined],
			['static token', '/users/me?fields=id', directus.adminToken],
			["another issuer's JWT", ROUTE, foreign],
			['ping', '/server/ping', undefined],
		];
		const summary: string[] = [];
		await Promise.all(
			probes.map(async ([name, route, value]) => {
				const options = { deadlineMs: PATIENCE_MS, ...(value !== undefined ? { token: value } : {}) };
				const [withHook, without] = await Promise.all([timedCall(directus.url, route, options), timedCall(plain.url, route, options)]);
				assert.equal(withHook.status, without.status, `${name}: status with the hook ${withHook.status}, without ${without.status}`);
				assert.equal(codeOf(withHook), codeOf(without), `${name}: code`);
				assert.deepEqual(linesForToken(directus.readLog(), value ?? ''), [], `${name}: the hook logged nothing`);
				summary.push(`${name}: ${withHook.status} ${codeOf(withHook) ?? ''}`.trim());
			}),
		);
		return summary.sort();
	}

	run.before(async () => {
		const folder = run.folder;
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		const noExtensions = path.join(folder, 'no-extensions');
		mkdirSync(noExtensions, { recursive: true });
		proxy = await startTcpProxy();
		server = await startKeyServer();
		server.keys = [key.jwk];
		const common = {
			DB_PORT: String(proxy.port),
			BCC_AUTH_ISSUER: server.issuer,
			BCC_AUTH_AUDIENCE: AUDIENCE,
			BCC_AUTH_REQUIRED_SCOPES: 'read:items',
			BCC_AUTH_DB_TIMEOUT: String(DB_TIMEOUT_MS / 1000),
		};
		directus = await startDirectus({
			version: DIRECTUS_VERSION,
			dataDir: path.join(folder, 'directus'),
			extensionsPath,
			database: { client: 'pg' },
			env: { ...common, EXTENSIONS_MUST_LOAD: 'true' },
			log: () => undefined,
		});
		const database = directus.database.client === 'pg' ? directus.database.database : '';
		[plain] = await Promise.all([
			startDirectus({
				version: DIRECTUS_VERSION,
				dataDir: path.join(folder, 'plain'),
				extensionsPath: noExtensions,
				database: { client: 'pg', database },
				skipBootstrap: true,
				secret: directus.secret,
				adminToken: directus.adminToken,
				env: common,
				log: () => undefined,
			}),
			(async () => {
				const { readerRoleId } = await seedSchema(directus.url, directus.adminToken);
				const users = fresh.map((clientId) => ({
					id: userIdForIdentifier(`${clientId}@clients`),
					external_identifier: `${clientId}@clients`,
					provider: 'default',
					status: 'active',
					role: readerRoleId,
				}));
				await adminApi(directus.url, directus.adminToken, '/users', 'POST', users);
				const provisioned = await runCli(['provision', 'svc-orders', '--role', READER_ROLE], { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
				assert.equal(provisioned.code, 0, provisioned.stderr);
			})(),
		]);
	});

	after(async () => {
		await proxy?.setMode({ kind: 'pass' });
		await plain?.stop();
		await directus?.stop();
		await server?.stop();
		await proxy?.stop();
		run.finish();
	});

	test('database reachable: the client is accepted, and both instances answer the same', async () => {
		const response = await send(token());
		assert.equal(response.status, 200);
		assert.deepEqual(await assertSameAsDirectus(), ["another issuer's JWT: 401 INVALID_CREDENTIALS", 'no token: 403 FORBIDDEN', 'ping: 200', 'static token: 200']);
	});

	describe('database refuses connections (down), open connections cut', () => {
		run.before(async () => {
			await proxy.setMode({ kind: 'refuse' });
			proxy.cut();
		});

		test('a valid token: 503 SERVICE_UNAVAILABLE within the bound, logged with the client id', async () => {
			const clientId = freshClient();
			await assertDirectoryUnavailable(token({}, key, clientId), `${clientId}@clients`);
		});

		test('a client that may not exist: 503, not 401 (the hook cannot tell)', async () => {
			await assertDirectoryUnavailable(token({ sub: 'svc-never@clients' }), 'svc-never@clients');
		});

		test('tokens refused before any database read keep their answer: bad signature 401, missing scope 403, expired 401 TOKEN_EXPIRED', async () => {
			const forged = await send(token({}, rsaKey('key-1')));
			assert.equal(forged.status, 401);
			assert.deepEqual(forged.body, refusalBody('INVALID_CREDENTIALS'));
			const noScope = await send(token({ scope: 'write:items' }));
			assert.equal(noScope.status, 403);
			assert.deepEqual(noScope.body, refusalBody('FORBIDDEN'));
			const expired = await send(token({ exp: Math.floor(Date.now() / 1000) - 60 }));
			assert.equal(expired.status, 401);
			assert.deepEqual(expired.body, refusalBody('TOKEN_EXPIRED'));
		});

		test('requests the hook does not own get exactly what Directus without the extension answers', async () => {
			// What Directus 12.4.0 and 11.17.4 answer themselves: a 500 where it must read the database.
			assert.deepEqual(await assertSameAsDirectus(), ["another issuer's JWT: 500 INTERNAL_SERVER_ERROR", 'no token: 403 FORBIDDEN', 'ping: 200', 'static token: 500 INTERNAL_SERVER_ERROR']);
		});
	});

	describe('database reachable again', () => {
		test('the hook recovers by itself: 200', async () => {
			await proxy.setMode({ kind: 'pass' });
			assert.equal((await send(token())).status, 200);
		});
	});

	describe('database black-holed (accepts, never answers; the pool runs dry)', () => {
		run.before(async () => {
			await proxy.setMode({ kind: 'blackhole' });
		});

		test('a valid token: 503 SERVICE_UNAVAILABLE within the bound', async () => {
			const clientId = freshClient();
			await assertDirectoryUnavailable(token({}, key, clientId), `${clientId}@clients`);
		});

		test('15 concurrent valid tokens of 3 clients (more requests than the pool of 10): all 503 within the bound', async () => {
			const clients = [freshClient(), freshClient(), freshClient()];
			const responses = await Promise.all(
				Array.from({ length: 15 }, (_, index) => {
					const clientId = clients[index % 3] as string;
					return assertDirectoryUnavailable(token({}, key, clientId), `${clientId}@clients`);
				}),
			);
			assert.equal(responses.length, 15);
		});

		test('requests the hook does not own get exactly what Directus without the extension answers', async () => {
			// Directus itself waits on a pooled connection that never answers: it sets no query timeout.
			assert.deepEqual(await assertSameAsDirectus(), ["another issuer's JWT: no answer", 'no token: 403 FORBIDDEN', 'ping: 200', 'static token: no answer']);
		});
	});

	describe('database reachable again after the black hole', () => {
		test('the hook recovers by itself: 200 within a few seconds, never a 500 on the way', async () => {
			await proxy.setMode({ kind: 'pass' });
			const deadline = performance.now() + 10_000;
			const seen: Array<number | string> = [];
			for (;;) {
				const response = await send(token());
				seen.push(response.status);
				if (response.status === 200 || performance.now() > deadline) break;
				await sleep(250);
			}
			assert.equal(seen.at(-1), 200, `answers on the way: ${seen.join(', ')}`);
			assert.deepEqual(seen.filter((status) => status !== 200 && status !== 503), [], `answers on the way: ${seen.join(', ')}`);
		});
	});

	describe('database slow (every packet delayed 2 s, more than BCC_AUTH_DB_TIMEOUT)', () => {
		test('a valid token: 503 SERVICE_UNAVAILABLE within the bound; 200 again once it is fast', async () => {
			await proxy.setMode({ kind: 'delay', ms: 2000 });
			const clientId = freshClient();
			await assertDirectoryUnavailable(token({}, key, clientId), `${clientId}@clients`);
			await proxy.setMode({ kind: 'pass' });
			proxy.cut();
			const deadline = performance.now() + 10_000;
			let status: number | string = 0;
			while (status !== 200 && performance.now() < deadline) {
				status = (await send(token())).status;
				if (status !== 200) await sleep(250);
			}
			assert.equal(status, 200);
		});
	});

	describe('open connections cut while the database is up (a restart or failover)', () => {
		test('the next request is accepted: 200', async () => {
			assert.equal((await send(token())).status, 200);
			proxy.cut();
			await sleep(100);
			const response = await send(token());
			assert.equal(response.status, 200, `body ${JSON.stringify(response.body)}`);
		});
	});

	describe('the whole file', () => {
		test('every owned request was answered within the bound, never with a 500', () => {
			const worst = Math.max(...owned.map((response) => response.ms));
			assert.ok(worst < BOUND_MS, `slowest owned request ${Math.round(worst)} ms`);
			assert.deepEqual(owned.filter((response) => ![200, 401, 403, 503].includes(response.status as number)).map((response) => response.status), []);
			return Promise.resolve();
		});

		test('the Directus log holds no token, and the hook never logged an unexpected error', () => {
			assert.ok(assertNoSecretsInLog(directus.readLog(), sent) > 20);
			const unexpected = hookLines(directus.readLog()).filter((line) => line.msg.includes('unexpected error'));
			assert.deepEqual(unexpected, []);
			return Promise.resolve();
		});
	});
});
