import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { adminApi, api, errorCode } from '../../dev/directus-api.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { removeRunFolder, runCli, runFolder, type CliResult } from '../support/e2e.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { base64url, rsaKey, signToken, signWith } from '../support/tokens.js';

const DIRECTUS_VERSION = process.env['BCC_TEST_DIRECTUS_VERSION'] ?? '12.4.0';
const AUDIENCE = 'https://directus.e2e.test/api';
const SECRET = 'e2e-client-secret-0123456789';
const now = () => Math.floor(Date.now() / 1000);

/**
 * The product end to end: the built extension loaded from EXTENSIONS_PATH of
 * a real Directus, tokens from a real OAuth2 server's token endpoint, clients
 * provisioned with the real CLI.
 */
describe(`client-credentials tokens against Directus ${DIRECTUS_VERSION}`, () => {
	let folder: string;
	let oauth: RunningOAuthServer;
	let directus: RunningDirectus;
	const tokensSeen: string[] = [];
	let failed = false;

	const cli = (...args: string[]): Promise<CliResult> => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
	const tokenFor = async (clientId: string): Promise<string> => {
		const token = await oauth.getToken(`${clientId}@clients`, SECRET);
		tokensSeen.push(token);
		return token;
	};
	const call = (route: string, token?: string, init: { method?: string; body?: unknown } = {}) =>
		api(directus.url, route, { ...(token !== undefined ? { token } : {}), ...init });

	before(async () => {
		folder = runFolder(`hook-${DIRECTUS_VERSION}`);
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		const clients = ['svc-orders', 'svc-admin', 'svc-unknown', 'svc-noscope', 'svc-expired', 'svc-wrongaud'];
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
			},
		});
		directus = await startDirectus({
			version: DIRECTUS_VERSION,
			dataDir: path.join(folder, 'directus'),
			extensionsPath,
			env: {
				BCC_AUTH_ISSUER: oauth.issuer,
				BCC_AUTH_AUDIENCE: AUDIENCE,
				BCC_AUTH_REQUIRED_SCOPES: 'read:items',
				EXTENSIONS_MUST_LOAD: 'true',
			},
			log: () => undefined,
		});
		await seedSchema(directus.url, directus.adminToken);
		const provisioned = await cli('provision', 'svc-orders', '--role', READER_ROLE, '--json');
		assert.equal(provisioned.code, 0, provisioned.stderr);
		const admin = await cli('provision', 'svc-admin', '--role', 'Administrator', '--json');
		assert.equal(admin.code, 0, admin.stderr);
	});

	after(async () => {
		await directus?.stop();
		await oauth?.stop();
		if (!failed) removeRunFolder(folder);
		else console.error(`Directus log kept in ${folder}`);
	});

	const test = (name: string, body: () => Promise<void>) =>
		it(name, async () => {
			try {
				await body();
			} catch (error) {
				failed = true;
				throw error;
			}
		});

	test('a provisioned client reads a collection its role may read', async () => {
		const response = await call('/items/articles', await tokenFor('svc-orders'));
		assert.equal(response.status, 200);
		assert.deepEqual(response.body.data.map((item: { title: string }) => item.title).sort(), ['First', 'Second']);
	});

	test('and is refused one its role may not read', async () => {
		const response = await call('/items/secrets', await tokenFor('svc-orders'));
		assert.equal(response.status, 403);
		assert.equal(errorCode(response), 'FORBIDDEN');
	});

	test('/users/me is the provisioned user', async () => {
		// The reader role may not read directus_users fields; the id is always readable for oneself.
		const response = await call('/users/me?fields=id', await tokenFor('svc-orders'));
		assert.equal(response.status, 200);
		assert.equal(response.body.data.id, userIdForIdentifier('svc-orders@clients'));
	});

	test('GraphQL answers with the same permissions', async () => {
		const token = await tokenFor('svc-orders');
		const allowed = await call('/graphql', token, { method: 'POST', body: { query: '{ articles { title } }' } });
		assert.equal(allowed.status, 200);
		assert.equal(allowed.body.data.articles.length, 2);
		const denied = await call('/graphql', token, { method: 'POST', body: { query: '{ secrets { title } }' } });
		assert.equal(denied.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION');
		const system = await call('/graphql/system', await tokenFor('svc-admin'), { method: 'POST', body: { query: '{ users_me { id external_identifier } }' } });
		assert.deepEqual(system.body.data.users_me, { id: userIdForIdentifier('svc-admin@clients'), external_identifier: 'svc-admin@clients' });
	});

	for (const [clientId, role] of [['svc-orders', READER_ROLE], ['svc-admin', 'Administrator']] as const) {
		test(`a client token and a static token of the same user see exactly the same (${role})`, async () => {
			const userId = userIdForIdentifier(`${clientId}@clients`);
			const staticToken = `static-${clientId}-${'x'.repeat(24)}`;
			await adminApi(directus.url, directus.adminToken, `/users/${userId}`, 'PATCH', { token: staticToken });
			const clientToken = await tokenFor(clientId);
			for (const route of ['/permissions/me', '/users/me?fields=id,role,status', '/items/articles', '/items/secrets', '/users?fields=id', '/roles?fields=id', '/settings', '/server/info', '/policies?fields=id']) {
				const [viaClient, viaStatic] = await Promise.all([call(route, clientToken), call(route, staticToken)]);
				assert.equal(viaClient.status, viaStatic.status, `${route}: status`);
				assert.deepEqual(viaClient.body, viaStatic.body, `${route}: body`);
			}
			const adminOnly = await call('/users?fields=id', clientToken);
			assert.equal(adminOnly.status === 200 && adminOnly.body.data.length > 1, role === 'Administrator', 'admin sees every user, reader does not');
		});
	}

	test('no token, a Directus login token and a static token work as before', async () => {
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

	test('a valid token of a client that was never provisioned gets 401', async () => {
		const response = await call('/items/articles', await tokenFor('svc-unknown'));
		assert.equal(response.status, 401);
		assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
	});

	test('revoke cuts a client off; provision lets it back in', async () => {
		const token = await tokenFor('svc-orders');
		assert.equal((await call('/items/articles', token)).status, 200);
		const revoked = await cli('revoke', 'svc-orders');
		assert.equal(revoked.code, 0, revoked.stderr);
		const refused = await call('/items/articles', token);
		assert.equal(refused.status, 401);
		assert.equal(errorCode(refused), 'INVALID_CREDENTIALS');
		const again = await cli('provision', 'svc-orders', '--role', READER_ROLE);
		assert.equal(again.code, 0, again.stderr);
		assert.equal((await call('/items/articles', token)).status, 200);
	});

	test('a deleted client gets 401', async () => {
		const provisioned = await cli('provision', 'svc-temp', '--role', READER_ROLE);
		assert.equal(provisioned.code, 0, provisioned.stderr);
		oauth.addClient({ clientId: 'svc-temp@clients', clientSecret: SECRET });
		const token = await tokenFor('svc-temp');
		assert.equal((await call('/items/articles', token)).status, 200);
		assert.equal((await cli('revoke', 'svc-temp', '--delete')).code, 0);
		assert.equal((await call('/items/articles', token)).status, 401);
	});

	test('an expired token gets 401 TOKEN_EXPIRED', async () => {
		const response = await call('/items/articles', await tokenFor('svc-expired'));
		assert.equal(response.status, 401);
		assert.equal(errorCode(response), 'TOKEN_EXPIRED');
	});

	test('a token for another audience gets 401 without naming the expected one', async () => {
		const response = await call('/items/articles', await tokenFor('svc-wrongaud'));
		assert.equal(response.status, 401);
		assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		assert.ok(!JSON.stringify(response.body).includes(AUDIENCE));
		assert.ok(!JSON.stringify(response.body).includes(oauth.issuer));
	});

	test('a token without the required scope gets 403', async () => {
		const response = await call('/items/articles', await tokenFor('svc-noscope'));
		assert.equal(response.status, 403);
		assert.equal(errorCode(response), 'FORBIDDEN');
	});

	describe('forged tokens with the issuer\'s name', () => {
		const claims = () => ({ iss: oauth.issuer, sub: 'svc-orders@clients', aud: AUDIENCE, iat: now(), exp: now() + 600, scope: 'read:items', gty: 'client-credentials' });

		test('signed by another key under the issuer\'s kid: 401', async () => {
			const token = signToken({ key: rsaKey(oauth.kid), payload: claims() });
			const response = await call('/items/articles', token);
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		});

		test('alg none: 401', async () => {
			const token = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(JSON.stringify(claims()))}.`;
			const response = await call('/items/articles', token);
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		});

		test('HS256 keyed with the issuer\'s public key: 401', async () => {
			const { createPublicKey } = await import('node:crypto');
			const pem = createPublicKey({ key: oauth.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
			const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: oauth.kid }))}.${base64url(JSON.stringify(claims()))}`;
			const response = await call('/items/articles', `${signingInput}.${signWith('HS256', signingInput, pem)}`);
			assert.equal(response.status, 401);
			assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		});
	});

	test('error bodies are in Directus\'s format', async () => {
		const response = await call('/items/articles', await tokenFor('svc-unknown'));
		assert.deepEqual(Object.keys(response.body), ['errors']);
		assert.equal(typeof response.body.errors[0].message, 'string');
	});

	test('the Directus log never contains a token or its signature', async () => {
		const log = directus.readLog();
		assert.ok(log.includes('token refused'), 'refusals are logged');
		for (const token of tokensSeen) {
			assert.ok(!log.includes(token.split('.')[2] as string), 'a token signature appears in the log');
			assert.ok(!log.includes(token.split('.')[1] as string), 'a token payload appears in the log');
		}
	});
});
