/**
 * `bcc-cc doctor` against a key server on loopback (and, for --client-id, the
 * real OAuth2 server of dev/) with an in-memory Directus.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { doctor } from '../../cli/commands/doctor.js';
import type { CommandContext } from '../../cli/context.js';
import { CLI_VERSION, EXTENSION_NAME, type DoctorReport, type Finding } from '../../cli/doctor.js';
import { CliError } from '../../cli/errors.js';
import { main } from '../../cli/index.js';
import { createOutput } from '../../cli/output.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { coreLicense, FakeDirectus } from '../support/fake-directus.js';
import { startKeyServer, type KeyServer } from '../support/key-server.js';
import { ecKey, rsaKey } from '../support/tokens.js';

const AUDIENCE = 'https://api.example.test';

let server: KeyServer;
let directus: FakeDirectus;
let connector: () => Promise<FakeDirectus>;

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

async function run(args: string[], options: { directus?: boolean } = {}): Promise<Run> {
	let stdout = '';
	let stderr = '';
	const globals = options.directus === false ? [] : ['--url', 'http://directus.test', '--token', 't0ken'];
	const code = await main(['node', 'bcc-cc', ...globals, 'doctor', ...args], {
		connector: () => connector(),
		stdout: { write: (text: string) => (stdout += text) },
		stderr: { write: (text: string) => (stderr += text) },
	});
	return { code, stdout, stderr };
}

const settings = () => ['--issuer', server.issuer, '--audience', AUDIENCE, '--required-scopes', 'read:items'];

function report(result: Run): DoctorReport {
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
