/**
 * `bcc-cc doctor` against a key server on loopback (and, for --client-id, the
 * real OAuth2 server of dev/) with an in-memory Directus.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { doctor } from '../../cli/commands/doctor.js';
import type { CommandContext } from '../../cli/context.js';
import { CLI_VERSION, EXTENSION_NAME, type DoctorReport, type Finding } from '../../cli/doctor.js';
import { CliError } from '../../cli/errors.js';
import { createOutput } from '../../cli/output.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { FAKE_DIRECTUS_FLAGS, runInProcess, type CliResult } from '../support/cli-in-process.js';
import { coreLicense, FakeDirectus } from '../support/fake-directus.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { ecKey, rsaKey } from '../support/tokens.js';

const AUDIENCE = 'https://api.example.test';

let server: KeyServer;
let directus: FakeDirectus;
let connector: () => Promise<FakeDirectus>;

/** `bcc-cc [--url --token] doctor <args>` */
const run = (args: string[], options: { directus?: boolean } = {}): Promise<CliResult> =>
	runInProcess([...(options.directus === false ? [] : FAKE_DIRECTUS_FLAGS), 'doctor', ...args], () => connector());

const settings = () => ['--issuer', server.issuer, '--audience', AUDIENCE, '--required-scopes', 'read:items'];

function report(result: CliResult): DoctorReport {
	return JSON.parse(result.stdout) as DoctorReport;
}

function finding(result: DoctorReport, check: string, section?: string): Finding {
	const found = result.findings.find((candidate) => candidate.check === check && (section === undefined || candidate.section === section));
	assert.ok(found, `no finding ${check} in ${JSON.stringify(result.findings.map((f) => `${f.section}/${f.check}`))}`);
	return found;
}

function addClient(clientId: string, roleId: string | null, extra: Partial<{ status: string; provider: string }> = {}): string {
	const identifier = `${clientId}@clients`;
	const id = userIdForIdentifier(identifier);
	directus.addUser({ id, external_identifier: identifier, role: roleId, ...extra });
	return id;
}

function installExtension(overrides: Partial<FakeDirectus['extensions'][number]> = {}): void {
	directus.extensions = [
		{ name: EXTENSION_NAME, version: CLI_VERSION, type: 'hook', enabled: true, source: 'local', folder: EXTENSION_NAME, host: '^11.0.0 || ^12.0.0', ...overrides },
	];
}

before(async () => {
	for (const name of Object.keys(process.env)) if (name.startsWith('BCC_AUTH_')) delete process.env[name];
	server = await startKeyServer();
});

after(async () => {
	await server.stop();
});

beforeEach(() => {
	server.keys = [rsaKey('key-1').jwk, rsaKey('key-2').jwk];
	server.mode = { kind: 'ok' };
	server.discoveryOverrides = {};
	directus = new FakeDirectus();
	directus.license = coreLicense();
	installExtension();
	const policy = { id: 'policy-read', name: 'Read articles', admin_access: false, app_access: false };
	const role = directus.addRole('Orders API', { policies: [policy] });
	directus.permissions = [{ policy: 'policy-read', collection: 'articles', action: 'read', fields: ['*'], permissions: {}, validation: {}, presets: null }];
	addClient('svc-orders', role.id);
	connector = async () => directus;
});

describe('doctor: a healthy setup', () => {
	it('exits 0; keys, extension, licence and clients pass; --json is the report', async () => {
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		const json = report(result);
		assert.equal(json.ok, true);
		assert.equal(json.counts.fail, 0);
		assert.equal(finding(json, 'issuer', 'configuration').status, 'pass');
		assert.equal(finding(json, 'discovery').status, 'pass');
		const keys = finding(json, 'keys');
		assert.equal(keys.status, 'pass');
		assert.match(keys.message, /^2 keys at .*: kid "key-1" \(RSA RS256 sig\), kid "key-2" \(RSA RS256 sig\); 2 usable with RS256$/);
		assert.equal(finding(json, 'connection').status, 'pass');
		assert.equal(finding(json, 'version').message, 'Directus 12.4.0');
		assert.match(finding(json, 'extension').message, /is installed \(EXTENSIONS_PATH\/directus-extension-auth-client-credentials\) and enabled$/);
		assert.equal(finding(json, 'seats').status, 'pass');
		assert.equal(finding(json, 'providers').status, 'pass');
		assert.match(finding(json, 'clients').message, /^1 client: 1 active$/);
	});

	it('prints sections with PASS/FAIL words and a summary for people', async () => {
		const result = await run(settings());
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /^Configuration\n {2}PASS {2}issuer/m);
		assert.match(result.stdout, /^Directus\n {2}PASS {2}connection/m);
		assert.match(result.stdout, /No problems found\.\n$/);
		assert.doesNotMatch(result.stdout, /\u001b\[/);
	});
});

