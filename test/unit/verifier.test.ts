import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TokenRefusedError, type RefusalReason } from '../../extension/core/errors.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import {
	CLAIM_CASES,
	FOREIGN_CASES,
	HEADER_CASES,
	PRECEDENCE_CASES,
	SIGNATURE_CASES,
	TOKEN_KIND_CASES,
} from '../support/hostile-cases.js';
import { ecKey, rsaKey } from '../support/tokens.js';
import { AUDIENCE, verifierFixture, type VerifierFixture } from '../support/verifier-fixture.js';

async function refusal(fixture: VerifierFixture, token: string): Promise<TokenRefusedError> {
	assert.equal(fixture.verifier.owns(token), true, 'the hook must own this token');
	try {
		await fixture.verifier.verify(token);
	} catch (error) {
		assert.ok(error instanceof TokenRefusedError, `expected TokenRefusedError, got ${error}`);
		return error;
	}
	assert.fail('token was accepted');
}

async function assertRefused(fixture: VerifierFixture, token: string, reason: RefusalReason): Promise<void> {
	assert.equal((await refusal(fixture, token)).reason, reason);
}

describe('verifier: ownership (fall-through)', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	const notOurs: Array<[string, () => unknown]> = [
		['no token', () => undefined],
		['null', () => null],
		['a number', () => 42],
		['a token over 16 KiB', () => fixture.token({ pad: 'x'.repeat(17 * 1024) })],
		...FOREIGN_CASES.map(({ name, make }): [string, () => unknown] => [name, () => make(fixture)]),
	];
	for (const [name, make] of notOurs) {
		it(`does not own ${name}`, () => {
			assert.equal(fixture.verifier.owns(make()), false);
		});
	}

	it('made no key server request while deciding ownership', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 0, discovery: 0 });
	});

	it('owns a token from the issuer written without the trailing slash', () => {
		assert.equal(fixture.verifier.owns(fixture.token({ iss: fixture.server.issuer.slice(0, -1) })), true);
	});
});

describe('verifier: a good token', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	it('is accepted and mapped to the uuidv5 user of its sub', async () => {
		const client = await fixture.verifier.verify(fixture.token());
		assert.equal(client.identifier, 'svc-orders@clients');
		assert.equal(client.userId, userIdForIdentifier('svc-orders@clients'));
		assert.equal(client.issuer, fixture.server.issuer);
		assert.deepEqual(client.scopes, ['read:items']);
		assert.equal(client.expiresAt, Math.floor(fixture.clock / 1000) + 3600);
	});

	it('accepts an audience array that contains this API', async () => {
		const client = await fixture.verifier.verify(fixture.token({ aud: ['https://other', AUDIENCE] }));
		assert.equal(client.identifier, 'svc-orders@clients');
	});

	it('accepts typ at+jwt and a missing typ', async () => {
		await fixture.verifier.verify(fixture.token({}, { header: { typ: 'at+jwt' } }));
		await fixture.verifier.verify(fixture.token({}, { header: { typ: undefined } }));
	});

	it('accepts a token without kid when the key set has one key', async () => {
		await fixture.verifier.verify(fixture.token({}, { header: { kid: undefined } }));
	});

	it('fetched discovery once and the key set once', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 1, discovery: 1 });
	});
});

describe('verifier: header attacks never reach the key server', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	for (const { name, make, reason } of HEADER_CASES) {
		it(`refuses ${name} as ${reason}`, async () => {
			await assertRefused(fixture, make(fixture), reason);
		});
	}

	it('made no key server request for any of them', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 0, discovery: 0 });
	});
});

describe('verifier: keys and signatures', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	for (const { name, make, reason } of SIGNATURE_CASES) {
		it(`refuses ${name} as ${reason}`, async () => {
			await assertRefused(fixture, make(fixture), reason);
		});
	}

	it('refuses a token without kid when the key set has several keys', async () => {
		fixture.server.keys = [fixture.key.jwk, rsaKey('key-2').jwk];
		fixture.clock += 601_000; // past maxAge, so the key set is refetched with both keys
		await assertRefused(fixture, fixture.token({}, { header: { kid: undefined } }), 'key_unknown');
	});
});

