import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS, parseConfig } from '../../extension/core/config.js';
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
});
