#!/usr/bin/env node
/**
 * Bundles the bcc-cc command line (cli/index.ts) into one self-contained ESM
 * file, dist/cli.js, that runs with nothing but Node 22: every dependency is
 * inside it. dist/index.js (the hook) is built separately by the Directus
 * extensions SDK, so this script writes only its own file and never cleans dist/.
 */
import { chmod } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'cli.js');

const result = await build({
	absWorkingDir: root,
	entryPoints: ['cli/index.ts'],
	outfile,
	bundle: true,
	format: 'esm',
	platform: 'node',
	target: 'node22',
	// Node's own modules only; every package is bundled.
	external: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)],
	// commander is CommonJS and calls require() for Node's modules; an ESM bundle has no require of its own.
	banner: {
		js: [
			'#!/usr/bin/env node',
			"import { createRequire as __bccCreateRequire } from 'node:module';",
			'const require = __bccCreateRequire(import.meta.url);',
		].join('\n'),
	},
	legalComments: 'none',
	sourcemap: false,
	metafile: true,
	logLevel: 'warning',
});

// Fail the build if anything but Node's own modules was left as an import.
const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
const leftover = Object.values(result.metafile.outputs)
	.flatMap((output) => output.imports)
	.filter((entry) => entry.external && !builtins.has(entry.path));
if (leftover.length > 0) {
	console.error(`build-cli: dist/cli.js still imports ${leftover.map((entry) => entry.path).join(', ')}`);
	process.exit(1);
}

await chmod(outfile, 0o755);
const bytes = result.metafile.outputs[relative(root, outfile)]?.bytes ?? 0;
console.log(`build-cli: wrote ${relative(root, outfile)} (${Math.round(bytes / 1024)} KiB)`);
