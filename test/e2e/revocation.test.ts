import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, describe } from 'node:test';
import { api } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { e2eRun, runCli } from '../support/e2e.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';

const VERSION = '12.4.0';
const AUDIENCE = 'https://directus.e2e.test/api';
const CLIENT_SECRET = 'e2e-client-secret-0123456789';
const CLIENT = 'svc-fleet';
/** Long enough that only a cross-instance message, not the cache expiry, can explain a refusal within a second. */
const TTL_SECONDS = 60;
/** The second instance's expiry once its Redis is gone. */
const FALLBACK_TTL_SECONDS = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Several Directus instances of one deployment: two processes on one
 * PostgreSQL database and one Redis (a redis-server of the test's own, so that
 * it can be stopped). A revocation made through one instance reaches the
 * other through Redis publish/subscribe within a second, although the other's
 * cache would keep the answer for a minute.
 */
describe(`revocation across two Directus ${VERSION} instances`, () => {
	const run = e2eRun('revocation');
	const { test } = run;
	let redis: TestRedis;
	let oauth: RunningOAuthServer;
	let first: RunningDirectus;
	let second: RunningDirectus;
	let token: string;
	let hookRedis: TestRedis | undefined;

	const cliAgainst = (directus: RunningDirectus, ...args: string[]) => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
	const status = async (directus: RunningDirectus) => (await api(directus.url, '/items/articles', { token })).status;
	const fallbackLines = () => (second.readLog().match(/client-credentials: Redis at 127\.0\.0\.1:\d+ is unreachable/g) ?? []).length;
	/** Polls until the instance answers `expected`; returns the milliseconds it took. */
	const until = async (directus: RunningDirectus, expected: number, timeoutMs: number): Promise<number> => {
		const started = performance.now();
		for (;;) {
			const got = await status(directus);
			const elapsed = performance.now() - started;
			if (got === expected) return elapsed;
			if (elapsed > timeoutMs) assert.fail(`${directus.url} still answered ${got} after ${Math.round(elapsed)} ms (expected ${expected})`);
			await sleep(10);
		}
	};

	run.before(async () => {
		const folder = run.folder;
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		redis = await startTestRedis();
		oauth = await startOAuthServer({ audience: AUDIENCE, scopes: ['read:items'], clients: [{ clientId: `${CLIENT}@clients`, clientSecret: CLIENT_SECRET }] });
		const common = {
			version: VERSION,
			extensionsPath,
			redis: redis.url,
			secret: randomBytes(32).toString('hex'),
			log: () => undefined,
		};
		const env = (ttlSeconds: number) => ({
			BCC_AUTH_ISSUER: oauth.issuer,
			BCC_AUTH_AUDIENCE: AUDIENCE,
			BCC_AUTH_REQUIRED_SCOPES: 'read:items',
			BCC_AUTH_CACHE_TTL: String(ttlSeconds),
			EXTENSIONS_MUST_LOAD: 'true',
		});
		first = await startDirectus({ ...common, dataDir: path.join(folder, 'first'), database: { client: 'pg' }, env: env(TTL_SECONDS) });
		const database = first.database.client === 'pg' ? first.database.database : assert.fail('expected PostgreSQL');
		const [secondInstance] = await Promise.all([
			startDirectus({
				...common,
				dataDir: path.join(folder, 'second'),
				database: { client: 'pg', database },
				skipBootstrap: true,
				adminToken: first.adminToken,
				logFile: path.join(folder, 'second.log'),
				env: env(TTL_SECONDS),
			}),
			seedSchema(first.url, first.adminToken),
		]);
		second = secondInstance;
		const provisioned = await cliAgainst(first, 'provision', CLIENT, '--role', READER_ROLE, '--json');
		assert.equal(provisioned.code, 0, provisioned.stderr);
		token = await oauth.getToken(`${CLIENT}@clients`, CLIENT_SECRET);
	});

	after(async () => {
		await second?.stop();
		await first?.stop();
		await oauth?.stop();
		await redis?.stop();
		await hookRedis?.stop();
		run.finish();
	});

	test('both instances listen on Redis for changes made on the other', async () => {
		for (const directus of [first, second]) {
			assert.match(directus.readLog(), /client-credentials: listening on Redis 127\.0\.0\.1:\d+ for changes made on other instances/);
		}
	});

	test('a client authenticates on both instances', async () => {
		for (let round = 0; round < 3; round++) {
			assert.equal(await status(first), 200);
			assert.equal(await status(second), 200);
		}
	});

	test('bcc-cc revoke against the first: the first refuses at once, the second within one second', async () => {
		assert.equal(await status(second), 200, 'the second instance has the client cached');
		const revoked = await cliAgainst(first, 'revoke', CLIENT, '--json');
		assert.equal(revoked.code, 0, revoked.stderr);
		assert.equal(JSON.parse(revoked.stdout).action, 'suspended');
		const [onFirst, onSecond] = await Promise.all([until(first, 401, 1000), until(second, 401, 1000)]);
		console.log(`revocation took ${onFirst.toFixed(0)} ms on the first instance, ${onSecond.toFixed(0)} ms on the second (its cache TTL: ${TTL_SECONDS} s)`);
		assert.ok(onSecond < 1000, `the second instance took ${onSecond} ms`);
	});

	test('provision through the second lets the client back in on both at once (refusals are never cached)', async () => {
		const again = await cliAgainst(second, 'provision', CLIENT, '--role', READER_ROLE);
		assert.equal(again.code, 0, again.stderr);
		assert.equal(await status(second), 200);
		assert.equal(await status(first), 200);
	});

	test('with its Redis stopped the hook keeps working, logs the fallback once, and falls back to its own expiry', async () => {
		// Directus 12.4.0 itself exits ~10 s after ITS Redis goes away (an unhandled MaxRetriesPerRequestError),
		// so the hook of the second instance gets a Redis of its own (BCC_AUTH_REDIS) that the test stops,
		// and a short cache expiry: without messages, that expiry is what bounds a revocation.
		hookRedis = await startTestRedis();
		second.env['BCC_AUTH_REDIS'] = hookRedis.url;
		second.env['BCC_AUTH_CACHE_TTL'] = String(FALLBACK_TTL_SECONDS);
		await second.restart();
		const listening = new RegExp(`client-credentials: listening on Redis 127\\.0\\.0\\.1:${hookRedis.port} `);
		for (const started = Date.now(); !listening.test(second.readLog()); await sleep(20)) {
			if (Date.now() - started > 3000) assert.fail('the restarted instance does not listen on its own Redis');
		}
		assert.equal(await status(second), 200);

		await hookRedis.stop();
		const deadline = Date.now() + 5000;
		while (fallbackLines() === 0) {
			if (Date.now() > deadline) assert.fail('no fallback line in the log 5 s after Redis stopped');
			await sleep(20);
		}
		for (let round = 0; round < 5; round++) assert.equal(await status(second), 200, 'the hook still accepts the client');

		// A change made through the first instance reaches the second only through the second's expiry now.
		const revoked = await cliAgainst(first, 'revoke', CLIENT);
		assert.equal(revoked.code, 0, revoked.stderr);
		assert.equal(await status(first), 401);
		const onSecond = await until(second, 401, FALLBACK_TTL_SECONDS * 1000 + 1000);
		console.log(`with its Redis stopped the second instance refused the client after ${onSecond.toFixed(0)} ms (its cache TTL: ${FALLBACK_TTL_SECONDS} s)`);

		await sleep(1500); // reconnection attempts go on meanwhile
		assert.equal(fallbackLines(), 1, 'the fallback is logged once');
		assert.match(second.readLog(), /is unreachable \([^)]*\); the hook keeps working, and changes made on other instances take effect here within 2 s \(BCC_AUTH_CACHE_TTL\)/);
	});
});
