/**
 * The product end to end, on one Directus version and database: the built
 * extension loaded from EXTENSIONS_PATH of a real Directus, tokens from a real
 * OAuth2 server's token endpoint, clients provisioned with the real CLI, over
 * REST, GraphQL and WebSocket (REST and GraphQL subscriptions).
 *
 * `hook.test.ts` runs this suite over the version x database matrix: the full
 * suite on some cells, the smoke subset on the others (see
 * docs/compatibility.md for the plan and its timings).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi, api, errorCode } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { SETTLE_MS } from '../../extension/client-directory.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli, type CliResult } from '../support/e2e.js';
import { base64url, rsaKey, signToken, signWith } from '../support/tokens.js';
import { GRAPHQL_WS_PROTOCOL, openSocket, type RecordedSocket } from '../support/websocket.js';

export type Level = 'full' | 'smoke';
export type DatabaseClient = 'sqlite3' | 'pg';
/** WEBSOCKETS_REST_AUTH and WEBSOCKETS_GRAPHQL_AUTH. */
export type WebSocketAuthMode = 'handshake' | 'strict';

export interface HookTarget {
	version: string;
	database: DatabaseClient;
	level: Level;
	websocketAuth: WebSocketAuthMode;
}

const AUDIENCE = 'https://directus.e2e.test/api';
const SECRET = 'e2e-client-secret-0123456789';
/** Lifetime of the short-lived tokens of the expiry tests. */
const SHORT_TTL_SECONDS = 4;
/** WEBSOCKETS_*_AUTH_TIMEOUT: how long Directus waits for an `auth` message (default 10). */
const WS_AUTH_TIMEOUT_SECONDS = 2;
/** ACCESS_TOKEN_TTL of Directus's own login tokens, short so that they can be compared with ours at expiry. */
const DIRECTUS_TOKEN_TTL = '4s';
/** How late (ms) Directus's expiry timers may fire on a loaded machine. */
const EXPIRY_SLACK_MS = 2500;
/** Upper bound for one WebSocket answer. */
const WS_ANSWER_MS = 5000;
/** How long a connection that lost its rights is watched for an event it must not get. */
const NO_EVENT_MS = 2000;

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const DATABASE_NAMES: Record<DatabaseClient, string> = { sqlite3: 'SQLite', pg: 'PostgreSQL' };
/** BCC_TEST_VERBOSE=1 prints the harness's progress (install, bootstrap and start times). */
const progress = (line: string): void => {
	if (process.env['BCC_TEST_VERBOSE']) console.log(`  [e2e] ${line}`);
};

export function targetLabel(target: HookTarget): string {
	return `Directus ${target.version} on ${DATABASE_NAMES[target.database]} (${target.level}, WebSocket auth ${target.websocketAuth})`;
}

