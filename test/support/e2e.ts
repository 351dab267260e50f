import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
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
