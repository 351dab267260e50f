/**
 * The RESP parser of extension/redis-connection.ts against replies a hostile or broken Redis
 * (or anyone on a plain redis:// path) could send: each is refused at its header line, before
 * it is buffered, and the bytes of a legitimate reply are copied a bounded number of times
 * however finely they are split.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { encodeCommand, RESP_LIMITS, RespParser, type RespValue } from '../../extension/redis-connection.js';

/** Feeds `wire` in chunks of `size` bytes; the values, or the error with the offset it was thrown at. */
function feed(wire: Buffer, size: number): { values: RespValue[]; error: Error | null; at: number; ms: number } {
	const parser = new RespParser();
	const values: RespValue[] = [];
	const started = performance.now();
	let offset = 0;
	try {
		for (; offset < wire.length; offset += size) values.push(...parser.push(wire.subarray(offset, offset + size)));
	} catch (error) {
		return { values, error: error as Error, at: offset, ms: performance.now() - started };
	}
	return { values, error: null, at: offset, ms: performance.now() - started };
}

/** An array reply of `items` integers: `*<items>` then `:1` each (4 bytes an item). */
function bigArray(bytes: number): Buffer {
	const items = Math.floor(bytes / 4);
	return Buffer.from(`*${items}\r\n${':1\r\n'.repeat(items)}`);
}

const message = (channel: string, body: string): Buffer => encodeCommand(['message', channel, body]);

describe('RESP parser: limits, checked at the header line', () => {
	it('refuses an array of more than 8 items at its header, before reading its items', () => {
		const result = feed(bigArray(4 * 1024 * 1024 - 64), 16 * 1024);
		assert.match(result.error?.message ?? '', /^Redis array of 1048560 items \(more than 8\)$/);
		assert.equal(result.at, 0, 'refused on the first chunk');
	});

	it('a 4 MiB hostile reply in 16 KiB chunks is refused at once, not after seconds of parsing', () => {
		// The old parser took ~40 s of CPU for this, up to ~600 ms per chunk on the event loop.
		const result = feed(bigArray(4 * 1024 * 1024 - 64), 16 * 1024);
		assert.ok(result.error !== null);
		assert.ok(result.ms < 100, `took ${result.ms.toFixed(1)} ms`);
	});

	it('refuses a bulk string of more than 64 KiB at its header', () => {
		const length = 4 * 1024 * 1024 - 64;
		const wire = Buffer.concat([Buffer.from(`$${length}\r\n`), Buffer.alloc(length, 0x61), Buffer.from('\r\n')]);
		const result = feed(wire, 16 * 1024);
		assert.match(result.error?.message ?? '', /bulk string of 4194240 bytes \(more than 65536\)/);
		assert.equal(result.at, 0);
		assert.throws(() => new RespParser().push(Buffer.from(`$${RESP_LIMITS.maxBulkBytes + 1}\r\n`)), /more than 65536/);
		assert.throws(() => new RespParser().push(encodeCommand(['message', 'ch', 'x'.repeat(RESP_LIMITS.maxBulkBytes + 1)])), /more than 65536/);
	});

	it('refuses a line longer than 4 KiB without waiting for its end', () => {
		const wire = Buffer.from(`+${'a'.repeat(4 * 1024 * 1024)}\r\n`);
		const result = feed(wire, 1024);
		assert.match(result.error?.message ?? '', /line too long/);
		assert.ok(result.at <= RESP_LIMITS.maxLineBytes + 1024, `refused only at byte ${result.at}`);
		assert.throws(() => new RespParser().push(Buffer.from(`-ERR ${'x'.repeat(RESP_LIMITS.maxLineBytes)}\r\n`)), /line too long/);
	});

	it('refuses arrays nested deeper than 2', () => {
		assert.throws(() => new RespParser().push(Buffer.from('*1\r\n*1\r\n*1\r\n:1\r\n')), /nested deeper than 2/);
		assert.throws(() => new RespParser().push(Buffer.from('*1\r\n'.repeat(200_000))), /nested deeper than 2/);
	});

	it('accepts what is within the limits', () => {
		const body = 'é'.repeat(RESP_LIMITS.maxBulkBytes / 2); // 64 KiB of UTF-8
		const parser = new RespParser();
		assert.deepEqual(parser.push(message('ch', body)), [['message', 'ch', body]]);
		assert.deepEqual(parser.push(Buffer.from('*8\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n')), [[1, 2, 3, 4, 5, 6, 7, ['pong', '']]]);
		assert.deepEqual(parser.push(Buffer.from('*0\r\n*-1\r\n$-1\r\n')), [[], null, null]);
		assert.deepEqual(parser.push(Buffer.from(`+${'a'.repeat(RESP_LIMITS.maxLineBytes - 1)}\r\n`)), ['a'.repeat(RESP_LIMITS.maxLineBytes - 1)]);
	});

	it('refuses a bulk string whose bytes are not followed by CRLF', () => {
		assert.throws(() => new RespParser().push(Buffer.from('$2\r\nabcd\r\n')), /not followed by CRLF/);
	});
});

