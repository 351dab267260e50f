/**
 * `bcc-cc check` through the real commander program, with the hook's real
 * verifier against a key server on loopback and an in-memory Directus.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readTokenInput } from '../../cli/commands/check.js';
import { CliError } from '../../cli/errors.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { FAKE_DIRECTUS_FLAGS, runInProcess, type CliResult } from '../support/cli-in-process.js';
import { FakeDirectus } from '../support/fake-directus.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { auth0Claims, rsaKey, signToken, type TestKey } from '../support/tokens.js';

const AUDIENCE = 'https://api.example.test';
const CLIENT = 'svc-orders';
const IDENTIFIER = `${CLIENT}@clients`;
const USER_ID = userIdForIdentifier(IDENTIFIER);

let server: KeyServer;
let key: TestKey;
let directus: FakeDirectus;
let connector: () => Promise<FakeDirectus>;

/** `bcc-cc [--url --token] check <token> --issuer <key server> --audience ... <args>` */
const run = (args: string[], options: { directus?: boolean } = {}): Promise<CliResult> =>
	runInProcess([...(options.directus === false ? [] : FAKE_DIRECTUS_FLAGS), 'check', ...args], () => connector());

const settings = () => ['--issuer', server.issuer, '--audience', AUDIENCE];

function token(overrides: Record<string, unknown> = {}, options: { key?: TestKey; header?: Record<string, unknown> } = {}): string {
	const payload: Record<string, unknown> = { ...auth0Claims({ issuer: server.issuer, audience: AUDIENCE, clientId: CLIENT, scope: 'read:items' }), ...overrides };
	for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
	return signToken({ key: options.key ?? key, payload, ...(options.header ? { header: options.header } : {}) });
}

function json(result: CliResult): any {
	return JSON.parse(result.stdout);
}

function step(report: any, name: string): { name: string; status: string; detail: string } {
	const found = report.steps.find((candidate: { name: string }) => candidate.name === name);
	assert.ok(found, `no step ${name} in ${JSON.stringify(report.steps.map((s: { name: string }) => s.name))}`);
	return found;
}

before(async () => {
	for (const name of Object.keys(process.env)) if (name.startsWith('BCC_AUTH_')) delete process.env[name];
	server = await startKeyServer();
	key = rsaKey('key-1');
	server.keys = [key.jwk];
});

after(async () => {
	await server.stop();
});

beforeEach(() => {
	directus = new FakeDirectus();
	const role = directus.addRole('Orders API');
	directus.addUser({ id: USER_ID, external_identifier: IDENTIFIER, role: role.id, first_name: CLIENT });
	connector = async () => directus;
});

