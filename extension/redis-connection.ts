import net from 'node:net';
import tls from 'node:tls';
import { ENV, type Environment } from './core/config.js';
import { ConfigError } from './core/errors.js';

/**
 * Just enough of the Redis protocol (RESP2) for publish/subscribe: AUTH, SUBSCRIBE,
 * PUBLISH and PING over one socket. About 200 lines instead of bundling a full
 * client (ioredis and its dependencies) into the hook.
 */

/** Where Redis is, as Directus's own REDIS / REDIS_* variables say. Never logged whole: `label` has no password. */
export interface RedisTarget {
	readonly host: string;
	readonly port: number;
	readonly tls: boolean;
	readonly username: string | null;
	readonly password: string | null;
	/** host:port, for logs. */
	readonly label: string;
}

export type RedisSettings =
	| { kind: 'none'; why: string }
	| { kind: 'unsupported'; why: string }
	| { kind: 'redis'; target: RedisTarget; namespace: string };

/**
 * The Redis the hook uses for invalidation messages.
 *
 * BCC_AUTH_REDIS, when set, decides: a redis:// or rediss:// URL, or `false` for
 * none (for Directus set-ups this client cannot speak to, such as Sentinel or
 * Cluster, point it at a plain Redis endpoint, or turn it off). Otherwise the
 * hook follows Directus's own settings (api/src/redis/utils/redis-config-available.ts):
 * REDIS_ENABLED=false turns Redis off; else REDIS (a URL) or REDIS_HOST/REDIS_PORT/
 * REDIS_USERNAME/REDIS_PASSWORD. The channel lives under REDIS_BUS_NAMESPACE like
 * Directus's own bus, so deployments sharing one Redis stay apart.
 */
export function redisSettingsFromEnv(env: Environment): RedisSettings {
	const namespace = text(env['REDIS_BUS_NAMESPACE']) ?? 'directus:bus';
	const own = text(env[ENV.redis]);
	if (own !== null) {
		if (own.toLowerCase() === 'false') return { kind: 'none', why: `${ENV.redis} is false` };
		const target = targetFromUrl(own);
		if (typeof target === 'string') throw new ConfigError(ENV.redis, `${target}; use a redis:// or rediss:// URL, or false`);
		return { kind: 'redis', namespace, target };
	}
	const keys = Object.keys(env).filter((key) => key === 'REDIS' || key.startsWith('REDIS_'));
	if ('REDIS_ENABLED' in env) {
		if (env['REDIS_ENABLED'] !== true && String(env['REDIS_ENABLED']).toLowerCase() !== 'true') return { kind: 'none', why: 'REDIS_ENABLED is false' };
	} else if (keys.length === 0) {
		return { kind: 'none', why: 'no Redis configured' };
	}
	const url = text(env['REDIS']);
	if (url !== null) {
		const target = targetFromUrl(url);
		return typeof target === 'string' ? { kind: 'unsupported', why: `REDIS: ${target}` } : { kind: 'redis', namespace, target };
	}
	for (const unsupported of ['REDIS_SENTINELS', 'REDIS_CLUSTER_NODES', 'REDIS_PATH', 'REDIS_TLS']) {
		if (unsupported in env) return { kind: 'unsupported', why: `${unsupported} is not supported by the hook's Redis client (set ${ENV.redis})` };
	}
	const host = text(env['REDIS_HOST']) ?? 'localhost';
	const port = Number(text(env['REDIS_PORT']) ?? 6379);
	if (!Number.isInteger(port) || port < 1 || port > 65535) return { kind: 'unsupported', why: 'REDIS_PORT is not a port number' };
	return {
		kind: 'redis',
		namespace,
		target: { host, port, tls: false, username: text(env['REDIS_USERNAME']), password: text(env['REDIS_PASSWORD']), label: `${host}:${port}` },
	};
}

/** A target from a redis:// or rediss:// URL, or why not (never quoting the URL: it may hold a password). */
function targetFromUrl(value: string): RedisTarget | string {
	let parsed: URL;
	try {
		parsed = new URL(value);
	} catch {
		return 'not a URL';
	}
	if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `uses ${parsed.protocol}, not redis: or rediss:`;
	const port = parsed.port === '' ? 6379 : Number(parsed.port);
	return {
		host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
		port,
		tls: parsed.protocol === 'rediss:',
		username: parsed.username === '' ? null : decodeURIComponent(parsed.username),
		password: parsed.password === '' ? null : decodeURIComponent(parsed.password),
		label: `${parsed.hostname || 'localhost'}:${port}`,
	};
}

function text(value: unknown): string | null {
	if (value === undefined || value === null) return null;
	const result = String(value).trim();
	return result === '' ? null : result;
}

export class RedisReplyError extends Error {
	override readonly name = 'RedisReplyError';
}

export type RespValue = string | number | null | RedisReplyError | RespValue[];

/** Largest reply we buffer; anything bigger is a protocol fault (our messages are a few hundred bytes). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Incremental RESP2 parser: feed it chunks, it returns the complete values. */
export class RespParser {
	private buffer: Buffer = Buffer.alloc(0);

	push(chunk: Buffer): RespValue[] {
		this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
		if (this.buffer.length > MAX_BUFFERED_BYTES) throw new Error('Redis reply too large');
		const values: RespValue[] = [];
		let offset = 0;
		for (;;) {
			const parsed = parseValue(this.buffer, offset);
			if (parsed === undefined) break;
			values.push(parsed[0]);
			offset = parsed[1];
		}
		this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
		return values;
	}
}

