/**
 * Installs (once, cached) and runs real Directus instances for the demo and the end-to-end tests.
 *
 * - Installs live in `$BCC_DIRECTUS_CACHE` (default `~/.cache/bcc-directus`) as `directus-<version>`,
 *   marked complete by a `.ready` file. An install runs in a temporary sibling folder and is renamed
 *   into place at the end, under a lock, so a killed install never looks complete.
 * - Directus runs under Node >= 22 (this process if it is 22+, else the project's `node@22` devDependency).
 * - Each Directus child process watches its parent and exits when the parent is gone, so a killed
 *   test run leaves no orphan servers behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIRECTUS_VERSIONS = ['12.4.0', '11.17.4'] as const;

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_NODE_VERSION = '22.23.3';
const INSTALL_LOCK_TIMEOUT_MS = 30 * 60_000;
const INSTALL_LOCK_STALE_MS = 45 * 60_000;

type Log = (line: string) => void;

// ---------------------------------------------------------------------------------------------
// Node 22 and paths
// ---------------------------------------------------------------------------------------------

/** Folder holding the cached Directus installs. */
export function directusCacheRoot(): string {
	return process.env['BCC_DIRECTUS_CACHE'] ?? path.join(os.homedir(), '.cache', 'bcc-directus');
}

/** Folder of the install of one Directus version (complete only when it holds `.ready`). */
export function directusInstallDir(version: string): string {
	return path.join(directusCacheRoot(), `directus-${version}`);
}

/** A Node >= 22 executable: this process's if it is 22+, else the project's `node@22` devDependency. */
export function node22Path(): string {
	const major = Number(process.versions.node.split('.')[0]);
	if (major >= 22) return process.execPath;
	const candidate = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
	if (!fs.existsSync(candidate)) {
		throw new Error(
			`Directus needs Node >= 22; this is Node ${process.versions.node} and ${candidate} does not exist (run npm install)`,
		);
	}
	return candidate;
}

/**
 * Folder with `include/node` headers matching the given node executable, if it has one: its own prefix
 * (a system install) or, for the npm package `node` (whose bin/node is a hard link, not a symlink),
 * the platform package `node_modules/node/node_modules/node-<platform>-<arch>`.
 */
