import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { before, it, type HookOptions, type TestOptions } from 'node:test';
import type { DirectusUserRecord } from '../../cli/directus.js';
import { PROJECT_ROOT } from '../../dev/extension-install.js';

/** A fresh folder under `.test-runs/` (git-ignored) that keeps a failed run's logs for reading. */
export function runFolder(name: string): string {
	const root = path.join(PROJECT_ROOT, '.test-runs');
	mkdirSync(root, { recursive: true });
	return mkdtempSync(path.join(root, `${name}-`));
}

export function removeRunFolder(folder: string): void {
	rmSync(folder, { recursive: true, force: true });
}

/** One end-to-end file's (or suite's) run: a folder that is kept, with its logs, only when something failed. */
export interface E2eRun {
	/** The run folder under `.test-runs/`, made on first use. */
	readonly folder: string;
	/** `it(name, options, body)`; a failure keeps the run folder. */
	test(name: string, body: () => Promise<void>, options?: TestOptions): void;
	/** `before(body, options)`; a failure (the tests then do not run) keeps the run folder too. */
	before(body: () => Promise<void>, options?: HookOptions): void;
	/**
	 * Call last in the file's `after`, once its servers are stopped: removes the run
	 * folder, or, when a test or hook failed, keeps it and says where it is.
	 */
	finish(): void;
}

export function e2eRun(name: string): E2eRun {
	let folder: string | undefined;
	let failed = false;
	const marking = (body: () => Promise<void>) => async () => {
		try {
			await body();
		} catch (error) {
			failed = true;
			throw error;
		}
	};
	return {
		get folder() {
			folder ??= runFolder(name);
			return folder;
		},
		test: (testName, body, options = {}) => it(testName, options, marking(body)),
		before: (body, options = {}) => before(marking(body), options),
		finish() {
			if (folder === undefined) return;
			if (failed) console.error(`${name}: something failed; its Directus data, logs and other files are kept in ${folder}`);
			else removeRunFolder(folder);
		},
	};
}

/** A Directus user as the end-to-end tests read it back over REST (USER_FIELDS). */
export interface UserRow extends Omit<DirectusUserRecord, 'sign_in'> {
	email: string | null;
	password: string | null;
}
export const USER_FIELDS = 'id,external_identifier,provider,status,role,first_name,last_name,email,password';

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
