import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TokenRefusedError, type RefusalReason } from '../../extension/core/errors.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { compact, base64url, ecKey, rsaKey, signToken, signWith } from '../support/tokens.js';
import { AUDIENCE, verifierFixture, type VerifierFixture } from '../support/verifier-fixture.js';

async function refusal(fixture: VerifierFixture, token: string): Promise<TokenRefusedError> {
	assert.equal(fixture.verifier.owns(token), true, 'the hook must own this token');
	try {
		await fixture.verifier.verify(token);
	} catch (error) {
		assert.ok(error instanceof TokenRefusedError, `expected TokenRefusedError, got ${error}`);
		return error;
	}
	assert.fail('token was accepted');
}

async function assertRefused(fixture: VerifierFixture, token: string, reason: RefusalReason): Promise<void> {
	assert.equal((await refusal(fixture, token)).reason, reason);
}

describe('verifier: ownership (fall-through)', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	const notOurs: Array<[string, () => unknown]> = [
		['no token', () => undefined],
		['null', () => null],
		['a number', () => 42],
		['a Directus static token', () => 'AbCdEf0123456789-static-token'],
		['a Directus JWT', () => signToken({ key: rsaKey('x'), payload: { iss: 'directus', id: 'u' }, header: { alg: 'RS256' } })],
		['another issuer\'s JWT', () => fixture.token({ iss: 'https://other.example.com/' })],
		['a JWT with no iss', () => fixture.token({ iss: undefined })],
		['a JWT whose iss is not a string', () => fixture.token({ iss: ['x'] })],
		['two segments', () => fixture.token().split('.').slice(0, 2).join('.')],
		['four segments', () => `${fixture.token()}.abc`],
		['a token over 16 KiB', () => fixture.token({ pad: 'x'.repeat(17 * 1024) })],
		['padding characters', () => fixture.token().replace(/\./, '=.')],
		['a payload that is not JSON', () => compact('{"alg":"RS256"}', 'not json')],
		['a payload that is a JSON array', () => compact('{"alg":"RS256"}', `["${fixture.server.issuer}"]`)],
	];
	for (const [name, make] of notOurs) {
		it(`does not own ${name}`, () => {
			assert.equal(fixture.verifier.owns(make()), false);
		});
	}

	it('made no key server request while deciding ownership', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 0, discovery: 0 });
	});

	it('owns a token from the issuer written without the trailing slash', () => {
		assert.equal(fixture.verifier.owns(fixture.token({ iss: fixture.server.issuer.slice(0, -1) })), true);
	});
});

describe('verifier: a good token', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	it('is accepted and mapped to the uuidv5 user of its sub', async () => {
		const client = await fixture.verifier.verify(fixture.token());
		assert.equal(client.identifier, 'svc-orders@clients');
		assert.equal(client.userId, userIdForIdentifier('svc-orders@clients'));
		assert.equal(client.issuer, fixture.server.issuer);
		assert.deepEqual(client.scopes, ['read:items']);
		assert.equal(client.expiresAt, Math.floor(fixture.clock / 1000) + 3600);
	});

	it('accepts an audience array that contains this API', async () => {
		const client = await fixture.verifier.verify(fixture.token({ aud: ['https://other', AUDIENCE] }));
		assert.equal(client.identifier, 'svc-orders@clients');
	});

	it('accepts typ at+jwt and a missing typ', async () => {
		await fixture.verifier.verify(fixture.token({}, { header: { typ: 'at+jwt' } }));
		await fixture.verifier.verify(fixture.token({}, { header: { typ: undefined } }));
	});

	it('accepts a token without kid when the key set has one key', async () => {
		await fixture.verifier.verify(fixture.token({}, { header: { kid: undefined } }));
	});

	it('fetched discovery once and the key set once', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 1, discovery: 1 });
	});
});

