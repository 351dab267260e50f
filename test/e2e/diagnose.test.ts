/**
 * bcc-cc check, doctor, show and list --role/--status (the built dist/cli.js)
 * against a real Directus running the built hook, with tokens from a real
 * OAuth2 server. `check` must agree with Directus: for every token, accepted
 * exactly when Directus answers 200, and otherwise predicting Directus's
 * status and error code.
 *
 * Runs on Directus 12.4.0 and 11.17.4 (BCC_TEST_DIRECTUS_VERSION picks one).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, describe } from 'node:test';
import { adminApi, api, errorCode } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { EXTENSION_NAME, installBuiltExtension, PROJECT_ROOT } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun, runCli, type CliResult } from '../support/e2e.js';

const VERSIONS = process.env['BCC_TEST_DIRECTUS_VERSION'] ? [process.env['BCC_TEST_DIRECTUS_VERSION']] : ['12.4.0', '11.17.4'];
const AUDIENCE = 'https://directus.diagnose.test/api';
const SECRET = 'diagnose-client-secret-0123456789';
const now = () => Math.floor(Date.now() / 1000);

function json(result: CliResult): any {
	return JSON.parse(result.stdout);
}

function finding(report: any, check: string): { status: string; message: string; remedy?: string } {
	const found = report.findings.find((candidate: { check: string }) => candidate.check === check);
	assert.ok(found, `no finding ${check}: ${JSON.stringify(report.findings.map((f: { check: string }) => f.check))}`);
	return found;
}

for (const version of VERSIONS) {
	const major = Number(version.split('.')[0]);

	describe(`bcc-cc check, doctor and show against Directus ${version}`, () => {
		const run = e2eRun(`diagnose-${version}`);
		const test = (name: string, body: () => Promise<void>) => run.test(name, body, { timeout: 180_000 });
		let oauth: RunningOAuthServer;
		let directus: RunningDirectus;
		const clients = ['dx-reader', 'dx-admin', 'dx-unknown', 'dx-noscope', 'dx-expired', 'dx-wrongaud', 'dx-suspended'];

		const hookEnv = () => ({ BCC_AUTH_ISSUER: oauth.issuer, BCC_AUTH_AUDIENCE: AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items' });
		const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
			runCli(args, { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken, ...hookEnv(), ...env });
		const tokenFor = (clientId: string) => oauth.getToken(`${clientId}@clients`, SECRET);

		run.before(
			async () => {
				const folder = run.folder;
				const extensionsPath = path.join(folder, 'extensions');
				installBuiltExtension(extensionsPath);
				oauth = await startOAuthServer({
					audience: AUDIENCE,
					scopes: ['read:items', 'write:items'],
					clients: clients.map((clientId) => ({ clientId: `${clientId}@clients`, clientSecret: SECRET, ...(clientId === 'dx-noscope' ? { scope: 'write:items' } : {}) })),
					customizeToken: ({ payload }, clientId) => {
						if (clientId === 'dx-expired@clients') Object.assign(payload, { iat: now() - 7200, exp: now() - 3600 });
						if (clientId === 'dx-wrongaud@clients') payload['aud'] = 'https://another-api.example.test';
					},
				});
				directus = await startDirectus({
					version,
					dataDir: path.join(folder, 'directus'),
					extensionsPath,
					env: { ...hookEnv(), EXTENSIONS_MUST_LOAD: 'true' },
					log: () => undefined,
				});
				await seedSchema(directus.url, directus.adminToken);
				for (const [clientId, role] of [['dx-reader', READER_ROLE], ['dx-noscope', READER_ROLE], ['dx-expired', READER_ROLE], ['dx-wrongaud', READER_ROLE], ['dx-suspended', READER_ROLE]]) {
					const result = await cli(['provision', clientId as string, '--role', role as string, '--json']);
					assert.equal(result.code, 0, result.stderr);
				}
				assert.equal((await cli(['revoke', 'dx-suspended'])).code, 0);
			},
			{ timeout: 20 * 60_000 },
		);

		after(async () => {
			await directus?.stop();
			await oauth?.stop();
			run.finish();
		});

		test('check agrees with Directus on every token: accepted exactly when Directus answers 200, else the same status and code', async () => {
			const cases: [string, string, string | null][] = [
				['good', await tokenFor('dx-reader'), null],
				['expired', await tokenFor('dx-expired'), 'token_expired'],
				['other audience', await tokenFor('dx-wrongaud'), 'audience_mismatch'],
				['missing scope', await tokenFor('dx-noscope'), 'scope_missing'],
				['never provisioned', await tokenFor('dx-unknown'), 'client_unknown'],
				['suspended', await tokenFor('dx-suspended'), 'client_inactive'],
				['not a JWT', 'not-a-jwt-at-all', 'not_owned'],
			];
			for (const [name, token, reason] of cases) {
				const [checked, response] = await Promise.all([cli(['check', token, '--json']), api(directus.url, '/users/me?fields=id', { token })]);
				const report = json(checked);
				assert.equal(report.accepted, response.status === 200, `${name}: check says ${report.verdict}, Directus ${response.status}`);
				assert.equal(checked.code, response.status === 200 ? 0 : 6, `${name}: exit code`);
				if (reason === null) {
					assert.equal(response.body.data.id, report.client.userId, name);
				} else {
					assert.equal(report.refusal.reason, reason, name);
					assert.equal(report.refusal.status, response.status, `${name}: status`);
					assert.equal(report.refusal.code, errorCode(response), `${name}: code`);
				}
				assert.ok(!checked.stdout.includes(token.split('.')[2] || '\u0000'), `${name}: signature printed`);
			}
		});

		test('check for people: one line per step, and the time left', async () => {
			const result = await cli(['check', await tokenFor('dx-reader')]);
			assert.equal(result.code, 0, result.stderr);
			assert.match(result.stdout, /^ {2}PASS {2}signature +verifies with the issuer's key$/m);
			assert.match(result.stdout, /^ {2}PASS {2}lifetime +expires in (59 min \d+ s|1 h 0 min)/m);
			assert.match(result.stdout, /^ {2}PASS {2}role +"Article readers" \(1 policy, API only\)/m);
			assert.match(result.stdout, /^Result {2}ACCEPTED: /m);
		});

		test('check reads the token from standard input', async () => {
			const token = await tokenFor('dx-reader');
			const result = await new Promise<CliResult>((resolve) => {
				const child = execFile(
					process.execPath,
					[path.join(PROJECT_ROOT, 'dist', 'cli.js'), 'check', '--json'],
					{ env: { PATH: process.env['PATH'] ?? '', DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken, ...hookEnv() } },
					(error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
				);
				child.stdin?.end(`${token}\n`);
			});
			assert.equal(result.code, 0, result.stderr);
			assert.equal(json(result).verdict, 'accepted');
		});

		test('doctor: all green, the extension found through GET /extensions, and a real client gets through', async () => {
			const result = await cli(['doctor', '--json'], { BCC_CLIENT_ID: 'dx-reader@clients', BCC_CLIENT_SECRET: SECRET });
			assert.equal(result.code, 0, `${result.stderr}\n${result.stdout}`);
			const report = json(result);
			assert.equal(report.ok, true);
			assert.equal(finding(report, 'version').message, `Directus ${version}`);
			assert.match(finding(report, 'extension').message, new RegExp(`^${EXTENSION_NAME} \\d+\\.\\d+\\.\\d+ is installed \\(EXTENSIONS_PATH/${EXTENSION_NAME}\\) and enabled$`));
			assert.match(finding(report, 'keys').message, /^1 key at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: kid "[\w-]+" \(RSA RS256 sig\); 1 usable with RS256$/);
			if (major >= 12) {
				assert.equal(finding(report, 'status').message, 'licence "Core", status active');
				assert.match(finding(report, 'seats').message, /^1 of 3 seats used/);
				assert.equal(finding(report, 'providers').status, 'pass');
			} else {
				assert.equal(finding(report, 'licence').message, `Directus ${version} has no licence limits`);
			}
			assert.equal(finding(report, 'directus call').status, 'pass');
			assert.equal(finding(report, 'check: user status').status, 'pass');
		});

		test('doctor warns about a client with admin access', async () => {
			assert.equal((await cli(['provision', 'dx-admin', '--role', 'Administrator'])).code, 0);
			const report = json(await cli(['doctor', '--json']));
			const admin = finding(report, 'admin access');
			assert.equal(admin.status, 'warn');
			assert.match(admin.message, /^client "dx-admin" \(active, role "Administrator"\) has admin access/);
			if (major >= 12) assert.match(finding(report, 'seats').message, /^2 of 3 seats used .* 1 of them is a client$/);
			assert.equal((await cli(['revoke', 'dx-admin', '--delete'])).code, 0);
		});

		test('doctor with bcc-cc configured differently from the hook: the live call fails, pointing at the hook\'s settings', async () => {
			// Directus requires read:items; bcc-cc is told no scope is required, so it accepts a token Directus refuses (403).
			const result = await cli(['doctor', '--json', '--required-scopes', ''], { BCC_CLIENT_ID: 'dx-noscope@clients', BCC_CLIENT_SECRET: SECRET });
			assert.equal(result.code, 6);
			const report = json(result);
			assert.equal(finding(report, 'check: required scopes').status, 'pass');
			const call = finding(report, 'directus call');
			assert.equal(call.status, 'fail');
			assert.match(call.message, /^GET \/users\/me with the token: HTTP 403 FORBIDDEN/);
			assert.match(call.remedy ?? '', /runs with other BCC_AUTH_\* values/);
		});

		test('show: the role, its policy and what it may read', async () => {
			const result = await cli(['show', 'dx-reader', '--json']);
			const shown = json(result);
			assert.equal(shown.userId, userIdForIdentifier('dx-reader@clients'));
			assert.equal(shown.role.name, READER_ROLE);
			assert.deepEqual(shown.access, { admin: false, app: false });
			assert.deepEqual(shown.policies.map((policy: { name: string; via: string }) => [policy.name, policy.via]), [['Read articles', `role "${READER_ROLE}"`]]);
			assert.deepEqual(shown.permissions.map((permission: { collection: string; action: string; fields: string[] }) => [permission.collection, permission.action, permission.fields]), [['articles', 'read', ['*']]]);
			const human = await cli(['show', 'dx-reader']);
			assert.match(human.stdout, /^articles +read +nothing \(all items, all fields\)$/m);
		});

		test('list --role and --status', async () => {
			const suspended = json(await cli(['list', '--status', 'suspended', '--json']));
			assert.deepEqual(suspended.map((entry: { clientId: string }) => entry.clientId), ['dx-suspended']);
			const readers = json(await cli(['list', '--role', READER_ROLE, '--status', 'active', '--json']));
			assert.deepEqual(readers.map((entry: { clientId: string }) => entry.clientId).sort(), ['dx-expired', 'dx-noscope', 'dx-reader', 'dx-wrongaud']);
		});

		test('doctor fails when the extension is disabled in Directus, and passes again once it is enabled', async () => {
			const extensions = await adminApi(directus.url, directus.adminToken, '/extensions');
			const entry = extensions.find((extension: { schema: { name: string } | null }) => extension.schema?.name === EXTENSION_NAME);
			assert.ok(entry, JSON.stringify(extensions));
			await adminApi(directus.url, directus.adminToken, `/extensions/${entry.id}`, 'PATCH', { meta: { enabled: false } });
			try {
				const result = await cli(['doctor', '--json']);
				assert.equal(result.code, 6);
				const extension = finding(json(result), 'extension');
				assert.equal(extension.status, 'fail');
				assert.match(extension.message, /is installed \(EXTENSIONS_PATH\/.*\) but disabled$/);
				assert.match(extension.remedy ?? '', /Settings > Extensions/);
			} finally {
				await adminApi(directus.url, directus.adminToken, `/extensions/${entry.id}`, 'PATCH', { meta: { enabled: true } });
			}
			assert.equal(finding(json(await cli(['doctor', '--json'])), 'extension').status, 'pass');
		});
	});
}
