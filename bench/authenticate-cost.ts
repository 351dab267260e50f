/**
 * Benchmark (b): the hook's own cost per request, in process.
 *
 * The `authenticate` filter of extension/index.ts, registered as Directus does
 * and called directly with a real PostgreSQL connection (a Directus 12.4.0
 * database with a provisioned client), for:
 *   - a token seen before (target: no signature verification, no database query, median < 20 µs),
 *   - a new token of a known client (one signature verification; the client's standing is cached),
 *   - a token of an unknown issuer (falls through to Directus; target: median < 5 µs),
 *   - a Directus static token (falls through too).
 * Scenarios run interleaved in rounds. Signature verifications are counted by
 * wrapping jsonwebtoken's verify, database queries by knex's `query` event.
 *
 *   node --import tsx bench/authenticate-cost.ts [rounds=3]
 */
import jwt from 'jsonwebtoken';
import { startKeyServer } from '../test/support/key-server.js';
import { auth0Claims, rsaKey, signToken } from '../test/support/tokens.js';
import { BENCH_AUDIENCE, knexFor, loadHook, log, percentiles, startBenchInstance, table } from './support.js';

const VERSION = '12.4.0';
const ROUNDS = Number(process.argv[2] ?? 3);
const SEEN_PER_ROUND = 100_000;
const FALL_THROUGH_PER_ROUND = 100_000;
const NEW_PER_ROUND = 1_000;

const keyServer = await startKeyServer();
const key = rsaKey('bench-1');
keyServer.keys = [key.jwk];
const instance = await startBenchInstance({ version: VERSION, extension: 'none', provision: ['svc-bench'] });
const knex = await knexFor(VERSION, instance.directus);

let queries = 0;
knex.on('query', () => queries++);
let signatures = 0;
const verify = jwt.verify;
(jwt as { verify: unknown }).verify = (...args: unknown[]) => {
	signatures++;
	return (verify as (...a: unknown[]) => unknown)(...args);
};

const hook = await loadHook(
	{ BCC_AUTH_ISSUER: keyServer.issuer, BCC_AUTH_AUDIENCE: BENCH_AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items' },
	knex,
);
let serial = 0;
const newToken = () =>
	signToken({ key, payload: { ...auth0Claims({ issuer: keyServer.issuer, audience: BENCH_AUDIENCE, clientId: 'svc-bench', scope: 'read:items' }), jti: `t-${serial++}` } });
const unknownIssuer = signToken({ key, payload: auth0Claims({ issuer: 'https://unknown-issuer.example.com/', audience: BENCH_AUDIENCE, clientId: 'svc-bench', scope: 'read:items' }) });

const seen = newToken();
const accepted = await hook.authenticate(seen);
if (!accepted.user) throw new Error('the provisioned client was not accepted');
const passed = await hook.authenticate(unknownIssuer);
if (passed.user !== null) throw new Error('a token of an unknown issuer did not fall through');

log(`signing ${ROUNDS * NEW_PER_ROUND} fresh tokens...`);
const fresh = Array.from({ length: ROUNDS * NEW_PER_ROUND }, newToken);

interface Scenario {
	name: string;
	samples: number[];
	signatures: number;
	queries: number;
	requests: number;
}
const scenarios: Record<'seen' | 'fresh' | 'unknown' | 'static', Scenario> = {
	seen: { name: 'token seen before', samples: [], signatures: 0, queries: 0, requests: 0 },
	fresh: { name: 'new token, known client', samples: [], signatures: 0, queries: 0, requests: 0 },
	unknown: { name: 'unknown issuer (falls through)', samples: [], signatures: 0, queries: 0, requests: 0 },
	static: { name: 'static token (falls through)', samples: [], signatures: 0, queries: 0, requests: 0 },
};

async function run(scenario: Scenario, tokens: () => string, count: number): Promise<void> {
	const startSignatures = signatures;
	const startQueries = queries;
	for (let index = 0; index < count; index++) {
		const token = tokens();
		const started = process.hrtime.bigint();
		await hook.authenticate(token);
		scenario.samples.push(Number(process.hrtime.bigint() - started));
	}
	scenario.signatures += signatures - startSignatures;
	scenario.queries += queries - startQueries;
	scenario.requests += count;
}

let freshIndex = 0;
for (let round = 0; round < ROUNDS; round++) {
	log(`round ${round + 1} of ${ROUNDS}`);
	const order = [
		() => run(scenarios.seen, () => seen, SEEN_PER_ROUND),
		() => run(scenarios.unknown, () => unknownIssuer, FALL_THROUGH_PER_ROUND),
		() => run(scenarios.fresh, () => fresh[freshIndex++] as string, NEW_PER_ROUND),
		() => run(scenarios.static, () => instance.staticToken, FALL_THROUGH_PER_ROUND),
	];
	for (let step = 0; step < order.length; step++) await (order[(step + round) % order.length] as () => Promise<void>)();
}

const rows = Object.values(scenarios).map((scenario) => {
	const { median, p99 } = percentiles(scenario.samples);
	return {
		scenario: scenario.name,
		requests: scenario.requests,
		'median µs': Number(median.toFixed(2)),
		'p99 µs': Number(p99.toFixed(2)),
		'signature verifications': scenario.signatures,
		'DB queries': scenario.queries,
	};
});
console.log(`\nauthenticate handler cost, Node ${process.versions.node}, Directus ${VERSION} database on PostgreSQL, ${ROUNDS} interleaved rounds`);
table(rows);
const seenRow = rows[0] as (typeof rows)[number];
const unknownRow = rows[2] as (typeof rows)[number];
console.log(`token seen before: median ${seenRow['median µs']} µs (target < 20), ${seenRow['signature verifications']} signature verifications, ${seenRow['DB queries']} DB queries in ${seenRow.requests} requests`);
console.log(`unknown issuer:    median ${unknownRow['median µs']} µs (target < 5)`);
console.log('(DB queries of "seen before" are the client-standing reloads once per BCC_AUTH_CACHE_TTL, default 5 s.)');

await knex.destroy();
await instance.directus.stop();
await keyServer.stop();
process.exit(0);