describe('doctor: problems that keep clients out exit 6, each with a remedy', () => {
	it('an invalid configuration names the variable', async () => {
		const result = await run(['--issuer', server.issuer, '--json']);
		assert.equal(result.code, 6);
		assert.match(result.stderr, /^Error: doctor found 1 problem that keeps clients out\.$/m);
		const settingsFinding = finding(report(result), 'settings');
		assert.equal(settingsFinding.status, 'fail');
		assert.match(settingsFinding.message, /^BCC_AUTH_AUDIENCE: is required/);
		assert.match(settingsFinding.remedy ?? '', /BCC_AUTH_AUDIENCE/);
	});

	it('the extension is not installed: the remedy says where to put it and what the log says', async () => {
		directus.extensions = [];
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 6);
		const extension = finding(report(result), 'extension');
		assert.equal(extension.status, 'fail');
		assert.match(extension.message, /is not installed/);
		assert.match(extension.remedy ?? '', /EXTENSIONS_PATH\/directus-extension-auth-client-credentials/);
		assert.match(extension.remedy ?? '', /The manifest of the extension/);
	});

	it('the extension is disabled', async () => {
		installExtension({ enabled: false });
		const extension = finding(report(await run([...settings(), '--json'])), 'extension');
		assert.equal(extension.status, 'fail');
		assert.match(extension.message, /disabled/);
	});

	it('another version of the extension: a warning, not a failure', async () => {
		installExtension({ version: '0.0.1', source: 'module' });
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		assert.match(finding(report(result), 'extension').message, /\(node_modules\//);
		assert.equal(finding(report(result), 'extension version').status, 'warn');
	});

	it('the issuer is unreachable: discovery fails (the hook answers 503)', async () => {
		server.mode = { kind: 'status', status: 500 };
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 6);
		const discovery = finding(report(result), 'discovery');
		assert.equal(discovery.status, 'fail');
		assert.match(discovery.message, /HTTP 500.*503/);
	});

	it('the discovery document names another issuer', async () => {
		server.discoveryOverrides = { issuer: 'https://tenant.example.auth0.com/' };
		const discovery = finding(report(await run([...settings(), '--json'])), 'discovery');
		assert.equal(discovery.status, 'fail');
		assert.match(discovery.remedy ?? '', /BCC_AUTH_ISSUER to exactly "https:\/\/tenant\.example\.auth0\.com\/"/);
	});

	it('no key fits the allowed algorithms', async () => {
		const result = await run([...settings(), '--algorithms', 'ES256', '--json']);
		assert.equal(result.code, 6);
		const keys = finding(report(result), 'keys');
		assert.equal(keys.status, 'fail');
		assert.match(keys.message, /none can verify tokens/);
		assert.match(keys.remedy ?? '', /BCC_AUTH_ALGORITHMS \(now ES256\)/);
	});

	it('a key of another type next to a usable one is reported, without failing', async () => {
		server.keys = [rsaKey('rsa').jwk, ecKey('ec').jwk];
		const json = report(await run([...settings(), '--json']));
		assert.equal(finding(json, 'keys').status, 'pass');
		assert.match(finding(json, 'keys').message, /1 usable with RS256/);
		assert.ok(json.findings.some((item) => item.check === 'keys' && item.status === 'info' && /kid "ec".*fits none/.test(item.message)));
	});

	it('Directus 12 Core: an active client with a custom provider fails (the instance would lock)', async () => {
		addClient('seed-guide', null, { provider: 'bcc-client-credentials' });
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 6);
		const providers = finding(report(result), 'providers');
		assert.equal(providers.status, 'fail');
		assert.match(providers.message, /1 active client user has a provider other than "default" \("bcc-client-credentials"\)/);
	});

	it('Directus 11: the same client is fine, and there is no licence to check', async () => {
		directus.version = { version: '11.17.4', major: 11 };
		directus.license = null;
		addClient('seed-guide', null, { provider: 'bcc-client-credentials' });
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		assert.equal(finding(report(result), 'licence').status, 'info');
		assert.ok(!directus.calls.includes('readLicense'));
	});

	it('a locked licence fails', async () => {
		directus.license = { ...coreLicense({ seats: 5 }), status: 'locked' };
		const json = report(await run([...settings(), '--json']));
		assert.equal(finding(json, 'status', 'licence').status, 'fail');
		assert.equal(finding(json, 'seats').status, 'fail');
	});

	it('Directus refuses the admin token: the connection fails with the reason', async () => {
		connector = async () => {
			throw new CliError('DIRECTUS_FORBIDDEN', 'The token is valid at http://directus.test, but its user has no admin access.');
		};
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 6);
		const connection = finding(report(result), 'connection');
		assert.equal(connection.status, 'fail');
		assert.match(connection.remedy ?? '', /admin/);
		assert.ok(!report(result).findings.some((item) => item.check === 'extension'), 'no Directus checks after a failed connection');
	});
});

