/**
 * Hostile tokens against a real Directus (default 12.4.0) running the built
 * extension from EXTENSIONS_PATH, with a key server of the test's own as the
 * issuer and clients provisioned by the real CLI. Every case asserts the exact
 * HTTP status and Directus error code, the single log line of the refusal
 * (reason, level, kid, client id only after verification), and, for tokens
 * that fail on their header, that the key server was never asked.
 *
 * One Directus for the file (SQLite); the last tests restart it with a broken
 * configuration.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { EMPTY_ROLE, READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { REFUSAL_REASONS, type RefusalReason } from '../../extension/core/errors.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli, type CliResult } from '../support/e2e.js';
import {
	CLAIM_CASES,
	FOREIGN_CASES,
	HEADER_CASES,
	HTTP_FOR_REASON,
	PRECEDENCE_CASES,
	SIGNATURE_CASES,
	TOKEN_KIND_CASES,
	type HostileCase,
	type TokenMaker,
} from '../support/hostile-cases.js';
import { assertNoSecretsInLog, assertNothingRevealed, hookLines, LEVEL, linesForToken, type LogLine } from '../support/hook-log.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { codeOf, refusalBody, sleep, timedCall, type TimedResponse } from '../support/timed-call.js';
import { auth0Claims, ecKey, rsaKey, signToken, type TestKey } from '../support/tokens.js';

const DIRECTUS_VERSION = process.env['BCC_TEST_DIRECTUS_VERSION'] ?? '12.4.0';
const AUDIENCE = 'https://directus.hostile.test/api';
const ROUTE = '/items/articles';
/** Reasons decided on the header or structure alone: the kid is not trusted enough to be logged. */
const HEADER_PHASE = new Set<RefusalReason>(['token_malformed', 'algorithm_not_allowed', 'header_unsupported']);
/** Reasons decided after the signature and claims verified: only these may name the client in the log. */
const AFTER_VERIFICATION = new Set<RefusalReason>(['client_unknown', 'client_inactive', 'directory_unavailable']);

/** The kid of a token's header, when it is a string. */
function headerKid(token: string): string | undefined {
	try {
		const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
		return typeof header['kid'] === 'string' ? header['kid'] : undefined;
	} catch {
		return undefined;
	}
}

