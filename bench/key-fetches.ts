/**
 * Benchmark (c): requests to the key server.
 *
 * The hook's `authenticate` filter in process (real PostgreSQL connection, a key
 * server on loopback that counts its requests):
 *   1. after warm-up, 20,000 requests with known tokens and 500 new tokens of the known key: target 0 key fetches;
 *   2. a flood of tokens with random kids for FLOOD_SECONDS, cooldown 1 s: target at most one fetch per cooldown
 *      (bound: ceil(seconds / cooldown) + 1), while a real new key published mid-flood is still accepted.
 *
 *   node --import tsx bench/key-fetches.ts
 */
import { randomUUID } from 'node:crypto';
import { startKeyServer } from '../test/support/key-server.js';
import { auth0Claims, base64url, rsaKey, signToken } from '../test/support/tokens.js';
import { BENCH_AUDIENCE, knexFor, loadHook, log, startBenchInstance } from './support.js';

const VERSION = '12.4.0';
const COOLDOWN_SECONDS = 1;
const FLOOD_SECONDS = 6;
const CONCURRENCY = 32;

const keyServer = await startKeyServer();
const key = rsaKey('bench-1');
keyServer.keys = [key.jwk];
const instance = await startBenchInstance({ version: VERSION, extension: 'none', provision: ['svc-bench'] });
const knex = await knexFor(VERSION, instance.directus);
const hook = await loadHook(
	{
		BCC_AUTH_ISSUER: keyServer.issuer,
		BCC_AUTH_AUDIENCE: BENCH_AUDIENCE,
		BCC_AUTH_REQUIRED_SCOPES: 'read:items',
		BCC_AUTH_JWKS_COOLDOWN: String(COOLDOWN_SECONDS),
	},
	knex,
);
const claims = () => ({ ...auth0Claims({ issuer: keyServer.issuer, audience: BENCH_AUDIENCE, clientId: 'svc-bench', scope: 'read:items' }), jti: randomUUID() });

// 1. Steady state.
const known = signToken({ key, payload: claims() });
await hook.authenticate(known);
const afterWarmUp = { ...keyServer.counts };
log(`warm-up: ${afterWarmUp.discovery} discovery and ${afterWarmUp.jwks} key set request(s)`);
for (let index = 0; index < 20_000; index++) await hook.authenticate(known);
const newTokens = Array.from({ length: 500 }, () => signToken({ key, payload: claims() }));
for (const token of newTokens) await hook.authenticate(token);
const steadyFetches = keyServer.counts.jwks - afterWarmUp.jwks + keyServer.counts.discovery - afterWarmUp.discovery;

// 2. Flood of random kids, with a real key rotation in the middle.
const payloadSegment = base64url(JSON.stringify(claims()));
const randomKidToken = () => `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: randomUUID() }))}.${payloadSegment}.${'A'.repeat(342)}`;
const rotated = rsaKey('bench-2');
const rotatedToken = signToken({ key: rotated, payload: claims() });
const beforeFlood = keyServer.counts.jwks;
let refused = 0;
let rotatedAcceptedAfterMs: number | null = null;
let rotationAt = 0;
const started = performance.now();
const rotationDelayMs = (FLOOD_SECONDS * 1000) / 2;
const worker = async (): Promise<void> => {
	while (performance.now() - started < FLOOD_SECONDS * 1000) {
		try {
			await hook.authenticate(randomKidToken());
		} catch {
			refused++;
		}
		if (rotationAt === 0 && performance.now() - started >= rotationDelayMs) {
			rotationAt = performance.now();
			keyServer.keys = [key.jwk, rotated.jwk];
		}
		if (rotationAt !== 0 && rotatedAcceptedAfterMs === null) {
			const accepted = await hook.authenticate(rotatedToken).catch(() => null);
			if (accepted?.user) rotatedAcceptedAfterMs = performance.now() - rotationAt;
		}
	}
};
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const elapsedSeconds = (performance.now() - started) / 1000;
const floodFetches = keyServer.counts.jwks - beforeFlood;
const bound = Math.ceil(elapsedSeconds / COOLDOWN_SECONDS) + 1;
const rotatedMs = rotatedAcceptedAfterMs as number | null; // assigned by the workers

console.log(`\nkey server requests, Directus ${VERSION} database on PostgreSQL`);
console.table([
	{ phase: 'warm-up (first token)', requests: 1, 'key set fetches': afterWarmUp.jwks, discovery: afterWarmUp.discovery },
	{ phase: 'steady: 20,000 known + 500 new tokens', requests: 20_500, 'key set fetches': steadyFetches, discovery: 0 },
	{ phase: `flood: random kids, ${elapsedSeconds.toFixed(1)} s, ${CONCURRENCY} concurrent`, requests: refused, 'key set fetches': floodFetches, discovery: 0 },
]);
console.log(`steady state: ${steadyFetches} key fetches for 20,500 requests (target 0)`);
console.log(`flood: ${refused} tokens with random kids refused, ${floodFetches} key set fetches in ${elapsedSeconds.toFixed(1)} s with a ${COOLDOWN_SECONDS} s cooldown (bound ${bound})`);
console.log(
	`a real new key published mid-flood was accepted ${rotatedMs === null ? 'NEVER' : `after ${rotatedMs.toFixed(0)} ms`} (bound: one cooldown, ${COOLDOWN_SECONDS * 1000} ms)`,
);
if (steadyFetches !== 0 || floodFetches > bound || rotatedMs === null) process.exitCode = 1;

await knex.destroy();
await instance.directus.stop();
await keyServer.stop();
process.exit(process.exitCode ?? 0);