describe('doctor: warnings', () => {
	it('clients whose roles grant app or admin access, and seats at the limit', async () => {
		const staff = directus.addRole('Staff', { app: true });
		const admins = directus.addRole('Administrator', { admin: true });
		addClient('svc-app', staff.id);
		addClient('svc-admin', admins.id);
		directus.license = coreLicense({ seats: 3 });
		const result = await run([...settings(), '--json']);
		assert.equal(result.code, 0, result.stderr);
		const json = report(result);
		const app = finding(json, 'app access');
		assert.equal(app.status, 'warn');
		assert.match(app.message, /^client "svc-app" \(active, role "Staff"\) has app access through "Staff policy"$/);
		assert.match(finding(json, 'admin access').message, /may do anything/);
		assert.match(finding(json, 'seats').message, /^3 of 3 seats used .*2 of them are clients; no seat left/);
		assert.equal(finding(json, 'seats').status, 'warn');
	});

	it('a policy attached to the client user itself counts too', async () => {
		const id = addClient('svc-direct', null);
		directus.userPolicies = [{ user: id, policy: { id: 'p-app', name: 'App', admin_access: false, app_access: true } }];
		assert.match(finding(report(await run([...settings(), '--json'])), 'app access').message, /svc-direct.*through "App"/);
	});

	it('permission rules the Core licence does not include', async () => {
		directus.permissions[0]!.fields = ['id', 'title'];
		const rules = finding(report(await run([...settings(), '--json'])), 'permission rules');
		assert.equal(rules.status, 'warn');
		assert.match(rules.message, /articles read/);
	});

	it('without --url/--token the Directus checks are skipped', async () => {
		const result = await run([...settings(), '--json'], { directus: false });
		assert.equal(result.code, 0, result.stderr);
		assert.equal(finding(report(result), 'connection').status, 'skip');
	});

	it('--client-id without --client-secret is a usage error', async () => {
		const result = await run([...settings(), '--client-id', 'abc']);
		assert.equal(result.code, 2);
		assert.match(result.stderr, /--client-id and --client-secret go together/);
	});
});