describe(`hostile tokens against Directus ${DIRECTUS_VERSION}`, () => {
	const run = e2eRun(`hostile-${DIRECTUS_VERSION}`);
	const { test } = run;
	let server: KeyServer;
	let directus: RunningDirectus;
	let maker: TokenMaker;
	/** Every token sent to Directus, for the final log scan. */
	const sent: string[] = [];
	/** Every response, to check that none leaks configuration or library text. */
	const responses: TimedResponse[] = [];

	const keys = {
		main: rsaKey('key-1'),
		ps: rsaKey('ps-1', { alg: 'PS256' }),
		ec: ecKey('ec-1'),
		weak: rsaKey('weak-1', { bits: 1024 }),
		ecNoAlg: ecKey('ec-noalg'),
		p384NoAlg: ecKey('p384-noalg', 'P-384'),
		encryption: rsaKey('enc-1'),
	};

	const cli = (...args: string[]): Promise<CliResult> => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
	const admin = (route: string, method = 'GET', body?: unknown): Promise<any> => adminApi(directus.url, directus.adminToken, route, method, body);

	async function send(token: string, route = ROUTE): Promise<TimedResponse> {
		sent.push(token);
		const response = await timedCall(directus.url, route, { token });
		responses.push(response);
		return response;
	}

	/** The hook's lines for a token, waiting briefly in case the log is written after the answer. */
	async function refusalLines(token: string): Promise<LogLine[]> {
		for (let attempt = 0; attempt < 20; attempt++) {
			const lines = linesForToken(directus.readLog(), token);
			if (lines.length > 0) return lines;
			await sleep(25);
		}
		return [];
	}

	/** Sends a token the hook owns and asserts the whole refusal: answer, body, log line, key fetches. */
	async function assertRefused(token: string, reason: RefusalReason, options: { keyFetches?: number; client?: string } = {}): Promise<void> {
		const requestsBefore = server.requests.length;
		const response = await send(token);
		const expected = HTTP_FOR_REASON[reason];
		assert.equal(response.status, expected.status, `status; body ${JSON.stringify(response.body)}`);
		assert.equal(codeOf(response), expected.code);
		if (expected.status !== 503) assert.deepEqual(response.body, refusalBody(expected.code));
		assertNothingRevealed(response.body, { issuer: server.issuer, audience: AUDIENCE });
		if (options.keyFetches !== undefined) {
			assert.deepEqual(server.requests.slice(requestsBefore), [], 'no key server request');
		}
		const lines = await refusalLines(token);
		assert.equal(lines.length, 1, `exactly one log line for the refusal, got ${lines.length}`);
		const [line] = lines as [LogLine];
		assert.equal(line['reason'], reason);
		assert.equal(line.level, LEVEL[REFUSAL_REASONS[reason].level], `log level of ${reason}`);
		assert.match(line.msg, new RegExp(`token refused \\(${reason}\\)`));
		if (AFTER_VERIFICATION.has(reason)) assert.equal(line['client'], options.client ?? 'svc-orders@clients');
		else assert.equal(line['client'], undefined, 'no client id before verification');
		const kid = line['kid'];
		if (kid !== undefined) {
			assert.equal(typeof kid, 'string');
			assert.ok((kid as string).length <= 256 && /^[\x20-\x7e]+$/.test(kid as string), 'kid is short printable ASCII');
			assert.equal(kid, headerKid(token), 'the kid logged is the token\'s');
		}
		if (!HEADER_PHASE.has(reason)) {
			assert.equal(kid, headerKid(token), 'a refusal after the key lookup names the kid');
		}
	}

	run.before(async () => {
		const folder = run.folder;
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		server = await startKeyServer();
		server.keys = [
			keys.main.jwk,
			keys.ps.jwk,
			keys.ec.jwk,
			keys.weak.jwk,
			{ ...keys.ecNoAlg.jwk, alg: undefined },
			{ ...keys.p384NoAlg.jwk, alg: undefined },
			{ ...keys.encryption.jwk, use: 'enc', alg: 'RSA-OAEP' },
			{ kty: 'oct', kid: 'oct-1', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', alg: 'HS256' },
		];
		maker = {
			issuer: server.issuer,
			audience: AUDIENCE,
			key: keys.main,
			now: () => Math.floor(Date.now() / 1000),
			token(overrides = {}, options = {}) {
				const payload: Record<string, unknown> = {
					...auth0Claims({ issuer: server.issuer, audience: AUDIENCE, clientId: options.clientId ?? 'svc-orders', scope: 'read:items' }),
					jti: randomUUID(),
					...overrides,
				};
				for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
				return signToken({ key: options.key ?? keys.main, payload, ...(options.header ? { header: options.header } : {}) });
			},
		};
		directus = await startDirectus({
			version: DIRECTUS_VERSION,
			dataDir: path.join(folder, 'directus'),
			extensionsPath,
			env: {
				BCC_AUTH_ISSUER: server.issuer,
				BCC_AUTH_AUDIENCE: AUDIENCE,
				BCC_AUTH_REQUIRED_SCOPES: 'read:items',
				BCC_AUTH_ALGORITHMS: 'RS256 PS256 ES256',
				BCC_AUTH_JWKS_TIMEOUT: '1',
				EXTENSIONS_MUST_LOAD: 'true',
			},
			log: () => undefined,
		});
		await seedSchema(directus.url, directus.adminToken);
		const provisioned = await cli('provision', 'svc-orders', '--role', READER_ROLE, '--json');
		assert.equal(provisioned.code, 0, provisioned.stderr);
	});

	after(async () => {
		await directus?.stop();
		await server?.stop();
		run.finish();
	});

	describe('tokens the hook does not own fall through to Directus untouched', () => {
		for (const { name, make } of FOREIGN_CASES) {
			// Directus's own answer: a token claiming iss "directus" is checked as a Directus session JWT (403
			// INVALID_TOKEN); anything else is looked up as a static token (401 INVALID_CREDENTIALS).
			const directusJwt = name.startsWith('a Directus-style JWT');
			test(`${name}: Directus's own ${directusJwt ? '403 INVALID_TOKEN' : '401 INVALID_CREDENTIALS'}, no key fetch, no log line`, async () => {
				const token = make(maker);
				const response = await send(token);
				assert.equal(response.status, directusJwt ? 403 : 401);
				assert.equal(codeOf(response), directusJwt ? 'INVALID_TOKEN' : 'INVALID_CREDENTIALS');
				assert.deepEqual(server.requests, []);
				assert.deepEqual(linesForToken(directus.readLog(), token), []);
			});
		}

		test('a token over 16 KiB: Node refuses the header before Directus (431), no key fetch', async () => {
			const token = maker.token({ pad: 'x'.repeat(17 * 1024) });
			const response = await send(token);
			assert.equal(response.status, 431);
			assert.deepEqual(server.requests, []);
		});

		test('an owned token given as an array (?access_token[]=...): not a string, so not owned; Directus refuses it', async () => {
			// Not added to `sent`: Directus's request log redacts `access_token` but not `access_token[]`, so this
			// URL is in the log in full (Directus behaviour; docs/refusals.md warns operators). The token is
			// signed by a key nobody trusts, so the log holds no usable credential.
			const token = maker.token({}, { key: rsaKey(keys.main.kid) });
			const response = await timedCall(directus.url, `${ROUTE}?access_token[]=${token}`);
			responses.push(response);
			assert.equal(response.status, 401);
			assert.equal(codeOf(response), 'INVALID_CREDENTIALS');
			assert.deepEqual(server.requests, []);
			assert.deepEqual(linesForToken(directus.readLog(), token), []);
		});
	});

	describe('refused on the header alone, before any key fetch', () => {
		for (const { name, make, reason } of HEADER_CASES) {
			const expected = HTTP_FOR_REASON[reason];
			test(`${name}: ${expected.status} ${expected.code} (${reason})`, async () => {
				await assertRefused(make(maker), reason, { keyFetches: 0 });
			});
		}

		test('the key server has not been asked anything yet', () => {
			assert.deepEqual(server.requests, []);
			return Promise.resolve();
		});
	});

	describe('a good token, to show the cases below fail for the one thing they change', () => {
		test('is accepted: 200 with the rows the reader role may read', async () => {
			const response = await send(maker.token());
			assert.equal(response.status, 200, JSON.stringify(response.body));
			assert.equal(response.body.data.length, 2);
			assert.deepEqual(server.counts, { discovery: 1, jwks: 1 });
		});

		test('a good token in ?access_token= is accepted too, and Directus redacts it in its request log', async () => {
			const token = maker.token();
			sent.push(token);
			const response = await timedCall(directus.url, `${ROUTE}?access_token=${token}`);
			assert.equal(response.status, 200);
			await sleep(50);
			assert.match(directus.readLog(), /access_token=--redacted--/);
		});

		test('PS256 and ES256 tokens under their own keys are accepted', async () => {
			assert.equal((await send(maker.token({}, { key: keys.ps }))).status, 200);
			assert.equal((await send(maker.token({}, { key: keys.ec }))).status, 200);
		});

		test('exp 3 s ago, nbf and iat 3 s ahead: inside the 5 s tolerance, accepted', async () => {
			const now = maker.now();
			assert.equal((await send(maker.token({ exp: now - 3 }))).status, 200);
			assert.equal((await send(maker.token({ nbf: now + 3, iat: now + 3 }))).status, 200);
		});

		test('an identifier of exactly 255 characters is a valid client id (then unknown: 401)', async () => {
			const sub = `${'s'.repeat(247)}@clients`;
			assert.equal(sub.length, 255);
			await assertRefused(maker.token({ sub }), 'client_unknown', { client: sub });
		});
	});

	const groups: Array<[string, readonly HostileCase[]]> = [
		['signature and key', SIGNATURE_CASES],
		['claims', CLAIM_CASES],
		['token kinds that are not machine tokens', TOKEN_KIND_CASES],
		['TOKEN_EXPIRED only after the signature and identity checks', PRECEDENCE_CASES],
	];
	for (const [group, cases] of groups) {
		describe(group, () => {
			for (const { name, make, reason } of cases) {
				const expected = HTTP_FOR_REASON[reason];
				test(`${name}: ${expected.status} ${expected.code} (${reason})`, async () => {
					await assertRefused(make(maker), reason);
				});
			}
		});
	}

	describe('keys that do not fit', () => {
		const cases: Array<[string, () => string, RefusalReason]> = [
			['an RSA key of 1024 bits', () => maker.token({}, { key: keys.weak }), 'key_unusable'],
			['PS256 under a key published for RS256', () => maker.token({}, { key: { ...keys.main, alg: 'PS256' } }), 'key_unusable'],
			['RS256 verified against an EC key', () => maker.token({}, { header: { kid: 'ec-noalg' } }), 'key_unusable'],
			['ES256 against a P-384 key', () => maker.token({}, { key: { ...keys.p384NoAlg, alg: 'ES256' } }), 'key_unusable'],
			['a token signed with a key published for encryption (use enc)', () => maker.token({}, { key: keys.encryption, header: { kid: 'enc-1' } }), 'key_unknown'],
			['RS256 naming the kid of a symmetric key in the set', () => maker.token({}, { header: { kid: 'oct-1' } }), 'key_unknown'],
			['no kid while the key set has several keys', () => maker.token({}, { header: { kid: undefined } }), 'key_unknown'],
		];
		for (const [name, make, reason] of cases) {
			test(`${name}: 401 INVALID_CREDENTIALS (${reason})`, async () => {
				await assertRefused(make(), reason);
			});
		}

		test('a hostile but printable kid is logged exactly, JSON-escaped on one line', async () => {
			const kid = `k"\\}{'<script>${'x'.repeat(200)}`;
			const token = maker.token({}, { header: { kid } });
			await assertRefused(token, 'key_unknown');
			const [line] = linesForToken(directus.readLog(), token) as [LogLine];
			assert.equal(line['kid'], kid);
		});
	});

	describe('client identifiers with hostile content (verified tokens, no such user)', () => {
		const identifiers: Array<[string, () => string]> = [
			['a client that was never provisioned', () => 'svc-never@clients'],
			['SQL in the identifier', () => "svc'; DROP TABLE directus_users;--@clients"],
			['a right-to-left override in the identifier', () => 'svc-\u202eredro@clients'],
			["the admin user's id", () => adminId],
			["the admin user's email", () => directus.adminEmail],
			['the provisioned client in another case', () => 'SVC-ORDERS@clients'],
			['the provisioned client without @clients', () => 'svc-orders'],
			['an identifier whose uuidv5 id is taken by a user with another external_identifier', () => 'svc-collide@clients'],
			['an identifier stored as external_identifier of a user whose id is not its uuidv5', () => 'svc-extonly@clients'],
		];
		let adminId = '';
		run.before(async () => {
			adminId = (await admin('/users/me?fields=id')).id;
			await admin('/users', 'POST', { id: userIdForIdentifier('svc-collide@clients'), external_identifier: 'someone-else@clients', status: 'active', role: (await readerRoleId()) });
			await admin('/users', 'POST', { external_identifier: 'svc-extonly@clients', status: 'active', role: await readerRoleId() });
		});
		for (const [name, sub] of identifiers) {
			test(`${name}: 401 INVALID_CREDENTIALS (client_unknown)`, async () => {
				await assertRefused(maker.token({ sub: sub() }), 'client_unknown', { client: sub() });
			});
		}
		test('Directus still has its users table after the SQL-looking identifier', async () => {
			const users = await admin('/users?fields=id&limit=-1');
			assert.ok(users.length >= 3);
		});
	});

	async function readerRoleId(): Promise<string> {
		const roles = await admin(`/roles?filter[name][_eq]=${encodeURIComponent(READER_ROLE)}&fields=id`);
		return roles[0].id;
	}

	describe('state of the provisioned user', () => {
		const provision = async (clientId: string, role = READER_ROLE, ...extra: string[]) => {
			const result = await cli('provision', clientId, '--role', role, '--json', ...extra);
			assert.equal(result.code, 0, result.stderr);
			return JSON.parse(result.stdout) as { userId: string; role: { id: string } };
		};
		const tokenFor = (clientId: string) => maker.token({}, { clientId });

		test('suspended with `bcc-cc revoke`: 401 INVALID_CREDENTIALS (client_inactive); provision lets it back in', async () => {
			await provision('svc-suspend');
			assert.equal((await send(tokenFor('svc-suspend'))).status, 200);
			const revoked = await cli('revoke', 'svc-suspend');
			assert.equal(revoked.code, 0, revoked.stderr);
			await assertRefused(tokenFor('svc-suspend'), 'client_inactive', { client: 'svc-suspend@clients' });
			await provision('svc-suspend');
			assert.equal((await send(tokenFor('svc-suspend'))).status, 200);
		});

		for (const status of ['draft', 'invited', 'unverified', 'archived']) {
			test(`status ${status}: 401 INVALID_CREDENTIALS (client_inactive)`, async () => {
				const { userId } = await provisionOnce(`svc-${status}`);
				await admin(`/users/${userId}`, 'PATCH', { status });
				await assertRefused(tokenFor(`svc-${status}`), 'client_inactive', { client: `svc-${status}@clients` });
			});
		}

		test('deleted with `bcc-cc revoke --delete`: 401 INVALID_CREDENTIALS (client_unknown)', async () => {
			await provision('svc-delete');
			assert.equal((await send(tokenFor('svc-delete'))).status, 200);
			assert.equal((await cli('revoke', 'svc-delete', '--delete')).code, 0);
			await assertRefused(tokenFor('svc-delete'), 'client_unknown', { client: 'svc-delete@clients' });
		});

		test('role changed to one without permissions: authenticated, and Directus answers 403 FORBIDDEN', async () => {
			await provision('svc-rolechange');
			assert.equal((await send(tokenFor('svc-rolechange'))).status, 200);
			await provision('svc-rolechange', EMPTY_ROLE);
			const response = await send(tokenFor('svc-rolechange'));
			assert.equal(response.status, 403);
			assert.equal(codeOf(response), 'FORBIDDEN');
			assert.deepEqual(linesForToken(directus.readLog(), sent.at(-1) as string).map((line) => line['reason']), [], 'not a refusal of the hook');
		});

		test('role removed (role null, still active): exactly what a static token of the same user gets', async () => {
			const { userId } = await provision('svc-noroleuser');
			const staticToken = `static-noroleuser-${randomUUID()}`;
			await admin(`/users/${userId}`, 'PATCH', { role: null, token: staticToken });
			const token = tokenFor('svc-noroleuser');
			for (const route of [ROUTE, '/users/me?fields=id,role', '/permissions/me']) {
				const [viaClient, viaStatic] = await Promise.all([send(token, route), timedCall(directus.url, route, { token: staticToken })]);
				assert.equal(viaClient.status, viaStatic.status, `${route}: status`);
				assert.deepEqual(viaClient.body, viaStatic.body, `${route}: body`);
			}
			const articles = await send(token);
			assert.equal(articles.status, 403);
			assert.equal(codeOf(articles), 'FORBIDDEN');
			const me = await send(token, '/users/me?fields=id,role');
			assert.deepEqual(me.body.data, { id: userId }, 'its own id, and no permission to read its role');
		});

		test('role deleted: Directus suspends its users, so the client gets 401 INVALID_CREDENTIALS (client_inactive)', async () => {
			const { userId, role } = await provision('svc-roledeleted', 'Doomed machine role', '--create-role');
			assert.equal((await send(tokenFor('svc-roledeleted'), '/users/me?fields=id')).status, 200);
			await admin(`/roles/${role.id}`, 'DELETE');
			const user = await admin(`/users/${userId}?fields=status,role`);
			assert.deepEqual(user, { status: 'suspended', role: null }, 'what Directus does to the users of a deleted role');
			await assertRefused(tokenFor('svc-roledeleted'), 'client_inactive', { client: 'svc-roledeleted@clients' });
		});

		async function provisionOnce(clientId: string) {
			return provision(clientId);
		}
	});

	describe('operator view', () => {
		test('every refusal in this file was logged exactly once, and no accepted token was logged as refused', () => {
			const refusals = hookLines(directus.readLog()).filter((line) => line.msg.includes('token refused'));
			const perToken = new Map<unknown, number>();
			for (const line of refusals) perToken.set(line['token'], (perToken.get(line['token']) ?? 0) + 1);
			const repeated = [...perToken].filter(([, count]) => count > 1);
			assert.deepEqual(repeated, [], 'a token refused once is logged once');
			assert.ok(refusals.length >= 100, `expected the refusals of this file in the log, found ${refusals.length}`);
			for (const line of refusals) assert.ok(line['reason'] as string in REFUSAL_REASONS, `reason ${String(line['reason'])} is in the fixed list`);
			return Promise.resolve();
		});

		test('no error body repeated the issuer, the audience or a library message', () => {
			assert.ok(responses.length > 100);
			for (const response of responses) {
				if (typeof response.status === 'number' && response.status >= 400) assertNothingRevealed(response.body, { issuer: server.issuer, audience: AUDIENCE });
			}
			return Promise.resolve();
		});
	});

	describe('a bad configuration', () => {
		test('without BCC_AUTH_AUDIENCE and without EXTENSIONS_MUST_LOAD: Directus starts, logs the variable, and refuses the issuer\'s tokens (fail closed)', async () => {
			const token = maker.token();
			assert.equal((await send(token)).status, 200, 'accepted while configured');
			delete directus.env['BCC_AUTH_AUDIENCE'];
			delete directus.env['EXTENSIONS_MUST_LOAD'];
			const logBefore = directus.readLog().length;
			await directus.restart();
			const log = directus.readLog().slice(logBefore);
			const errors = hookLines(log).filter((line) => line.level >= LEVEL.error);
			assert.equal(errors.length, 1, 'one error line from the hook');
			assert.match((errors[0] as LogLine).msg, /BCC_AUTH_AUDIENCE: is required/);
			const fetchesBefore = server.requests.length;
			const refused = await send(token);
			assert.equal(refused.status, 401);
			assert.equal(codeOf(refused), 'INVALID_CREDENTIALS');
			assert.equal(server.requests.length, fetchesBefore, 'no key fetch: the hook is not running');
		});

		test('the same with EXTENSIONS_MUST_LOAD=true: Directus refuses to start, naming the variable', async () => {
			directus.env['EXTENSIONS_MUST_LOAD'] = 'true';
			const logBefore = directus.readLog().length;
			await assert.rejects(directus.restart(), /exited during start/);
			const log = directus.readLog().slice(logBefore);
			assert.match(log, /BCC_AUTH_AUDIENCE: is required/);
			assert.match(log, /an extension failed to load/);
			assert.doesNotMatch(log, /Server started at/);
		});

		test('the whole Directus log of this file holds no token, signature or Authorization header', () => {
			const checked = assertNoSecretsInLog(directus.readLog(), sent);
			assert.ok(checked >= 150, `checked ${checked} tokens`);
			return Promise.resolve();
		});
	});
});
