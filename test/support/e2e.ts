import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXTENSION_NAME = 'directus-extension-auth-client-credentials';

/** A fresh folder under `.test-runs/` (git-ignored) that keeps a failed run's logs for reading. */
export function runFolder(name: string): string {
	const root = path.join(PROJECT_ROOT, '.test-runs');
	mkdirSync(root, { recursive: true });
	return mkdtempSync(path.join(root, `${name}-`));
}

export function removeRunFolder(folder: string): void {
	rmSync(folder, { recursive: true, force: true });
}

/**
 * Installs the built extension the way a user does without npm: the package's
 * package.json and dist/ in a folder of EXTENSIONS_PATH.
 */
export function installBuiltExtension(extensionsPath: string): void {
	const target = path.join(extensionsPath, EXTENSION_NAME);
	mkdirSync(target, { recursive: true });
	cpSync(path.join(PROJECT_ROOT, 'package.json'), path.join(target, 'package.json'));
	cpSync(path.join(PROJECT_ROOT, 'dist'), path.join(target, 'dist'), { recursive: true });
}

export interface CliResult {
	readonly code: number;
	readonly stdout: string;
	readonly stderr: string;
}

/** Runs the built `bcc-cc` (dist/cli.js) with Node 22, as `npx bcc-cc` would. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
	return new Promise((resolve) => {
		execFile(
			process.execPath,
			[path.join(PROJECT_ROOT, 'dist', 'cli.js'), ...args],
			{ env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NO_COLOR: '1', ...env }, timeout: 60_000 },
			(error, stdout, stderr) => {
				const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
				resolve({ code, stdout, stderr });
			},
		);
	});
}

export interface ApiResponse {
	readonly status: number;
	readonly body: any;
}

/** One call to the Directus API; `token` goes in the Authorization header. */
export async function api(
	baseUrl: string,
	route: string,
	options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
	if (options.body !== undefined) headers['content-type'] = 'application/json';
	const response = await fetch(new URL(route, baseUrl), {
		method: options.method ?? 'GET',
		headers,
		...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
	});
	const text = await response.text();
	let body: unknown = text;
	try {
		body = text === '' ? null : JSON.parse(text);
	} catch {
		// not JSON: keep the text
	}
	return { status: response.status, body };
}

/** Like api(), but throws unless the status is 2xx; returns `data`. */
export async function adminApi(baseUrl: string, token: string, route: string, method = 'GET', body?: unknown): Promise<any> {
	const response = await api(baseUrl, route, { token, method, ...(body !== undefined ? { body } : {}) });
	if (response.status < 200 || response.status > 299) {
		throw new Error(`${method} ${route} -> ${response.status} ${JSON.stringify(response.body)}`);
	}
	return response.body?.data;
}

/** The Directus error code of a response, e.g. INVALID_CREDENTIALS. */
export function errorCode(response: ApiResponse): string | undefined {
	return response.body?.errors?.[0]?.extensions?.code;
}