function nodeHeadersDir(nodeExecutable: string): string | undefined {
	let real: string;
	try {
		real = fs.realpathSync(nodeExecutable);
	} catch {
		return undefined;
	}
	const prefix = path.dirname(path.dirname(real));
	const candidates = [prefix, path.join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`)];
	const major = nodeVersionOf(nodeExecutable).split('.')[0];
	return candidates.find((dir) => {
		try {
			const header = fs.readFileSync(path.join(dir, 'include', 'node', 'node_version.h'), 'utf8');
			return header.match(/#define NODE_MAJOR_VERSION (\d+)/)?.[1] === major;
		} catch {
			return false;
		}
	});
}

function projectNodeVersion(): string {
	try {
		const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
			devDependencies?: Record<string, string>;
		};
		const v = pkg.devDependencies?.['node'];
		if (v && /^\d+\.\d+\.\d+$/.test(v)) return v;
	} catch {
		// fall through
	}
	return DEFAULT_NODE_VERSION;
}

function tail(text: string, lines = 60): string {
	return text.split('\n').slice(-lines).join('\n');
}

function readTail(file: string, lines = 60): string {
	try {
		return tail(fs.readFileSync(file, 'utf8'), lines);
	} catch {
		return '(no log)';
	}
}

function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Install
// ---------------------------------------------------------------------------------------------

interface LockOwner {
	pid: number;
	host: string;
	startedAt: number;
}

async function acquireLock(lockDir: string, log: Log): Promise<() => void> {
	const deadline = Date.now() + INSTALL_LOCK_TIMEOUT_MS;
	let announced = false;
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			const owner: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: Date.now() };
			fs.writeFileSync(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
			return () => fs.rmSync(lockDir, { recursive: true, force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		if (lockIsStale(lockDir)) {
			log(`Removing stale install lock ${lockDir}`);
			fs.rmSync(lockDir, { recursive: true, force: true });
			continue;
		}
		if (Date.now() > deadline) throw new Error(`Timed out waiting for install lock ${lockDir}`);
		if (!announced) {
			log(`Waiting for another process that is installing (lock ${lockDir})...`);
			announced = true;
		}
		await sleep(1000);
	}
}

function lockIsStale(lockDir: string): boolean {
	let owner: LockOwner | undefined;
	try {
		owner = JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8')) as LockOwner;
	} catch {
		// Lock dir without a readable owner: stale only if it is old (the owner may be writing it right now).
		try {
			return Date.now() - fs.statSync(lockDir).mtimeMs > 60_000;
		} catch {
			return false;
		}
	}
	if (owner.host === os.hostname() && !pidAlive(owner.pid)) return true;
	return Date.now() - owner.startedAt > INSTALL_LOCK_STALE_MS;
}

function installedDirectusVersion(dir: string): string | undefined {
	try {
		const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'directus', 'package.json'), 'utf8')) as {
			version?: string;
		};
		return pkg.version;
	} catch {
		return undefined;
	}
}

/** Whether isolated-vm (Directus's only non-N-API native addon) loads and works under Node 22 in `dir`. */
function isolatedVmWorks(dir: string, node: string): { ok: boolean; output: string } {
	const result = spawnSync(
		node,
		['--no-node-snapshot', '-e', "const ivm = require('isolated-vm'); new ivm.Isolate({ memoryLimit: 8 }).dispose(); console.log('isolated-vm ok')"],
		{ cwd: dir, encoding: 'utf8', timeout: 60_000 },
	);
	return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/** Rebuilds isolated-vm with Node 22 on PATH and the headers of the install's own node@22. */
async function rebuildIsolatedVm(dir: string, node: string, logFile: string, log: Log): Promise<void> {
	const headers = nodeHeadersDir(path.join(dir, 'node_modules', 'node', 'bin', 'node')) ?? nodeHeadersDir(node);
	if (!headers) throw new Error(`No Node 22 headers found to rebuild isolated-vm in ${dir}`);
	log('Rebuilding isolated-vm for Node 22 (a few minutes)...');
	const env: NodeJS.ProcessEnv = {
		...process.env,
		PATH: `${path.join(headers, 'bin')}${path.delimiter}${process.env['PATH'] ?? ''}`,
		npm_config_nodedir: headers,
	};
	await runLogged('npm', ['rebuild', 'isolated-vm'], { cwd: dir, env, logFile, log, label: 'isolated-vm rebuild' });
}

async function runLogged(
	command: string,
	args: string[],
	options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; log: Log; label: string },
): Promise<void> {
	const started = Date.now();
	const fd = fs.openSync(options.logFile, 'a');
	fs.writeSync(fd, `\n--- ${new Date().toISOString()} ${command} ${args.join(' ')}\n`);
	const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd] });
	fs.closeSync(fd);
	const killChild = () => child.kill('SIGKILL');
	process.once('exit', killChild);
	const ticker = setInterval(() => {
		options.log(`  ...${options.label} still running (${Math.round((Date.now() - started) / 1000)} s)`);
	}, 30_000);
	try {
		const code = await new Promise<number | null>((resolve, reject) => {
			child.once('error', reject);
			child.once('exit', (c) => resolve(c));
		});
		if (code !== 0) {
			throw new Error(`${options.label} failed (exit code ${code}); end of ${options.logFile}:\n${readTail(options.logFile)}`);
		}
		options.log(`  ${options.label} done in ${Math.round((Date.now() - started) / 1000)} s`);
	} finally {
		clearInterval(ticker);
		process.removeListener('exit', killChild);
	}
}

/** Makes sure `dir` holds a working install of `version`; returns false if it does not and cannot be fixed. */
async function verifyInstall(dir: string, version: string, node: string, logFile: string, log: Log): Promise<boolean> {
	const found = installedDirectusVersion(dir);
	if (found !== version) {
		log(`  ${dir} holds directus ${found ?? '(none)'}, expected ${version}`);
		return false;
	}
	if (!fs.existsSync(path.join(dir, 'node_modules', '@directus', 'api', 'dist', 'cli', 'run.js'))) {
		log(`  ${dir} has no @directus/api CLI`);
		return false;
	}
	let check = isolatedVmWorks(dir, node);
	if (!check.ok) {
		log(`  isolated-vm does not load under Node ${nodeVersionOf(node)}: ${firstLine(check.output)}`);
		await rebuildIsolatedVm(dir, node, logFile, log);
		check = isolatedVmWorks(dir, node);
		if (!check.ok) {
			log(`  isolated-vm still fails after the rebuild: ${check.output.trim()}`);
			return false;
		}
	}
	return true;
}

function firstLine(text: string): string {
	return text.split('\n').find((line) => /Error|error:/.test(line))?.trim() ?? text.trim().split('\n')[0] ?? '';
}

const nodeVersions = new Map<string, string>();
function nodeVersionOf(node: string): string {
	let v = nodeVersions.get(node);
	if (!v) {
		v = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
		nodeVersions.set(node, v);
	}
	return v;
}

function writeMarker(dir: string, version: string, node: string): void {
	fs.writeFileSync(
		path.join(dir, '.ready'),
		`${JSON.stringify({ directus: version, node: nodeVersionOf(node), at: new Date().toISOString() }, null, '\t')}\n`,
	);
}

/**
 * Installs `directus@<version>` (plus `node@22`) into the cache once and returns the install folder.
 * Returns at once when the install is already marked complete.
 */
export async function ensureDirectusInstalled(version: string, options: { log?: Log } = {}): Promise<string> {
	if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`Directus version must be exact (x.y.z), got "${version}"`);
	const log = options.log ?? ((line: string) => console.log(line));
	const finalDir = directusInstallDir(version);
	const marker = path.join(finalDir, '.ready');
	if (fs.existsSync(marker)) return finalDir;

	const root = directusCacheRoot();
	fs.mkdirSync(root, { recursive: true });
	const release = await acquireLock(`${finalDir}.lock`, log);
	try {
		if (fs.existsSync(marker)) return finalDir;
		const node = node22Path();

		// An install without a marker (made by hand, or interrupted after the rename): adopt it if it works.
		if (fs.existsSync(finalDir)) {
			log(`Checking the unmarked Directus ${version} install in ${finalDir}...`);
			if (await verifyInstall(finalDir, version, node, path.join(finalDir, 'install.log'), log)) {
				writeMarker(finalDir, version, node);
				log(`Adopted the existing Directus ${version} install.`);
				return finalDir;
			}
			log(`Discarding the unusable install in ${finalDir}.`);
			const trash = path.join(root, `.trash-directus-${version}-${process.pid}-${Date.now()}`);
			fs.renameSync(finalDir, trash);
			fs.rmSync(trash, { recursive: true, force: true });
		}

		// Remove leftovers of killed installs of this version.
		for (const entry of fs.readdirSync(root)) {
			if (entry.startsWith(`.directus-${version}.tmp-`) || entry.startsWith(`.trash-directus-${version}-`)) {
				fs.rmSync(path.join(root, entry), { recursive: true, force: true });
			}
		}

		const tmpDir = path.join(root, `.directus-${version}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
		fs.mkdirSync(tmpDir);
		const logFile = path.join(tmpDir, 'install.log');
		fs.writeFileSync(
			path.join(tmpDir, 'package.json'),
			`${JSON.stringify(
				{
					name: `bcc-directus-${version.replaceAll('.', '-')}`,
					private: true,
					dependencies: { directus: version, node: projectNodeVersion() },
				},
				null,
				'\t',
			)}\n`,
		);

		const started = Date.now();
		log(`Installing Directus ${version} into ${finalDir} (about 3 minutes, once)...`);
		// Native addons compile for Node 22 when its headers are at hand (isolated-vm is not N-API).
		const headers = nodeHeadersDir(node);
		const env: NodeJS.ProcessEnv = {
			...process.env,
			PATH: `${path.dirname(node)}${path.delimiter}${process.env['PATH'] ?? ''}`,
			...(headers ? { npm_config_nodedir: headers } : {}),
		};
		await runLogged('npm', ['install', '--no-audit', '--no-fund', '--save-exact'], {
			cwd: tmpDir,
			env,
			logFile,
			log,
			label: `npm install directus@${version}`,
		});
		if (!(await verifyInstall(tmpDir, version, node, logFile, log))) {
			throw new Error(`Directus ${version} installed into ${tmpDir} but does not work; see ${logFile}:\n${readTail(logFile)}`);
		}
		writeMarker(tmpDir, version, node);
		fs.renameSync(tmpDir, finalDir);
		log(`Directus ${version} installed in ${Math.round((Date.now() - started) / 1000)} s.`);
		return finalDir;
	} finally {
		release();
	}
}

