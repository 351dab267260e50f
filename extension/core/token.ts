import { TokenRefusedError } from './errors.js';

export type JsonObject = Record<string, unknown>;

export interface ParsedToken {
	readonly header: JsonObject;
	readonly payload: JsonObject;
}

// The signature may be empty so that an unsecured (`alg: none`) token from our issuer is owned, then refused.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// ignoreBOM: true keeps a leading byte order mark in the text, where JSON.parse refuses it. Stripping it
// (ignoreBOM: false) would accept a header that jsonwebtoken refuses, only after a key fetch.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The unverified `iss` of a token, or null when the token is not a compact JWS
 * of sane size with a JSON object payload. Used only to decide whether a token
 * is ours; nothing it returns is trusted.
 */
export function peekIssuer(token: unknown, maxLength: number): string | null {
	if (typeof token !== 'string' || token.length > maxLength || !COMPACT_JWS.test(token)) return null;
	const payloadSegment = token.slice(token.indexOf('.') + 1, token.lastIndexOf('.'));
	try {
		// Lenient on purpose: duplicate members still route the token here, where parseToken refuses it.
		const payload = decodeSegment(payloadSegment, { strict: false });
		return typeof payload['iss'] === 'string' ? payload['iss'] : null;
	} catch {
		return null;
	}
}

/** Decodes header and payload strictly; any deviation is `token_malformed`. */
export function parseToken(token: string): ParsedToken {
	const segments = token.split('.');
	if (segments.length !== 3 || !COMPACT_JWS.test(token)) {
		throw new TokenRefusedError('token_malformed', `expected 3 base64url segments, got ${segments.length}`);
	}
	const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
	if (!isCanonicalBase64url(signatureSegment)) {
		throw new TokenRefusedError('token_malformed', 'signature is not canonical base64url');
	}
	return {
		header: decodeOrRefuse(headerSegment, 'header'),
		payload: decodeOrRefuse(payloadSegment, 'payload'),
	};
}

function isCanonicalBase64url(segment: string): boolean {
	return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

function decodeOrRefuse(segment: string, part: string): JsonObject {
	try {
		return decodeSegment(segment);
	} catch (error) {
		throw new TokenRefusedError('token_malformed', `${part}: ${(error as Error).message}`);
	}
}

function decodeSegment(segment: string, { strict } = { strict: true }): JsonObject {
	// Base64url without padding never has length 1 mod 4; Buffer would silently drop the stray character.
	if (segment.length % 4 === 1) throw new Error('invalid base64url length');
	const bytes = Buffer.from(segment, 'base64url');
	// Unused trailing bits let one token be written several ways; only the canonical form is accepted.
	if (strict && !isCanonicalBase64url(segment)) throw new Error('not canonical base64url');
	const text = utf8.decode(bytes);
	if (strict) assertNoDuplicateOrReservedKeys(text);
	const value: unknown = JSON.parse(text);
	if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
	return value as JsonObject;
}

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON.parse keeps the last of duplicate member names, while another parser may
 * keep the first (RFC 7515 §5.2 lets us reject instead); and `__proto__` is a
 * prototype-pollution vector the moment anything spreads the object. Scans the
 * JSON text (already known to be valid UTF-8) for either, in any nested object.
 */
function assertNoDuplicateOrReservedKeys(text: string): void {
	const objectKeys: Array<Set<string> | null> = []; // null marks an array level
	let expectKey = false;
	for (let index = 0; index < text.length; index++) {
		const char = text[index];
		if (char === '"') {
			const end = endOfString(text, index);
			const level = objectKeys[objectKeys.length - 1];
			if (expectKey && level) {
				const key = JSON.parse(text.slice(index, end + 1)) as string;
				if (RESERVED_KEYS.has(key)) throw new Error(`reserved member name "${key}"`);
				if (level.has(key)) throw new Error(`duplicate member name "${key}"`);
				level.add(key);
			}
			expectKey = false;
			index = end;
		} else if (char === '{') {
			objectKeys.push(new Set());
			expectKey = true;
		} else if (char === '[') {
			objectKeys.push(null);
		} else if (char === '}' || char === ']') {
			objectKeys.pop();
		} else if (char === ',') {
			expectKey = objectKeys[objectKeys.length - 1] !== null;
		}
	}
}

function endOfString(text: string, start: number): number {
	for (let index = start + 1; index < text.length; index++) {
		if (text[index] === '\\') index++;
		else if (text[index] === '"') return index;
	}
	throw new Error('unterminated string');
}
