/**
 * Benchmark (d): memory after 1,000,000 distinct valid tokens.
 *
 * The hook's `authenticate` filter in process with a real PostgreSQL connection
 * (a Directus 12.4.0 database with provisioned clients) gets TOTAL distinct,
 * valid ES256 tokens (signed in a worker thread meanwhile), from 4 clients and
 * 8 client IPs. The heap is measured after full garbage collections every
 * 100,000 tokens. Every cache has a size limit (token cache 10,000 entries,
 * client directory 10,000 entries), so the heap must level off.
 *
 *   node --import tsx bench/memory.ts [total=1000000]
 */
import { Worker } from 'node:worker_threads';
import { startKeyServer } from '../test/support/key-server.js';
import { auth0Claims, ecKey } from '../test/support/tokens.js';
import { TOKEN_CACHE_MAX_ENTRIES } from '../extension/token-cache.js';
import { DIRECTORY_MAX_ENTRIES } from '../extension/client-directory.js';
import { BENCH_AUDIENCE, heapUsedMiB, knexFor, loadHook, log, startBenchInstance } from './support.js';

const VERSION = '12.4.0';
const TOTAL = Number(process.argv[2] ?? 1_000_000);
const BATCH = 2_000;
const CHECKPOINT = 100_000;
const CLIENTS = ['svc-mem-0', 'svc-mem-1', 'svc-mem-2', 'svc-mem-3'];
const IPS = Array.from({ length: 8 }, (_, index) => `10.20.0.${index + 1}`);

const keyServer = await startKeyServer();
const key = ecKey('bench-es256', 'P-256');
keyServer.keys = [key.jwk];
const instance = await startBenchInstance({ version: VERSION, extension: 'none', provision: CLIENTS });
const knex = await knexFor(VERSION, instance.directus);
const hook = await loadHook(
	{ BCC_AUTH_ISSUER: keyServer.issuer, BCC_AUTH_AUDIENCE: BENCH_AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items', BCC_AUTH_ALGORITHMS: 'ES256', BCC_AUTH_CACHE_TTL: '300' },
	knex,
);

/** Signs tokens in another thread while this one verifies them. */
const signer = new Worker(
	`
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: workerData.pem, format: 'pem' });
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: workerData.kid })).toString('base64url');
parentPort.on('message', ({ from, count }) => {
	const tokens = [];
	for (let index = from; index < from + count; index++) {
		const claims = { ...workerData.claims, sub: workerData.clients[index % workerData.clients.length] + '@clients', jti: 'm-' + index };
		const input = header + '.' + Buffer.from(JSON.stringify(claims)).toString('base64url');
		tokens.push(input + '.' + sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'));
	}
	parentPort.postMessage(tokens);
});`,
	{
		eval: true,
		workerData: {
			pem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }),
			kid: key.kid,
			clients: CLIENTS,
			claims: auth0Claims({ issuer: keyServer.issuer, audience: BENCH_AUDIENCE, clientId: 'unused', scope: 'read:items' }),
		},
	},
);
const batch = (from: number, count = Math.min(BATCH, TOTAL - from)): Promise<string[]> =>
	new Promise((resolve) => {
		signer.once('message', resolve);
		signer.postMessage({ from, count });
	});

// Baseline: the hook loaded, one token of each client through it.
const warm = await batch(TOTAL, CLIENTS.length); // jtis outside the measured range
for (const [index, token] of warm.entries()) await hook.authenticate(token, IPS[index % IPS.length]);
const baseline = heapUsedMiB();
log(`baseline heap ${baseline.toFixed(1)} MiB; sending ${TOTAL.toLocaleString('en')} distinct tokens...`);

const checkpoints: Array<{ tokens: string; 'heap MiB': number; 'growth MiB': number; 'tokens/s': number }> = [];
const started = performance.now();
let next = batch(0);
let lastCheckpoint = started;
for (let from = 0; from < TOTAL; from += BATCH) {
	const tokens = await next;
	if (from + BATCH < TOTAL) next = batch(from + BATCH);
	for (let index = 0; index < tokens.length; index++) {
		const accountability = await hook.authenticate(tokens[index] as string, IPS[(from + index) % IPS.length]);
		if (!accountability.user) throw new Error(`token ${from + index} was not accepted`);
	}
	const done = from + tokens.length;
	if (done % CHECKPOINT === 0 || done === TOTAL) {
		const heap = heapUsedMiB();
		const now = performance.now();
		checkpoints.push({
			tokens: done.toLocaleString('en'),
			'heap MiB': Number(heap.toFixed(1)),
			'growth MiB': Number((heap - baseline).toFixed(1)),
			'tokens/s': Math.round(CHECKPOINT / ((now - lastCheckpoint) / 1000)),
		});
		lastCheckpoint = now;
		log(`${done.toLocaleString('en')} tokens, heap ${heap.toFixed(1)} MiB`);
	}
}
const seconds = (performance.now() - started) / 1000;
await signer.terminate();

// Phase 2: fill the client directory past its limit, with one (cached) token from DIRECTORY_FILL distinct IPs.
const DIRECTORY_FILL = DIRECTORY_MAX_ENTRIES * 2;
log(`client directory: one token from ${DIRECTORY_FILL.toLocaleString('en')} distinct IPs (a database read each)...`);
const beforeFill = heapUsedMiB();
for (let index = 0; index < DIRECTORY_FILL; index++) {
	await hook.authenticate(warm[0] as string, `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`);
}
const afterFill = heapUsedMiB();

console.log(`\nheap after ${TOTAL.toLocaleString('en')} distinct valid tokens (${CLIENTS.length} clients, ${IPS.length} IPs), Node ${process.versions.node}, ${seconds.toFixed(0)} s`);
console.table(checkpoints);
const growths = checkpoints.map((row) => row['growth MiB']);
const maxGrowth = Math.max(...growths);
const perEntryBytes = ((checkpoints.at(-1)?.["growth MiB"] ?? 0) * 1024 * 1024) / TOKEN_CACHE_MAX_ENTRIES;
console.log(`cache limits: ${TOKEN_CACHE_MAX_ENTRIES.toLocaleString('en')} tokens, ${DIRECTORY_MAX_ENTRIES.toLocaleString('en')} client standings`);
console.log(`heap growth over the baseline: at most ${maxGrowth.toFixed(1)} MiB (with the token cache full at the end: ~${Math.round(perEntryBytes)} bytes per cached token, all included)`);
console.log(`growth between the first and the last checkpoint: ${((growths.at(-1) ?? 0) - (growths[0] ?? 0)).toFixed(1)} MiB`);
console.log(
	`client directory filled with ${DIRECTORY_FILL.toLocaleString('en')} (user, IP) pairs: heap ${beforeFill.toFixed(1)} -> ${afterFill.toFixed(1)} MiB ` +
		`(+${(afterFill - beforeFill).toFixed(1)} MiB for ${DIRECTORY_MAX_ENTRIES.toLocaleString('en')} kept entries, ~${Math.round(((afterFill - beforeFill) * 1024 * 1024) / DIRECTORY_MAX_ENTRIES)} bytes each)`,
);
console.log(`total over the baseline: ${(afterFill - baseline).toFixed(1)} MiB`);

await knex.destroy();
await instance.directus.stop();
await keyServer.stop();
process.exit(0);