describe('RESP parser: work linear in the bytes received', () => {
	const realConcat = Buffer.concat;
	afterEach(() => {
		Buffer.concat = realConcat;
	});

	/** Bytes Buffer.concat copies while `run` runs. */
	function bytesConcatenated(run: () => void): number {
		let copied = 0;
		Buffer.concat = ((list: readonly Uint8Array[], totalLength?: number) => {
			const joined = realConcat(list, totalLength);
			copied += joined.length;
			return joined;
		}) as typeof Buffer.concat;
		try {
			run();
		} finally {
			Buffer.concat = realConcat;
		}
		return copied;
	}

	it('a 60 KiB message arriving one byte at a time is joined once, not once per byte', () => {
		const body = 'x'.repeat(60 * 1024);
		const wire = message('ch', body);
		let result: ReturnType<typeof feed> | undefined;
		const copied = bytesConcatenated(() => {
			result = feed(wire, 1);
		});
		assert.equal(result?.error, null);
		assert.deepEqual(result?.values, [['message', 'ch', body]]);
		// The old parser re-concatenated the whole buffer on every chunk: ~1.9 GB here.
		assert.ok(copied <= 2 * wire.length, `copied ${copied} bytes for a ${wire.length}-byte reply`);
	});

	it('2 MiB of messages in 64-byte chunks: well under a second, bytes copied about once', () => {
		const one = message('directus:bus:bcc-client-credentials', JSON.stringify({ v: 1, from: 'x', users: Array.from({ length: 500 }, (_, i) => `user-${i}-0000000000000000`) }));
		const count = Math.ceil((2 * 1024 * 1024) / one.length);
		const wire = Buffer.concat(Array.from({ length: count }, () => one));
		let result: ReturnType<typeof feed> | undefined;
		const copied = bytesConcatenated(() => {
			result = feed(wire, 64);
		});
		assert.equal(result?.error, null);
		assert.equal(result?.values.length, count);
		assert.ok((result?.ms ?? Infinity) < 1000, `took ${result?.ms} ms`);
		assert.ok(copied <= 2 * wire.length, `copied ${copied} bytes for ${wire.length}`);
	});

	it('values split at every position still parse (CRLF across chunks, a bare LF inside a line)', () => {
		const wire = Buffer.from('+a\nb\r\n:7\r\n$3\r\na\r\n\r\n*2\r\n$0\r\n\r\n:1\r\n-ERR x\r\n');
		for (let split = 1; split < wire.length; split++) {
			const parser = new RespParser();
			const values = [...parser.push(wire.subarray(0, split)), ...parser.push(wire.subarray(split))];
			assert.equal(values.length, 5, `split at ${split}`);
			assert.deepEqual(values.slice(0, 4), ['a\nb', 7, 'a\r\n', ['', 1]], `split at ${split}`);
			assert.deepEqual(values[4] instanceof Error ? values[4].message : null, 'ERR x');
		}
	});
});
