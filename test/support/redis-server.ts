import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../dev/directus-runtime.js';
import { RedisConnection } from '../../extension/redis-connection.js';

/** A redis-server of the test's own on a free loopback port (never the machine's shared one), that the test may stop. */
export interface TestRedis {
	readonly port: number;
	readonly url: string;
	/** Stops this server (SIGTERM to the process this helper started). */
	stop(): Promise<void>;
	/** Starts it again on the same port. */
	start(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
	const port = await freePort();
	let child: ChildProcess | null = null;
	const killOnExit = () => child?.kill('SIGKILL');
	process.once('exit', killOnExit);

	const start = async (): Promise<void> => {
		const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
			stdio: 'ignore',
		});
		child = proc;
		const deadline = Date.now() + 10_000;
		for (;;) {
			if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${proc.exitCode}`);
			try {
				const connection = await RedisConnection.open({ host: '127.0.0.1', port, tls: false, username: null, password: null, label: '' }, { timeoutMs: 500 });
				await connection.command(['PING']);
				connection.destroy();
				return;
			} catch (error) {
				if (Date.now() > deadline) throw error;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		}
	};

	const stop = async (): Promise<void> => {
		const proc = child;
		child = null;
		if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
		const exited = once(proc, 'exit');
		proc.kill('SIGTERM');
		await exited;
	};

	await start();
	return {
		port,
		url: `redis://127.0.0.1:${port}`,
		start,
		async stop() {
			await stop();
		},
	};
}
