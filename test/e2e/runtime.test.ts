/**
 * Proves the test infrastructure itself: the OAuth server issues Auth0-shaped client-credentials JWTs,
 * and a real Directus 12.4.0 (SQLite, no extensions) starts and accepts its admin's static token.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
	const [header, payload] = token.split('.');
	assert.ok(header && payload, 'a JWS compact serialization');
	return {
		header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
		payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>,
	};
}

describe('oauth server', () => {
	const audience = 'https://directus.test/api';
	let server: RunningOAuthServer;

	before(async () => {
		server = await startOAuthServer({
			audience,
			scopes: ['directus:read', 'directus:write'],
			clients: [{ clientId: 'orders-service@clients', clientSecret: 'p@ss:w/rd+%', scope: 'directus:read' }],
		});
	});
	after(() => server?.stop());

	test('issues an Auth0-shaped RFC 9068 access token for a ...@clients client', async () => {
		const token = await server.getToken('orders-service@clients', 'p@ss:w/rd+%');
		const { header, payload } = decodeJwt(token);

		assert.equal(header['typ'], 'at+jwt');
		assert.equal(header['alg'], 'RS256');
		assert.equal(header['kid'], server.kid);

		assert.match(server.issuer, /^http:\/\/127\.0\.0\.1:\d+\/$/);
		assert.equal(payload['iss'], server.issuer);
		assert.equal(payload['sub'], 'orders-service@clients');
		assert.equal(payload['client_id'], 'orders-service@clients');
		assert.equal(payload['azp'], 'orders-service');
		assert.equal(payload['gty'], 'client-credentials');
		assert.equal(payload['aud'], audience);
		assert.equal(payload['scope'], 'directus:read');
		assert.equal(typeof payload['jti'], 'string');
		const iat = payload['iat'];
		const exp = payload['exp'];
		assert.ok(typeof iat === 'number' && typeof exp === 'number');
		assert.equal(exp - iat, 3600);
		assert.ok(Math.abs(iat - Date.now() / 1000) < 60);

		// The signature verifies with the key published at the discovery document's jwks_uri.
		const discovery = (await (await fetch(server.discoveryUrl)).json()) as Record<string, unknown>;
		assert.equal(discovery['issuer'], server.issuer);
		assert.equal(discovery['jwks_uri'], server.jwksUri);
		assert.equal(discovery['token_endpoint'], server.tokenEndpoint);
		const jwks = (await (await fetch(server.jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
		const jwk = jwks.keys.find((k) => k['kid'] === header['kid']);
		assert.ok(jwk, 'signing key published');
		assert.equal(jwk['d'], undefined, 'no private parts published');
		const [h, p, s] = token.split('.') as [string, string, string];
		const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
		assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')));
	});

	test('refuses scopes the client was not granted and wrong secrets', async () => {
		const denied = await server.requestToken('orders-service@clients', 'p@ss:w/rd+%', { scope: 'directus:write' });
		assert.equal(denied.status, 400);
		assert.equal(denied.body['error'], 'invalid_scope');
		const wrong = await server.requestToken('orders-service@clients', 'nope');
		assert.equal(wrong.status, 401);
		assert.equal(wrong.body['error'], 'invalid_client');
	});
});

describe('directus runtime', { timeout: 15 * 60_000 }, () => {
	let directus: RunningDirectus | undefined;
	let workDir: string;

	before(async () => {
		workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcc-runtime-test-'));
		const extensionsPath = path.join(workDir, 'extensions');
		fs.mkdirSync(extensionsPath);
		directus = await startDirectus({
			version: '12.4.0',
			dataDir: path.join(workDir, 'data'),
			extensionsPath,
		});
	});
	after(async () => {
		await directus?.stop();
		if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
	});

	test('Directus 12.4.0 on SQLite answers /users/me for the bootstrap admin token', async () => {
		assert.ok(directus);
		const res = await fetch(`${directus.url}/users/me?fields=id,email,status`, {
			headers: { authorization: `Bearer ${directus.adminToken}` },
		});
		assert.equal(res.status, 200);
		const { data } = (await res.json()) as { data: { email: string; status: string } };
		assert.equal(data.email, directus.adminEmail);
		assert.equal(data.status, 'active');

		const anonymous = await fetch(`${directus.url}/users/me`, { headers: { authorization: 'Bearer nope' } });
		assert.equal(anonymous.status, 401);
		assert.match(directus.readLog(), /Server started at/);
	});
});
