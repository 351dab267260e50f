import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { DROP_ALL_INTERVAL_MS, InvalidationBus, invalidationOf, MAX_USERS_PER_MESSAGE, type Invalidation } from '../../extension/invalidation-bus.js';
import { encodeCommand, RedisConnection, RedisReplyError, redisSettingsFromEnv, RespParser, type RedisTarget } from '../../extension/redis-connection.js';
import { ConfigError } from '../../extension/core/errors.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
	const started = Date.now();
	while (!condition()) {
		if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
		await sleep(5);
	}
	return Date.now() - started;
}

function target(port: number): RedisTarget {
	return { host: '127.0.0.1', port, tls: false, username: null, password: null, label: `127.0.0.1:${port}` };
}

/** A bus whose callbacks and log lines the test reads. */
function observedBus(port: number, channel: string, options: { retryMaxMs?: number } = {}) {
	const changes: Invalidation[] = [];
	const logs: Array<{ level: string; message: string }> = [];
	let resyncs = 0;
	const bus = new InvalidationBus({
		target: target(port),
		channel,
		instanceId: randomUUID(),
		onInvalidation: (change) => changes.push(change),
		onResync: () => resyncs++,
		log: {
			info: (message) => logs.push({ level: 'info', message }),
			warn: (message) => logs.push({ level: 'warn', message }),
			debug: (message) => logs.push({ level: 'debug', message }),
		},
		fallback: 'within 5 s (BCC_AUTH_CACHE_TTL)',
		connectTimeoutMs: 500,
		...options,
	});
	return {
		bus,
		changes,
		logs,
		get resyncs() {
			return resyncs;
		},
	};
}

describe('RESP parser', () => {
	it('parses replies split at every byte', () => {
		const wire = Buffer.from('+OK\r\n:42\r\n$-1\r\n-ERR wrong\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$6\r\na\r\nb\u00e9\r\n');
		const parser = new RespParser();
		const values = [];
		for (const byte of wire) values.push(...parser.push(Buffer.from([byte])));
		assert.equal(values.length, 5);
		assert.deepEqual(values.slice(0, 3), ['OK', 42, null]);
		assert.ok(values[3] instanceof RedisReplyError);
		assert.deepEqual(values[4], ['message', 'ch', 'a\r\nbé']);
	});

	it('refuses bytes that are not RESP', () => {
		assert.throws(() => new RespParser().push(Buffer.from('HTTP/1.1 200 OK\r\n')));
	});

	it('encodes commands with byte lengths', () => {
		assert.equal(encodeCommand(['PUBLISH', 'c', 'é']).toString(), '*3\r\n$7\r\nPUBLISH\r\n$1\r\nc\r\n$2\r\né\r\n');
	});
});

describe('Redis settings from the environment', () => {
	it('none without any REDIS variable, or with REDIS_ENABLED=false', () => {
		assert.equal(redisSettingsFromEnv({}).kind, 'none');
		assert.equal(redisSettingsFromEnv({ REDIS: 'redis://h:1', REDIS_ENABLED: false }).kind, 'none');
	});

	it('reads REDIS as Directus does, password included but not in the label', () => {
		const settings = redisSettingsFromEnv({ REDIS: 'rediss://app:s%40cret@cache.internal:6380/7', REDIS_BUS_NAMESPACE: 'prod:bus' });
		assert.equal(settings.kind, 'redis');
		if (settings.kind !== 'redis') return;
		assert.deepEqual(settings.target, { host: 'cache.internal', port: 6380, tls: true, username: 'app', password: 's@cret', label: 'cache.internal:6380' });
		assert.equal(settings.namespace, 'prod:bus');
	});

	it('reads REDIS_HOST and REDIS_PORT (cast to a number by Directus)', () => {
		const settings = redisSettingsFromEnv({ REDIS_HOST: '10.1.2.3', REDIS_PORT: 6390, REDIS_PASSWORD: 12345 });
		assert.equal(settings.kind, 'redis');
		if (settings.kind !== 'redis') return;
		assert.equal(settings.target.port, 6390);
		assert.equal(settings.target.password, '12345');
		assert.equal(settings.namespace, 'directus:bus');
	});

	it('BCC_AUTH_REDIS overrides Directus\'s settings, or turns the bus off', () => {
		const own = redisSettingsFromEnv({ REDIS: 'redis://directus-redis:6379', BCC_AUTH_REDIS: 'redis://hook-redis:6390' });
		assert.equal(own.kind === 'redis' && own.target.label, 'hook-redis:6390');
		assert.equal(redisSettingsFromEnv({ REDIS: 'redis://directus-redis:6379', BCC_AUTH_REDIS: false }).kind, 'none');
		assert.equal(redisSettingsFromEnv({ REDIS_SENTINELS: 'a:1', BCC_AUTH_REDIS: 'redis://plain:6379' }).kind, 'redis');
	});

	it('a BCC_AUTH_REDIS that is not a Redis URL stops the start, naming the variable but not the value', () => {
		assert.throws(
			() => redisSettingsFromEnv({ BCC_AUTH_REDIS: 'https://user:hunter2@cache:1' }),
			(error: unknown) => error instanceof ConfigError && error.variable === 'BCC_AUTH_REDIS' && !error.message.includes('hunter2'),
		);
	});

	it('says so for set-ups it cannot speak to', () => {
		assert.equal(redisSettingsFromEnv({ REDIS_SENTINELS: 'a:1' }).kind, 'unsupported');
		assert.equal(redisSettingsFromEnv({ REDIS: 'http://x' }).kind, 'unsupported');
	});
});

