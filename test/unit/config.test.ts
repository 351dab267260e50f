import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, issuersSharingIdentifiers, parseConfig } from '../../extension/core/config.js';
import { ConfigError } from '../../extension/core/errors.js';

const minimal = { BCC_AUTH_ISSUER: 'https://tenant.eu.auth0.com/', BCC_AUTH_AUDIENCE: 'https://api.example.com' };

function configErrorFor(env: Record<string, unknown>): ConfigError {
	try {
		parseConfig(env);
	} catch (error) {
		assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
		return error;
	}
	assert.fail('parseConfig accepted a bad configuration');
}

describe('parseConfig', () => {
	it('reads the minimal Auth0 configuration with documented defaults', () => {
		const config = parseConfig(minimal);
		assert.equal(config.issuers.length, 1);
		const [issuer] = config.issuers;
		assert.equal(issuer?.issuer, 'https://tenant.eu.auth0.com/');
		assert.equal(issuer?.routingKey, 'https://tenant.eu.auth0.com');
		assert.deepEqual(issuer?.audiences, ['https://api.example.com']);
		assert.equal(issuer?.jwksUri, null);
		assert.deepEqual(issuer?.requiredScopes, []);
		assert.deepEqual(issuer?.algorithms, ['RS256']);
		assert.equal(config.clockToleranceSeconds, DEFAULTS.clockToleranceSeconds);
		assert.equal(config.keys.timeoutMs, 5000);
		assert.equal(config.keys.cooldownMs, 30000);
	});

	it('treats an issuer with or without a trailing slash as the same routing key', () => {
		const withSlash = parseConfig(minimal).issuers[0];
		const without = parseConfig({ ...minimal, BCC_AUTH_ISSUER: 'https://tenant.eu.auth0.com' }).issuers[0];
		assert.equal(withSlash?.routingKey, without?.routingKey);
		assert.equal(without?.issuer, 'https://tenant.eu.auth0.com');
	});

	it('accepts values Directus has already cast to numbers and arrays', () => {
		const config = parseConfig({
			...minimal,
			BCC_AUTH_AUDIENCE: ['https://a.example.com', 'https://b.example.com'],
			BCC_AUTH_CLOCK_TOLERANCE: 10,
			BCC_AUTH_ALGORITHMS: ['RS256', 'ES256'],
			BCC_AUTH_REQUIRED_SCOPES: 'read:items  write:items',
		});
		assert.deepEqual(config.issuers[0]?.audiences, ['https://a.example.com', 'https://b.example.com']);
		assert.deepEqual(config.issuers[0]?.algorithms, ['RS256', 'ES256']);
		assert.deepEqual(config.issuers[0]?.requiredScopes, ['read:items', 'write:items']);
		assert.equal(config.clockToleranceSeconds, 10);
	});

	it('names the missing issuer', () => {
		assert.equal(configErrorFor({ BCC_AUTH_AUDIENCE: 'x' }).variable, 'BCC_AUTH_ISSUER');
		assert.equal(configErrorFor({ BCC_AUTH_AUDIENCE: 'x', BCC_AUTH_ISSUER: '   ' }).variable, 'BCC_AUTH_ISSUER');
	});

	it('names the missing audience', () => {
		assert.equal(configErrorFor({ BCC_AUTH_ISSUER: minimal.BCC_AUTH_ISSUER }).variable, 'BCC_AUTH_AUDIENCE');
	});

	it('refuses an issuer that is not an https URL, except on localhost', () => {
		assert.match(configErrorFor({ ...minimal, BCC_AUTH_ISSUER: 'tenant.auth0.com' }).message, /^BCC_AUTH_ISSUER: .* is not a URL/);
		assert.match(configErrorFor({ ...minimal, BCC_AUTH_ISSUER: 'http://tenant.auth0.com/' }).message, /must use https/);
		assert.equal(parseConfig({ ...minimal, BCC_AUTH_ISSUER: 'http://127.0.0.1:4000/' }).issuers[0]?.issuer, 'http://127.0.0.1:4000/');
		assert.equal(configErrorFor({ ...minimal, BCC_AUTH_JWKS_URI: 'ftp://x/keys' }).variable, 'BCC_AUTH_JWKS_URI');
	});

	for (const algorithm of ['HS256', 'none', 'None', 'RS1', 'EdDSA']) {
		it(`refuses algorithm ${algorithm}`, () => {
			assert.equal(configErrorFor({ ...minimal, BCC_AUTH_ALGORITHMS: algorithm }).variable, 'BCC_AUTH_ALGORITHMS');
		});
	}

	for (const tolerance of ['-1', 'abc', '301', 'NaN']) {
		it(`refuses clock tolerance ${tolerance}`, () => {
			assert.equal(configErrorFor({ ...minimal, BCC_AUTH_CLOCK_TOLERANCE: tolerance }).variable, 'BCC_AUTH_CLOCK_TOLERANCE');
		});
	}

	it('refuses a JWKS timeout of zero', () => {
		assert.equal(configErrorFor({ ...minimal, BCC_AUTH_JWKS_TIMEOUT: '0' }).variable, 'BCC_AUTH_JWKS_TIMEOUT');
	});

	it('defaults to the auth0 profile and its claims', () => {
		const [issuer] = parseConfig(minimal).issuers;
		assert.equal(issuer?.profile, 'auth0');
		assert.deepEqual(issuer?.clientIdClaims, ['sub']);
		assert.equal(issuer?.scopeClaim, 'scope');
	});

	it('refuses an unknown profile, naming it', () => {
		assert.match(configErrorFor({ ...minimal, BCC_AUTH_PROFILE: 'google' }).message, /^BCC_AUTH_PROFILE: "google" is not one of auth0, keycloak/);
	});

	it('explains what the audience is for Cognito', () => {
		assert.match(configErrorFor({ BCC_AUTH_ISSUER: minimal.BCC_AUTH_ISSUER, BCC_AUTH_PROFILE: 'cognito' }).message, /app client ids/);
	});

	it('reads several issuers from BCC_AUTH_ISSUER, sharing the other settings', () => {
		const config = parseConfig({ ...minimal, BCC_AUTH_ISSUER: 'https://a.example.com/ https://b.example.com/' });
		assert.deepEqual(config.issuers.map((issuer) => issuer.routingKey), ['https://a.example.com', 'https://b.example.com']);
		assert.deepEqual(config.issuers[1]?.audiences, ['https://api.example.com']);
	});

	it('reads BCC_AUTH_ISSUERS as JSON text or as the array Directus already parsed', () => {
		const entries = [
			{ issuer: 'https://a.eu.auth0.com/', audience: 'x' },
			{ issuer: 'https://sso.example.org/realms/r', audience: ['directus', 'other'], profile: 'keycloak', requiredScopes: 'read write' },
		];
		for (const value of [JSON.stringify(entries), entries]) {
			const config = parseConfig({ BCC_AUTH_ISSUERS: value });
			assert.equal(config.issuers.length, 2);
			assert.equal(config.issuers[1]?.profile, 'keycloak');
			assert.deepEqual(config.issuers[1]?.audiences, ['directus', 'other']);
			assert.deepEqual(config.issuers[1]?.requiredScopes, ['read', 'write']);
			assert.deepEqual(config.issuers[1]?.clientIdClaims, ['client_id', 'clientId']);
		}
	});

	const badIssuers: Array<[string, unknown, string, RegExp]> = [
		['not JSON', '[{', 'BCC_AUTH_ISSUERS', /not valid JSON/],
		['not an array', '{"issuer":"https://a/"}', 'BCC_AUTH_ISSUERS', /non-empty JSON array/],
		['an entry that is not an object', '[1]', 'BCC_AUTH_ISSUERS[0]', /must be an object/],
		['what Directus makes of JSON without the json: prefix', ['[{"issuer":"https://a.example.com/"', '"audience":"x"}]'], 'BCC_AUTH_ISSUERS', /json: prefix/],
		['an entry without issuer', '[{"audience":"x"}]', 'BCC_AUTH_ISSUERS[0].issuer', /is required/],
		['an entry without audience', '[{"issuer":"https://a.example.com/"}]', 'BCC_AUTH_ISSUERS[0].audience', /is required/],
		['a misspelt setting', '[{"issuer":"https://a.example.com/","audience":"x","audiance":"y"}]', 'BCC_AUTH_ISSUERS[0].audiance', /not a known setting/],
		['a bad profile in the second entry', '[{"issuer":"https://a.example.com/","audience":"x"},{"issuer":"https://b.example.com/","audience":"x","profile":"nope"}]', 'BCC_AUTH_ISSUERS[1].profile', /not one of/],
		['a namespace with a colon', '[{"issuer":"https://a.example.com/","audience":"x","namespace":"a:b"}]', 'BCC_AUTH_ISSUERS[0].namespace', /letters, digits/],
		['the same issuer twice (slash or not)', '[{"issuer":"https://a.example.com/","audience":"x"},{"issuer":"https://a.example.com","audience":"y"}]', 'BCC_AUTH_ISSUERS', /configured twice/],
	];
	for (const [name, value, variable, message] of badIssuers) {
		it(`refuses BCC_AUTH_ISSUERS with ${name}`, () => {
			const error = configErrorFor({ BCC_AUTH_ISSUERS: value });
			assert.equal(error.variable, variable);
			assert.match(error.message, message);
		});
	}

	it('names issuers that share an identifier space where ids could collide, and only those', () => {
		const entry = (issuer: string, profile: string, namespace?: string) => ({ issuer, audience: 'x', profile, ...(namespace ? { namespace } : {}) });
		const shared = (entries: unknown[]) => issuersSharingIdentifiers(parseConfig({ BCC_AUTH_ISSUERS: entries })).flat().map((issuer) => issuer.issuer);
		assert.deepEqual(shared([entry('https://a.example.com/', 'keycloak'), entry('https://b.example.com/', 'keycloak')]), ['https://a.example.com/', 'https://b.example.com/']);
		assert.deepEqual(
			shared([entry('https://a.example.com/', 'keycloak', 'p'), entry('https://b.example.com/', 'keycloak', 'p'), entry('https://c.example.com/', 'keycloak')]),
			['https://a.example.com/', 'https://b.example.com/'],
			'one namespace given to two issuers is one shared space again',
		);
		assert.equal(
			issuersSharingIdentifiers(parseConfig({ BCC_AUTH_ISSUERS: [entry('https://a.example.com/', 'keycloak'), entry('https://b.example.com/', 'keycloak'), entry('https://c.example.com/', 'okta', 'o'), entry('https://d.example.com/', 'okta', 'o')] })).length,
			2,
			'each shared space is named on its own',
		);
		assert.deepEqual(shared([entry('https://a.auth0.com/', 'auth0'), entry('https://kc.example.com/', 'keycloak')]).length, 2, 'a Keycloak client may be named "<id>@clients"');
		assert.deepEqual(shared([entry('https://a.example.com/', 'keycloak'), entry('https://b.example.com/', 'keycloak', 'b')]), []);
		assert.deepEqual(shared([entry('https://a.auth0.com/', 'auth0'), entry('https://b.auth0.com/', 'auth0')]), []);
		assert.deepEqual(shared([entry('https://sts.windows.net/t/', 'entra'), entry('https://login.microsoftonline.com/t/v2.0', 'entra')]), []);
		assert.deepEqual(
			shared([entry('https://login.microsoftonline.com/tenant-a/v2.0', 'entra'), entry('https://sts.windows.net/tenant-b/', 'entra')]),
			['https://login.microsoftonline.com/tenant-a/v2.0', 'https://sts.windows.net/tenant-b/'],
			'a multi-tenant Entra app has the same application id in both tenants',
		);
		assert.deepEqual(shared([entry('https://login.microsoftonline.com/tenant-a/v2.0', 'entra'), entry('https://sts.windows.net/tenant-b/', 'entra', 'b')]), []);
		assert.deepEqual(issuersSharingIdentifiers(parseConfig(minimal)), []);
	});
});
