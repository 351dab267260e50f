/**
 * The CLI as a process: usage errors, settings and their exit codes, help and
 * version. Runs the TypeScript entry point (`node --import tsx cli/index.ts`)
 * so it needs no build; nothing here reaches a Directus.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
	code: number | null;
	stdout: string;
	stderr: string;
}

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
	const childEnv: NodeJS.ProcessEnv = { ...process.env, DIRECTUS_URL: undefined, DIRECTUS_TOKEN: undefined, DEBUG: undefined, ...env };
	for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'index.ts'), ...args], {
			cwd: ROOT,
			env: childEnv,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stderr.on('data', (chunk) => (stderr += chunk));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

let closedUrl: string;

before(async () => {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const address = probe.address();
	assert.ok(address && typeof address === 'object');
	await new Promise((resolve) => probe.close(resolve));
	closedUrl = `http://127.0.0.1:${address.port}`;
});

describe('help and version', () => {
	it('--help lists the commands, the settings with their variables, and the exit codes', async () => {
		const result = await cli(['--help']);
		assert.equal(result.code, 0);
		assert.equal(result.stderr, '');
		for (const text of ['Usage: bcc-cc', 'provision', 'list', 'revoke', 'DIRECTUS_URL', 'DIRECTUS_TOKEN', 'a flag beats its environment variable', 'Exit codes:']) {
			assert.ok(result.stdout.includes(text), `help lacks ${text}`);
		}
		assert.match(result.stdout, /^\s+5\s+not found/m);
	});

	it('each command has help with arguments, variables and an example', async () => {
		const results = await Promise.all(['provision', 'list', 'revoke'].map((name) => cli([name, '--help'])));
		for (const [index, result] of results.entries()) {
			assert.equal(result.code, 0, `command ${index}`);
			assert.match(result.stdout, /Examples:\n\s+\$ bcc-cc /);
			assert.match(result.stdout, /DIRECTUS_TOKEN/);
			assert.match(result.stdout, /--json/);
		}
		assert.match(results[0]?.stdout ?? '', /--role <role>/);
		assert.match(results[0]?.stdout ?? '', /--create-role/);
		assert.match(results[2]?.stdout ?? '', /--delete/);
	});

	it('a closed stdout (`bcc-cc --help | head -1`) ends quietly', async () => {
		const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'index.ts'), 'provision', '--help'], {
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		child.stdout.destroy();
		let stderr = '';
		child.stderr.on('data', (chunk) => (stderr += chunk));
		const code = await new Promise((resolve) => child.on('close', resolve));
		assert.equal(stderr, '');
		assert.equal(code, 0);
	});

	it('--help lists the diagnostic commands and exit code 6', async () => {
		const result = await cli(['--help']);
		assert.equal(result.code, 0);
		for (const command of ['show', 'check', 'doctor']) assert.match(result.stdout, new RegExp(`^  ${command} `, 'm'), command);
		assert.match(result.stdout, /^\s+6\s+check: the token would be refused/m);
	});

	it('check, doctor and show have help with the hook settings, --json and examples', async () => {
		const [check, doctor, show] = await Promise.all(['check', 'doctor', 'show'].map((name) => cli([name, '--help'])));
		for (const result of [check, doctor, show]) {
			assert.equal(result?.code, 0);
			assert.match(result?.stdout ?? '', /--json/);
			assert.match(result?.stdout ?? '', /Examples:\n\s+\$ /);
			assert.match(result?.stdout ?? '', /JSON output:/);
		}
		for (const result of [check, doctor]) {
			assert.match(result?.stdout ?? '', /--issuer <url>/);
			assert.match(result?.stdout ?? '', /--env-file <file>/);
			assert.match(result?.stdout ?? '', /BCC_AUTH_REQUIRED_SCOPES/);
		}
		assert.match(check?.stdout ?? '', /Usage: bcc-cc check \[options\] \[token\]/);
		assert.match(check?.stdout ?? '', /--token-only/);
		assert.match(doctor?.stdout ?? '', /--client-id <id>.*\(env:\s+BCC_CLIENT_ID\)/s);
		assert.match(doctor?.stdout ?? '', /--client-secret <secret>.*\(env:\s+BCC_CLIENT_SECRET\)/s);
	});

	it('check reads the token from standard input', async () => {
		const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli', 'index.ts'), 'check', '--issuer', 'https://issuer.example/', '--audience', 'a', '--token-only', '--json'], {
			cwd: ROOT,
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stdout = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stdin.end('Bearer not.a.jwt\n');
		const code = await new Promise((resolve) => child.on('close', resolve));
		assert.equal(code, 6);
		const report = JSON.parse(stdout);
		assert.equal(report.refusal.reason, 'not_owned');
		assert.equal(report.token.fingerprint.length, 12);
	});

	it('--version prints the package version', async () => {
		const result = await cli(['--version']);
		assert.equal(result.code, 0);
		assert.equal(result.stdout.trim(), VERSION);
	});
});

describe('usage errors exit 2', () => {
	it('no command: help on stderr, nothing on stdout', async () => {
		const result = await cli([]);
		assert.equal(result.code, 2);
		assert.equal(result.stdout, '');
		assert.match(result.stderr, /Usage: bcc-cc/);
	});

	it('unknown option, unknown command, missing argument, missing --role', async () => {
		const cases: [string[], RegExp][] = [
			[['list', '--bogus'], /^Error: unknown option '--bogus'\nRun "bcc-cc list --help" for usage\.\n$/],
			[['lst'], /^Error: unknown command 'lst'/],
			[['revoke'], /^Error: missing required argument 'clientId'/],
			[['provision', 'abc'], /^Error: required option '--role <role>' not specified/],
			[['provision', 'abc', '--role'], /^Error: option '--role <role>' argument missing/],
		];
		const results = await Promise.all(cases.map(([args]) => cli(args)));
		for (const [index, result] of results.entries()) {
			const [args, pattern] = cases[index]!;
			assert.equal(result.code, 2, args.join(' '));
			assert.equal(result.stdout, '', args.join(' '));
			assert.match(result.stderr, pattern, args.join(' '));
		}
	});

	it('missing URL or token names the flag and the variable', async () => {
		const [noUrl, noToken, badUrl] = await Promise.all([
			cli(['list', '--token', 't']),
			cli(['list', '--url', closedUrl]),
			cli(['list', '--url', 'localhost:8055', '--token', 't']),
		]);
		assert.equal(noUrl.code, 2);
		assert.match(noUrl.stderr, /^Error: No Directus URL given\.\nPass --url <url> or set DIRECTUS_URL/);
		assert.equal(noToken.code, 2);
		assert.match(noToken.stderr, /^Error: No Directus token given\.\n.*DIRECTUS_TOKEN/);
		assert.equal(badUrl.code, 2);
		assert.match(badUrl.stderr, /^Error: The Directus URL "localhost:8055" must start with http:\/\/ or https:\/\/\./);
	});

	it('an invalid client id exits 2 before any connection is tried', async () => {
		const result = await cli(['revoke', ' spaced', '--url', closedUrl, '--token', 't']);
		assert.equal(result.code, 2);
		assert.match(result.stderr, /^Error: Invalid client id " spaced": it starts or ends with white space\./);
	});
});

describe('settings', () => {
	it('reads DIRECTUS_URL and DIRECTUS_TOKEN from the environment', async () => {
		const result = await cli(['list'], { DIRECTUS_URL: closedUrl, DIRECTUS_TOKEN: 't' });
		assert.equal(result.code, 3);
		assert.ok(result.stderr.startsWith(`Error: Cannot reach Directus at ${closedUrl}: connection refused (ECONNREFUSED).\n`), result.stderr);
	});

	it('a flag beats its environment variable', async () => {
		const result = await cli(['list', '--url', closedUrl], { DIRECTUS_URL: 'http://from-env.invalid', DIRECTUS_TOKEN: 't' });
		assert.equal(result.code, 3);
		assert.ok(result.stderr.includes(closedUrl), result.stderr);
		assert.ok(!result.stderr.includes('from-env'), result.stderr);
	});

	it('global options work after the command name too', async () => {
		const result = await cli(['provision', 'abc', '--role', 'r', '--url', closedUrl, '--token', 't', '--json']);
		assert.equal(result.code, 3);
		assert.equal(result.stdout, '');
	});

	it('prints no stack unless DEBUG is set', async () => {
		const [plain, debug] = await Promise.all([
			cli(['list', '--url', closedUrl, '--token', 't']),
			cli(['list', '--url', closedUrl, '--token', 't'], { DEBUG: '1' }),
		]);
		assert.doesNotMatch(plain.stderr, /^\s+at /m);
		assert.equal(plain.stderr.trimEnd().split('\n').length, 2);
		assert.equal(debug.code, 3);
		assert.match(debug.stderr, /^\s+at /m);
		assert.match(debug.stderr, /Caused by: TypeError: fetch failed/);
	});
});
