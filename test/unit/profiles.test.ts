import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../extension/core/config.js';
import { TokenRefusedError } from '../../extension/core/errors.js';
import { identifierForClientId, userIdForIdentifier } from '../../extension/core/identity.js';
import { PROFILE_NAMES, type ProfileName } from '../../extension/core/profiles.js';
import { createVerifier, type Verifier } from '../../extension/core/verifier.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { PROVIDER_ISSUERS, PROVIDER_SHAPES } from '../support/provider-tokens.js';
import { rsaKey, signToken, type TestKey } from '../support/tokens.js';

const AUDIENCE = 'api://directus';
const CLIENT_ID = '6731de76-14a6-49ae-97bc-6eba6914391e';
const SCOPE = 'items.read';

let server: KeyServer;
let key: TestKey;
before(async () => {
	server = await startKeyServer();
	key = rsaKey('k1');
	server.keys = [key.jwk];
});
after(() => server.stop());

function verifierFor(profile: ProfileName, extra: Record<string, unknown> = {}): Verifier {
	return createVerifier(
		parseConfig({
			BCC_AUTH_ISSUER: PROVIDER_ISSUERS[profile],
			BCC_AUTH_JWKS_URI: server.jwksUri.replace('127.0.0.1', 'localhost'),
			// Cognito has no aud: the configured "audience" is the list of accepted app client ids.
			BCC_AUTH_AUDIENCE: profile === 'cognito' ? CLIENT_ID : AUDIENCE,
			BCC_AUTH_PROFILE: profile,
			BCC_AUTH_REQUIRED_SCOPES: SCOPE,
			...extra,
		}),
	);
}

function shaped(profile: ProfileName, kind: 'machine' | 'user', overrides: Record<string, unknown> = {}) {
	const shape = PROVIDER_SHAPES[profile]({ issuer: PROVIDER_ISSUERS[profile], audience: AUDIENCE, clientId: CLIENT_ID, scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) })[kind];
	return { token: signToken({ key, header: shape.header, payload: { ...shape.payload, ...overrides } }), identifier: shape.identifier };
}

async function reason(verifier: Verifier, token: string): Promise<string> {
	try {
		await verifier.verify(token);
		return 'accepted';
	} catch (error) {
		assert.ok(error instanceof TokenRefusedError, String(error));
		return error.reason;
	}
}

for (const profile of PROFILE_NAMES) {
	describe(`profile ${profile}`, () => {
		it('accepts the provider\'s client-credentials token and maps it to the identifier bcc-cc provision stores', async () => {
			const { token, identifier } = shaped(profile, 'machine');
			const client = await verifierFor(profile).verify(token);
			assert.equal(client.identifier, identifier);
			assert.equal(client.identifier, identifierForClientId(CLIENT_ID, profile));
			assert.equal(client.userId, userIdForIdentifier(identifier));
			assert.ok(client.scopes.includes(SCOPE));
		});

		it('refuses the provider\'s user token', async () => {
			assert.match(await reason(verifierFor(profile), shaped(profile, 'user').token), /^(not_machine_token|client_id_invalid)$/);
		});

		it('refuses the token without the required scope with 403 reason scope_missing', async () => {
			const scopeClaim = { auth0: 'scope', keycloak: 'scope', entra: 'roles', okta: 'scp', cognito: 'scope', rfc9068: 'scope' }[profile];
			const empty = profile === 'entra' || profile === 'okta' ? [] : '';
			assert.equal(await reason(verifierFor(profile), shaped(profile, 'machine', { [scopeClaim]: empty }).token), 'scope_missing');
		});

		for (const other of PROFILE_NAMES.filter((name) => name !== profile)) {
			it(`is refused under profile ${other}`, async () => {
				// Same issuer and keys, other profile: the token must not pass as that provider's machine token.
				const verifier = createVerifier(
					parseConfig({
						BCC_AUTH_ISSUER: PROVIDER_ISSUERS[profile],
						BCC_AUTH_JWKS_URI: server.jwksUri,
						BCC_AUTH_AUDIENCE: other === 'cognito' ? CLIENT_ID : AUDIENCE,
						BCC_AUTH_PROFILE: other,
					}),
				);
				assert.notEqual(await reason(verifier, shaped(profile, 'machine').token), 'accepted');
			});
		}
	});
}