describe('invalidation messages', () => {
	it('accept only our own shape', () => {
		assert.deepEqual(invalidationOf({ v: 1, from: 'a', users: ['u'] }), { kind: 'users', userIds: ['u'] });
		assert.deepEqual(invalidationOf({ v: 1, from: 'a', all: true }), { kind: 'all' });
		assert.equal(invalidationOf({ v: 2, from: 'a', all: true }), null);
		assert.equal(invalidationOf({ v: 1, from: 'a', users: [1] }), null);
		assert.equal(invalidationOf({ v: 1, users: ['u'] }), null);
		assert.equal(invalidationOf('x'), null);
	});
});

describe('InvalidationBus on the machine\'s Redis', () => {
	const channel = `bcc-test:${randomUUID()}`; // pub/sub is not per database: a channel of our own
	let a: ReturnType<typeof observedBus>;
	let b: ReturnType<typeof observedBus>;

	before(async () => {
		a = observedBus(6379, channel);
		b = observedBus(6379, channel);
		await until(() => a.bus.state === 'up' && b.bus.state === 'up', 5000);
	});
	after(async () => {
		await a.bus.close();
		await b.bus.close();
	});

	it('subscribing drops every cached answer (changes made before it were not heard)', () => {
		assert.equal(a.resyncs, 1);
		assert.equal(b.resyncs, 1);
		assert.ok(a.logs.some((line) => line.level === 'info' && line.message.includes('listening on Redis 127.0.0.1:6379')));
	});

	it('a change published by one instance reaches the other within milliseconds, and not itself', async () => {
		const started = Date.now();
		assert.equal(await a.bus.publish({ kind: 'users', userIds: ['user-1'] }), true);
		await until(() => b.changes.length === 1, 1000);
		assert.ok(Date.now() - started < 1000);
		assert.deepEqual(b.changes[0], { kind: 'users', userIds: ['user-1'] });
		await sleep(50);
		assert.equal(a.changes.length, 0, 'an instance ignores its own messages');
	});

	it('a change naming very many users travels as "everything"', async () => {
		b.changes.length = 0;
		await a.bus.publish({ kind: 'users', userIds: Array.from({ length: MAX_USERS_PER_MESSAGE + 1 }, (_, index) => `u${index}`) });
		await until(() => b.changes.length === 1, 1000);
		assert.deepEqual(b.changes[0], { kind: 'all' });
	});

	it('an unreadable message on the channel drops everything', async () => {
		a.changes.length = 0;
		const raw = await RedisConnection.open(target(6379), { timeoutMs: 1000 });
		await raw.command(['PUBLISH', channel, 'not json']);
		raw.destroy();
		await until(() => a.changes.length === 1, 1000);
		assert.deepEqual(a.changes[0], { kind: 'all' });
	});
});

