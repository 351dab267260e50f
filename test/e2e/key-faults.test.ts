/**
 * Key server faults against a real Directus (default 12.4.0) with the built
 * extension: the key server is down when Directus starts, hangs, trickles,
 * answers HTML, errors or odd key sets, rotates its keys and receives a flood
 * of random kids. Owned requests are answered within a bounded time with the
 * exact status and code; nothing hangs, nothing is a 500, nothing falls
 * through. Requests the hook does not own are not slowed by any of it.
 *
 * Small deadlines keep it fast: JWKS timeout 0.5 s, cooldown 1 s (the failure
 * backoff is a fixed 1 s). The stale window is proven after a restart with a
 * key max age and stale window of 2 s each.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, describe } from 'node:test';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { e2eRun, runCli } from '../support/e2e.js';
import { assertNoSecretsInLog, hookLines, LEVEL, linesForToken, type LogLine } from '../support/hook-log.js';
import { startKeyServer, type KeyServer, type KeyServerMode } from '../support/key-server.js';
import { codeOf, sleep, timedCall, unavailableBody, type TimedResponse } from '../support/timed-call.js';
import { auth0Claims, rsaKey, signToken, type TestKey } from '../support/tokens.js';

const DIRECTUS_VERSION = process.env['BCC_TEST_DIRECTUS_VERSION'] ?? '12.4.0';
const AUDIENCE = 'https://directus.faults.test/api';
const ROUTE = '/items/articles';
/** JWKS deadline, cooldown and the verifier's fixed failure backoff, in ms. */
const TIMEOUT_MS = 500;
const COOLDOWN_MS = 1000;
const BACKOFF_MS = 1000;
/** An owned request must be answered within this, whatever the key server does. */
const BOUND_MS = 3000;

const KEYS_UNAVAILABLE_BODY = unavailableBody('Signing keys could not be fetched');