describe('profile details', () => {
	it('entra accepts both issuer forms of one tenant when both are configured', async () => {
		const v1 = 'https://sts.windows.net/f3a1c0de-0000-4000-8000-000000000001/';
		const verifier = verifierFor('entra', { BCC_AUTH_ISSUER: `${PROVIDER_ISSUERS.entra},${v1}` });
		const v1Shape = PROVIDER_SHAPES.entra({ issuer: v1, audience: AUDIENCE, clientId: CLIENT_ID, scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
		assert.equal((await verifier.verify(signToken({ key, header: v1Shape.header, payload: v1Shape.payload }))).identifier, CLIENT_ID);
		assert.equal((await verifier.verify(shaped('entra', 'machine').token)).identifier, CLIENT_ID);
	});

	it('entra v2 token without idtyp is a machine token only without scp', async () => {
		const verifier = verifierFor('entra');
		assert.equal(await reason(verifier, shaped('entra', 'machine', { idtyp: undefined }).token), 'accepted');
		assert.equal(await reason(verifier, shaped('entra', 'machine', { idtyp: undefined, scp: 'User.Read' }).token), 'not_machine_token');
	});

	it('entra without idtyp needs oid equal to sub (an app-only token), so a user token without scp is refused', async () => {
		const verifier = verifierFor('entra');
		assert.equal(await reason(verifier, shaped('entra', 'machine', { idtyp: undefined, oid: 'user-oid', upn: 'alice@example.com' }).token), 'not_machine_token');
	});

	it('keycloak refuses a user token even when BCC_AUTH_CLIENT_ID_CLAIM points at azp', async () => {
		const verifier = verifierFor('keycloak', { BCC_AUTH_CLIENT_ID_CLAIM: 'azp' });
		const user = shaped('keycloak', 'user', { preferred_username: undefined }).token;
		assert.equal(await reason(verifier, user), 'not_machine_token');
		assert.equal(await reason(verifier, shaped('keycloak', 'machine').token), 'accepted');
	});

	it('keycloak accepts the legacy clientId claim and refuses azp that disagrees', async () => {
		const verifier = verifierFor('keycloak');
		assert.equal(await reason(verifier, shaped('keycloak', 'machine', { client_id: undefined, clientId: CLIENT_ID }).token), 'accepted');
		assert.equal(await reason(verifier, shaped('keycloak', 'machine', { azp: 'someone-else' }).token), 'not_machine_token');
		assert.equal(await reason(verifier, shaped('keycloak', 'machine', { typ: 'ID' }).token), 'not_machine_token');
	});

	it('cognito checks client_id against the configured list instead of aud', async () => {
		assert.equal(await reason(verifierFor('cognito', { BCC_AUTH_AUDIENCE: 'another-app-client' }), shaped('cognito', 'machine').token), 'audience_mismatch');
		assert.equal(await reason(verifierFor('cognito'), shaped('cognito', 'machine', { token_use: 'id' }).token), 'not_machine_token');
	});

	it('okta refuses scp as a string and auth0 refuses scope as an array', async () => {
		assert.equal(await reason(verifierFor('okta'), shaped('okta', 'machine', { scp: SCOPE }).token), 'claim_invalid');
		assert.equal(await reason(verifierFor('auth0'), shaped('auth0', 'machine', { scope: [SCOPE] }).token), 'claim_invalid');
	});

	it('rfc9068 refuses a token whose header typ is plain JWT', async () => {
		const { payload } = PROVIDER_SHAPES.rfc9068({ issuer: PROVIDER_ISSUERS.rfc9068, audience: AUDIENCE, clientId: CLIENT_ID, scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
		assert.equal(await reason(verifierFor('rfc9068'), signToken({ key, payload, header: { typ: 'JWT' } })), 'not_machine_token');
	});

	it('claim overrides serve a provider we do not list', async () => {
		const verifier = verifierFor('rfc9068', { BCC_AUTH_CLIENT_ID_CLAIM: 'application_id', BCC_AUTH_SCOPE_CLAIM: 'permissions' });
		const { payload } = PROVIDER_SHAPES.rfc9068({ issuer: PROVIDER_ISSUERS.rfc9068, audience: AUDIENCE, clientId: CLIENT_ID, scopes: [], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
		const custom = { ...payload, client_id: undefined, application_id: CLIENT_ID, permissions: [SCOPE] };
		const client = await verifier.verify(signToken({ key, payload: custom, header: { typ: 'at+jwt' } }));
		assert.equal(client.identifier, CLIENT_ID);
		assert.deepEqual(client.scopes, [SCOPE]);
	});

	it('identifierForClientId adds @clients for auth0 only', () => {
		assert.equal(identifierForClientId('abc'), 'abc@clients');
		assert.equal(identifierForClientId('abc@clients', 'auth0'), 'abc@clients');
		for (const profile of PROFILE_NAMES.filter((name) => name !== 'auth0')) assert.equal(identifierForClientId('abc', profile), 'abc');
	});
});

describe('several issuers', () => {
	it('routes each token to its own issuer\'s keys and profile, never another\'s', async () => {
		const second = await startKeyServer();
		const secondKey = rsaKey('k1'); // the same kid on purpose
		second.keys = [secondKey.jwk];
		try {
			const verifier = createVerifier(
				parseConfig({
					BCC_AUTH_ISSUERS: JSON.stringify([
						{ issuer: PROVIDER_ISSUERS.auth0, audience: AUDIENCE, jwksUri: server.jwksUri, profile: 'auth0' },
						{ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, jwksUri: second.jwksUri, profile: 'keycloak', requiredScopes: SCOPE },
					]),
				}),
			);
			assert.equal(await reason(verifier, shaped('auth0', 'machine').token), 'accepted');
			const keycloak = PROVIDER_SHAPES.keycloak({ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, clientId: CLIENT_ID, scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
			assert.equal(await reason(verifier, signToken({ key: secondKey, header: keycloak.header, payload: keycloak.payload })), 'accepted');
			// Keycloak's issuer name signed with the Auth0 issuer's key (same kid): refused.
			assert.equal(await reason(verifier, signToken({ key, header: keycloak.header, payload: keycloak.payload })), 'signature_invalid');
			// An Auth0-shaped token under Keycloak's issuer: wrong profile.
			const auth0ShapedForKeycloak = PROVIDER_SHAPES.auth0({ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, clientId: CLIENT_ID, scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
			assert.equal(await reason(verifier, signToken({ key: secondKey, payload: auth0ShapedForKeycloak.payload })), 'client_id_invalid');
		} finally {
			await second.stop();
		}
	});

	it('gives the same client id at two issuers two different users when one has a namespace', async () => {
		const second = await startKeyServer();
		const secondKey = rsaKey('k2');
		second.keys = [secondKey.jwk];
		try {
			const realmB = 'https://sso.example.org/realms/partners';
			const verifier = createVerifier(
				parseConfig({
					BCC_AUTH_ISSUERS: [
						{ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, jwksUri: server.jwksUri, profile: 'keycloak' },
						{ issuer: realmB, audience: AUDIENCE, jwksUri: second.jwksUri, profile: 'keycloak', namespace: 'partners' },
					],
				}),
			);
			const shape = (issuer: string) => PROVIDER_SHAPES.keycloak({ issuer, audience: AUDIENCE, clientId: 'reporting', scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
			const a = await verifier.verify(signToken({ key, header: shape(PROVIDER_ISSUERS.keycloak).header, payload: shape(PROVIDER_ISSUERS.keycloak).payload }));
			const b = await verifier.verify(signToken({ key: secondKey, header: shape(realmB).header, payload: shape(realmB).payload }));
			assert.equal(a.identifier, 'reporting');
			assert.equal(b.identifier, 'partners:reporting');
			assert.notEqual(a.userId, b.userId);
			assert.equal(b.userId, userIdForIdentifier(identifierForClientId('reporting', 'keycloak', 'partners')));
			// A client of the issuer without a namespace that is named like a namespaced one ("partners:reporting")
			// would be the other issuer's client: refused.
			const lookalike = PROVIDER_SHAPES.keycloak({ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, clientId: 'partners:reporting', scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
			assert.equal(await reason(verifier, signToken({ key, header: lookalike.header, payload: lookalike.payload })), 'client_id_invalid');
			// Other colons are fine.
			const colon = PROVIDER_SHAPES.keycloak({ issuer: PROVIDER_ISSUERS.keycloak, audience: AUDIENCE, clientId: 'team:reporting', scopes: [SCOPE], nowSeconds: Math.floor(Date.now() / 1000) }).machine;
			assert.equal((await verifier.verify(signToken({ key, header: colon.header, payload: colon.payload }))).identifier, 'team:reporting');
		} finally {
			await second.stop();
		}
	});
});