/** One value at `offset`: [value, next offset], or undefined when more bytes are needed. */
function parseValue(buffer: Buffer, offset: number): [RespValue, number] | undefined {
	if (offset >= buffer.length) return undefined;
	const lineEnd = buffer.indexOf('\r\n', offset);
	if (lineEnd === -1) return undefined;
	const type = String.fromCharCode(buffer[offset] as number);
	const line = buffer.toString('utf8', offset + 1, lineEnd);
	const next = lineEnd + 2;
	switch (type) {
		case '+':
			return [line, next];
		case '-':
			return [new RedisReplyError(line), next];
		case ':':
			return [Number(line), next];
		case '$': {
			const length = Number(line);
			if (!Number.isInteger(length) || length < -1) throw new Error('bad bulk string length');
			if (length === -1) return [null, next];
			if (buffer.length < next + length + 2) return undefined;
			return [buffer.toString('utf8', next, next + length), next + length + 2];
		}
		case '*': {
			const count = Number(line);
			if (!Number.isInteger(count) || count < -1) throw new Error('bad array length');
			if (count === -1) return [null, next];
			const items: RespValue[] = [];
			let position = next;
			for (let index = 0; index < count; index++) {
				const item = parseValue(buffer, position);
				if (item === undefined) return undefined;
				items.push(item[0]);
				position = item[1];
			}
			return [items, position];
		}
		default:
			throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
	}
}

export function encodeCommand(args: readonly string[]): Buffer {
	const parts: string[] = [`*${args.length}\r\n`];
	for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
	return Buffer.from(parts.join(''));
}

interface Pending {
	resolve(value: RespValue): void;
	reject(error: Error): void;
	timer: NodeJS.Timeout;
}

/**
 * One connection. Replies are matched to commands in order; a `message` push
 * (published on a subscribed channel) goes to `onMessage` instead. Any fault
 * (timeout, protocol error, socket error) destroys the connection: `closed`
 * then resolves, with the reason.
 */
export class RedisConnection {
	private readonly parser = new RespParser();
	private readonly pending: Pending[] = [];
	private closeReason: Error | null = null;
	/** Resolves once, with why the connection ended. */
	readonly closed: Promise<Error>;
	onMessage: (channel: string, message: string) => void = () => undefined;

	private constructor(
		private readonly socket: net.Socket,
		private readonly commandTimeoutMs: number,
	) {
		let markClosed: (reason: Error) => void = () => undefined;
		this.closed = new Promise((resolve) => {
			markClosed = resolve;
		});
		socket.on('data', (chunk: Buffer) => {
			let values: RespValue[];
			try {
				values = this.parser.push(chunk);
			} catch (error) {
				this.destroy(error instanceof Error ? error : new Error(String(error)));
				return;
			}
			for (const value of values) this.dispatch(value);
		});
		socket.on('error', (error) => this.destroy(error));
		socket.on('close', () => {
			this.destroy(new Error('connection closed'));
			markClosed(this.closeReason as Error);
		});
	}

	/** Connects (TCP or TLS), authenticates when a password is set, within `timeoutMs`. */
	static async open(target: RedisTarget, options: { timeoutMs: number }): Promise<RedisConnection> {
		const socket = await new Promise<net.Socket>((resolve, reject) => {
			const onConnected = () => {
				clearTimeout(timer);
				socket.removeListener('error', onError);
				resolve(socket);
			};
			const onError = (error: Error) => {
				clearTimeout(timer);
				socket.destroy();
				reject(error);
			};
			const socket = target.tls
				? tls.connect({ host: target.host, port: target.port, ...(net.isIP(target.host) === 0 ? { servername: target.host } : {}) }, onConnected)
				: net.connect({ host: target.host, port: target.port }, onConnected);
			const timer = setTimeout(() => onError(new Error(`no connection within ${options.timeoutMs} ms`)), options.timeoutMs);
			socket.once('error', onError);
		});
		socket.setNoDelay(true);
		socket.setKeepAlive(true, 10_000);
		const connection = new RedisConnection(socket, options.timeoutMs);
		if (target.password !== null) {
			const args = target.username === null ? ['AUTH', target.password] : ['AUTH', target.username, target.password];
			try {
				await connection.command(args);
			} catch (error) {
				connection.destroy(new Error('authentication failed'));
				throw new Error(`authentication failed: ${error instanceof Error ? error.message.slice(0, 100) : String(error)}`);
			}
		}
		return connection;
	}

	get isOpen(): boolean {
		return this.closeReason === null;
	}

	/** Sends a command; resolves with its reply, rejects on an error reply or when no reply comes in time. */
	command(args: readonly string[]): Promise<RespValue> {
		if (this.closeReason !== null) return Promise.reject(this.closeReason);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => this.destroy(new Error(`no reply to ${args[0]} within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
			this.pending.push({
				resolve: (value) => (value instanceof RedisReplyError ? reject(value) : resolve(value)),
				reject,
				timer,
			});
			this.socket.write(encodeCommand(args));
		});
	}

	/** Lets the process exit while only this connection is open. */
	unref(): void {
		this.socket.unref();
	}

	destroy(reason: Error = new Error('closed')): void {
		if (this.closeReason === null) this.closeReason = reason;
		for (const pending of this.pending.splice(0)) {
			clearTimeout(pending.timer);
			pending.reject(this.closeReason);
		}
		this.socket.destroy();
	}

	private dispatch(value: RespValue): void {
		if (Array.isArray(value) && value[0] === 'message' && typeof value[1] === 'string' && typeof value[2] === 'string') {
			this.onMessage(value[1], value[2]);
			return;
		}
		const pending = this.pending.shift();
		if (pending === undefined) {
			this.destroy(new Error('unexpected reply from Redis'));
			return;
		}
		clearTimeout(pending.timer);
		pending.resolve(value);
	}
}
