/**
 * `bcc-cc` through the real commander program (`main` of cli/index.ts), in
 * process, against a connector of the test's (a FakeDirectus), with its output
 * captured: what the unit tests of the commands run.
 */
import type { Connector } from '../../cli/context.js';
import { main } from '../../cli/index.js';
import type { CliResult } from './e2e.js';

export type { CliResult };

/** The global flags that point the CLI at the fake Directus (FakeDirectus.url). */
export const FAKE_DIRECTUS_FLAGS: readonly string[] = ['--url', 'https://directus.test', '--token', 't0ken'];

/** `bcc-cc <args>`: its exit code and everything it wrote to stdout and stderr. */
export async function runInProcess(args: readonly string[], connector: Connector): Promise<CliResult> {
	let stdout = '';
	let stderr = '';
	const code = await main(['node', 'bcc-cc', ...args], {
		connector,
		stdout: { write: (text: string) => (stdout += text) },
		stderr: { write: (text: string) => (stderr += text) },
	});
	return { code, stdout, stderr };
}