// ---------------------------------------------------------------------------------------------
// Running Directus
// ---------------------------------------------------------------------------------------------

export interface StartDirectusOptions {
	/** Exact Directus version, e.g. '12.4.0'. Installed on first use. */
	version: string;
	/** Created if missing; holds package.json {private:true}, the SQLite db, uploads/ and directus.log. */
	dataDir: string;
	/** EXTENSIONS_PATH. */
	extensionsPath: string;
	/** Default: a free port on 127.0.0.1. */
	port?: number;
	/**
	 * Default sqlite3 (`<dataDir>/database.sqlite`). pg: on 127.0.0.1:5432 as user postgres; the database
	 * (random name `bcc_<hex>` if not given) is created if missing, and dropped on stop() if this call
	 * created it, unless keepDatabase.
	 */
	database?: { client: 'sqlite3' } | { client: 'pg'; database?: string; keepDatabase?: boolean };
	/** Extra env, applied last (can override every default, e.g. LOG_LEVEL). */
	env?: Record<string, string>;
	/** Static token of the bootstrap admin; random if absent. */
	adminToken?: string;
	/** Default admin@example.com. */
	adminEmail?: string;
	/** Random if absent. */
	adminPassword?: string;
	/** Redis URL (e.g. redis://127.0.0.1:6379): bus, locks, permission cache and synchronization use it. */
	redis?: string;
	/** SECRET; random 32-byte hex if absent (pass the same one to instances sharing a database). */
	secret?: string;
	/** Skip `directus bootstrap` (a second instance on an already bootstrapped database). */
	skipBootstrap?: boolean;
	/** Log file; default `<dataDir>/directus.log` (give instances sharing a dataDir their own). */
	logFile?: string;
	/** How long to wait for /server/ping; default 90 s. */
	startTimeoutMs?: number;
	/** Progress lines (install, start); default console.log. */
	log?: Log;
}

