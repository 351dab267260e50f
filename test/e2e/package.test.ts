/**
 * The published artefact, not the source tree: `npm pack` into a temporary
 * folder, then
 *
 * - the tarball holds only what is needed, and no runtime dependencies;
 * - extracted with the commands of docs/install.md into EXTENSIONS_PATH of a
 *   fresh Directus 12.4.0, the hook loads and a real OAuth2 server's token gets
 *   200, with the client provisioned by the tarball's own bcc-cc;
 * - `npm exec --package <tarball> -- bcc-cc` works offline;
 * - `npm install <tarball>` into a Directus project folder installs nothing
 *   else, and Directus loads it from node_modules;
 * - docs/Dockerfile copies the same folder to the same place.
 *
 * dist/ must be built (npm test builds first); the pack itself skips the
 * prepack build so that it packs exactly what was tested.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe } from 'node:test';
import { api } from '../../dev/directus-api.js';
import { startDirectus, type RunningDirectus } from '../../dev/directus-runtime.js';
import { PROJECT_ROOT } from '../../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../../dev/sample-content.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { e2eRun } from '../support/e2e.js';

const DIRECTUS_VERSION = '12.4.0';
const AUDIENCE = 'https://directus.package.test/api';
const SECRET = 'package-test-secret-0123456789';
const PACKAGE = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
	name: string;
	version: string;
	bin: Record<string, string>;
	scripts: Record<string, string>;
	'directus:extension': { path: string };
};
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Result {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs a command with Node 22 first on PATH (npm and the bin's `#!/usr/bin/env node` use it). */
function exec(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Result> {
	return new Promise((resolve) => {
		const child = execFile(
			command,
			args,
			{
				cwd: options.cwd,
				env: {
					PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env['PATH'] ?? ''}`,
					HOME: process.env['HOME'] ?? '',
					NO_COLOR: '1',
					npm_config_update_notifier: 'false',
					...options.env,
				},
				timeout: 120_000,
				maxBuffer: 16 * 1024 * 1024,
			},
			(error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
		);
		if (options.input !== undefined) child.stdin?.end(options.input);
	});
}

/** The shell block of docs/install.md that follows `<!-- <marker> -->`. */
function docsBlock(marker: string): string {
	const text = readFileSync(path.join(PROJECT_ROOT, 'docs', 'install.md'), 'utf8');
	const match = new RegExp(`<!-- ${marker} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text);
	assert.ok(match?.[1], `docs/install.md has no sh block after <!-- ${marker} -->`);
	return match[1];
}

function parseJson(result: Result): any {
	assert.equal(result.code, 0, `exit code 0 expected, got ${result.code}; stderr:\n${result.stderr}`);
	return JSON.parse(result.stdout);
}

describe(`the npm package, installed from its tarball into Directus ${DIRECTUS_VERSION}`, () => {
	const run = e2eRun('package');
	const test = (name: string, body: () => Promise<void>, timeout = 120_000) => run.test(name, body, { timeout });
	let tarball: string;
	let oauth: RunningOAuthServer;
	let directus: RunningDirectus;
	let extensionsPath: string;
	const clients = ['pkg-orders', 'pkg-module'];

	const installed = () => path.join(extensionsPath, PACKAGE.name);
	const bccCc = (args: string[], env: Record<string, string> = {}, input?: string) =>
		exec(process.execPath, [path.join(installed(), PACKAGE.bin['bcc-cc'] as string), ...args], {
			cwd: run.folder,
			env: { DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken, ...env },
			...(input !== undefined ? { input } : {}),
		});
	const hookEnv = () => ({ BCC_AUTH_ISSUER: oauth.issuer, BCC_AUTH_AUDIENCE: AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items' });

	run.before(
		async () => {
			for (const file of [PACKAGE['directus:extension'].path, PACKAGE.bin['bcc-cc'] as string]) {
				assert.ok(existsSync(path.join(PROJECT_ROOT, file)), `${file} is missing: run "npm run build" first`);
			}
			const folder = run.folder;
			const packed = spawnSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', folder], {
				cwd: PROJECT_ROOT,
				encoding: 'utf8',
				env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env['PATH'] ?? ''}` },
			});
			assert.equal(packed.status, 0, packed.stderr);
			const filename = (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename;
			assert.ok(filename);
			tarball = path.join(folder, filename);

			// Installed exactly as docs/install.md says.
			extensionsPath = path.join(folder, 'extensions');
			mkdirSync(extensionsPath);
			const install = await exec('sh', ['-e', '-c', docsBlock('install:extensions-path')], { cwd: folder, env: { EXTENSIONS_PATH: extensionsPath } });
			assert.equal(install.code, 0, install.stderr);

			oauth = await startOAuthServer({
				audience: AUDIENCE,
				scopes: ['read:items'],
				clients: clients.map((clientId) => ({ clientId: `${clientId}@clients`, clientSecret: SECRET })),
			});
			directus = await startDirectus({
				version: DIRECTUS_VERSION,
				dataDir: path.join(folder, 'directus'),
				extensionsPath,
				env: { ...hookEnv(), EXTENSIONS_MUST_LOAD: 'true' },
				log: () => undefined,
			});
			await seedSchema(directus.url, directus.adminToken);
		},
		{ timeout: 20 * 60_000 },
	);

	after(async () => {
		await directus?.stop();
		await oauth?.stop();
		run.finish();
	});

	test('the tarball holds the two bundles, README and CHANGELOG, and declares no runtime dependencies', async () => {
		const list = await exec('tar', ['-tzf', tarball], { cwd: run.folder });
		assert.equal(list.code, 0, list.stderr);
		const expected = ['package/CHANGELOG.md', 'package/README.md', 'package/dist/cli.js', 'package/dist/index.js', 'package/package.json'];
		if (existsSync(path.join(PROJECT_ROOT, 'LICENSE'))) expected.push('package/LICENSE');
		assert.deepEqual(list.stdout.trim().split('\n').sort(), expected.sort());
		const manifest = JSON.parse(readFileSync(path.join(installed(), 'package.json'), 'utf8'));
		assert.equal(manifest.dependencies, undefined, 'a runtime dependency would make npm install fetch it');
		assert.equal(manifest.version, PACKAGE.version);
		assert.deepEqual(manifest.bin, { 'bcc-cc': 'dist/cli.js' });
		assert.ok(statSync(path.join(installed(), 'dist', 'cli.js')).mode & 0o100, 'dist/cli.js is executable');
		assert.equal(PACKAGE.scripts['prepack'], 'npm run build', 'npm pack must build what it packs');
	});

	test('the bundles import nothing but Node\'s own modules', async () => {
		const { builtinModules } = await import('node:module');
		const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
		for (const file of ['dist/index.js', 'dist/cli.js']) {
			const source = readFileSync(path.join(installed(), file), 'utf8');
			const imports = [...source.matchAll(/^import\s[^;]*?from\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)].map((match) => match[1] ?? match[2]);
			const foreign = imports.filter((name) => !builtins.has(name as string));
			assert.deepEqual(foreign, [], `${file} imports ${foreign.join(', ')}`);
		}
	});

	test('Directus loaded the extension from EXTENSIONS_PATH and lists it as enabled', async () => {
		assert.match(directus.readLog(), new RegExp(`Loaded extensions: .*${PACKAGE.name}`));
		const listed = await api(directus.url, '/extensions', { token: directus.adminToken });
		const entry = listed.body.data.find((extension: { schema: { name: string } | null }) => extension.schema?.name === PACKAGE.name);
		assert.ok(entry, JSON.stringify(listed.body));
		assert.deepEqual([entry.meta.enabled, entry.meta.source, entry.meta.folder, entry.schema.version], [true, 'local', PACKAGE.name, PACKAGE.version]);
	});

	test('its bcc-cc prints the package version', async () => {
		const version = await bccCc(['--version']);
		assert.equal(version.code, 0, version.stderr);
		assert.equal(version.stdout.trim(), PACKAGE.version);
	});

	test('a client provisioned with its bcc-cc calls Directus with a real token: 200', async () => {
		const provisioned = parseJson(await bccCc(['provision', 'pkg-orders', '--role', READER_ROLE, '--json']));
		assert.equal(provisioned.action, 'created');
		const token = await oauth.getToken('pkg-orders@clients', SECRET);
		const response = await api(directus.url, '/items/articles', { token });
		assert.equal(response.status, 200, JSON.stringify(response.body));
		assert.equal(response.body.data.length, 2);
		const me = await api(directus.url, '/users/me?fields=id', { token });
		assert.equal(me.body.data.id, userIdForIdentifier('pkg-orders@clients'));

		const check = parseJson(await bccCc(['check', '--json'], hookEnv(), token));
		assert.equal(check.accepted, true);
		assert.equal(check.client.userId, me.body.data.id);
	});

	test('its doctor finds the installed extension and gets through with a real client', async () => {
		const result = await bccCc(['doctor', '--json'], { ...hookEnv(), BCC_CLIENT_ID: 'pkg-orders@clients', BCC_CLIENT_SECRET: SECRET });
		const report = parseJson(result);
		assert.equal(report.ok, true);
		const extension = report.findings.find((finding: { check: string }) => finding.check === 'extension');
		assert.equal(extension.status, 'pass');
		assert.equal(extension.message, `${PACKAGE.name} ${PACKAGE.version} is installed (EXTENSIONS_PATH/${PACKAGE.name}) and enabled`);
		const call = report.findings.find((finding: { check: string }) => finding.check === 'directus call');
		assert.equal(call.status, 'pass', JSON.stringify(call));
		assert.ok(!result.stdout.includes(SECRET));
	});

	test('npm exec --package <tarball> runs bcc-cc offline', async () => {
		const result = await exec(NPM, ['exec', '--offline', '--yes', '--package', tarball, '--', 'bcc-cc', '--version'], { cwd: run.folder });
		assert.equal(result.code, 0, result.stderr);
		assert.equal(result.stdout.trim().split('\n').pop(), PACKAGE.version);
	});

	test('npm install <tarball> in a Directus project folder installs nothing else, and Directus loads it from node_modules', async () => {
		const project = path.join(run.folder, 'project');
		mkdirSync(project);
		writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'my-directus', private: true }, null, 2)}\n`);
		const install = await exec('sh', ['-e', '-c', docsBlock('install:npm').replaceAll('./directus-extension-auth-client-credentials-<version>.tgz', tarball)], {
			cwd: project,
			env: { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' },
		});
		assert.equal(install.code, 0, install.stderr);
		assert.deepEqual(readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.')), [PACKAGE.name]);
		assert.ok(JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')).dependencies[PACKAGE.name]);

		const npx = await exec(NPM, ['exec', '--offline', '--', 'bcc-cc', '--version'], { cwd: project });
		assert.equal(npx.code, 0, npx.stderr);
		assert.equal(npx.stdout.trim(), PACKAGE.version);

		const emptyExtensions = path.join(run.folder, 'no-extensions');
		mkdirSync(emptyExtensions);
		const second = await startDirectus({
			version: DIRECTUS_VERSION,
			dataDir: project,
			extensionsPath: emptyExtensions,
			env: { ...hookEnv(), EXTENSIONS_MUST_LOAD: 'true' },
			log: () => undefined,
		});
		try {
			await seedSchema(second.url, second.adminToken);
			const provision = await exec(NPM, ['exec', '--offline', '--', 'bcc-cc', 'provision', 'pkg-module', '--role', READER_ROLE, '--json'], {
				cwd: project,
				env: { DIRECTUS_URL: second.url, DIRECTUS_TOKEN: second.adminToken },
			});
			assert.equal(parseJson(provision).action, 'created');
			const token = await oauth.getToken('pkg-module@clients', SECRET);
			const response = await api(second.url, '/items/articles', { token });
			assert.equal(response.status, 200, JSON.stringify(response.body));
			const listed = await api(second.url, '/extensions', { token: second.adminToken });
			const entry = listed.body.data.find((extension: { schema: { name: string } | null }) => extension.schema?.name === PACKAGE.name);
			assert.deepEqual([entry?.meta.source, entry?.meta.enabled], ['module', true]);
		} finally {
			await second.stop();
		}
	}, 10 * 60_000);

	test('docs/Dockerfile starts from the tested Directus and copies the extracted package where this test installed it', async () => {
		const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'docs', 'Dockerfile'), 'utf8');
		const instructions = dockerfile.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
		assert.equal(instructions[0], `FROM directus/directus:${DIRECTUS_VERSION}`);
		const copy = instructions.find((line) => line.startsWith('COPY '));
		const match = /^COPY --chown=node:node (\S+?)\/? (\S+?)\/?$/.exec(copy ?? '');
		assert.ok(match, `unexpected COPY line: ${copy}`);
		const [, source, target] = match;
		// The image's EXTENSIONS_PATH is /directus/extensions; the folder is the package name, as installed above.
		assert.equal(target, `/directus/extensions/${PACKAGE.name}`);
		assert.equal(path.basename(installed()), path.basename(target as string));
		// The build context folder is what the docs' extraction step creates.
		assert.ok(docsBlock('install:extensions-path').includes(`/${source}"`), 'the docs extract into a folder named like the COPY source');
		// Every file the image needs is in that folder.
		for (const file of [PACKAGE['directus:extension'].path, PACKAGE.bin['bcc-cc'] as string, 'package.json']) {
			assert.ok(existsSync(path.join(installed(), file)), `${file} missing from the extracted package`);
		}
		const link = instructions.find((line) => line.includes('ln -s'));
		assert.equal(link, `RUN ln -s ${target}/${PACKAGE.bin['bcc-cc']} /usr/local/bin/bcc-cc`);
		// The README shows the same COPY line.
		assert.ok(readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8').includes(copy as string), 'README.md and docs/Dockerfile differ');
	});
});
