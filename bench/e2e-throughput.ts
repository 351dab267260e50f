/**
 * Benchmark (a): requests per second end to end, over HTTP on loopback.
 *
 * One endpoint that reads a small collection (GET /items/articles, 2 rows), hammered
 * by autocannon for DURATION seconds per run, with runs of every mode interleaved
 * in ROUNDS rounds (the order rotates each round; many short rounds, so that load
 * from other processes on the machine falls on every mode alike), on:
 *   - Directus 12.4.0 + PostgreSQL with our hook: a client-credentials token, a
 *     Directus static token of a user with the same role, and no token (the public
 *     policy may read the same collection: the ceiling);
 *   - Directus 11.17.4 + PostgreSQL, two instances: one with our hook, one with the
 *     seed guide's hook (test/fixtures/seed-guide-hook, the comparison baseline), each
 *     against a static token on the same instance.
 * Ratios are computed per round (runs of one round are back to back); the median
 * of the rounds is printed, and the ratio of all requests served.
 *
 *   node --import tsx bench/e2e-throughput.ts [rounds=15] [seconds=2] [connections=10]
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { api } from '../dev/directus-api.js';
import { startOAuthServer } from '../dev/oauth-server.js';
import { BENCH_AUDIENCE, log, median, startBenchInstance, type BenchInstance } from './support.js';

const ROUNDS = Number(process.argv[2] ?? 15);
const DURATION = Number(process.argv[3] ?? 2);
const CONNECTIONS = Number(process.argv[4] ?? 10);
const ROUTE = '/items/articles';
const SECRET = 'bench-client-secret-0123456789';
const ONLY = process.env['BENCH_ONLY']; // '12' or '11' to run one part

const oauth = await startOAuthServer({
	audience: BENCH_AUDIENCE,
	scopes: ['read:items', 'my_service#read'],
	clients: [{ clientId: 'svc-bench@clients', clientSecret: SECRET }],
});
const hookEnv = { BCC_AUTH_ISSUER: oauth.issuer, BCC_AUTH_AUDIENCE: BENCH_AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items' };
const token = await oauth.getToken('svc-bench@clients', SECRET);

interface Mode {
	readonly part: string;
	readonly name: string;
	readonly url: string;
	readonly token: string | null;
	readonly rps: number[];
}

const instances: BenchInstance[] = [];
const modes: Mode[] = [];
const mode = (part: string, name: string, instance: BenchInstance, bearer: string | null): Mode => {
	const created = { part, name, url: `${instance.directus.url}${ROUTE}`, token: bearer, rps: [] };
	modes.push(created);
	return created;
};

if (ONLY !== '11') {
	const v12 = await startBenchInstance({ version: '12.4.0', extension: 'ours', env: hookEnv, provision: ['svc-bench'] });
	instances.push(v12);
	mode('12.4.0', 'ours: client-credentials token', v12, token);
	mode('12.4.0', 'Directus static token', v12, v12.staticToken);
	mode('12.4.0', 'no token (ceiling)', v12, null);
}
if (ONLY !== '12') {
	const ours11 = await startBenchInstance({ version: '11.17.4', extension: 'ours', env: hookEnv, provision: ['svc-bench'] });
	const seed11 = await startBenchInstance({ version: '11.17.4', extension: 'seed-guide', env: hookEnv });
	instances.push(ours11, seed11);
	mode('11.17.4', 'ours: client-credentials token', ours11, token);
	mode('11.17.4', 'Directus static token (ours\' instance)', ours11, ours11.staticToken);
	mode('11.17.4', 'seed guide: client-credentials token', seed11, token);
	mode('11.17.4', 'Directus static token (seed guide\'s instance)', seed11, seed11.staticToken);
}

// Every mode must read the same two rows before it is timed.
for (const each of modes) {
	const response = await api(each.url.slice(0, -ROUTE.length), ROUTE, each.token === null ? {} : { token: each.token });
	if (response.status !== 200 || response.body?.data?.length !== 2) {
		throw new Error(`${each.part} ${each.name}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
	}
}

async function load(target: Mode, seconds: number): Promise<number> {
	const result = await autocannon({
		url: target.url,
		connections: CONNECTIONS,
		duration: seconds,
		headers: target.token === null ? {} : { authorization: `Bearer ${target.token}` },
	});
	if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
	return result.requests.total / (result.duration || seconds);
}

const loadBefore = os.loadavg()[0] ?? 0;
log(`warm-up: 2 s per mode`);
for (const each of modes) await load(each, 2);
for (let round = 0; round < ROUNDS; round++) {
	for (const part of new Set(modes.map((each) => each.part))) {
		const inPart = modes.filter((each) => each.part === part);
		for (let step = 0; step < inPart.length; step++) {
			const target = inPart[(step + round) % inPart.length] as Mode;
			target.rps.push(await load(target, DURATION));
		}
	}
	log(`round ${round + 1} of ${ROUNDS}: ${modes.map((each) => `${each.part} ${each.name} ${Math.round(each.rps.at(-1) ?? 0)}`).join(', ')}`);
}

const find = (part: string, prefix: string) => modes.find((each) => each.part === part && each.name.startsWith(prefix));
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
/** Median over rounds of (a / b) measured in the same round, and the ratio of all requests served. */
const ratio = (a: Mode | undefined, b: Mode | undefined) =>
	a && b ? `${median(a.rps.map((value, index) => value / (b.rps[index] as number))).toFixed(3)} (all requests: ${(sum(a.rps) / sum(b.rps)).toFixed(3)})` : 'n/a';

console.log(`\nrequests per second, GET ${ROUTE}, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s, Node ${process.versions.node}, PostgreSQL, loopback`);
console.log(`machine: ${os.cpus().length} CPUs, 1-minute load average ${loadBefore.toFixed(1)} before and ${(os.loadavg()[0] ?? 0).toFixed(1)} after the timed runs`);
console.table(
	modes.map((each) => ({
		directus: each.part,
		mode: each.name,
		'median rps': Math.round(median(each.rps)),
		'min rps': Math.round(Math.min(...each.rps)),
		'max rps': Math.round(Math.max(...each.rps)),
	})),
);
const lines: string[] = [];
if (ONLY !== '11') {
	lines.push(`12.4.0  client-credentials / static token:         ${ratio(find('12.4.0', 'ours'), find('12.4.0', 'Directus static'))} (target >= 0.97)`);
	lines.push(`12.4.0  no token (ceiling) / static token:          ${ratio(find('12.4.0', 'no token'), find('12.4.0', 'Directus static'))}`);
	lines.push(`12.4.0  client-credentials / no token (ceiling):    ${ratio(find('12.4.0', 'ours'), find('12.4.0', 'no token'))}`);
}
if (ONLY !== '12') {
	lines.push(`11.17.4 ours: client-credentials / static token:   ${ratio(find('11.17.4', 'ours'), find('11.17.4', "Directus static token (ours'"))}`);
	lines.push(`11.17.4 seed guide: client-credentials / static:   ${ratio(find('11.17.4', 'seed guide'), find('11.17.4', "Directus static token (seed"))}`);
	lines.push(`11.17.4 ours / seed guide (client-credentials):    ${ratio(find('11.17.4', 'ours'), find('11.17.4', 'seed guide'))}`);
}
console.log(lines.join('\n'));

for (const instance of instances) await instance.directus.stop();
await oauth.stop();
process.exit(0);