export interface RunningDirectus {
	url: string;
	port: number;
	adminToken: string;
	adminEmail: string;
	adminPassword: string;
	secret: string;
	/** The env the Directus process got. */
	env: Record<string, string>;
	/** The database: sqlite file or pg database name. */
	database: { client: 'sqlite3'; filename: string } | { client: 'pg'; database: string };
	logFile: string;
	readLog(): string;
	/** Stops the process (SIGTERM, SIGKILL after 5 s) and drops an owned pg database. */
	stop(): Promise<void>;
	/** Stops and starts the process again (no bootstrap), same port and env. */
	restart(): Promise<void>;
	/** The current Directus process id. */
	readonly pid: number | undefined;
}

const runningChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.on('exit', () => {
		for (const child of runningChildren) killGroup(child, 'SIGKILL');
	});
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			// already gone
		}
	}
}

/**
 * Preloaded into every Directus process: exits when the parent (this test/demo process) disappears,
 * e.g. when it was SIGKILLed, so no Directus outlives the run that started it.
 */
const WATCHDOG =
	'data:text/javascript,' +
	encodeURIComponent(
		'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.exit(1); }, 1000).unref();',
	);

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => {
				if (address && typeof address === 'object') resolve(address.port);
				else reject(new Error('no port'));
			});
		});
	});
}

