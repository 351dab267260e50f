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

/**
 * Bounds on what Redis may send us, checked at each header line before anything is buffered. Our
 * replies are small: `message` and `subscribe` pushes are arrays of 3 items, the largest message we
 * publish is about 20 KB. Anything beyond these is a protocol fault: the connection is dropped, and
 * the bus reconnects and resyncs.
 */
export const RESP_LIMITS = {
	/** Items in one array. */
	maxArrayItems: 8,
	/** Arrays inside arrays (a push is one level). */
	maxDepth: 2,
	/** Bytes of one bulk string. */
	maxBulkBytes: 64 * 1024,
	/** Bytes of one line: a simple string, an error, an integer or a header. */
	maxLineBytes: 4 * 1024,
} as const;

/** An array being filled. */
interface OpenArray {
	readonly items: RespValue[];
	readonly count: number;
}

/**
 * Incremental RESP2 parser: feed it chunks, it returns the complete values.
 *
 * Each byte is looked at once: a line is searched for its end only in the bytes
 * that arrived since, a bulk string is collected as a list of chunks and joined
 * once when complete, and an array is filled item by item. The limits above
 * are checked at the header line, so a hostile reply is refused before it is buffered.
 */
export class RespParser {
	/** The arrays being filled, innermost last. */
	private readonly open: OpenArray[] = [];
	/** The bytes of an unfinished line (without its end). */
	private line: Buffer[] = [];
	private lineBytes = 0;
	/** An unfinished bulk string: its length and the bytes so far (with the final CRLF). */
	private bulk: { readonly length: number; readonly parts: Buffer[]; received: number } | null = null;

	/** Throws on bytes that are not RESP or break a limit; the parser is unusable afterwards. */
	push(chunk: Buffer): RespValue[] {
		const values: RespValue[] = [];
		let offset = 0;
		while (offset < chunk.length) {
			if (this.bulk !== null) {
				const bulk = this.bulk;
				const take = Math.min(bulk.length + 2 - bulk.received, chunk.length - offset);
				bulk.parts.push(chunk.subarray(offset, offset + take));
				bulk.received += take;
				offset += take;
				if (bulk.received < bulk.length + 2) break;
				this.bulk = null;
				const bytes = bulk.parts.length === 1 ? (bulk.parts[0] as Buffer) : Buffer.concat(bulk.parts, bulk.received);
				if (bytes[bulk.length] !== 0x0d || bytes[bulk.length + 1] !== 0x0a) throw new Error('bulk string not followed by CRLF');
				this.complete(bytes.toString('utf8', 0, bulk.length), values);
				continue;
			}
			const end = this.lineEnd(chunk, offset);
			if (end === -1) {
				this.line.push(chunk.subarray(offset));
				this.lineBytes += chunk.length - offset;
				if (this.lineBytes > RESP_LIMITS.maxLineBytes + 1) throw new Error('Redis reply line too long');
				break;
			}
			// `end` is the index of the LF; the line ends before the CR.
			this.line.push(chunk.subarray(offset, end + 1));
			this.lineBytes += end + 1 - offset;
			offset = end + 1;
			if (this.lineBytes > RESP_LIMITS.maxLineBytes + 2) throw new Error('Redis reply line too long');
			const bytes = this.line.length === 1 ? (this.line[0] as Buffer) : Buffer.concat(this.line, this.lineBytes);
			this.line = [];
			this.lineBytes = 0;
			this.header(bytes, values);
		}
		return values;
	}

	/** The index of the LF ending the line that `chunk[offset]` continues, or -1 when it does not end in this chunk. */
	private lineEnd(chunk: Buffer, offset: number): number {
		let from = offset;
		for (;;) {
			const lf = chunk.indexOf(0x0a, from);
			if (lf === -1) return -1;
			const before = lf > offset ? chunk[lf - 1] : this.lastLineByte();
			if (before === 0x0d) return lf;
			from = lf + 1; // a bare LF inside the line
		}
	}

	private lastLineByte(): number | undefined {
		const last = this.line[this.line.length - 1];
		return last === undefined ? undefined : last[last.length - 1];
	}

	/** One line, CRLF included: a simple value, or the header of a bulk string or an array. */
	private header(bytes: Buffer, values: RespValue[]): void {
		const type = String.fromCharCode(bytes[0] as number);
		const line = bytes.toString('utf8', 1, bytes.length - 2);
		switch (type) {
			case '+':
				return this.complete(line, values);
			case '-':
				return this.complete(new RedisReplyError(line), values);
			case ':':
				return this.complete(Number(line), values);
			case '$': {
				const length = Number(line);
				if (!Number.isInteger(length) || length < -1) throw new Error('bad bulk string length');
				if (length > RESP_LIMITS.maxBulkBytes) throw new Error(`Redis bulk string of ${length} bytes (more than ${RESP_LIMITS.maxBulkBytes})`);
				if (length === -1) return this.complete(null, values);
				this.bulk = { length, parts: [], received: 0 };
				return;
			}
			case '*': {
				const count = Number(line);
				if (!Number.isInteger(count) || count < -1) throw new Error('bad array length');
				if (count > RESP_LIMITS.maxArrayItems) throw new Error(`Redis array of ${count} items (more than ${RESP_LIMITS.maxArrayItems})`);
				if (count === -1) return this.complete(null, values);
				if (count === 0) return this.complete([], values);
				if (this.open.length >= RESP_LIMITS.maxDepth) throw new Error(`Redis arrays nested deeper than ${RESP_LIMITS.maxDepth}`);
				this.open.push({ items: [], count });
				return;
			}
			default:
				throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
		}
	}

	/** A finished value: an item of the innermost open array (closing the arrays it fills), or a reply. */
	private complete(value: RespValue, values: RespValue[]): void {
		let finished = value;
		for (;;) {
			const array = this.open[this.open.length - 1];
			if (array === undefined) {
				values.push(finished);
				return;
			}
			array.items.push(finished);
			if (array.items.length < array.count) return;
			this.open.pop();
			finished = array.items;
		}
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
