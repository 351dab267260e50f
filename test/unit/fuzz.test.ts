import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { TokenRefusedError } from '../../extension/core/errors.js';
import { base64url } from '../support/tokens.js';
import { verifierFixture, type VerifierFixture } from '../support/verifier-fixture.js';

/** Deterministic PRNG (mulberry32) so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, 1e308, '', ' ', 'none', 'HS256', [], {}, [[]], { $ne: null }, '\u0000', '💥', 'a'.repeat(300), ['x', 1], 2 ** 53, -0.5, '__proto__'];
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'gty', 'scope', 'azp', 'jti'];
const HEADERS = ['alg', 'kid', 'typ', 'crit', 'jku', 'jwk', 'x5c', 'b64', 'cty'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';

const ITERATIONS = 10_000;
const SEED = 20261203;

let fixture: VerifierFixture;
before(async () => (fixture = await verifierFixture({ BCC_AUTH_REQUIRED_SCOPES: 'read:items' })));
after(() => fixture.stop());

it(`refuses ${ITERATIONS} mutated tokens without an unexpected error (seed ${SEED})`, async () => {
	const next = random(SEED);
	const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
	const valid = fixture.token();
	await fixture.verifier.verify(valid); // warm the key set; the base token itself is good
	const [header, payload, signature] = valid.split('.') as [string, string, string];
	const decodedHeader = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
	const decodedPayload = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;

	const mutations: Array<() => string> = [
		// Flip characters anywhere in the compact form.
		() => {
			const chars = [...valid];
			for (let count = 1 + Math.floor(next() * 4); count > 0; count--) chars[Math.floor(next() * chars.length)] = pick([...ALPHABET]);
			return chars.join('');
		},
		// Replace a claim with a hostile value, keeping the original signature.
		() => `${header}.${base64url(JSON.stringify({ ...decodedPayload, [pick(CLAIMS)]: pick(HOSTILE_VALUES) }))}.${signature}`,
		// Replace a header member, keeping payload and signature.
		() => `${base64url(JSON.stringify({ ...decodedHeader, [pick(HEADERS)]: pick(HOSTILE_VALUES) }))}.${payload}.${signature}`,
		// Truncate at a random point.
		() => valid.slice(0, Math.floor(next() * valid.length)),
		// Shuffle or duplicate segments.
		() => [pick([header, payload, signature]), payload, pick([header, payload, signature, ''])].join('.'),
		// Raw bytes as a segment.
		() => `${header}.${Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256))).toString('base64url')}.${signature}`,
		// Random text in the issuer's payload, unsigned.
		() => `${header}.${base64url(`{"iss":${JSON.stringify(fixture.server.issuer)},"x":${JSON.stringify(pick(HOSTILE_VALUES))}${pick(['', ',', '}', ',"x":1', '\u0000'])}`)}.${signature}`,
	];

	let owned = 0;
	for (let iteration = 0; iteration < ITERATIONS; iteration++) {
		const token = pick(mutations)();
		if (token === valid) continue;
		if (!fixture.verifier.owns(token)) continue;
		owned++;
		try {
			await fixture.verifier.verify(token);
			assert.fail(`iteration ${iteration} (seed ${SEED}): mutated token accepted`);
		} catch (error) {
			assert.ok(error instanceof TokenRefusedError, `iteration ${iteration} (seed ${SEED}): unexpected error ${error}`);
		}
	}
	assert.ok(owned > ITERATIONS / 3, `most mutations should still be routed to the hook (owned ${owned})`);
	assert.ok(fixture.server.counts.jwks <= 2, `unknown kids must not cause a fetch storm (${fixture.server.counts.jwks} fetches)`);
});
