/**
 * Reading a Directus log (LOG_STYLE=raw: one pino JSON object a line) the way
 * an operator would: the hook's lines, the refusal of one token, and a scan
 * for anything secret that must never be written there.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

export const HOOK_PREFIX = 'client-credentials:';

/** pino's numeric levels. */
export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export interface LogLine {
	readonly level: number;
	readonly msg: string;
	readonly [field: string]: unknown;
}

/** Every JSON line of the log (the harness writes a few plain `--- bcc:` lines between them). */
export function logLines(log: string): LogLine[] {
	const lines: LogLine[] = [];
	for (const text of log.split('\n')) {
		if (!text.startsWith('{')) continue;
		try {
			const line = JSON.parse(text) as LogLine;
			if (typeof line.level === 'number') lines.push(line);
		} catch {
			// a line cut by a crash: not ours to judge here
		}
	}
	return lines;
}

/** Lines written by the hook. */
export function hookLines(log: string): LogLine[] {
	return logLines(log).filter((line) => typeof line.msg === 'string' && line.msg.startsWith(HOOK_PREFIX));
}

/** The hook's fingerprint of a token (a hash prefix): how its log lines name a token without containing it. */
export function tokenFingerprint(token: string): string {
	return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}

/** The hook's lines about one token. */
export function linesForToken(log: string, token: string): LogLine[] {
	const fingerprint = tokenFingerprint(token);
	return hookLines(log).filter((line) => line['token'] === fingerprint);
}

/**
 * Fails when the log holds any token sent, its signature or its payload
 * segment, or any Authorization header value. Returns how many distinct tokens
 * were checked.
 *
 * Every base64url run of the log is indexed by its 16-character windows, so a
 * segment is looked for in full only when its first 16 characters occur: a
 * suite sends hundreds of tokens and a log grows to megabytes.
 */
export function assertNoSecretsInLog(log: string, tokens: Iterable<string>): number {
	const windows = new Set<string>();
	for (const run of log.match(/[A-Za-z0-9_-]{16,}/g) ?? []) {
		for (let index = 0; index + 16 <= run.length; index++) windows.add(run.slice(index, index + 16));
	}
	const inLog = (text: string): boolean => (text.length >= 16 && !windows.has(text.slice(0, 16)) ? false : log.includes(text));
	let checked = 0;
	for (const token of new Set(tokens)) {
		checked++;
		const segments = token.split('.');
		const name = `fingerprint ${tokenFingerprint(token)}`;
		if (segments.length === 3) {
			const [, payload, signature] = segments as [string, string, string];
			// Short segments (e.g. "AA") are not distinctive: a whole token then needs its payload found first.
			if (signature.length >= 16) assert.ok(!inLog(signature), `a token signature appears in the log (${name})`);
			if (payload.length >= 16) assert.ok(!inLog(payload), `a token payload appears in the log (${name})`);
			else assert.ok(!log.includes(token), `a whole token appears in the log (${name})`);
		} else {
			assert.ok(!log.includes(token), `a whole token appears in the log (${name})`);
		}
	}
	assert.doesNotMatch(log, /Bearer\s+[A-Za-z0-9._~+/-]{8,}/i, 'an Authorization header value appears in the log');
	assert.doesNotMatch(log, /"authorization":"(?!--redacted)[^"]/i, 'an Authorization header is logged unredacted');
	return checked;
}

/** Texts an error body must never contain: the expected issuer or audience, or a library's error text. */
export function assertNothingRevealed(body: unknown, secrets: { issuer: string; audience: string }): void {
	const text = JSON.stringify(body);
	for (const value of [secrets.issuer, secrets.issuer.replace(/\/$/, ''), secrets.audience]) {
		assert.ok(!text.includes(value), `the error body repeats ${value}`);
	}
	for (const library of [/jsonwebtoken/i, /jwks/i, /invalid signature/i, /jwt (malformed|expired|must)/i, /\bat [\w.]+ \(/, /kid/i, /\bsecret\b/i]) {
		assert.ok(!library.test(text), `the error body carries library text (${library}): ${text}`);
	}
}