describe('verifier: header attacks never reach the key server', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	const cases: Array<[string, () => string, RefusalReason]> = [
		['alg none with an empty signature', () => withHeader(fixture, { alg: 'none' }, ''), 'algorithm_not_allowed'],
		['alg none with a signature', () => withHeader(fixture, { alg: 'none' }, 'AA'), 'algorithm_not_allowed'],
		['alg None', () => withHeader(fixture, { alg: 'None' }, ''), 'algorithm_not_allowed'],
		['alg NONE', () => withHeader(fixture, { alg: 'NONE' }, ''), 'algorithm_not_allowed'],
		['alg nOnE', () => withHeader(fixture, { alg: 'nOnE', kid: 'key-1' }, 'AA'), 'algorithm_not_allowed'],
		['alg missing', () => withHeader(fixture, { kid: 'key-1' }, 'AA'), 'algorithm_not_allowed'],
		['alg empty', () => withHeader(fixture, { alg: '', kid: 'key-1' }, 'AA'), 'algorithm_not_allowed'],
		['alg not a string', () => fixture.token({}, { header: { alg: ['RS256'] } }), 'algorithm_not_allowed'],
		['HS256 signed with the public key (algorithm confusion)', () => hmacWithPublicKey(fixture, 'HS256'), 'algorithm_not_allowed'],
		['HS512 signed with the public key', () => hmacWithPublicKey(fixture, 'HS512'), 'algorithm_not_allowed'],
		['RS384, outside the allow list', () => fixture.token({}, { header: { alg: 'RS384' } }), 'algorithm_not_allowed'],
		['ES256, outside the allow list', () => fixture.token({}, { key: ecKey('key-1') }), 'algorithm_not_allowed'],
		['crit header', () => fixture.token({}, { header: { crit: ['exp'] } }), 'header_unsupported'],
		['crit header that is empty', () => fixture.token({}, { header: { crit: [] } }), 'header_unsupported'],
		['jku header', () => fixture.token({}, { header: { jku: 'http://127.0.0.1:1/keys' } }), 'header_unsupported'],
		['x5u header', () => fixture.token({}, { header: { x5u: 'http://127.0.0.1:1/cert' } }), 'header_unsupported'],
		['embedded jwk header', () => fixture.token({}, { header: { jwk: fixture.key.jwk } }), 'header_unsupported'],
		['x5c header', () => fixture.token({}, { header: { x5c: ['MIIB'] } }), 'header_unsupported'],
		['b64 false', () => fixture.token({}, { header: { b64: false } }), 'header_unsupported'],
		['typ of an ID token style value', () => fixture.token({}, { header: { typ: 'id_token+jwt' } }), 'header_unsupported'],
		['typ not a string', () => fixture.token({}, { header: { typ: 1 } }), 'header_unsupported'],
		['kid a number', () => fixture.token({}, { header: { kid: 1 } }), 'header_unsupported'],
		['kid an object', () => fixture.token({}, { header: { kid: { $ne: null } } }), 'header_unsupported'],
		['kid with a newline (log injection)', () => fixture.token({}, { header: { kid: 'key-1\nlevel=error' } }), 'header_unsupported'],
		['kid with a path', () => fixture.token({}, { header: { kid: '../../etc/passwd\u0000' } }), 'header_unsupported'],
		['kid of 300 characters', () => fixture.token({}, { header: { kid: 'k'.repeat(300) } }), 'header_unsupported'],
		['header that is not JSON', () => `${base64url('{"alg":')}.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
		['header that is a JSON string', () => `${base64url('"RS256"')}.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
		['header with invalid UTF-8', () => `${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url')}.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
		['header with duplicate alg', () => `${base64url('{"alg":"none","alg":"RS256","kid":"key-1"}')}.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
		['header with __proto__', () => `${base64url('{"alg":"RS256","__proto__":{"admin":true}}')}.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
		['payload with duplicate sub', () => duplicateMember(fixture), 'token_malformed'],
		['payload with nested __proto__', () => `${fixture.token().split('.')[0]}.${base64url(`{"iss":"${fixture.server.issuer}","x":{"__proto__":{}}}`)}.AA`, 'token_malformed'],
		['a header segment of impossible base64url length', () => `${fixture.token().split('.')[0]}A.${fixture.token().split('.')[1]}.AA`, 'token_malformed'],
	];
	for (const [name, make, reason] of cases) {
		it(`refuses ${name} as ${reason}`, async () => {
			await assertRefused(fixture, make(), reason);
		});
	}

	it('made no key server request for any of them', () => {
		assert.deepEqual(fixture.server.counts, { jwks: 0, discovery: 0 });
	});
});

/** The fixture's valid payload under another header and a given signature segment. */
function withHeader(fixture: VerifierFixture, header: Record<string, unknown>, signature: string): string {
	return `${base64url(JSON.stringify(header))}.${fixture.token().split('.')[1]}.${signature}`;
}

/** CVE-2022-23541 class: HMAC keyed with the issuer's public key, which anyone can download. */
function hmacWithPublicKey(fixture: VerifierFixture, alg: string): string {
	const pem = fixture.key.publicKey.export({ format: 'pem', type: 'spki' }) as string;
	const signingInput = `${base64url(JSON.stringify({ alg, typ: 'JWT', kid: 'key-1' }))}.${fixture.token().split('.')[1]}`;
	return `${signingInput}.${signWith(alg, signingInput, pem)}`;
}

function duplicateMember(fixture: VerifierFixture): string {
	const [header] = fixture.token().split('.');
	const payload = `{"iss":"${fixture.server.issuer}","sub":"svc-orders@clients","sub":"admin@clients","aud":"${AUDIENCE}","exp":${Math.floor(fixture.clock / 1000) + 60},"gty":"client-credentials"}`;
	const signingInput = `${header}.${base64url(payload)}`;
	return `${signingInput}.${signWith('RS256', signingInput, fixture.key.privateKey)}`;
}

describe('verifier: keys and signatures', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture()));
	after(() => fixture.stop());

	it('refuses an unknown kid', async () => {
		await assertRefused(fixture, fixture.token({}, { header: { kid: 'no-such-key' } }), 'key_unknown');
	});

	it('refuses a token signed by another key under the published kid', async () => {
		await assertRefused(fixture, fixture.token({}, { key: rsaKey('key-1') }), 'signature_invalid');
	});

	it('refuses a token whose payload was changed after signing', async () => {
		const [header, , signature] = fixture.token().split('.');
		const forged = base64url(JSON.stringify({ ...JSON.parse(Buffer.from(fixture.token().split('.')[1] as string, 'base64url').toString()), sub: 'admin@clients' }));
		await assertRefused(fixture, `${header}.${forged}.${signature}`, 'signature_invalid');
	});

	it('refuses an empty signature', async () => {
		await assertRefused(fixture, fixture.token().replace(/\.[^.]+$/, '.'), 'signature_invalid');
	});

	it('refuses a signature written with non-zero unused trailing bits (same bytes, other string)', async () => {
		const token = fixture.token();
		const last = token.at(-1) as string;
		const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
		// A 256-byte signature ends in a character of which only the top 2 bits count.
		const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
		const variant = token.slice(0, -1) + twin;
		assert.deepEqual(Buffer.from(variant.split('.')[2] as string, 'base64url'), Buffer.from(token.split('.')[2] as string, 'base64url'));
		await assertRefused(fixture, variant, 'token_malformed');
	});

	it('refuses a signature stripped to garbage', async () => {
		await assertRefused(fixture, fixture.token().replace(/\.[^.]+$/, '.AAAA'), 'signature_invalid');
	});

	it('refuses a token without kid when the key set has several keys', async () => {
		fixture.server.keys = [fixture.key.jwk, rsaKey('key-2').jwk];
		fixture.clock += 601_000; // past maxAge, so the key set is refetched with both keys
		await assertRefused(fixture, fixture.token({}, { header: { kid: undefined } }), 'key_unknown');
	});
});

describe('verifier: keys that do not fit the algorithm', () => {
	const fixtures: VerifierFixture[] = [];
	after(() => Promise.all(fixtures.map((fixture) => fixture.stop())));

	it('refuses an RSA key of 1024 bits', async () => {
		const fixture = await verifierFixture();
		fixtures.push(fixture);
		const weak = rsaKey('weak', { bits: 1024 });
		fixture.server.keys = [weak.jwk];
		await assertRefused(fixture, fixture.token({}, { key: weak }), 'key_unusable');
	});

	it('refuses a token whose alg differs from the key\'s published alg', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'RS256,PS256' });
		fixtures.push(fixture);
		await assertRefused(fixture, fixture.token({}, { header: { alg: 'PS256' }, key: { ...fixture.key, alg: 'PS256' } }), 'key_unusable');
	});

	it('refuses an RS256 token verified against an EC key', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'RS256,ES256' });
		fixtures.push(fixture);
		const ec = ecKey('ec-1');
		fixture.server.keys = [{ ...ec.jwk, alg: undefined }];
		await assertRefused(fixture, fixture.token({}, { header: { kid: 'ec-1', alg: 'RS256' } }), 'key_unusable');
	});

	it('refuses ES256 against a P-384 key', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'ES256' });
		fixtures.push(fixture);
		const p384 = ecKey('ec-384', 'P-384');
		fixture.server.keys = [{ ...p384.jwk, alg: undefined }];
		await assertRefused(fixture, fixture.token({}, { key: { ...p384, alg: 'ES256' } }), 'key_unusable');
	});

	it('accepts ES256 and PS256 when allowed and the keys fit', async () => {
		const fixture = await verifierFixture({ BCC_AUTH_ALGORITHMS: 'ES256 PS256' });
		fixtures.push(fixture);
		const ec = ecKey('ec-1');
		const ps = rsaKey('ps-1', { alg: 'PS256' });
		fixture.server.keys = [ec.jwk, ps.jwk];
		assert.equal((await fixture.verifier.verify(fixture.token({}, { key: ec }))).identifier, 'svc-orders@clients');
		assert.equal((await fixture.verifier.verify(fixture.token({}, { key: ps }))).identifier, 'svc-orders@clients');
	});
});

describe('verifier: claims', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture({ BCC_AUTH_REQUIRED_SCOPES: 'read:items' })));
	after(() => fixture.stop());
	const now = () => Math.floor(fixture.clock / 1000);

	const cases: Array<[string, () => Record<string, unknown>, RefusalReason]> = [
		['iss without the trailing slash the provider writes', () => ({ iss: fixture.server.issuer.slice(0, -1) }), 'issuer_mismatch'],
		['aud of another API', () => ({ aud: 'https://other.example.test' }), 'audience_mismatch'],
		['aud missing', () => ({ aud: undefined }), 'audience_mismatch'],
		['aud with a trailing slash added', () => ({ aud: `${AUDIENCE}/` }), 'audience_mismatch'],
		['aud array without this API', () => ({ aud: ['a', 'b'] }), 'audience_mismatch'],
		['aud a number', () => ({ aud: 1 }), 'claim_invalid'],
		['aud an empty array', () => ({ aud: [] }), 'claim_invalid'],
		['aud array with an object', () => ({ aud: [AUDIENCE, {}] }), 'claim_invalid'],
		['exp missing', () => ({ exp: undefined }), 'claim_invalid'],
		['exp a string', () => ({ exp: String(now() + 60) }), 'claim_invalid'],
		['exp absurdly far', () => ({ exp: 1e15 }), 'claim_invalid'],
		['exp negative', () => ({ exp: -1 }), 'claim_invalid'],
		['nbf a string', () => ({ nbf: 'yesterday' }), 'claim_invalid'],
		['iat null', () => ({ iat: null }), 'claim_invalid'],
		['exp in the past', () => ({ exp: now() - 3600, iat: now() - 7200 }), 'token_expired'],
		['exp exactly at the tolerance', () => ({ exp: now() - 5 }), 'token_expired'],
		['nbf in the future', () => ({ nbf: now() + 60 }), 'token_not_yet_valid'],
		['iat in the future', () => ({ iat: now() + 60 }), 'token_not_yet_valid'],
		['gty missing (a user access token)', () => ({ gty: undefined }), 'not_machine_token'],
		['gty password', () => ({ gty: 'password' }), 'not_machine_token'],
		['gty as an array', () => ({ gty: ['client-credentials'] }), 'not_machine_token'],
		['gty with different case', () => ({ gty: 'Client-Credentials' }), 'not_machine_token'],
		['sub missing', () => ({ sub: undefined }), 'client_id_invalid'],
		['sub a number', () => ({ sub: 12 }), 'client_id_invalid'],
		['sub empty', () => ({ sub: '' }), 'client_id_invalid'],
		['sub with a newline', () => ({ sub: 'svc\n@clients' }), 'client_id_invalid'],
		['sub with a NUL', () => ({ sub: 'svc\u0000@clients' }), 'client_id_invalid'],
		['sub with surrounding spaces', () => ({ sub: ' svc@clients' }), 'client_id_invalid'],
		['sub of 256 characters', () => ({ sub: 's'.repeat(256) }), 'client_id_invalid'],
		['scope as an array', () => ({ scope: ['read:items'] }), 'claim_invalid'],
		['scope missing', () => ({ scope: undefined }), 'scope_missing'],
		['scope a near miss', () => ({ scope: 'read:itemsx read:item' }), 'scope_missing'],
		['scope in another case', () => ({ scope: 'READ:ITEMS' }), 'scope_missing'],
	];
	for (const [name, overrides, reason] of cases) {
		it(`refuses ${name} as ${reason}`, async () => {
			await assertRefused(fixture, fixture.token(overrides()), reason);
		});
	}

	it('accepts exp one second inside the tolerance', async () => {
		await fixture.verifier.verify(fixture.token({ exp: now() - 4 }));
	});

	it('accepts nbf and iat inside the tolerance', async () => {
		await fixture.verifier.verify(fixture.token({ nbf: now() + 4, iat: now() + 4 }));
	});

	it('accepts the required scope among others', async () => {
		const client = await fixture.verifier.verify(fixture.token({ scope: 'write:items read:items' }));
		assert.deepEqual(client.scopes, ['write:items', 'read:items']);
	});

	it('reports the kid with the refusal, for the log', async () => {
		assert.equal((await refusal(fixture, fixture.token({ gty: 'password' }))).kid, 'key-1');
	});
});

it('a fresh RSA key pair is at least 2048 bits (test helper sanity)', () => {
	const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 2048);
});

describe('verifier: trace', () => {
	let fixture: VerifierFixture;
	before(async () => (fixture = await verifierFixture({ BCC_AUTH_REQUIRED_SCOPES: 'read:items' })));
	after(() => fixture.stop());

	it('reports every step of an accepted token, in order', async () => {
		const steps: Array<{ name: string; ok: boolean }> = [];
		await fixture.verifier.verify(fixture.token(), { trace: ({ name, ok }) => steps.push({ name, ok }) });
		assert.deepEqual(
			steps.map((step) => step.name),
			['issuer routing', 'structure', 'header', 'key', 'key fits algorithm', 'signature', 'issuer', 'audience', 'dates', 'client identifier', 'token kind', 'scope format', 'lifetime', 'required scopes'],
		);
		assert.ok(steps.every((step) => step.ok));
	});

	it('stops at the failing step and names the reason', async () => {
		const steps: Array<{ name: string; ok: boolean; detail: string }> = [];
		await assert.rejects(fixture.verifier.verify(fixture.token({ aud: 'nope' }), { trace: (step) => steps.push(step) }));
		assert.deepEqual(steps.at(-1), { name: 'audience', ok: false, detail: 'audience_mismatch: aud does not name this API' });
	});
});