export function describeHookSuite(target: HookTarget): void {
	const { version, level, websocketAuth } = target;
	const handshake = websocketAuth === 'handshake';

	describe(`client-credentials tokens against ${targetLabel(target)}`, () => {
		const run = e2eRun(`hook-${version}-${target.database}`);
		let oauth: RunningOAuthServer;
		let directus: RunningDirectus;
		let wsUrl: string;
		let readerRoleId: string;
		const tokensSeen: string[] = [];
		const sockets: RecordedSocket[] = [];
		/** Clients whose next token is short-lived (SHORT_TTL_SECONDS). */
		const shortLived = new Set<string>();

		const cli = (...args: string[]): Promise<CliResult> => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
		const tokenFor = async (clientId: string): Promise<string> => {
			const token = await oauth.getToken(`${clientId}@clients`, SECRET);
			tokensSeen.push(token);
			return token;
		};
		const shortTokenFor = async (clientId: string): Promise<{ token: string; exp: number }> => {
			shortLived.add(`${clientId}@clients`);
			try {
				const token = await tokenFor(clientId);
				const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')).exp as number;
				return { token, exp };
			} finally {
				shortLived.delete(`${clientId}@clients`);
			}
		};
		const call = (route: string, token?: string, init: { method?: string; body?: unknown } = {}) =>
			api(directus.url, route, { ...(token !== undefined ? { token } : {}), ...init });
		const socket = (route: string, options: { token?: string; graphql?: boolean } = {}): RecordedSocket => {
			const query = options.token === undefined ? '' : `?access_token=${encodeURIComponent(options.token)}`;
			const opened = openSocket(`${wsUrl}${route}${query}`, options.graphql ? { protocol: GRAPHQL_WS_PROTOCOL } : {});
			sockets.push(opened);
			return opened;
		};
		/** Creates an article as the admin; subscriptions of readers see it. */
		const createArticle = async (title: string): Promise<number> => (await adminApi(directus.url, directus.adminToken, '/items/articles', 'POST', { title })).id;

		run.before(async () => {
			const started = performance.now();
			const folder = run.folder;
			const extensionsPath = path.join(folder, 'extensions');
			installBuiltExtension(extensionsPath);
			const clients = ['svc-orders', 'svc-admin', 'svc-unknown', 'svc-noscope', 'svc-expired', 'svc-wrongaud', 'svc-ws', 'svc-short', 'svc-role-deleted'];
			oauth = await startOAuthServer({
				audience: AUDIENCE,
				scopes: ['read:items', 'write:items'],
				clients: clients.map((clientId) => ({
					clientId: `${clientId}@clients`,
					clientSecret: SECRET,
					...(clientId === 'svc-noscope' ? { scope: 'write:items' } : {}),
				})),
				customizeToken: ({ payload }, clientId) => {
					if (clientId === 'svc-expired@clients') Object.assign(payload, { iat: now() - 7200, exp: now() - 3600 });
					if (clientId === 'svc-wrongaud@clients') payload['aud'] = 'https://another-api.example.test';
					if (shortLived.has(clientId)) payload['exp'] = (payload['iat'] as number) + SHORT_TTL_SECONDS;
				},
			});
			directus = await startDirectus({
				version,
				dataDir: path.join(folder, 'directus'),
				extensionsPath,
				database: { client: target.database },
				env: {
					BCC_AUTH_ISSUER: oauth.issuer,
					BCC_AUTH_AUDIENCE: AUDIENCE,
					BCC_AUTH_REQUIRED_SCOPES: 'read:items',
					EXTENSIONS_MUST_LOAD: 'true',
					WEBSOCKETS_REST_AUTH: websocketAuth,
					WEBSOCKETS_GRAPHQL_AUTH: websocketAuth,
					WEBSOCKETS_REST_AUTH_TIMEOUT: String(WS_AUTH_TIMEOUT_SECONDS),
					WEBSOCKETS_GRAPHQL_AUTH_TIMEOUT: String(WS_AUTH_TIMEOUT_SECONDS),
					ACCESS_TOKEN_TTL: DIRECTUS_TOKEN_TTL,
				},
				log: progress,
			});
			wsUrl = directus.url.replace(/^http/, 'ws');
			({ readerRoleId } = await seedSchema(directus.url, directus.adminToken));
			const clientsToProvision = [
				['svc-orders', READER_ROLE],
				['svc-admin', 'Administrator'],
				['svc-ws', READER_ROLE],
				['svc-short', READER_ROLE],
			] as const;
			for (const provisioned of await Promise.all(clientsToProvision.map(([clientId, role]) => cli('provision', clientId, '--role', role, '--json')))) {
				assert.equal(provisioned.code, 0, provisioned.stderr);
			}
			progress(`ready (schema and ${clientsToProvision.length} clients) after ${((performance.now() - started) / 1000).toFixed(1)} s`);
		});

		after(async () => {
			for (const opened of sockets) opened.terminate();
			await directus?.stop();
			await oauth?.stop();
			run.finish();
		});

		/** A test of the given levels; a failure keeps the run folder (and Directus's log) for reading. */
		const test = (name: string, levels: readonly Level[], body: () => Promise<void>) => {
			if (levels.includes(level)) run.test(name, body);
		};
		const BOTH = ['full', 'smoke'] as const;
		const FULL = ['full'] as const;

		// --- REST and GraphQL over HTTP -------------------------------------------------------

		test('a provisioned client reads a collection its role may read', BOTH, async () => {
			const response = await call('/items/articles', await tokenFor('svc-orders'));
			assert.equal(response.status, 200);
			assert.deepEqual(response.body.data.map((item: { title: string }) => item.title).sort(), ['First', 'Second']);
		});

		test('and is refused one its role may not read', FULL, async () => {
			const response = await call('/items/secrets', await tokenFor('svc-orders'));
			assert.equal(response.status, 403);
			assert.equal(errorCode(response), 'FORBIDDEN');
		});

		test('/users/me is the provisioned user', BOTH, async () => {
			// The reader role may not read directus_users fields; the id is always readable for oneself.
			const response = await call('/users/me?fields=id', await tokenFor('svc-orders'));
			assert.equal(response.status, 200);
			assert.equal(response.body.data.id, userIdForIdentifier('svc-orders@clients'));
		});

		test('GraphQL (/graphql and /graphql/system) answers with the same permissions', BOTH, async () => {
			const token = await tokenFor('svc-orders');
			const allowed = await call('/graphql', token, { method: 'POST', body: { query: '{ articles { title } }' } });
			assert.equal(allowed.status, 200);
			assert.equal(allowed.body.data.articles.length, 2);
			const denied = await call('/graphql', token, { method: 'POST', body: { query: '{ secrets { title } }' } });
			assert.equal(denied.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION');
			const ping = await call('/graphql/system', token, { method: 'POST', body: { query: '{ server_ping }' } });
			assert.equal(ping.status, 200, JSON.stringify(ping.body));
			assert.deepEqual(ping.body.data, { server_ping: 'pong' });
			// As for a static token of a user of this role: no read access to directus_users, so no users_me.
			const me = await call('/graphql/system', token, { method: 'POST', body: { query: '{ users_me { id } }' } });
			assert.equal(me.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION');
			const system = await call('/graphql/system', await tokenFor('svc-admin'), { method: 'POST', body: { query: '{ users_me { id external_identifier } }' } });
			assert.deepEqual(system.body.data.users_me, { id: userIdForIdentifier('svc-admin@clients'), external_identifier: 'svc-admin@clients' });
			const unknown = await call('/graphql/system', await tokenFor('svc-unknown'), { method: 'POST', body: { query: '{ users_me { id } }' } });
			assert.equal(unknown.status, 401);
			assert.equal(errorCode(unknown), 'INVALID_CREDENTIALS');
		});

		for (const [clientId, role] of [['svc-orders', READER_ROLE], ['svc-admin', 'Administrator']] as const) {
			test(`a client token and a static token of the same user see exactly the same (${role})`, FULL, async () => {
				const userId = userIdForIdentifier(`${clientId}@clients`);
				const staticToken = `static-${clientId}-${'x'.repeat(24)}`;
				await adminApi(directus.url, directus.adminToken, `/users/${userId}`, 'PATCH', { token: staticToken });
				try {
					const clientToken = await tokenFor(clientId);
					for (const route of ['/permissions/me', '/users/me?fields=id,role,status', '/items/articles', '/items/secrets', '/users?fields=id', '/roles?fields=id', '/settings', '/server/info', '/policies?fields=id']) {
						const [viaClient, viaStatic] = await Promise.all([call(route, clientToken), call(route, staticToken)]);
						assert.equal(viaClient.status, viaStatic.status, `${route}: status`);
						assert.deepEqual(viaClient.body, viaStatic.body, `${route}: body`);
					}
					const adminOnly = await call('/users?fields=id', clientToken);
					assert.equal(adminOnly.status === 200 && adminOnly.body.data.length > 1, role === 'Administrator', 'admin sees every user, reader does not');
				} finally {
					// A client's user signs in by its client's tokens only (bcc-cc provision refuses one that can sign in by itself).
					await adminApi(directus.url, directus.adminToken, `/users/${userId}`, 'PATCH', { token: null });
				}
			});
		}

		test('no token, a Directus login token and a static token work as before', FULL, async () => {
			const anonymous = await call('/items/articles');
			assert.equal(anonymous.status, 403);
			assert.equal(errorCode(anonymous), 'FORBIDDEN');
			const login = await call('/auth/login', undefined, { method: 'POST', body: { email: directus.adminEmail, password: directus.adminPassword } });
			assert.equal(login.status, 200);
			const me = await call('/users/me?fields=email', login.body.data.access_token);
			assert.equal(me.body.data.email, directus.adminEmail);
			const viaStatic = await call('/users/me?fields=email', directus.adminToken);
			assert.equal(viaStatic.body.data.email, directus.adminEmail);
			const unknownStatic = await call('/users/me', 'not-a-known-static-token');
			assert.equal(unknownStatic.status, 401);
			assert.equal(errorCode(unknownStatic), 'INVALID_CREDENTIALS');
		});

		test('a valid token of a client that was never provisioned gets 401', BOTH, async () => {
			const response = await call('/items/articles', await tokenFor('svc-unknown'));
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		});

		test('revoke cuts a client off; provision lets it back in', BOTH, async () => {
			const token = await tokenFor('svc-orders');
			assert.equal((await call('/items/articles', token)).status, 200);
			const revoked = await cli('revoke', 'svc-orders');
			assert.equal(revoked.code, 0, revoked.stderr);
			const refused = await call('/items/articles', token);
			assert.equal(refused.status, 401);
			assert.equal(errorCode(refused), 'INVALID_CREDENTIALS');
			const graphql = await call('/graphql', token, { method: 'POST', body: { query: '{ articles { title } }' } });
			assert.equal(graphql.status, 401);
			const again = await cli('provision', 'svc-orders', '--role', READER_ROLE);
			assert.equal(again.code, 0, again.stderr);
			assert.equal((await call('/items/articles', token)).status, 200);
		});

		test('a deleted client gets 401', FULL, async () => {
			const provisioned = await cli('provision', 'svc-temp', '--role', READER_ROLE);
			assert.equal(provisioned.code, 0, provisioned.stderr);
			oauth.addClient({ clientId: 'svc-temp@clients', clientSecret: SECRET });
			const token = await tokenFor('svc-temp');
			assert.equal((await call('/items/articles', token)).status, 200);
			assert.equal((await cli('revoke', 'svc-temp', '--delete')).code, 0);
			assert.equal((await call('/items/articles', token)).status, 401);
		});

		test('an expired token gets 401 TOKEN_EXPIRED', FULL, async () => {
			const response = await call('/items/articles', await tokenFor('svc-expired'));
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'TOKEN_EXPIRED');
		});

		test('a token for another audience gets 401 without naming the expected one', FULL, async () => {
			const response = await call('/items/articles', await tokenFor('svc-wrongaud'));
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
			assert.ok(!JSON.stringify(response.body).includes(AUDIENCE));
			assert.ok(!JSON.stringify(response.body).includes(oauth.issuer));
		});

		test('a token without the required scope gets 403', FULL, async () => {
			const response = await call('/items/articles', await tokenFor('svc-noscope'));
			assert.equal(response.status, 403);
			assert.equal(errorCode(response), 'FORBIDDEN');
		});

		describe("forged tokens with the issuer's name", () => {
			const claims = () => ({ iss: oauth.issuer, sub: 'svc-orders@clients', aud: AUDIENCE, iat: now(), exp: now() + 600, scope: 'read:items', gty: 'client-credentials' });

			test("signed by another key under the issuer's kid: 401", FULL, async () => {
				const token = signToken({ key: rsaKey(oauth.kid), payload: claims() });
				const response = await call('/items/articles', token);
				assert.equal(response.status, 401);
				assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
			});

			test('alg none: 401', FULL, async () => {
				const token = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(JSON.stringify(claims()))}.`;
				const response = await call('/items/articles', token);
				assert.equal(response.status, 401);
				assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
			});

			test("HS256 keyed with the issuer's public key: 401", FULL, async () => {
				const { createPublicKey } = await import('node:crypto');
				const pem = createPublicKey({ key: oauth.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
				const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: oauth.kid }))}.${base64url(JSON.stringify(claims()))}`;
				const response = await call('/items/articles', `${signingInput}.${signWith('HS256', signingInput, pem)}`);
				assert.equal(response.status, 401);
				assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
			});
		});

		test("error bodies are in Directus's format", FULL, async () => {
			const response = await call('/items/articles', await tokenFor('svc-unknown'));
			assert.deepEqual(Object.keys(response.body), ['errors']);
			assert.equal(typeof response.body.errors[0].message, 'string');
		});

		// --- WebSocket ------------------------------------------------------------------------
		// REST subscriptions on /websocket (Directus's own protocol) and GraphQL subscriptions on
		// /graphql (graphql-ws). Handshake mode (Directus's default): the token comes in the first
		// message (REST: `auth`; GraphQL: `connection_init` payload) or in the URL. Strict mode: the
		// upgrade request itself must carry the token (`?access_token=`).

		describe('WebSocket', () => {
			/**
			 * A REST subscription connection with the token in the URL or in an `auth` message. Resolves
			 * once it is usable: for the auth message, once Directus answered it (in handshake mode a
			 * message sent before that answer is dropped), unless `answered` is false.
			 */
			const restConnection = async (token: string, via: 'message' | 'url', answered = true): Promise<RecordedSocket> => {
				if (via === 'url') {
					const opened = socket('/websocket', { token });
					await opened.opened();
					return opened;
				}
				const opened = socket('/websocket');
				await opened.opened();
				opened.send({ type: 'auth', access_token: token });
				if (answered) await opened.waitForMessage((m) => m.type === 'auth', WS_ANSWER_MS, 'answer to the auth message');
				return opened;
			};
			const subscribeArticles = async (connection: RecordedSocket, uid: string): Promise<any> => {
				connection.send({ type: 'subscribe', collection: 'articles', uid });
				return connection.waitForMessage((m) => m.uid === uid, WS_ANSWER_MS, `answer to subscription ${uid}`);
			};
			/** A graphql-ws connection: token in connection_init (handshake) or in the URL (strict). */
			const graphqlConnection = async (token: string, via: 'init' | 'url'): Promise<RecordedSocket> => {
				const opened = socket('/graphql', { graphql: true, ...(via === 'url' ? { token } : {}) });
				await opened.opened();
				opened.send(via === 'init' ? { type: 'connection_init', payload: { access_token: token } } : { type: 'connection_init' });
				return opened;
			};
			const subscribeArticlesMutated = (connection: RecordedSocket, id: string): void => {
				connection.send({ id, type: 'subscribe', payload: { query: 'subscription { articles_mutated { event key } }' } });
			};
			const createdEvent = (id: number) => (m: any) => m.type === 'subscription' && m.event === 'create' && m.data?.some?.((item: { id: number }) => item.id === id);
			const graphqlEvent = (id: number) => (m: any) => m.type === 'next' && m.payload?.data?.articles_mutated?.key === String(id);
			/** A REST and a GraphQL subscription to articles, both confirmed, as a client's service would hold them. */
			const holdSubscriptions = async (token: string): Promise<{ rest: RecordedSocket; graphql: RecordedSocket }> => {
				const rest = await restConnection(token, restVia);
				assert.equal((await subscribeArticles(rest, 'before')).event, 'init');
				const graphql = await graphqlConnection(token, graphqlVia);
				await graphql.waitForMessage((m) => m.type === 'connection_ack', WS_ANSWER_MS, 'connection_ack');
				subscribeArticlesMutated(graphql, 'before');
				await sleep(200);
				return { rest, graphql };
			};
			/** Connections Directus keeps open but whose rights the hook took away: no events, and reads are forbidden. */
			const assertNoRightsLeft = async ({ rest, graphql }: { rest: RecordedSocket; graphql: RecordedSocket }, label: string): Promise<void> => {
				const id = await createArticle(label);
				await assert.rejects(rest.waitForMessage(createdEvent(id), NO_EVENT_MS), `${label}: no event on the REST connection`);
				await assert.rejects(graphql.waitForMessage(graphqlEvent(id), NO_EVENT_MS), `${label}: no event on the GraphQL connection`);
				rest.send({ type: 'items', collection: 'articles', action: 'read', uid: `read-${label}` });
				// Directus 11 leaves the uid out of error answers: match on the type.
				const read = await rest.waitForMessage((m) => m.type === 'items', WS_ANSWER_MS, 'answer to a read');
				assert.equal(read.status, 'error', JSON.stringify(read));
				assert.equal(read.error?.code, 'FORBIDDEN', JSON.stringify(read));
			};
			/** How this mode passes a token on a new connection. */
			const restVia = handshake ? 'message' : 'url';
			const graphqlVia = handshake ? 'init' : 'url';

			if (handshake) {
				test('REST subscriptions: the token in the auth message is accepted, with the role\'s permissions', FULL, async () => {
					const connection = await restConnection(await tokenFor('svc-ws'), 'message');
					assert.deepEqual(connection.messages()[0], { type: 'auth', status: 'ok' });
					const init = await subscribeArticles(connection, 'articles');
					assert.equal(init.event, 'init');
					assert.deepEqual(init.data.map((item: { title: string }) => item.title).sort(), ['First', 'Second']);
					connection.send({ type: 'subscribe', collection: 'secrets', uid: 'secrets' });
					const denied = await connection.waitForMessage((m) => m.type === 'subscribe' && m.status === 'error', WS_ANSWER_MS, 'refusal of secrets');
					assert.equal(denied.error.code, 'FORBIDDEN');
					const id = await createArticle('ws-auth-message');
					await connection.waitForMessage(createdEvent(id), WS_ANSWER_MS, 'create event');
					connection.terminate();
				});
			} else {
				test('strict mode: a connection without a token in the URL is refused at the upgrade (401)', BOTH, async () => {
					const connection = socket('/websocket');
					const end = await connection.waitForEnd(WS_ANSWER_MS);
					assert.deepEqual({ kind: end.kind, status: end.kind === 'refused' ? end.status : null }, { kind: 'refused', status: 401 });
					const graphql = socket('/graphql', { graphql: true });
					const graphqlEnd = await graphql.waitForEnd(WS_ANSWER_MS);
					assert.equal(graphqlEnd.kind === 'refused' && graphqlEnd.status, 401);
				});
			}

			test('REST subscriptions: the token in the URL is accepted', BOTH, async () => {
				const connection = await restConnection(await tokenFor('svc-ws'), 'url');
				const init = await subscribeArticles(connection, 'articles');
				assert.equal(init.event, 'init');
				assert.ok(init.data.some((item: { title: string }) => item.title === 'First'), JSON.stringify(init));
				const id = await createArticle('ws-url');
				await connection.waitForMessage(createdEvent(id), WS_ANSWER_MS, 'create event');
				assert.equal(connection.messages().some((m) => m.status === 'error'), false, JSON.stringify(connection.messages()));
				connection.terminate();
			});

			test(`GraphQL subscriptions: the token in ${handshake ? 'connection_init' : 'the URL'} is accepted`, BOTH, async () => {
				const connection = await graphqlConnection(await tokenFor('svc-ws'), graphqlVia);
				await connection.waitForMessage((m) => m.type === 'connection_ack', WS_ANSWER_MS, 'connection_ack');
				subscribeArticlesMutated(connection, 'articles');
				connection.send({ id: 'secrets', type: 'subscribe', payload: { query: 'subscription { secrets_mutated { event key } }' } });
				const denied = await connection.waitForMessage((m) => m.id === 'secrets', WS_ANSWER_MS, 'refusal of secrets_mutated');
				assert.equal(denied.type, 'error', JSON.stringify(denied));
				await sleep(200); // the subscription is registered asynchronously
				const id = await createArticle('ws-graphql');
				await connection.waitForMessage(graphqlEvent(id), WS_ANSWER_MS, 'articles_mutated event');
				connection.terminate();
			});

			if (handshake) {
				test('GraphQL in handshake mode: a token only in the URL is not enough, exactly as for a Directus static token (4403)', FULL, async () => {
					for (const token of [await tokenFor('svc-ws'), directus.adminToken]) {
						const connection = socket('/graphql', { graphql: true, token });
						await connection.opened();
						connection.send({ type: 'connection_init' });
						const end = await connection.waitForEnd(WS_ANSWER_MS);
						assert.deepEqual(end.kind === 'close' && [end.code, end.reason], [4403, 'Forbidden']);
					}
					// With the token in the URL and in connection_init it works.
					const token = await tokenFor('svc-ws');
					const both = socket('/graphql', { graphql: true, token });
					await both.opened();
					both.send({ type: 'connection_init', payload: { access_token: token } });
					await both.waitForMessage((m) => m.type === 'connection_ack', WS_ANSWER_MS, 'connection_ack');
					both.terminate();
				});
			}

			test('a revoked client: every new connection is refused, and the ones it holds lose their rights at once', BOTH, async () => {
				const token = await tokenFor('svc-ws');
				const existing = await holdSubscriptions(token); // opened before the revocation

				const revoked = await cli('revoke', 'svc-ws');
				assert.equal(revoked.code, 0, revoked.stderr);
				try {
					// REST subscriptions, token in the URL: the upgrade is refused.
					const restUrl = socket('/websocket', { token });
					const restUrlEnd = await restUrl.waitForEnd(WS_ANSWER_MS);
					assert.equal(restUrlEnd.kind === 'refused' && restUrlEnd.status, 401, 'REST, token in the URL');
					// GraphQL subscriptions, token in the URL: the upgrade is refused.
					const graphqlUrl = socket('/graphql', { graphql: true, token });
					const graphqlUrlEnd = await graphqlUrl.waitForEnd(WS_ANSWER_MS);
					assert.equal(graphqlUrlEnd.kind === 'refused' && graphqlUrlEnd.status, 401, 'GraphQL, token in the URL');
					if (handshake) {
						// REST, auth message: an error message, then Directus closes the connection.
						const restMessage = await restConnection(token, 'message', false);
						const restEnd = await restMessage.waitForEnd(WS_ANSWER_MS);
						assert.deepEqual(restMessage.messages(), [
							{ type: 'auth', status: 'error', error: { code: 'AUTH_FAILED', message: 'Authentication handshake failed.' } },
						]);
						assert.equal(restEnd.kind === 'close' && restEnd.code, 1005, 'closed without a status code');
						// GraphQL, connection_init: an error message, never an ack, closed 4403 at the auth timeout.
						const graphqlInit = await graphqlConnection(token, 'init');
						const graphqlEnd = await graphqlInit.waitForEnd(WS_AUTH_TIMEOUT_SECONDS * 1000 + WS_ANSWER_MS);
						assert.deepEqual(graphqlInit.messages(), [
							{ type: 'auth', status: 'error', error: { code: 'AUTH_FAILED', message: 'Authentication failed.' } },
						]);
						assert.deepEqual(graphqlEnd.kind === 'close' && [graphqlEnd.code, graphqlEnd.reason], [4403, 'Forbidden']);
					}

					// The connections opened before the revocation: Directus authenticated them once and
					// keeps their accountability; the hook empties it in place when the client is revoked.
					await assertNoRightsLeft(existing, 'after-revoke');
				} finally {
					existing.rest.terminate();
					existing.graphql.terminate();
					const again = await cli('provision', 'svc-ws', '--role', READER_ROLE);
					assert.equal(again.code, 0, again.stderr);
				}
				// Provisioned again: a new connection works.
				const back = await restConnection(await tokenFor('svc-ws'), 'url');
				assert.equal((await subscribeArticles(back, 'back')).event, 'init');
				back.terminate();
			});

			test("a client whose role is deleted: the connections it holds lose their rights (Directus suspends the role's users inside the deletion's transaction)", BOTH, async () => {
				// A role of its own that reads through its parent, the reader role.
				const role = await adminApi(directus.url, directus.adminToken, '/roles', 'POST', { name: 'Deleted readers', parent: readerRoleId });
				const provisioned = await cli('provision', 'svc-role-deleted', '--role', role.id);
				assert.equal(provisioned.code, 0, provisioned.stderr);
				const token = await tokenFor('svc-role-deleted');
				const held = await holdSubscriptions(token);
				try {
					await adminApi(directus.url, directus.adminToken, `/roles/${role.id}`, 'DELETE');
					assert.equal((await call('/items/articles', token)).status, 401, 'REST: refused at once');
					// Directus announces the users' suspension before its transaction commits; the hook decides again once it settled.
					await sleep(SETTLE_MS + 500);
					await assertNoRightsLeft(held, 'after-role-deleted');
				} finally {
					held.rest.terminate();
					held.graphql.terminate();
				}
			});

			test('a REST subscription connection ends when its token expires, like one with a Directus token; our GraphQL subscriptions lose their rights at exp too', FULL, async () => {
				const login = await call('/auth/login', undefined, { method: 'POST', body: { email: directus.adminEmail, password: directus.adminPassword } });
				assert.equal(login.status, 200);
				const directusToken: string = login.body.data.access_token;
				const directusExp = JSON.parse(Buffer.from(directusToken.split('.')[1] as string, 'base64url').toString('utf8')).exp as number;
				const { token, exp } = await shortTokenFor('svc-short');
				assert.equal(exp - now() <= SHORT_TTL_SECONDS, true);

				// REST subscriptions with our short-lived token (both ways the mode allows) and with Directus's own token.
				const expiring = {
					...(handshake ? { 'REST, auth message': await restConnection(token, 'message') } : {}),
					'REST, URL': await restConnection(token, 'url'),
					'REST, Directus token in the URL': await restConnection(directusToken, 'url'),
				};
				for (const connection of Object.values(expiring)) assert.equal((await subscribeArticles(connection, 'sub')).event, 'init');
				// One that sends a fresh token when told that its token expired: it stays.
				const refreshed = await restConnection(token, restVia);
				assert.equal((await subscribeArticles(refreshed, 'sub')).event, 'init');
				refreshed.waitForMessage((m) => m.error?.code === 'TOKEN_EXPIRED', 30_000).then(
					async () => refreshed.send({ type: 'auth', access_token: await tokenFor('svc-short'), uid: 'refresh' }),
					() => undefined,
				);
				// GraphQL subscriptions with our token and with Directus's.
				const graphql = {
					ours: await graphqlConnection(token, graphqlVia),
					directus: await graphqlConnection(directusToken, graphqlVia),
				};
				for (const connection of Object.values(graphql)) {
					await connection.waitForMessage((m) => m.type === 'connection_ack', WS_ANSWER_MS, 'connection_ack');
					subscribeArticlesMutated(connection, 'sub');
				}

				const bound = (expiresAt: number) => expiresAt * 1000 - Date.now() + WS_AUTH_TIMEOUT_SECONDS * 1000 + WS_ANSWER_MS;
				for (const [name, connection] of Object.entries(expiring)) {
					const expiresAt = name.includes('Directus') ? directusExp : exp;
					const end = await connection.waitForEnd(bound(expiresAt));
					const errors = connection.messages().filter((m) => m.status === 'error');
					assert.deepEqual(
						errors.map((m) => [m.type, m.error.code, m.error.message]),
						[
							['auth', 'TOKEN_EXPIRED', 'Token expired.'],
							['auth', 'AUTH_TIMEOUT', 'Authentication timed out.'],
						],
						name,
					);
					const expired = connection.events.find((e) => e.kind === 'message' && e.data.error?.code === 'TOKEN_EXPIRED')!;
					// Directus arms a timer for exp (whole seconds): the message comes at exp, give or take the machine's load.
					assert.ok(expired.at - expiresAt * 1000 > -1000 && expired.at - expiresAt * 1000 < EXPIRY_SLACK_MS, `${name}: TOKEN_EXPIRED ${expired.at - expiresAt * 1000} ms after exp`);
					assert.ok(end.kind === 'close' && end.at - expired.at < WS_AUTH_TIMEOUT_SECONDS * 1000 + EXPIRY_SLACK_MS, `${name}: closed ${end.at - expired.at} ms after TOKEN_EXPIRED`);
					assert.equal(end.kind === 'close' && end.code, 1005, `${name}: close code`);
				}

				// After every expiry above: the refreshed connection is still open and authenticated...
				await refreshed.waitForMessage((m) => m.type === 'auth' && m.uid === 'refresh', WS_ANSWER_MS, 'answer to the refresh');
				const authAnswers = refreshed.messages().filter((m) => m.type === 'auth');
				assert.deepEqual(authAnswers.slice(handshake ? 1 : 0), [
					{ type: 'auth', status: 'error', error: { code: 'TOKEN_EXPIRED', message: 'Token expired.' } },
					{ type: 'auth', status: 'ok', uid: 'refresh' },
				]);
				// ...and the GraphQL subscriptions: Directus's GraphQL WebSocket does not watch token expiry,
				// so one with Directus's own token still gets events past exp; ours lost its rights at exp
				// (the hook empties the accountability it handed out; see docs/compatibility.md).
				assert.ok(now() > Math.max(exp, directusExp));
				const id = await createArticle('after-expiry');
				await refreshed.waitForMessage(createdEvent(id), WS_ANSWER_MS, 'create event on the refreshed connection');
				await graphql.directus.waitForMessage(graphqlEvent(id), WS_ANSWER_MS, 'event on the GraphQL connection with a Directus token');
				await assert.rejects(graphql.ours.waitForMessage(graphqlEvent(id), NO_EVENT_MS), 'no event on our expired GraphQL connection');
				for (const connection of [refreshed, ...Object.values(graphql)]) connection.terminate();
			});
		});

		test('the Directus log never contains a token or its signature', BOTH, async () => {
			const log = directus.readLog();
			assert.ok(log.includes('token refused'), 'refusals are logged');
			for (const token of tokensSeen) {
				assert.ok(!log.includes(token.split('.')[2] as string), 'a token signature appears in the log');
				assert.ok(!log.includes(token.split('.')[1] as string), 'a token payload appears in the log');
			}
		});
	});
}