describe('InvalidationBus when Redis goes away', () => {
	let redis: TestRedis;
	before(async () => {
		redis = await startTestRedis();
	});
	after(() => redis.stop());

	it('keeps working, logs the fallback once per outage, and resubscribes (dropping everything) when Redis is back', async () => {
		const channel = `bcc-test:${randomUUID()}`;
		const watcher = observedBus(redis.port, channel, { retryMaxMs: 100 });
		try {
			await until(() => watcher.bus.state === 'up', 5000);
			await redis.stop();
			await until(() => watcher.bus.state === 'down', 2000);
			await sleep(600); // several reconnection attempts fail meanwhile
			const warnings = watcher.logs.filter((line) => line.level === 'warn');
			assert.equal(warnings.length, 1, JSON.stringify(watcher.logs));
			assert.match(warnings[0]?.message ?? '', /unreachable.*keeps working.*within 5 s \(BCC_AUTH_CACHE_TTL\)/);
			assert.equal(await watcher.bus.publish({ kind: 'all' }), false, 'publishing fails softly');
			assert.equal(await watcher.bus.publish({ kind: 'users', userIds: ['u1'] }), false);
			const publishWarnings = watcher.logs.filter((line) => line.level === 'warn' && line.message.includes('could not tell the other instances'));
			assert.equal(publishWarnings.length, 1, 'one warning for a run of failed publishes');
			assert.match(publishWarnings[0]?.message ?? '', /they apply it within 5 s \(BCC_AUTH_CACHE_TTL\)/);

			await redis.start();
			await until(() => watcher.bus.state === 'up', 3000);
			assert.equal(watcher.resyncs, 2, 'the cache is dropped again after the gap');
			assert.ok(watcher.logs.some((line) => line.level === 'info' && line.message.includes('reachable again')));

			const other = observedBus(redis.port, channel);
			await until(() => other.bus.state === 'up', 3000);
			await other.bus.publish({ kind: 'users', userIds: ['u9'] });
			await until(() => watcher.changes.length === 1, 1000);
			await other.bus.close();
		} finally {
			await watcher.bus.close();
		}
		assert.equal(watcher.bus.state, 'closed');
	});

	it('an instance that starts while Redis is down logs once and subscribes when it comes up', async () => {
		await redis.stop();
		const watcher = observedBus(redis.port, `bcc-test:${randomUUID()}`, { retryMaxMs: 100 });
		try {
			await until(() => watcher.bus.state === 'down', 2000);
			await sleep(400);
			assert.equal(watcher.logs.filter((line) => line.level === 'warn').length, 1);
			await redis.start();
			await until(() => watcher.bus.state === 'up', 3000);
		} finally {
			await watcher.bus.close();
		}
	});
});

/**
 * A stand-in for Redis on loopback: answers SUBSCRIBE and PING, then hands each subscribed
 * socket to `onSubscribed` (which sends what a hostile or busy Redis would).
 */