interface PgClient {
	connect(): Promise<void>;
	query(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
	end(): Promise<void>;
}

async function withPg<T>(installDir: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
	const require = createRequire(path.join(installDir, 'package.json'));
	const pg = require('pg') as { Client: new (config: Record<string, unknown>) => PgClient };
	const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
	await client.connect();
	try {
		return await fn(client);
	} finally {
		await client.end();
	}
}

function assertIdentifier(name: string): void {
	if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Invalid PostgreSQL database name "${name}"`);
}

async function createPgDatabase(installDir: string, name: string): Promise<boolean> {
	assertIdentifier(name);
	return withPg(installDir, async (client) => {
		const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
		if (rows.length > 0) return false;
		await client.query(`CREATE DATABASE "${name}"`);
		return true;
	});
}

async function dropPgDatabase(installDir: string, name: string): Promise<void> {
	assertIdentifier(name);
	await withPg(installDir, async (client) => {
		await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
	});
}

async function ping(url: string): Promise<boolean> {
	try {
		const res = await fetch(`${url}/server/ping`, { signal: AbortSignal.timeout(2000) });
		const body = await res.text();
		return res.ok && body.trim() === 'pong';
	} catch {
		return false;
	}
}

export async function startDirectus(options: StartDirectusOptions): Promise<RunningDirectus> {
	const log = options.log ?? ((line: string) => console.log(line));
	const installDir = await ensureDirectusInstalled(options.version, { log });
	const node = node22Path();
	const cli = path.join(installDir, 'node_modules', '@directus', 'api', 'dist', 'cli', 'run.js');

	const dataDir = path.resolve(options.dataDir);
	fs.mkdirSync(path.join(dataDir, 'uploads'), { recursive: true });
	const pkgFile = path.join(dataDir, 'package.json');
	if (!fs.existsSync(pkgFile)) {
		fs.writeFileSync(pkgFile, `${JSON.stringify({ name: 'bcc-directus-data', private: true }, null, '\t')}\n`);
	}
	const logFile = path.resolve(options.logFile ?? path.join(dataDir, 'directus.log'));

	const port = options.port ?? (await freePort());
	const url = `http://127.0.0.1:${port}`;
	const adminToken = options.adminToken ?? randomBytes(24).toString('hex');
	const adminEmail = options.adminEmail ?? 'admin@example.com';
	const adminPassword = options.adminPassword ?? randomBytes(12).toString('hex');
	const secret = options.secret ?? randomBytes(32).toString('hex');

	let database: RunningDirectus['database'];
	let dbEnv: Record<string, string>;
	let ownedPgDatabase: string | undefined;
	if (options.database?.client === 'pg') {
		const name = options.database.database ?? `bcc_${randomBytes(6).toString('hex')}`;
		const created = await createPgDatabase(installDir, name);
		if (created && !options.database.keepDatabase) ownedPgDatabase = name;
		database = { client: 'pg', database: name };
		dbEnv = { DB_CLIENT: 'pg', DB_HOST: '127.0.0.1', DB_PORT: '5432', DB_DATABASE: name, DB_USER: 'postgres' };
	} else {
		const filename = path.join(dataDir, 'database.sqlite');
		database = { client: 'sqlite3', filename };
		dbEnv = { DB_CLIENT: 'sqlite3', DB_FILENAME: filename };
	}

	const env: Record<string, string> = {
		PATH: `${path.dirname(node)}${path.delimiter}${process.env['PATH'] ?? '/usr/bin:/bin'}`,
		HOME: process.env['HOME'] ?? os.homedir(),
		...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}),
		// A config file would override the env; point Directus at one that does not exist.
		CONFIG_PATH: path.join(dataDir, 'directus.env'),
		...dbEnv,
		SECRET: secret,
		ADMIN_EMAIL: adminEmail,
		ADMIN_PASSWORD: adminPassword,
		ADMIN_TOKEN: adminToken,
		HOST: '127.0.0.1',
		PORT: String(port),
		PUBLIC_URL: url,
		EXTENSIONS_PATH: path.resolve(options.extensionsPath),
		EXTENSIONS_AUTO_RELOAD: 'false',
		STORAGE_LOCATIONS: 'local',
		STORAGE_LOCAL_ROOT: path.join(dataDir, 'uploads'),
		WEBSOCKETS_ENABLED: 'true',
		WEBSOCKETS_GRAPHQL_ENABLED: 'true',
		WEBSOCKETS_REST_ENABLED: 'true',
		TELEMETRY: 'false',
		LOG_STYLE: 'raw',
		LOG_LEVEL: 'info',
		RATE_LIMITER_ENABLED: 'false',
		CACHE_ENABLED: 'false',
		...(options.redis
			? {
					REDIS: options.redis,
					REDIS_ENABLED: 'true',
					SYNCHRONIZATION_STORE: 'redis',
					CACHE_STORE: 'redis',
					RATE_LIMITER_STORE: 'redis',
				}
			: {}),
		...options.env,
	};

	installExitHook();
	let child: ChildProcess | undefined;

	const spawnDirectus = (command: 'bootstrap' | 'start'): ChildProcess => {
		const fd = fs.openSync(logFile, 'a');
		fs.writeSync(fd, `\n--- bcc: directus ${options.version} ${command} on port ${port} at ${new Date().toISOString()}\n`);
		// Run @directus/api's CLI directly: directus/cli.js first queries registry.npmjs.org for updates.
		// isolated-vm (sandboxed extensions, flows' run-script) asks for --no-node-snapshot on Node >= 20.
		const proc = spawn(node, ['--no-node-snapshot', '--import', WATCHDOG, cli, command], {
			cwd: dataDir,
			env,
			stdio: ['ignore', fd, fd],
			detached: true,
		});
		fs.closeSync(fd);
		runningChildren.add(proc);
		proc.once('exit', () => runningChildren.delete(proc));
		return proc;
	};

	const waitExit = (proc: ChildProcess): Promise<number | null> =>
		proc.exitCode !== null || proc.signalCode !== null
			? Promise.resolve(proc.exitCode)
			: new Promise((resolve) => proc.once('exit', (code) => resolve(code)));

	const stopProcess = async (proc: ChildProcess | undefined): Promise<void> => {
		if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
		const exited = waitExit(proc);
		killGroup(proc, 'SIGTERM');
		const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), 5000);
		await exited;
		clearTimeout(timer);
		// The process group may still hold grandchildren.
		if (proc.pid !== undefined) {
			try {
				process.kill(-proc.pid, 'SIGKILL');
			} catch {
				// no such group: nothing left
			}
		}
	};

	const startServer = async (): Promise<void> => {
		const started = Date.now();
		const proc = spawnDirectus('start');
		child = proc;
		const timeoutMs = options.startTimeoutMs ?? 90_000;
		let exitCode: number | null | undefined;
		let exitSignal: NodeJS.Signals | null = null;
		proc.once('exit', (code, signal) => {
			exitCode = code;
			exitSignal = signal;
		});
		while (!(await ping(url))) {
			if (exitCode !== undefined || exitSignal) {
				throw new Error(
					`Directus ${options.version} exited during start (code ${exitCode}, signal ${exitSignal}); end of ${logFile}:\n${readTail(logFile)}`,
				);
			}
			if (Date.now() - started > timeoutMs) {
				await stopProcess(proc);
				throw new Error(
					`Directus ${options.version} did not answer ${url}/server/ping within ${timeoutMs} ms; end of ${logFile}:\n${readTail(logFile)}`,
				);
			}
			await sleep(200);
		}
		log(`Directus ${options.version} listening on ${url} (pid ${proc.pid}, started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
	};

	const dropOwnedDatabase = async (): Promise<void> => {
		if (ownedPgDatabase) {
			const name = ownedPgDatabase;
			ownedPgDatabase = undefined;
			await dropPgDatabase(installDir, name);
		}
	};

	try {
		if (!options.skipBootstrap) {
			const started = Date.now();
			const proc = spawnDirectus('bootstrap');
			const code = await waitExit(proc);
			if (code !== 0) {
				throw new Error(`directus bootstrap failed (exit code ${code}); end of ${logFile}:\n${readTail(logFile)}`);
			}
			log(`Directus ${options.version} bootstrapped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
		}
		await startServer();
	} catch (error) {
		await stopProcess(child);
		await dropOwnedDatabase().catch(() => undefined);
		throw error;
	}

	return {
		url,
		port,
		adminToken,
		adminEmail,
		adminPassword,
		secret,
		env,
		database,
		logFile,
		get pid() {
			return child?.pid;
		},
		readLog: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
		async stop() {
			await stopProcess(child);
			await dropOwnedDatabase();
		},
		async restart() {
			await stopProcess(child);
			try {
				await startServer();
			} catch (error) {
				await stopProcess(child);
				throw error;
			}
		},
	};
}
