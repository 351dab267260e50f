import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TokenRefusedError, type RefusalReason } from '../../extension/core/errors.js';
import { rsaKey } from '../support/tokens.js';
import { startKeyServer } from '../support/key-server.js';
import { verifierFixture, type VerifierFixture } from '../support/verifier-fixture.js';

async function reasonOf(promise: Promise<unknown>): Promise<RefusalReason | 'accepted'> {
	try {
		await promise;
		return 'accepted';
	} catch (error) {
		assert.ok(error instanceof TokenRefusedError, `unexpected error ${error}`);
		return error.reason;
	}
}

/** Fault cases: the fixture's JWKS deadline is 500 ms and the cooldown 30 s. */
describe('key set faults', () => {
	let fixture: VerifierFixture;
	beforeEach(async () => (fixture = await verifierFixture()));
	afterEach(() => fixture.stop());

	const faults = [
		['refuses connections', { kind: 'refuse' }],
		['hangs', { kind: 'hang' }],
		['trickles bytes', { kind: 'trickle', intervalMs: 50 }],
		['answers HTML', { kind: 'html' }],
		['answers 404', { kind: 'status', status: 404 }],
		['answers 500', { kind: 'status', status: 500 }],
		['answers 401', { kind: 'status', status: 401 }],
		['answers an empty key set', { kind: 'body', body: '{"keys":[]}' }],
		['answers keys that is not an array', { kind: 'body', body: '{"keys":{"kid":"key-1"}}' }],
		['answers only symmetric keys', { kind: 'body', body: '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"key-1"}]}' }],
		['answers JSON null', { kind: 'body', body: 'null' }],
		['answers a 1 MB document', { kind: 'body', body: `{"keys":[],"pad":"${'x'.repeat(1024 * 1024)}"}` }],
	] as const;

	for (const [name, mode] of faults) {
		it(`answers keys_unavailable within the deadline when the key server ${name}`, async () => {
			fixture.server.discovery = false; // straight to the JWKS, so the fault hits the key set itself
			fixture.server.mode = mode;
			const started = performance.now();
			assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
			assert.ok(performance.now() - started < 2000, 'refused within a bounded time');
		});
	}

	it('recovers by itself when the key server comes back', async () => {
		fixture.server.mode = { kind: 'refuse' };
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
		fixture.server.mode = { kind: 'ok' };
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable', 'fails fast during the 1 s backoff');
		fixture.clock += 1001;
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
	});

	it('keeps serving cached keys during an outage, for the stale window only', async () => {
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		fixture.server.mode = { kind: 'refuse' };
		fixture.clock += 600_000 + 1000; // past maxAge: a refresh is due and fails
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		assert.ok(fixture.events.some((event) => event.type === 'keys_stale'));
		fixture.clock += 3600_000; // past maxAge + staleMaxAge
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
	});

	it('refuses a kid it does not have as keys_unavailable, not key_unknown, while the key server is failing', async () => {
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		fixture.server.mode = { kind: 'refuse' };
		const rotated = rsaKey('key-2');
		fixture.clock += 31_000; // past the cooldown: the new kid causes a fetch, which fails
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token({}, { key: rotated }))), 'keys_unavailable');
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token({}, { key: rotated }))), 'keys_unavailable', 'inside the cooldown too');
		fixture.clock += 600_000; // past maxAge: the old keys are served stale
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token({}, { key: rotated }))), 'keys_unavailable', 'while serving stale keys');
		fixture.server.mode = { kind: 'ok' };
		fixture.clock += 31_000;
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token({}, { header: { kid: 'no-such-key' } }))), 'key_unknown', 'unknown again once a fetch succeeded');
	});

	it('follows no redirect, even to a key set that would verify the token', async () => {
		const elsewhere = await startKeyServer();
		try {
			elsewhere.keys = [fixture.key.jwk];
			fixture.server.discovery = false;
			fixture.server.mode = { kind: 'redirect', location: elsewhere.jwksUri };
			assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
			assert.equal(elsewhere.counts.jwks, 0, 'the redirect target was never asked');
		} finally {
			await elsewhere.stop();
		}
	});

	it('falls back to /.well-known/jwks.json when there is no discovery document', async () => {
		fixture.server.discovery = false;
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		assert.deepEqual(fixture.server.counts, { discovery: 1, jwks: 1 });
	});

	it('refuses a discovery document that names another issuer', async () => {
		fixture.server.discoveryOverrides = { issuer: 'https://evil.example.com/' };
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
		assert.equal(fixture.server.counts.jwks, 0);
	});

	it('refuses a discovery document whose jwks_uri is plain http on another host', async () => {
		fixture.server.discoveryOverrides = { jwks_uri: 'http://keys.example.com/jwks.json' };
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'keys_unavailable');
	});
});

describe('key rotation and unknown kids', () => {
	let fixture: VerifierFixture;
	beforeEach(async () => (fixture = await verifierFixture()));
	afterEach(() => fixture.stop());

	it('picks up a rotated key on the first token that uses it, with one fetch for concurrent requests', async () => {
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		fixture.clock += 31_000;
		const next = rsaKey('key-2');
		fixture.server.keys = [next.jwk];
		fixture.server.mode = { kind: 'slow', delayMs: 100 };
		const results = await Promise.all(Array.from({ length: 20 }, () => reasonOf(fixture.verifier.verify(fixture.token({}, { key: next })))));
		assert.deepEqual(new Set(results), new Set(['accepted']));
		assert.equal(fixture.server.counts.jwks, 2, 'one initial fetch, one for the new kid');
		// The old key is gone from the set the server now publishes.
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'key_unknown');
	});

	it('bounds refetches under a flood of random kids to one per cooldown, and still accepts a real new kid after it', async () => {
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token())), 'accepted');
		const fetchesBefore = fixture.server.counts.jwks;
		for (let round = 0; round < 3; round++) {
			fixture.clock += 31_000;
			const flood = Array.from({ length: 200 }, () => reasonOf(fixture.verifier.verify(fixture.token({}, { header: { kid: randomUUID() } }))));
			assert.deepEqual(new Set(await Promise.all(flood)), new Set(['key_unknown']));
		}
		assert.equal(fixture.server.counts.jwks - fetchesBefore, 3, 'one fetch per cooldown window');
		const next = rsaKey('key-2');
		fixture.server.keys = [fixture.key.jwk, next.jwk];
		fixture.clock += 31_000;
		assert.equal(await reasonOf(fixture.verifier.verify(fixture.token({}, { key: next }))), 'accepted');
	});
});