describe('doctor --client-id: a real token from a real OAuth2 server', () => {
	const SECRET = 'doctor-secret-0123456789';
	let oauth: RunningOAuthServer;

	before(async () => {
		oauth = await startOAuthServer({ audience: AUDIENCE, scopes: ['read:items'], clients: [{ clientId: 'svc-live@clients', clientSecret: SECRET }] });
	});
	after(async () => {
		await oauth.stop();
	});

	async function live(secret: string, directusAnswer: { status: number; body: unknown }): Promise<{ report: DoctorReport; output: string; error: unknown; calls: string[] }> {
		let stdout = '';
		let stderr = '';
		const context: CommandContext = {
			output: createOutput({ json: true, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } }),
			connect: async () => directus,
		};
		const calls: string[] = [];
		const fakeFetch: typeof fetch = async (input, init) => {
			const url = String(input);
			if (url.startsWith('http://directus.test/')) {
				calls.push(`${url} ${new Headers(init?.headers).get('authorization')?.slice(0, 7)}`);
				return new Response(JSON.stringify(directusAnswer.body), { status: directusAnswer.status, headers: { 'content-type': 'application/json' } });
			}
			return fetch(input, init);
		};
		let error: unknown;
		try {
			await doctor(
				{ issuer: oauth.issuer, audience: AUDIENCE, requiredScopes: 'read:items', clientId: 'svc-live@clients', clientSecret: secret },
				context,
				{ url: 'http://directus.test', directus: true, fetch: fakeFetch },
			);
		} catch (caught) {
			error = caught;
		}
		return { report: JSON.parse(stdout) as DoctorReport, output: stdout + stderr, error, calls };
	}

	it('gets a token, checks it like "check", and calls Directus with it', async () => {
		const userId = addClient('svc-live', directus.roles[0]!.id);
		const { report: json, output, error, calls } = await live(SECRET, { status: 200, body: { data: { id: userId } } });
		assert.equal(error, undefined, String(error));
		assert.deepEqual(calls, ['http://directus.test/users/me?fields=id Bearer ']);
		const section = 'client svc-live@clients';
		assert.match(finding(json, 'token', section).message, /^POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token issued a Bearer token, expires in 1 h 0 min$/);
		assert.equal(finding(json, 'check: signature', section).status, 'pass');
		assert.equal(finding(json, 'check: user status', section).status, 'pass');
		assert.equal(finding(json, 'directus call', section).status, 'pass');
		assert.ok(!output.includes(SECRET), 'the secret was printed');
		assert.doesNotMatch(output, /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/, 'a token was printed');
	});

	it('a wrong secret: the token step fails with the server\'s error', async () => {
		const { report: json, error, calls } = await live('wrong', { status: 200, body: {} });
		assert.ok(error instanceof CliError && error.exitCode === 6);
		assert.deepEqual(calls, [], 'no Directus call without a token');
		const token = finding(json, 'token');
		assert.equal(token.status, 'fail');
		assert.match(token.message, /HTTP 401 invalid_client/);
	});

	it('a token bcc-cc accepts but Directus refuses: the remedy points at the hook in Directus', async () => {
		addClient('svc-live', directus.roles[0]!.id);
		const { report: json } = await live(SECRET, { status: 401, body: { errors: [{ message: 'Invalid user credentials.', extensions: { code: 'INVALID_CREDENTIALS' } }] } });
		const call = finding(json, 'directus call');
		assert.equal(call.status, 'fail');
		assert.match(call.message, /HTTP 401 INVALID_CREDENTIALS: Invalid user credentials\./);
		assert.match(call.remedy ?? '', /the hook is not loaded, or runs with other BCC_AUTH_\* values/);
	});
});