describe('verifier: keys that do not fit the algorithm', () => {
	const fixtures: VerifierFixture[] = [];
	after(() => Promise.all(fixtures.map((fixture) => fixture.stop())));

	it('refuses an RSA key of 1024 bits', async () => {
		const fixture = await verifierFixture();
		fixtures.push(fixture);
		const weak = rsaKey('weak', { bits: 1024 });
		fixture.server.keys = [weak.jwk];
		await assertRefused(fixture, fixture.token({}, { key: weak }), 'key_unusable');
	});

	it('refuses a token whose alg differs from the key\'s published alg', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'RS256,PS256' });
		fixtures.push(fixture);
		await assertRefused(fixture, fixture.token({}, { header: { alg: 'PS256' }, key: { ...fixture.key, alg: 'PS256' } }), 'key_unusable');
	});

	it('refuses an RS256 token verified against an EC key', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'RS256,ES256' });
		fixtures.push(fixture);
		const ec = ecKey('ec-1');
		fixture.server.keys = [{ ...ec.jwk, alg: undefined }];
		await assertRefused(fixture, fixture.token({}, { header: { kid: 'ec-1', alg: 'RS256' } }), 'key_unusable');
	});

	it('refuses ES256 against a P-384 key', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'ES256' });
		fixtures.push(fixture);
		const p384 = ecKey('ec-384', 'P-384');
		fixture.server.keys = [{ ...p384.jwk, alg: undefined }];
		await assertRefused(fixture, fixture.token({}, { key: { ...p384, alg: 'ES256' } }), 'key_unusable');
	});

	it('accepts ES256 and PS256 when allowed and the keys fit', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'ES256 PS256' });
		fixtures.push(fixture);
		const ec = ecKey('ec-1');
		const ps = rsaKey('ps-1', { alg: 'PS256' });
		fixture.server.keys = [ec.jwk, ps.jwk];
		assert.equal((await fixture.verifier.verify(fixture.token({}, { key: ec }))).identifier, 'svc-orders@clients');
		assert.equal((await fixture.verifier.verify(fixture.token({}, { key: ps }))).identifier, 'svc-orders@clients');
	});
});

describe('verifier: claims', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture({ BCC_AUTH_REQUIRED_SCOPES: 'read:items' })));
	after(() => fixture.stop());
	const now = () => Math.floor(fixture.clock / 1000);

	for (const { name, make, reason } of [...CLAIM_CASES, ...TOKEN_KIND_CASES, ...PRECEDENCE_CASES]) {
		it(`refuses ${name} as ${reason}`, async () => {
			await assertRefused(fixture, make(fixture), reason);
		});
	}

	it('accepts exp one second inside the tolerance', async () => {
		await fixture.verifier.verify(fixture.token({ exp: now() - 4 }));
	});

	it('accepts nbf and iat inside the tolerance', async () => {
		await fixture.verifier.verify(fixture.token({ nbf: now() + 4, iat: now() + 4 }));
	});

	it('accepts the required scope among others', async () => {
		const client = await fixture.verifier.verify(fixture.token({ scope: 'write:items read:items' }));
		assert.deepEqual(client.scopes, ['write:items', 'read:items']);
	});

	it('reports the kid with the refusal, for the log', async () => {
		assert.equal((await refusal(fixture, fixture.token({ gty: 'password' }))).kid, 'key-1');
	});
});

it('a fresh RSA key pair is at least 2048 bits (test helper sanity)', () => {
	const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 2048);
});

describe('verifier: trace', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture({ BCC_AUTH_REQUIRED_SCOPES: 'read:items' })));
	after(() => fixture.stop());

	it('reports every step of an accepted token, in order', async () => {
		const steps: Array<{ name: string; ok: boolean }> = [];
		await fixture.verifier.verify(fixture.token(), { trace: ({ name, ok }) => steps.push({ name, ok }) });
		assert.deepEqual(
			steps.map((step) => step.name),
			['issuer routing', 'structure', 'header', 'key', 'key fits algorithm', 'signature', 'issuer', 'audience', 'dates', 'client identifier', 'token kind', 'scope format', 'lifetime', 'required scopes'],
		);
		assert.ok(steps.every((step) => step.ok));
	});

	it('stops at the failing step and names the reason', async () => {
		const steps: Array<{ name: string; ok: boolean; detail: string }> = [];
		await assert.rejects(fixture.verifier.verify(fixture.token({ aud: 'nope' }), { trace: (step) => steps.push(step) }));
		assert.deepEqual(steps.at(-1), { name: 'audience', ok: false, detail: 'audience_mismatch: aud does not name this API' });
	});
});
