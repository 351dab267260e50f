/**
 * The seed guide's hook (test/fixtures/seed-guide-hook/src/index.ts, verbatim),
 * built and installed the way a deployment of that guide has it: bundled into
 * one dist/index.js with its dependencies (jwks-rsa, jsonwebtoken, uuid), in a
 * folder of EXTENSIONS_PATH with a package.json naming it a hook.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../dev/extension-install.js';

/** The provider the guide's hook gives the users it creates. */
export const SEED_GUIDE_PROVIDER = 'bcc-client-credentials';
/** The scope the guide's hook requires (its example value, kept). */
export const SEED_GUIDE_SCOPE = 'my_service#read';
/** The folder name `npx create-directus-extension` gives the guide's extension. */
export const SEED_GUIDE_EXTENSION = 'auth-client-credentials';

const SOURCE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'seed-guide-hook', 'src', 'index.ts');
const ROLE_PLACEHOLDER = "'THE-UUID-OF-THE-ROLE-FOR-API-ACCESS'";

/**
 * Builds the guide's hook with `roleId` in place of its role placeholder (the
 * one edit the guide asks for) into `<extensionsPath>/auth-client-credentials`.
 */
export async function installSeedGuideHook(extensionsPath: string, options: { roleId: string }): Promise<string> {
	const target = path.join(extensionsPath, SEED_GUIDE_EXTENSION);
	mkdirSync(path.join(target, 'dist'), { recursive: true });
	await build({
		absWorkingDir: PROJECT_ROOT,
		entryPoints: [SOURCE],
		outfile: path.join(target, 'dist', 'index.js'),
		bundle: true,
		format: 'esm',
		platform: 'node',
		target: 'node22',
		external: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)],
		banner: { js: "import { createRequire as __seedCreateRequire } from 'node:module';\nconst require = __seedCreateRequire(import.meta.url);" },
		// The guide imports types without `import type`; let them be dropped as the SDK's build does.
		tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: false } },
		logLevel: 'error',
		plugins: [
			{
				name: 'seed-guide-hook',
				setup(builder) {
					// What the extensions SDK's defineHook is: the identity function.
					builder.onResolve({ filter: /^@directus\/extensions-sdk$/ }, () => ({ path: 'extensions-sdk', namespace: 'seed-guide-shim' }));
					builder.onLoad({ filter: /.*/, namespace: 'seed-guide-shim' }, () => ({ contents: 'export const defineHook = (config) => config;', loader: 'js' }));
					builder.onLoad({ filter: /seed-guide-hook[\\/]src[\\/]index\.ts$/ }, async (args) => {
						const source = await readFile(args.path, 'utf8');
						if (!source.includes(ROLE_PLACEHOLDER)) throw new Error(`${args.path} no longer holds the role placeholder ${ROLE_PLACEHOLDER}`);
						return { contents: source.replace(ROLE_PLACEHOLDER, JSON.stringify(options.roleId)), loader: 'ts' };
					});
				},
			},
		],
	});
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
	return target;
}