describe('check: a good token', () => {
	it('exits 0, and --json reports every verifier step and the user lookup as passed', async () => {
		const result = await run([token(), ...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		assert.equal(result.stderr, '');
		const report = json(result);
		assert.equal(report.accepted, true);
		assert.equal(report.verdict, 'accepted');
		assert.equal(report.refusal, null);
		assert.deepEqual(report.client, { identifier: IDENTIFIER, clientId: CLIENT, userId: USER_ID });
		for (const name of ['issuer routing', 'structure', 'header', 'key', 'signature', 'issuer', 'audience', 'token kind', 'client identifier', 'lifetime', 'required scopes', 'directus user', 'user status', 'role']) {
			assert.equal(step(report, name).status, 'pass', name);
		}
		assert.match(step(report, 'lifetime').detail, /^expires in (59 min \d+ s|1 h 0 min) \(\d{4}-\d\d-\d\dT/);
		assert.ok(report.expiresInSeconds > 3500 && report.expiresInSeconds <= 3600, String(report.expiresInSeconds));
		assert.equal(report.token.claims.sub, IDENTIFIER);
		assert.equal(report.token.header.kid, 'key-1');
	});

	it('never prints the signature, in either form of output', async () => {
		const good = token();
		const signature = good.split('.')[2] as string;
		for (const extra of [[], ['--json']]) {
			const result = await run([good, ...settings(), ...extra]);
			assert.equal(result.code, 0, result.stderr);
			assert.ok(!result.stdout.includes(signature) && !result.stderr.includes(signature), 'the signature was printed');
			assert.ok(!result.stdout.includes(good), 'the token was printed');
		}
	});

	it('prints one line per step for people, and the fingerprint the hook logs', async () => {
		const good = token();
		const result = await run([good, ...settings()]);
		assert.equal(result.code, 0, result.stderr);
		const fingerprint = createHash('sha256').update(good).digest('base64url').slice(0, 12);
		assert.match(result.stdout, new RegExp(`^Token  fingerprint ${fingerprint.replace(/[-_]/g, '.')} `));
		assert.match(result.stdout, /^ {2}PASS {2}signature +verifies with the issuer's key$/m);
		assert.match(result.stdout, /^ {2}PASS {2}user status +active$/m);
		assert.match(result.stdout, /^ {2}sub +"svc-orders@clients"$/m);
		assert.match(result.stdout, /^Result {2}ACCEPTED: Directus lets the token in as client svc-orders/m);
		assert.doesNotMatch(result.stdout, /\u001b\[/, 'no colour when stdout is not a terminal');
	});

	it('takes the token from standard input ("-"), with a Bearer prefix', async () => {
		const input = await readTokenInput('-', Readable.from([`Authorization: Bearer ${token()}\n`]));
		assert.equal(input.split('.').length, 3);
		assert.ok(!input.startsWith('Authorization'));
	});
});

describe('check: refused tokens name the step and the reason', () => {
	it('expired: exit 6, 401 TOKEN_EXPIRED, how long ago, and the user is still looked up', async () => {
		const now = Math.floor(Date.now() / 1000);
		const result = await run([token({ iat: now - 7200, exp: now - 3600 }), ...settings(), '--json']);
		assert.equal(result.code, 6);
		assert.match(result.stderr, /^Error: The token would be refused \(token_expired: Directus answers 401 TOKEN_EXPIRED\)\.$/m);
		const report = json(result);
		assert.equal(report.accepted, false);
		assert.deepEqual(
			{ reason: report.refusal.reason, status: report.refusal.status, code: report.refusal.code },
			{ reason: 'token_expired', status: 401, code: 'TOKEN_EXPIRED' },
		);
		assert.equal(step(report, 'lifetime').status, 'fail');
		assert.match(step(report, 'lifetime').detail, /expired 1 h 0 min ago/);
		assert.equal(step(report, 'directus user').status, 'pass');
		assert.match(step(report, 'directus user').detail, /unverified/);
		assert.ok(report.expiresInSeconds <= -3600);
	});

	it('another audience: the step shows the token\'s and the configured audience', async () => {
		const report = json(await run([token({ aud: 'https://other.example' }), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'audience_mismatch');
		const audience = step(report, 'audience');
		assert.equal(audience.status, 'fail');
		assert.ok(audience.detail.includes('"https://other.example"') && audience.detail.includes(AUDIENCE), audience.detail);
	});

	it('a missing required scope: 403 FORBIDDEN', async () => {
		const result = await run([token(), ...settings(), '--required-scopes', 'write:items', '--json']);
		assert.equal(result.code, 6);
		const report = json(result);
		assert.deepEqual([report.refusal.reason, report.refusal.status, report.refusal.code], ['scope_missing', 403, 'FORBIDDEN']);
		assert.match(step(report, 'required scopes').detail, /required: write:items/);
	});

	it('a user token (no gty): not_machine_token at "token kind"', async () => {
		const report = json(await run([token({ gty: undefined }), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'not_machine_token');
		assert.equal(step(report, 'token kind').status, 'fail');
	});

	it('signed by another key under the same kid: the signature step fails', async () => {
		const report = json(await run([token({}, { key: rsaKey('key-1') }), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'signature_invalid');
		assert.equal(step(report, 'key').status, 'pass');
		assert.equal(step(report, 'signature').status, 'fail');
	});

	it('an unknown kid: key_unknown at "key"', async () => {
		const report = json(await run([token({}, { key: rsaKey('key-unknown') }), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'key_unknown');
		assert.equal(step(report, 'key').status, 'fail');
	});

	it('the key server is down: keys_unavailable, Directus answers 503', async () => {
		server.mode = { kind: 'status', status: 502 };
		try {
			const result = await run([token(), ...settings(), '--json']);
			assert.equal(result.code, 6);
			const report = json(result);
			assert.deepEqual([report.refusal.reason, report.refusal.status, report.refusal.code], ['keys_unavailable', 503, 'SERVICE_UNAVAILABLE']);
			assert.match(step(report, 'key').detail, /^keys_unavailable: HTTP 502; .*bcc-cc doctor/);
		} finally {
			server.mode = { kind: 'ok' };
		}
	});

	it('another issuer: the hook does not take the token, and the step lists the configured issuers', async () => {
		const result = await run([token({ iss: 'https://elsewhere.example/' }), ...settings(), '--json']);
		assert.equal(result.code, 6);
		const report = json(result);
		assert.equal(report.refusal.reason, 'not_owned');
		assert.equal(report.refusal.status, 401);
		const routing = step(report, 'issuer routing');
		assert.equal(routing.status, 'fail');
		assert.ok(routing.detail.includes('"https://elsewhere.example/"') && routing.detail.includes(server.issuer), routing.detail);
		assert.equal(report.client, null, 'no user lookup for a token that is not ours');
	});

	it('not a JWT at all', async () => {
		const report = json(await run(['not-a-jwt', ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'not_owned');
		assert.match(step(report, 'issuer routing').detail, /not a JWT .*got 1 segment\)/);
		assert.equal(report.token.claims, null);
	});
});

describe('check: the Directus user', () => {
	it('not provisioned: client_unknown, with the command that fixes it', async () => {
		directus.users.clear();
		const result = await run([token(), ...settings(), '--json']);
		assert.equal(result.code, 6);
		const report = json(result);
		assert.equal(report.refusal.reason, 'client_unknown');
		const user = step(report, 'directus user');
		assert.equal(user.status, 'fail');
		assert.ok(user.detail.includes(USER_ID) && user.detail.includes(`bcc-cc provision ${CLIENT}`), user.detail);
	});

	it('suspended: client_inactive at "user status"', async () => {
		directus.users.get(USER_ID)!.status = 'suspended';
		const report = json(await run([token(), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'client_inactive');
		assert.equal(step(report, 'user status').status, 'fail');
		assert.match(step(report, 'user status').detail, /status is suspended/);
	});

	it('a user with the id but another external_identifier: client_unknown', async () => {
		directus.users.get(USER_ID)!.external_identifier = 'someone-else';
		const report = json(await run([token(), ...settings(), '--json']));
		assert.equal(report.refusal.reason, 'client_unknown');
		assert.match(step(report, 'directus user').detail, /"someone-else"/);
	});

	it('a role with admin access is accepted with a warning', async () => {
		const admin = directus.addRole('Administrator', { admin: true });
		directus.users.get(USER_ID)!.role = admin.id;
		const result = await run([token(), ...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		const role = step(json(result), 'role');
		assert.equal(role.status, 'warn');
		assert.match(role.detail, /admin access/);
	});

	it('without --url and --token: not confirmed, exit 6, the user step skipped', async () => {
		const result = await run([token(), ...settings(), '--json'], { directus: false });
		assert.equal(result.code, 6);
		const report = json(result);
		assert.equal(report.verdict, 'unconfirmed');
		assert.equal(report.accepted, false);
		assert.equal(step(report, 'directus user').status, 'skip');
		assert.match(result.stderr, /--token-only/);
	});

	it('--token-only: exit 0 when the verifier accepts the token', async () => {
		const result = await run([token(), ...settings(), '--token-only', '--json'], { directus: false });
		assert.equal(result.code, 0, result.stderr);
		assert.equal(json(result).verdict, 'accepted');
	});

	it('Directus unreachable: the step fails and the exit code is 3', async () => {
		connector = async () => {
			throw new CliError('DIRECTUS_UNREACHABLE', 'Cannot reach Directus at http://directus.test: connection refused (ECONNREFUSED).');
		};
		const result = await run([token(), ...settings(), '--json']);
		assert.equal(result.code, 3);
		const report = json(result);
		assert.equal(report.verdict, 'unconfirmed');
		assert.match(step(report, 'directus user').detail, /^could not check: Cannot reach Directus/);
		assert.match(result.stderr, /^Error: Cannot reach Directus/);
	});
});

describe('check: configuration and input', () => {
	it('a configuration the hook would refuse: exit 2 naming the variable, before any key fetch', async () => {
		const fetches = server.counts.discovery + server.counts.jwks;
		const result = await run([token(), '--issuer', server.issuer]);
		assert.equal(result.code, 2);
		assert.match(result.stderr, /^Error: Invalid hook configuration: BCC_AUTH_AUDIENCE: is required/);
		assert.equal(server.counts.discovery + server.counts.jwks, fetches);
	});

	it('reads the settings from BCC_AUTH_* variables, flags beating them', async () => {
		process.env['BCC_AUTH_ISSUER'] = server.issuer;
		process.env['BCC_AUTH_AUDIENCE'] = 'https://wrong.example';
		try {
			assert.equal(json(await run([token(), '--json'])).refusal.reason, 'audience_mismatch');
			assert.equal((await run([token(), '--audience', AUDIENCE, '--json'])).code, 0);
		} finally {
			delete process.env['BCC_AUTH_ISSUER'];
			delete process.env['BCC_AUTH_AUDIENCE'];
		}
	});

	it('input: surrounding white space and "Bearer " are dropped; empty, several words and a terminal without a token are usage errors', async () => {
		assert.equal(await readTokenInput('  Bearer abc.def.ghi \n', Readable.from([])), 'abc.def.ghi');
		const usage = async (promise: Promise<unknown>, message: RegExp) => {
			await assert.rejects(promise, (error: unknown) => error instanceof CliError && error.exitCode === 2 && message.test(error.message));
		};
		await usage(readTokenInput('-', Readable.from(['   \n'])), /empty/);
		await usage(readTokenInput('-', Readable.from(['abc def'])), /more than one word/);
		const terminal = Object.assign(Readable.from([]), { isTTY: true });
		await usage(readTokenInput(undefined, terminal), /^No token given/);
		await usage(readTokenInput('-', Readable.from([Buffer.alloc(70 * 1024, 'a')])), /more than 64 KiB/);
	});
});

describe('check: what of a token is shown', () => {
	/** A Directus session token (HS256, iss "directus"): its `session` claim is the session's refresh token. */
	function directusSessionToken(): { token: string; session: string } {
		const session = 'kXz7_q2Vd0P1nV8n3mJrS5tW9yB4cE6fH0jL2oQ1uA3xZ5bN7dG9iK1mP3rT5vX7';
		const now = Math.floor(Date.now() / 1000);
		const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
		const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ id: '6b1f0c6e-2d7b-4c1e-9a55-4c1f2f0b9d11', role: 'a1b2c3d4-0000-4000-8000-000000000001', app_access: true, admin_access: true, session, iat: now, exp: now + 900, iss: 'directus' })}`;
		const signature = createHmac('sha256', 'directus-secret').update(input).digest('base64url');
		return { token: `${input}.${signature}`, session };
	}

	it('a token from no configured issuer (a Directus session token): only iss, alg, kid and typ, in either form of output', async () => {
		const { token: session, session: refreshToken } = directusSessionToken();
		const signature = session.split('.')[2] as string;

		const jsonResult = await run([session, ...settings(), '--json']);
		assert.equal(jsonResult.code, 6);
		const report = json(jsonResult);
		assert.equal(report.refusal.reason, 'not_owned');
		assert.equal(report.token.fromConfiguredIssuer, false);
		assert.deepEqual(report.token.header, { alg: 'HS256', typ: 'JWT' });
		assert.deepEqual(report.token.claims, { iss: 'directus' });
		assert.equal(report.expiresAt, null);

		const human = await run([session, ...settings()]);
		assert.equal(human.code, 6);
		assert.match(human.stdout, /^ {2}header {6}alg "HS256", typ "JWT"$/m);
		assert.match(human.stdout, /^ {2}iss {9}"directus"$/m);
		assert.match(human.stdout, /not a token the hook would own: its issuer is not configured, so only iss, alg, kid and typ are shown/);
		for (const result of [jsonResult, human]) {
			const output = result.stdout + result.stderr;
			assert.ok(!output.includes(refreshToken.slice(0, 16)), 'the session (a refresh token) was printed');
			assert.ok(!output.includes(signature), 'the signature was printed');
			assert.doesNotMatch(output, /6b1f0c6e|a1b2c3d4|admin_access/, 'claims of a token that is not ours were printed');
		}
	});

	it('a token of the configured issuer: claims that are secrets by nature are redacted, at any depth', async () => {
		const secrets = { session: 'SESSION-VALUE-1', client_secret: 'SECRET-VALUE-2', refresh_token: 'REFRESH-VALUE-3', userPassword: 'PASSWORD-VALUE-4', ext: { upstream: { Refresh: 'REFRESH-VALUE-5' }, keep: 'visible' } };
		const signed = token(secrets);
		const jsonResult = await run([signed, ...settings(), '--json']);
		assert.equal(jsonResult.code, 0, jsonResult.stderr);
		const claims = json(jsonResult).token.claims;
		assert.equal(json(jsonResult).token.fromConfiguredIssuer, true);
		assert.equal(claims.sub, IDENTIFIER, 'other claims are shown');
		for (const name of ['session', 'client_secret', 'refresh_token', 'userPassword']) assert.equal(claims[name], '(redacted)', name);
		assert.deepEqual(claims.ext, { upstream: { Refresh: '(redacted)' }, keep: 'visible' });

		const human = await run([signed, ...settings()]);
		assert.equal(human.code, 0, human.stderr);
		assert.match(human.stdout, /^ {2}session {5}"\(redacted\)"$/m);
		for (const result of [jsonResult, human]) {
			assert.doesNotMatch(result.stdout + result.stderr, /-VALUE-/, 'a secret claim was printed');
		}
	});
});
