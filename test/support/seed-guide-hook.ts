/**
 * The seed guide's hook (test/fixtures/seed-guide-hook/src/index.ts, the guide's
 * code verbatim), installed the way a reader of the guide had it: a folder of
 * EXTENSIONS_PATH named like the guide's `npx create-directus-extension` project,
 * with its src/index.ts (the role placeholder replaced by a role id, the one edit
 * the guide asks for), a package.json naming it a hook, and dist/index.js built
 * by the extensions SDK's `directus-extension build` (the project's
 * `npm run build`), which bundles jwks-rsa, jsonwebtoken and uuid into it.
 * Unlike the project's default, it is built with --no-minify, the way this
 * extension is built, so that the benchmark compares like with like.
 *
 * Used by test/e2e/seed-takeover.test.ts and, as the comparison baseline, by
 * bench/e2e-throughput.ts (through bench/support.ts).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../dev/extension-install.js';

/** The provider the guide's hook gives the users it creates. */
export const SEED_GUIDE_PROVIDER = 'bcc-client-credentials';
/** The scope the guide's hook requires (its example value, kept). */
export const SEED_GUIDE_SCOPE = 'my_service#read';
/** The folder name `npx create-directus-extension` gives the guide's extension. */
export const SEED_GUIDE_EXTENSION = 'auth-client-credentials';

const SOURCE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'seed-guide-hook', 'src', 'index.ts');
const ROLE_PLACEHOLDER = 'THE-UUID-OF-THE-ROLE-FOR-API-ACCESS';
const BUILD = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'directus-extension');

/**
 * Builds the guide's hook with `roleId` in place of its role placeholder into
 * `<extensionsPath>/auth-client-credentials` and returns that folder. The folder
 * must be inside this project (the build resolves the hook's dependencies from
 * its node_modules); the run folders of test/support/e2e.ts are.
 */
export async function installSeedGuideHook(extensionsPath: string, options: { roleId: string }): Promise<string> {
	if (!/^[0-9a-f-]{36}$/i.test(options.roleId)) throw new Error(`not a role id: ${options.roleId}`);
	const source = readFileSync(SOURCE, 'utf8');
	if (!source.includes(`'${ROLE_PLACEHOLDER}'`)) throw new Error(`${SOURCE} no longer holds the role placeholder '${ROLE_PLACEHOLDER}'`);
	const target = path.join(extensionsPath, SEED_GUIDE_EXTENSION);
	mkdirSync(path.join(target, 'src'), { recursive: true });
	writeFileSync(path.join(target, 'src', 'index.ts'), source.replace(`'${ROLE_PLACEHOLDER}'`, `'${options.roleId}'`));
	writeFileSync(
		path.join(target, 'package.json'),
		`${JSON.stringify(
			{
				name: SEED_GUIDE_EXTENSION,
				version: '1.0.0',
				type: 'module',
				'directus:extension': { type: 'hook', path: 'dist/index.js', source: 'src/index.ts', host: '^11.0.0' },
			},
			null,
			'\t',
		)}\n`,
	);
	try {
		await promisify(execFile)(process.execPath, [BUILD, 'build', '--no-minify'], { cwd: target, encoding: 'utf8' });
	} catch (error) {
		const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
		throw new Error(`building the seed guide's hook in ${target} failed: ${(error as Error).message}\n${stderr}${stdout}`);
	}
	return target;
}
