/**
 * Shared pieces of the benchmarks: Directus instances on PostgreSQL, the hook's
 * `authenticate` handler loaded in process, statistics and printing.
 * Benchmarks are run by hand (`node --import tsx bench/<file>.ts`), never by `npm test`.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import v8 from 'node:v8';
import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import { adminApi } from '../dev/directus-api.js';
import { ensureDirectusInstalled, startDirectus, type RunningDirectus } from '../dev/directus-runtime.js';
import { installBuiltExtension } from '../dev/extension-install.js';
import { READER_ROLE, seedSchema } from '../dev/sample-content.js';
import { removeRunFolder, runCli, runFolder } from '../test/support/e2e.js';
import { installSeedGuideHook } from '../test/support/seed-guide-hook.js';

export const BENCH_AUDIENCE = 'https://directus.bench.test/api';

export const log = (line: string) => console.log(`# ${line}`);

export interface BenchInstance {
	readonly directus: RunningDirectus;
	readonly readerRoleId: string;
	/** Static token of a user with the reader role (Directus's own authentication). */
	readonly staticToken: string;
}

/**
 * A Directus on a fresh PostgreSQL database with the sample content, the public
 * policy allowed to read `articles` too (so a request without a token does the
 * same read), a static-token user with the reader role, and `extension` installed.
 * The seed guide's hook (the comparison baseline, test/support/seed-guide-hook.ts)
 * is given the reader role's id, which exists only once the sample content does:
 * it is built and installed then, and Directus restarted to load it.
 */
export async function startBenchInstance(options: {
	version: string;
	extension: 'ours' | 'seed-guide' | 'none';
	env?: Record<string, string>;
	/** Clients to provision with bcc-cc (our hook). */
	provision?: string[];
}): Promise<BenchInstance> {
	const folder = runFolder(`bench-${options.extension}-${options.version}`);
	const extensionsPath = path.join(folder, 'extensions');
	mkdirSync(extensionsPath, { recursive: true });
	if (options.extension === 'ours') installBuiltExtension(extensionsPath);
	const directus = await startDirectus({
		version: options.version,
		dataDir: path.join(folder, 'directus'),
		extensionsPath,
		database: { client: 'pg' },
		env: { LOG_LEVEL: 'warn', ...(options.extension === 'none' ? {} : { EXTENSIONS_MUST_LOAD: 'true' }), ...options.env },
		log,
	});
	const { readerRoleId } = await seedSchema(directus.url, directus.adminToken);
	if (options.extension === 'seed-guide') {
		await installSeedGuideHook(extensionsPath, { roleId: readerRoleId });
		await directus.restart();
	}
	const policies: Array<{ id: string; name: string }> = await adminApi(directus.url, directus.adminToken, '/policies?fields=id,name&limit=-1');
	const publicPolicy = policies.find((policy) => policy.name === '$t:public_label');
	if (!publicPolicy) throw new Error('no public policy found');
	await adminApi(directus.url, directus.adminToken, '/permissions', 'POST', { policy: publicPolicy.id, collection: 'articles', action: 'read', fields: ['*'], permissions: {}, validation: {} });
	const staticToken = `bench-static-${'s'.repeat(24)}`;
	await adminApi(directus.url, directus.adminToken, '/users', 'POST', { email: 'static-reader@example.com', role: readerRoleId, token: staticToken, status: 'active' });
	for (const clientId of options.provision ?? []) {
		const result = await runCli(['provision', clientId, '--role', READER_ROLE, '--json'], { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken });
		if (result.code !== 0) throw new Error(`provision ${clientId}: ${result.stderr}`);
	}
	const stop = directus.stop.bind(directus);
	directus.stop = async () => {
		await stop();
		removeRunFolder(folder);
	};
	return { directus, readerRoleId, staticToken };
}

/** Knex on the PostgreSQL database of `directus`, from the Directus install (the same knex and pg that Directus runs). */
export async function knexFor(version: string, directus: RunningDirectus): Promise<Knex> {
	if (directus.database.client !== 'pg') throw new Error('the benchmarks run on PostgreSQL');
	const { database } = directus.database;
	const installDir = await ensureDirectusInstalled(version, { log });
	const require = createRequire(path.join(installDir, 'node_modules', '@directus', 'api', 'package.json'));
	const knex = require('knex') as (config: Knex.Config) => Knex;
	return knex({ client: 'pg', connection: { host: '127.0.0.1', port: 5432, user: 'postgres', database }, pool: { min: 1, max: 10 } });
}

type Handler = (payload: unknown, meta: Record<string, unknown>, context: Record<string, unknown>) => Promise<unknown>;

export interface LoadedHook {
	/** The `authenticate` filter exactly as Directus calls it. */
	authenticate(token: string | undefined, ip?: string): Promise<Accountability>;
	readonly actions: Map<string, (meta: Record<string, unknown>) => void>;
	readonly logs: Array<{ level: string; message: string }>;
}

/** Registers extension/index.ts the way Directus does, with a fake registrar, and returns its handlers. */
export async function loadHook(env: Record<string, unknown>, database: Knex): Promise<LoadedHook> {
	const { default: hook } = (await import('../extension/index.js')) as { default: (register: unknown, context: unknown) => void };
	const filters = new Map<string, Handler>();
	const actions = new Map<string, (meta: Record<string, unknown>) => void>();
	const logs: Array<{ level: string; message: string }> = [];
	const logAt = (level: string) => (first: unknown, second?: unknown) => {
		logs.push({ level, message: typeof first === 'string' ? first : String(second) });
	};
	const logger = { info: logAt('info'), warn: logAt('warn'), error: logAt('error'), debug: () => undefined, trace: () => undefined };
	hook(
		{
			filter: (event: string, handler: Handler) => filters.set(event, handler),
			action: (event: string, handler: (meta: Record<string, unknown>) => void) => actions.set(event, handler),
			init: () => undefined,
			schedule: () => undefined,
			embed: () => undefined,
		},
		{ env, logger, database, services: {}, emitter: {}, getSchema: async () => ({}) },
	);
	const handler = filters.get('authenticate');
	if (!handler) throw new Error('the hook registered no authenticate filter');
	return {
		actions,
		logs,
		authenticate: (token, ip = '127.0.0.1') =>
			handler({ user: null, role: null, roles: [], admin: false, app: false, ip }, { req: { token } }, { database }) as Promise<Accountability>,
	};
}

/** Median and 99th percentile of samples in nanoseconds, as microseconds. */
export function percentiles(samplesNs: Float64Array | number[]): { median: number; p99: number; count: number } {
	const sorted = Float64Array.from(samplesNs).sort();
	const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN) / 1000;
	return { median: at(0.5), p99: at(0.99), count: sorted.length };
}

export function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A full garbage collection without --expose-gc on the command line. */
export const collectGarbage: () => void = (() => {
	v8.setFlagsFromString('--expose-gc');
	return vm.runInNewContext('gc') as () => void;
})();

export function heapUsedMiB(): number {
	collectGarbage();
	collectGarbage();
	return process.memoryUsage().heapUsed / 1024 / 1024;
}

export function table(rows: Array<Record<string, string | number>>): void {
	console.table(rows);
}
