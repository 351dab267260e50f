/**
 * A TCP proxy on 127.0.0.1 in front of a database (by default the machine's
 * PostgreSQL on 127.0.0.1:5432), for database faults without touching the
 * database itself:
 *
 * - `pass`: forwards both ways;
 * - `refuse`: stops listening, so new connections get ECONNREFUSED (existing ones keep working; see cut());
 * - `blackhole`: accepts connections and forwards nothing, on new and existing connections alike (a
 *   network partition: queries hang). Connections that lost bytes this way are cut when the mode changes;
 * - `delay`: forwards every chunk after `ms` milliseconds, in order.
 *
 * cut() closes every open connection (both sides) at once, whatever the mode.
 */
import { once } from 'node:events';
import net, { type AddressInfo, type Socket } from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'refuse' } | { kind: 'blackhole' } | { kind: 'delay'; ms: number };

export interface TcpProxy {
	readonly port: number;
	readonly mode: ProxyMode;
	/** Connections accepted since the start. */
	readonly accepted: number;
	/** Connections open right now. */
	readonly open: number;
	setMode(mode: ProxyMode): Promise<void>;
	/** Closes every open connection, both sides. */
	cut(): void;
	stop(): Promise<void>;
}

interface Pair {
	readonly client: Socket;
	readonly upstream: Socket | null;
	/** Bytes were dropped on this connection (blackhole): it can never carry its protocol again. */
	damaged: boolean;
}

export async function startTcpProxy(target: { host?: string; port?: number } = {}): Promise<TcpProxy> {
	const host = target.host ?? '127.0.0.1';
	const targetPort = target.port ?? 5432;
	const pairs = new Set<Pair>();
	let mode: ProxyMode = { kind: 'pass' };
	let accepted = 0;
	let port = 0;
	let listening = false;

	const server = net.createServer((client) => {
		accepted++;
		const blackholed = mode.kind === 'blackhole';
		const upstream = blackholed ? null : net.connect(targetPort, host);
		const pair: Pair = { client, upstream, damaged: blackholed };
		pairs.add(pair);
		const close = () => {
			pairs.delete(pair);
			client.destroy();
			upstream?.destroy();
		};
		client.on('error', close).on('close', close);
		upstream?.on('error', close).on('close', close);
		forward(pair, client, upstream);
		if (upstream) forward(pair, upstream, client);
	});

	/** Forwards `from` to `to` according to the mode at the time each chunk arrives. */
	function forward(pair: Pair, from: Socket, to: Socket | null): void {
		let queue = Promise.resolve();
		from.on('data', (chunk: Buffer) => {
			if (mode.kind === 'blackhole' || to === null) {
				pair.damaged = true;
				return;
			}
			if (mode.kind === 'delay') {
				const ms = mode.ms;
				queue = queue.then(() => new Promise((resolve) => setTimeout(resolve, ms))).then(() => {
					if (!to.destroyed) to.write(chunk);
				});
				return;
			}
			queue = queue.then(() => {
				if (!to.destroyed) to.write(chunk);
			});
		});
	}

	async function listen(): Promise<void> {
		if (listening) return;
		server.listen(port, '127.0.0.1');
		await once(server, 'listening');
		listening = true;
		port = (server.address() as AddressInfo).port;
	}

	/** Stops accepting at once; server.close() would wait for open connections, which cut() manages. */
	function unlisten(): void {
		if (!listening) return;
		listening = false;
		server.close();
	}

	function cut(): void {
		for (const pair of [...pairs]) {
			pairs.delete(pair);
			pair.client.destroy();
			pair.upstream?.destroy();
		}
	}

	await listen();

	return {
		get port() {
			return port;
		},
		get mode() {
			return mode;
		},
		get accepted() {
			return accepted;
		},
		get open() {
			return pairs.size;
		},
		async setMode(next: ProxyMode) {
			const previous = mode;
			mode = next;
			if (previous.kind === 'blackhole' && next.kind !== 'blackhole') {
				for (const pair of [...pairs]) {
					if (pair.damaged) {
						pairs.delete(pair);
						pair.client.destroy();
						pair.upstream?.destroy();
					}
				}
			}
			if (next.kind === 'refuse') unlisten();
			else await listen();
		},
		cut,
		async stop() {
			const closed = once(server, 'close');
			cut();
			if (listening) {
				listening = false;
				server.close();
			}
			if (server.listening || pairs.size > 0) await closed;
		},
	};
}
