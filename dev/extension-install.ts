import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const EXTENSION_NAME = 'directus-extension-auth-client-credentials';

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
