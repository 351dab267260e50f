import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe } from 'node:test';
import { api, errorCode } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { installBuiltExtension } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { e2eRun, runCli } from '../support/e2e.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { PROVIDER_ISSUERS, PROVIDER_SHAPES } from '../support/provider-tokens.js';
import { rsaKey, signToken, type TestKey } from '../support/tokens.js';

const AUDIENCE = 'https://directus.e2e.test/api';
const SECRET = 'providers-secret-0123456789';

/**
 * Several issuers at once (BCC_AUTH_ISSUERS), each a real OAuth2 server issuing
 * tokens through its token endpoint: one shaped like Auth0, one plain RFC 9068
 * (what oidc-provider issues natively), one shaped like Keycloak's service
 * account tokens. Entra, Okta and Cognito cannot be run here: their tokens
 * are crafted in each provider's documented shape and signed by a key server
 * of ours that stands in for the provider's JWKS. Each client is provisioned
 * with its provider's --profile.
 */
const CRAFTED = ['entra', 'okta', 'cognito'] as const;
const CRAFTED_CLIENT = '6731de76-14a6-49ae-97bc-6eba6914391e';
describe('several identity providers on one Directus 12.4.0', () => {
	const run = e2eRun('providers');
	const { test } = run;
	let directus: RunningDirectus;
	let auth0: RunningOAuthServer;
	let rfc9068: RunningOAuthServer;
	let keycloak: RunningOAuthServer;
	let keyServer: KeyServer;
	let craftingKey: TestKey;

	const cli = (...args: string[]) => runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
	const read = (token: string) => api(directus.url, '/items/articles', { token });

	run.before(async () => {
		const folder = run.folder;
		const extensionsPath = path.join(folder, 'extensions');
		installBuiltExtension(extensionsPath);
		auth0 = await startOAuthServer({
			audience: AUDIENCE,
			scopes: ['read:items'],
			clients: [{ clientId: 'svc-a@clients', clientSecret: SECRET }, { clientId: 'svc-spoof@clients', clientSecret: SECRET }],
		});
		rfc9068 = await startOAuthServer({
			audience: AUDIENCE,
			scopes: ['read:items'],
			trailingSlashIssuer: false,
			extraClaims: () => ({}),
			clients: [{ clientId: 'svc-rfc', clientSecret: SECRET }, { clientId: 'svc-user', clientSecret: SECRET }],
			// What a token issued for a user looks like under RFC 9068: sub is the user, not the client.
			customizeToken: ({ payload }, clientId) => {
				if (clientId === 'svc-user') payload['sub'] = 'user-5ba552d67';
			},
		});
		keycloak = await startOAuthServer({
			audience: AUDIENCE,
			scopes: ['read:items'],
			trailingSlashIssuer: false,
			extraClaims: () => ({}),
			clients: [{ clientId: 'svc-kc', clientSecret: SECRET }],
			customizeToken: ({ header, payload }, clientId) => {
				header['typ'] = 'JWT';
				Object.assign(payload, { typ: 'Bearer', azp: clientId, preferred_username: `service-account-${clientId}`, sub: '4b0f5a34-service-account' });
			},
		});
		keyServer = await startKeyServer();
		craftingKey = rsaKey('crafted-1');
		keyServer.keys = [craftingKey.jwk];
		directus = await startDirectus({
			version: '12.4.0',
			dataDir: path.join(folder, 'directus'),
			extensionsPath,
			env: {
				// Directus splits values at commas unless they carry the json: cast prefix.
				BCC_AUTH_ISSUERS: 'json:' + JSON.stringify([
					{ issuer: auth0.issuer, audience: AUDIENCE, profile: 'auth0', requiredScopes: 'read:items' },
					{ issuer: rfc9068.issuer, audience: AUDIENCE, profile: 'rfc9068', requiredScopes: 'read:items' },
					{ issuer: keycloak.issuer, audience: AUDIENCE, profile: 'keycloak' },
					...CRAFTED.map((profile) => ({
						issuer: PROVIDER_ISSUERS[profile],
						audience: profile === 'cognito' ? CRAFTED_CLIENT : AUDIENCE,
						profile,
						jwksUri: keyServer.jwksUri,
						requiredScopes: 'items.read',
					})),
				]),
				EXTENSIONS_MUST_LOAD: 'true',
			},
			log: () => undefined,
		});
		await seedSchema(directus.url, directus.adminToken);
		for (const args of [['svc-a'], ['svc-rfc', '--profile', 'rfc9068'], ['svc-user', '--profile', 'rfc9068'], ['svc-kc', '--profile', 'keycloak'], ['svc-spoof'], [CRAFTED_CLIENT, '--profile', 'entra']]) {
			const result = await cli('provision', ...args, '--role', READER_ROLE);
			assert.equal(result.code, 0, result.stderr);
		}
	});

	after(async () => {
		await directus?.stop();
		await Promise.all([auth0?.stop(), rfc9068?.stop(), keycloak?.stop(), keyServer?.stop()]);
		run.finish();
	});

	test('Directus warns at startup that these issuers share one identifier space (none has a namespace)', async () => {
		assert.match(directus.readLog(), /client-credentials: issuers .* share one client identifier space/);
	});

	test('an Auth0-shaped token is accepted under the auth0 profile', async () => {
		assert.equal((await read(await auth0.getToken('svc-a@clients', SECRET))).status, 200);
	});

	test('an RFC 9068 token straight from oidc-provider is accepted under the rfc9068 profile', async () => {
		const token = await rfc9068.getToken('svc-rfc', SECRET);
		assert.equal(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).typ, 'at+jwt');
		const response = await api(directus.url, '/users/me?fields=id,external_identifier', { token });
		assert.equal(response.status, 200);
	});

	test('a Keycloak-shaped service-account token is accepted under the keycloak profile', async () => {
		assert.equal((await read(await keycloak.getToken('svc-kc', SECRET))).status, 200);
	});

	test('an RFC 9068 token issued for a user (sub is not the client) gets 401', async () => {
		const response = await read(await rfc9068.getToken('svc-user', SECRET));
		assert.equal(response.status, 401);
		assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
	});

	test('a token naming one issuer but signed by another is never checked against the other\'s keys: 401', async () => {
		const genuine = await auth0.getToken('svc-spoof@clients', SECRET);
		const [header, payload] = genuine.split('.') as [string, string];
		const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
		const relabelled = Buffer.from(JSON.stringify({ ...claims, iss: keycloak.issuer })).toString('base64url');
		const response = await read(`${header}.${relabelled}.${genuine.split('.')[2]}`);
		assert.equal(response.status, 401);
		assert.equal(errorCode(response), 'INVALID_CREDENTIALS');
		assert.match(directus.readLog(), /token refused \((key_unknown|signature_invalid)\)/);
	});

	for (const profile of CRAFTED) {
		const shapes = () => PROVIDER_SHAPES[profile]({ issuer: PROVIDER_ISSUERS[profile], audience: AUDIENCE, clientId: CRAFTED_CLIENT, scopes: ['items.read'], nowSeconds: Math.floor(Date.now() / 1000) });

		test(`a ${profile}-shaped client token is accepted, the same provider's user token is refused`, async () => {
			const { machine, user } = shapes();
			assert.equal((await read(signToken({ key: craftingKey, header: machine.header, payload: machine.payload }))).status, 200);
			const refused = await read(signToken({ key: craftingKey, header: user.header, payload: user.payload }));
			assert.equal(refused.status, 401);
			assert.equal(errorCode(refused), 'INVALID_CREDENTIALS');
		});
	}
});