async function fakeRedis(onSubscribed: (socket: net.Socket, channel: string) => void): Promise<{ port: number; connections: number; close(): Promise<void> }> {
	const sockets = new Set<net.Socket>();
	const state = { connections: 0 };
	const server = net.createServer((socket) => {
		state.connections++;
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined);
		const parser = new RespParser();
		socket.on('data', (chunk: Buffer) => {
			for (const command of parser.push(chunk)) {
				if (!Array.isArray(command)) continue;
				const [name, channel] = command as string[];
				if (name === 'SUBSCRIBE' && channel !== undefined) {
					socket.write(`*3\r\n$9\r\nsubscribe\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n:1\r\n`);
					onSubscribed(socket, channel);
				} else if (name === 'PING') {
					socket.write('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
				}
			}
		});
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	return {
		port: (server.address() as net.AddressInfo).port,
		get connections() {
			return state.connections;
		},
		async close() {
			for (const socket of sockets) socket.destroy();
			server.close();
			await once(server, 'close');
		},
	};
}

const push = (channel: string, body: unknown): Buffer => encodeCommand(['message', channel, typeof body === 'string' ? body : JSON.stringify(body)]);

describe('InvalidationBus against a hostile Redis', () => {
	it('an oversized reply drops the connection at once, without stalling the event loop; the bus reconnects', async () => {
		let hostile = true;
		const redis = await fakeRedis((socket) => {
			if (!hostile) return;
			hostile = false;
			// Once the subscription is confirmed: one array of a million items, streamed in 4 KiB chunks (4 MiB).
			setTimeout(() => {
				socket.write('*1000000\r\n');
				const chunk = Buffer.from(':1\r\n'.repeat(1024));
				let sent = 0;
				const pump = (): void => {
					while (!socket.destroyed && sent < 1_000_000) {
						sent += 1024;
						if (!socket.write(chunk)) {
							socket.once('drain', pump);
							return;
						}
					}
				};
				pump();
			}, 50);
		});
		const delay = monitorEventLoopDelay({ resolution: 10 });
		delay.enable();
		const watcher = observedBus(redis.port, `bcc-test:${randomUUID()}`, { retryMaxMs: 100 });
		try {
			await until(() => watcher.resyncs === 1, 2000);
			// The old parser kept reading (O(n^2)) until the 4 MiB cap or the PING timeout, seconds later.
			await until(() => watcher.resyncs === 2 && watcher.bus.state === 'up', 1500);
			delay.disable();
			assert.equal(redis.connections, 2);
			const warning = watcher.logs.find((line) => line.level === 'warn');
			assert.match(warning?.message ?? '', /unreachable \(Redis array of 1000000 items \(more than 8\)\)/);
			assert.ok(delay.max / 1e6 < 150, `event loop stalled for ${(delay.max / 1e6).toFixed(0)} ms`);
		} finally {
			delay.disable();
			await watcher.bus.close();
			await redis.close();
		}
	});

	it(`"drop everything" from Redis is applied at most once per ${DROP_ALL_INTERVAL_MS} ms, the last of a burst included`, async () => {
		let subscribed: { socket: net.Socket; channel: string } | null = null;
		const redis = await fakeRedis((socket, channel) => {
			subscribed = { socket, channel };
		});
		const watcher = observedBus(redis.port, `bcc-test:${randomUUID()}`);
		try {
			await until(() => subscribed !== null && watcher.bus.state === 'up', 2000);
			const { socket, channel } = subscribed as unknown as { socket: net.Socket; channel: string };
			const drops = () => watcher.changes.filter((change) => change.kind === 'all').length;

			// A burst: 100 "all" and 100 unreadable messages, and one change of users in between.
			const burst: Buffer[] = [];
			for (let index = 0; index < 100; index++) burst.push(push(channel, { v: 1, from: 'other', all: true }), push(channel, 'not json'));
			burst.splice(50, 0, push(channel, { v: 1, from: 'other', users: ['u1'] }));
			socket.write(Buffer.concat(burst));
			await until(() => drops() === 1, 1000);
			assert.deepEqual(watcher.changes.filter((change) => change.kind === 'users'), [{ kind: 'users', userIds: ['u1'] }], 'changes of users are not held back');
			assert.equal(watcher.bus.received, 101);
			// One more at the end of the window covers the rest of the burst; then nothing.
			await until(() => drops() === 2, 1000);
			await sleep(DROP_ALL_INTERVAL_MS * 2);
			assert.equal(drops(), 2);

			// After a quiet window, the next one applies at once.
			socket.write(push(channel, { v: 1, from: 'other', all: true }));
			const waited = await until(() => drops() === 3, 1000);
			assert.ok(waited < DROP_ALL_INTERVAL_MS / 2, `waited ${waited} ms`);
		} finally {
			await watcher.bus.close();
			await redis.close();
		}
	});

	it('a "drop everything" held back is not applied after close', async () => {
		let subscribed: { socket: net.Socket; channel: string } | null = null;
		const redis = await fakeRedis((socket, channel) => {
			subscribed = { socket, channel };
		});
		const watcher = observedBus(redis.port, `bcc-test:${randomUUID()}`);
		try {
			await until(() => subscribed !== null && watcher.bus.state === 'up', 2000);
			const { socket, channel } = subscribed as unknown as { socket: net.Socket; channel: string };
			socket.write(Buffer.concat([push(channel, { v: 1, from: 'other', all: true }), push(channel, { v: 1, from: 'other', all: true })]));
			await until(() => watcher.changes.length === 1, 1000);
			await watcher.bus.close();
			await sleep(DROP_ALL_INTERVAL_MS * 2);
			assert.equal(watcher.changes.length, 1);
		} finally {
			await watcher.bus.close();
			await redis.close();
		}
	});
});