describe('doctor --client-id: where the client secret may go', () => {
	const SECRET = 'doctor-secret-never-elsewhere';

	/** A loopback HTTP server that records what reaches it and answers with `answer`. */
	async function recorder(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
		const seen: string[] = [];
		const http = createServer((req, res) => {
			let body = '';
			req.on('data', (chunk: Buffer) => (body += chunk.toString()));
			req.on('end', () => {
				seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''} ${body}`);
				answer(req, res);
			});
		});
		http.listen(0, '127.0.0.1');
		await once(http, 'listening');
		return {
			url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
			seen,
			close: async () => {
				http.close();
				http.closeAllConnections();
				await once(http, 'close');
			},
		};
	}

	/** `doctor --client-id svc --client-secret SECRET [--token-endpoint]` against the key server; every request it makes, with its options. */
	async function liveDoctor(tokenEndpoint?: string, realFetch = false): Promise<{ report: DoctorReport; requests: Array<{ url: string; init: RequestInit | undefined }> }> {
		let stdout = '';
		const context: CommandContext = {
			output: createOutput({ json: true, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } }),
			connect: async () => directus,
		};
		const requests: Array<{ url: string; init: RequestInit | undefined }> = [];
		const recordingFetch: typeof fetch = async (input, init) => {
			requests.push({ url: String(input), init });
			if (realFetch) return fetch(input, init);
			return new Response(JSON.stringify({ error: 'invalid_client' }), { status: 401, headers: { 'content-type': 'application/json' } });
		};
		await doctor(
			{ issuer: server.issuer, audience: AUDIENCE, clientId: 'svc', clientSecret: SECRET, ...(tokenEndpoint ? { tokenEndpoint } : {}) },
			context,
			{ directus: false, fetch: recordingFetch },
		).catch(() => undefined);
		return { report: JSON.parse(stdout) as DoctorReport, requests };
	}

	it('not to the token_endpoint of a discovery document that names another issuer', async () => {
		const sink = await recorder((_req, res) => res.writeHead(400).end('{}'));
		try {
			server.discoveryOverrides = { issuer: 'https://someone-else.example/', token_endpoint: `${sink.url}/token` };
			const { report: json, requests } = await liveDoctor(undefined, true);
			assert.equal(finding(json, 'discovery').status, 'fail');
			const endpoint = finding(json, 'token endpoint', 'client svc');
			assert.equal(endpoint.status, 'fail');
			assert.match(endpoint.message, /names another issuer, so its token_endpoint "http:\/\/127\.0\.0\.1:\d+\/token" is not used \(the client secret is not sent there\)/);
			assert.match(endpoint.remedy ?? '', /--token-endpoint/);
			assert.deepEqual(requests, []);
			assert.deepEqual(sink.seen, []);
		} finally {
			await sink.close();
		}
	});

	it('not to it either when BCC_AUTH_JWKS_URI makes the mismatch a mere warning', async () => {
		server.discoveryOverrides = { issuer: 'https://someone-else.example/', token_endpoint: 'https://someone-else.example/oauth/token' };
		let stdout = '';
		const context: CommandContext = {
			output: createOutput({ json: true, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } }),
			connect: async () => directus,
		};
		const requests: string[] = [];
		await doctor(
			{ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, clientId: 'svc', clientSecret: SECRET },
			context,
			{ directus: false, fetch: async (input) => (requests.push(String(input)), new Response('{}', { status: 401 })) },
		).catch(() => undefined);
		const json = JSON.parse(stdout) as DoctorReport;
		assert.equal(finding(json, 'discovery').status, 'warn');
		assert.match(finding(json, 'token endpoint', 'client svc').message, /names another issuer/);
		assert.deepEqual(requests, []);
	});

	it('not over plain http to a host other than localhost, from discovery or --token-endpoint', async () => {
		server.discoveryOverrides = { token_endpoint: 'http://idp.example.test/oauth/token' };
		const fromDiscovery = await liveDoctor();
		assert.match(finding(fromDiscovery.report, 'token endpoint', 'client svc').message, /^token endpoint "http:\/\/idp\.example\.test\/oauth\/token" is plain http on a host other than localhost: the client secret is not sent there$/);
		assert.deepEqual(fromDiscovery.requests, []);

		server.discoveryOverrides = {};
		for (const endpoint of ['http://10.0.0.5/token', 'ftp://idp.example.test/token', 'not a url']) {
			const given = await liveDoctor(endpoint);
			assert.equal(finding(given.report, 'token endpoint', 'client svc').status, 'fail', endpoint);
			assert.deepEqual(given.requests, [], endpoint);
		}
	});

	it('https, or http on loopback, is used, and the POST follows no redirect', async () => {
		server.discoveryOverrides = { token_endpoint: 'https://idp.example.test/oauth/token' };
		const https = await liveDoctor();
		assert.deepEqual(https.requests.map((request) => [request.url, request.init?.method, request.init?.redirect]), [['https://idp.example.test/oauth/token', 'POST', 'error']]);
		assert.match(finding(https.report, 'token', 'client svc').message, /HTTP 401 invalid_client/);
		for (const endpoint of ['http://localhost:9/token', 'http://127.0.0.1:9/token', 'http://[::1]:9/token']) {
			assert.deepEqual((await liveDoctor(endpoint)).requests.map((request) => request.url), [endpoint]);
		}
	});

	it('a redirect from the token endpoint is not followed: the secret reaches no one else', async () => {
		const elsewhere = await recorder((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"x"}'));
		const redirecting = await recorder((_req, res) => res.writeHead(307, { location: `${elsewhere.url}/steal` }).end());
		try {
			// client_secret_post: a 307 would carry the secret in the body to the new place.
			server.discoveryOverrides = { token_endpoint: `${redirecting.url}/token`, token_endpoint_auth_methods_supported: ['client_secret_post'] };
			const { report: json } = await liveDoctor(undefined, true);
			assert.equal(redirecting.seen.length, 1);
			assert.match(redirecting.seen[0] ?? '', /client_secret=doctor-secret-never-elsewhere/);
			assert.deepEqual(elsewhere.seen, []);
			const token = finding(json, 'token', 'client svc');
			assert.equal(token.status, 'fail');
			assert.match(token.message, /redirect/);
		} finally {
			await redirecting.close();
			await elsewhere.close();
		}
	});
});