describe(`key server faults against Directus ${DIRECTUS_VERSION}`, () => {
	const run = e2eRun(`key-faults-${DIRECTUS_VERSION}`);
	const { test } = run;
	let server: KeyServer;
	let directus: RunningDirectus;
	const sent: string[] = [];
	const owned: TimedResponse[] = [];
	const main = rsaKey('key-1');

	const token = (key: TestKey = main, header: Record<string, unknown> = {}): string =>
		signToken({
			key,
			payload: { ...auth0Claims({ issuer: server.issuer, audience: AUDIENCE, clientId: 'svc-orders', scope: 'read:items' }), jti: randomUUID() },
			header,
		});

	/** An owned request; every one is recorded to check the time bound. */
	async function send(value: string): Promise<TimedResponse> {
		sent.push(value);
		const response = await timedCall(directus.url, ROUTE, { token: value, deadlineMs: 10_000 });
		owned.push(response);
		return response;
	}

	async function assertUnavailable(value: string): Promise<TimedResponse> {
		const response = await send(value);
		lastUnavailableAt = performance.now();
		assert.equal(response.status, 503, `status; body ${JSON.stringify(response.body)}`);
		assert.deepEqual(response.body, KEYS_UNAVAILABLE_BODY);
		assert.ok(response.ms < BOUND_MS, `answered in ${Math.round(response.ms)} ms`);
		const lines = linesForToken(directus.readLog(), value);
		assert.equal(lines.length, 1, 'one log line for the refusal');
		assert.equal((lines[0] as LogLine)['reason'], 'keys_unavailable');
		assert.equal((lines[0] as LogLine).level, LEVEL.error);
		return response;
	}

	async function assertStatus(value: string, status: number, code?: string): Promise<TimedResponse> {
		const response = await send(value);
		assert.equal(response.status, status, `status; body ${JSON.stringify(response.body)}`);
		if (code !== undefined) assert.equal(codeOf(response), code);
		return response;
	}

	/**
	 * Waits out the cooldown (from the latest fetch) and the failure backoff (from the latest failure, i.e.
	 * the latest 503), so that the next unknown kid causes a fetch.
	 */
	let lastUnavailableAt = Number.NEGATIVE_INFINITY;
	const settle = () => sleep(Math.max(0, server.lastRequestAt + COOLDOWN_MS + 100 - performance.now(), lastUnavailableAt + BACKOFF_MS + 100 - performance.now()));

	run.before(async () => {
		const folder = run.folder;
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		server = await startKeyServer();
		server.keys = [main.jwk];
		await server.down();
		directus = await startDirectus({
			version: DIRECTUS_VERSION,
			dataDir: path.join(folder, 'directus'),
			extensionsPath,
			env: {
				BCC_AUTH_ISSUER: server.issuer,
				BCC_AUTH_AUDIENCE: AUDIENCE,
				BCC_AUTH_REQUIRED_SCOPES: 'read:items',
				BCC_AUTH_JWKS_TIMEOUT: String(TIMEOUT_MS / 1000),
				BCC_AUTH_JWKS_COOLDOWN: String(COOLDOWN_MS / 1000),
				EXTENSIONS_MUST_LOAD: 'true',
			},
			log: () => undefined,
		});
		await seedSchema(directus.url, directus.adminToken);
		const provisioned = await runCli(['provision', 'svc-orders', '--role', READER_ROLE], { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
		assert.equal(provisioned.code, 0, provisioned.stderr);
	});

	after(async () => {
		await directus?.stop();
		await server?.stop();
		run.finish();
	});

	describe('the key server is unreachable from the start', () => {
		test('Directus started while the key server was down (port closed), and never asked it', async () => {
			assert.equal((await timedCall(directus.url, '/server/ping')).status, 200);
			assert.deepEqual(server.requests, []);
		});

		test('port closed: 503 SERVICE_UNAVAILABLE at once', async () => {
			const response = await assertUnavailable(token());
			assert.ok(response.ms < 500, `answered in ${Math.round(response.ms)} ms`);
		});

		test('during the 1 s failure backoff the next request fails fast without trying again', async () => {
			await server.up();
			const response = await assertUnavailable(token());
			assert.ok(response.ms < 500);
			assert.deepEqual(server.requests, [], 'no request inside the backoff');
		});

		test('discovery hangs: 10 concurrent requests all get 503 within the deadline, with one discovery request', async () => {
			await settle();
			server.mode = { kind: 'hang' };
			const responses = await Promise.all(Array.from({ length: 10 }, () => assertUnavailable(token())));
			for (const response of responses) assert.ok(response.ms >= TIMEOUT_MS - 100, 'waited for the deadline');
			assert.deepEqual(server.requests, ['/.well-known/openid-configuration']);
		});

		test('while the key server hangs, requests the hook does not own are answered as usual', async () => {
			const [anonymous, staticToken] = await Promise.all([
				timedCall(directus.url, ROUTE),
				timedCall(directus.url, '/users/me?fields=email', { token: directus.adminToken }),
			]);
			assert.equal(anonymous.status, 403);
			assert.equal(staticToken.status, 200);
			assert.ok(Math.max(anonymous.ms, staticToken.ms) < 500);
		});

		const startupFaults: Array<[string, KeyServerMode, Partial<Pick<KeyServer, 'discoveryOverrides'>>]> = [
			['discovery answers HTML', { kind: 'html' }, {}],
			['discovery answers 500', { kind: 'status', status: 500 }, {}],
			['discovery names another issuer', { kind: 'ok' }, { discoveryOverrides: { issuer: 'https://evil.example.com/' } }],
			['discovery points jwks_uri at plain http on another host', { kind: 'ok' }, { discoveryOverrides: { jwks_uri: 'http://keys.example.com/jwks.json' } }],
		];
		for (const [name, mode, overrides] of startupFaults) {
			test(`${name}: 503 SERVICE_UNAVAILABLE within the bound, no key set fetched`, async () => {
				await settle();
				server.mode = mode;
				server.discoveryOverrides = overrides.discoveryOverrides ?? {};
				await assertUnavailable(token());
				assert.equal(server.counts.jwks, 0);
			});
		}

		test('the key server comes back: the hook recovers by itself (200)', async () => {
			server.mode = { kind: 'ok' };
			server.discoveryOverrides = {};
			await settle();
			await assertStatus(token(), 200);
			assert.equal(server.counts.jwks, 1);
		});
	});

	describe('faults while keys are cached: a new kid needs a fetch, the cached kid keeps working', () => {
		const faults: Array<[string, KeyServerMode | 'down']> = [
			['the connection is reset', { kind: 'refuse' }],
			['the key server hangs', { kind: 'hang' }],
			['the key server trickles bytes', { kind: 'trickle', intervalMs: 100 }],
			['the key server answers HTML', { kind: 'html' }],
			['the key server answers 404', { kind: 'status', status: 404 }],
			['the key server answers 500', { kind: 'status', status: 500 }],
			['an empty key set', { kind: 'body', body: '{"keys":[]}' }],
			['keys that is not an array', { kind: 'body', body: '{"keys":{"kid":"key-1"}}' }],
			['only symmetric keys', { kind: 'body', body: '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"new"}]}' }],
			['an RSA key without its modulus', { kind: 'body', body: '{"keys":[{"kty":"RSA","kid":"new","e":"AQAB"}]}' }],
			['a 1 MB document', { kind: 'body', body: `{"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}` }],
			// 401, JSON null and a wrong content type behave like 404, "not an array" and HTML: test/unit/keys.test.ts.
		];
		let index = 0;
		for (const [name, mode] of faults) {
			test(`${name}: a new kid gets 503 within the bound after one attempt; the cached kid still gets 200`, async () => {
				await settle();
				const fresh = rsaKey(`new-${++index}`);
				server.keys = [main.jwk, fresh.jwk];
				if (mode === 'down') await server.down();
				else server.mode = mode;
				const before = server.counts.jwks;
				await assertUnavailable(token(fresh));
				if (mode !== 'down') assert.equal(server.counts.jwks - before, 1, 'one fetch attempt');
				const cached = await assertStatus(token(), 200);
				assert.ok(cached.ms < 500, 'the cached key needs no fetch');
				if (mode === 'down') await server.up();
				server.mode = { kind: 'ok' };
			});
		}
	});

	const next = rsaKey('key-2');

	describe('rotation', () => {

		test('a new kid is picked up on first use; 20 concurrent requests with it cause one fetch', async () => {
			await settle();
			server.keys = [main.jwk, next.jwk];
			server.mode = { kind: 'slow', delayMs: 300 };
			const before = server.counts.jwks;
			const responses = await Promise.all(Array.from({ length: 20 }, () => send(token(next))));
			assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([200]));
			assert.equal(server.counts.jwks - before, 1);
			server.mode = { kind: 'ok' };
		});

		test('the old kid disappears from the key set: refused (401 INVALID_CREDENTIALS) once a refresh dropped it', async () => {
			server.keys = [next.jwk];
			await settle();
			await assertStatus(token(rsaKey('unknown'), { kid: 'not-published' }), 401, 'INVALID_CREDENTIALS');
			const old = token();
			await assertStatus(old, 401, 'INVALID_CREDENTIALS');
			assert.equal((linesForToken(directus.readLog(), old)[0] as LogLine)['reason'], 'key_unknown');
			await assertStatus(token(next), 200);
		});
	});

	describe('a flood of random kids', () => {
		test('600 requests over 2.5 s cause at most one fetch per cooldown, and a genuinely new kid is accepted within the cooldown', async () => {
			await settle();
			const genuine = rsaKey('key-3');
			// The random kids are signed by one throwaway key: the signature never matters, the kid does.
			const throwaway = rsaKey('flood');
			const before = server.counts.jwks;
			const started = performance.now();
			const statuses = new Map<unknown, number>();
			let genuineResponse: TimedResponse | undefined;
			const worker = async () => {
				while (performance.now() - started < 2500) {
					const response = await send(token(throwaway, { kid: randomUUID() }));
					statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
				}
			};
			const genuineClient = async () => {
				await sleep(200);
				server.keys = [next.jwk, genuine.jwk];
				await sleep(COOLDOWN_MS + 100);
				genuineResponse = await send(token(genuine));
			};
			await Promise.all([...Array.from({ length: 20 }, worker), genuineClient()]);
			const elapsed = performance.now() - started;
			const fetches = server.counts.jwks - before;
			assert.deepEqual([...statuses.keys()], [401], `every random kid refused: ${JSON.stringify([...statuses])}`);
			assert.ok((statuses.get(401) ?? 0) >= 200, `a real flood (${statuses.get(401)} requests)`);
			assert.ok(fetches <= Math.ceil(elapsed / COOLDOWN_MS) + 1, `${fetches} fetches in ${Math.round(elapsed)} ms`);
			assert.equal(genuineResponse?.status, 200, 'the genuine new kid was accepted during the flood');
		});
	});

	describe('the time bound and the log', () => {
		test('every owned request of this file was answered within the bound, never with a 500', () => {
			assert.ok(owned.length > 600);
			const worst = Math.max(...owned.map((response) => response.ms));
			assert.ok(worst < BOUND_MS, `slowest owned request ${Math.round(worst)} ms`);
			const statuses = new Set(owned.map((response) => response.status));
			assert.deepEqual([...statuses].filter((status) => ![200, 401, 503].includes(status as number)), []);
			return Promise.resolve();
		});

		test('failed fetches are warnings naming the URL; each keys_unavailable refusal says what was wrong', () => {
			const lines = hookLines(directus.readLog());
			const failures = lines.filter((line) => line.msg.includes('could not fetch'));
			// One per failed request (down, hang, HTML, 500 at discovery; 6 faults of the key set itself).
			// Odd key sets and a discovery document naming another issuer are answered, so they are not among these.
			assert.ok(failures.length >= 10, `${failures.length} fetch failures logged`);
			const origin = new URL(server.issuer).origin;
			for (const line of failures) {
				assert.equal(line.level, LEVEL.warn);
				assert.ok(line.msg.includes(`could not fetch ${origin}/.well-known/`), line.msg);
			}
			const refusals = lines.filter((line) => line['reason'] === 'keys_unavailable');
			assert.ok(refusals.length >= 20);
			for (const line of refusals) assert.ok(typeof line['detail'] === 'string' && (line['detail'] as string).length > 0);
			return Promise.resolve();
		});
	});

	describe('the stale window (restart with BCC_AUTH_JWKS_MAX_AGE=2, BCC_AUTH_JWKS_STALE_MAX_AGE=2)', () => {
		const MAX_AGE_MS = 2000;
		const STALE_MS = 2000;
		let fetchedAt = 0;
		const key = rsaKey('key-stale');

		test('after a restart without discovery, the key set is found at /.well-known/jwks.json', async () => {
			directus.env['BCC_AUTH_JWKS_MAX_AGE'] = String(MAX_AGE_MS / 1000);
			directus.env['BCC_AUTH_JWKS_STALE_MAX_AGE'] = String(STALE_MS / 1000);
			await directus.restart();
			server.keys = [key.jwk];
			server.discovery = false;
			const before = { ...server.counts };
			fetchedAt = performance.now();
			await assertStatus(token(key), 200);
			assert.deepEqual({ discovery: server.counts.discovery - before.discovery, jwks: server.counts.jwks - before.jwks }, { discovery: 1, jwks: 1 });
		});

		test('the key server goes down: past max age, the cached keys keep serving (200) and a warning says so', async () => {
			await server.down();
			await sleep(Math.max(0, fetchedAt + MAX_AGE_MS + 200 - performance.now()));
			await assertStatus(token(key), 200);
			const stale = hookLines(directus.readLog()).filter((line) => line.msg.includes('key server unreachable; using keys fetched'));
			assert.ok(stale.length >= 1);
			assert.equal((stale.at(-1) as LogLine).level, LEVEL.warn);
		});

		test('a kid that is not cached, while the key server is down: 503 SERVICE_UNAVAILABLE (it may be a genuine new key)', async () => {
			await assertUnavailable(token(rsaKey('key-rotated-during-outage')));
		});

		test('past max age + stale window: 503 SERVICE_UNAVAILABLE', async () => {
			await sleep(Math.max(0, fetchedAt + MAX_AGE_MS + STALE_MS + 200 - performance.now()));
			await assertUnavailable(token(key));
		});

		test('the key server returns: accepted again without a restart', async () => {
			await server.up();
			await settle();
			await assertStatus(token(key), 200);
		});

		test('the whole Directus log of this file holds no token, signature or Authorization header', () => {
			assert.ok(assertNoSecretsInLog(directus.readLog(), sent) > 600);
			return Promise.resolve();
		});
	});
});
