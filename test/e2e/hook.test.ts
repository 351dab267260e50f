/**
 * The end-to-end suite (hook-suite.ts) over Directus versions x databases.
 *
 * Default plan (one `npm test`), chosen and timed in docs/compatibility.md:
 *   12.4.0  / SQLite      full suite   WebSocket auth handshake (Directus's default)
 *   11.17.4 / PostgreSQL  full suite   WebSocket auth handshake
 *   12.4.0  / PostgreSQL  smoke subset WebSocket auth strict
 *   11.17.4 / SQLite      smoke subset WebSocket auth strict
 * Every version meets every database, every version runs the full suite once,
 * and both WebSocket authentication modes run on both versions.
 *
 * BCC_TEST_MATRIX changes the plan:
 *   full                          the full suite on all four cells
 *   12.4.0/sqlite,11.17.4/pg      only these cells, full suite (append /smoke for the subset)
 * BCC_TEST_DIRECTUS_VERSION (without BCC_TEST_MATRIX) keeps only the cells of that version.
 */
import { DIRECTUS_VERSIONS } from '../../dev/directus-runtime.js';
import { describeHookSuite, type DatabaseClient, type HookTarget, type Level } from './hook-suite.js';

const DEFAULT_PLAN: HookTarget[] = [
	{ version: '12.4.0', database: 'sqlite3', level: 'full', websocketAuth: 'handshake' },
	{ version: '11.17.4', database: 'pg', level: 'full', websocketAuth: 'handshake' },
	{ version: '12.4.0', database: 'pg', level: 'smoke', websocketAuth: 'strict' },
	{ version: '11.17.4', database: 'sqlite3', level: 'smoke', websocketAuth: 'strict' },
];

const DATABASES: Record<string, DatabaseClient> = { sqlite: 'sqlite3', sqlite3: 'sqlite3', pg: 'pg', postgres: 'pg', postgresql: 'pg' };

export function planFromEnvironment(env: NodeJS.ProcessEnv): HookTarget[] {
	const matrix = env['BCC_TEST_MATRIX']?.trim();
	if (!matrix) {
		const version = env['BCC_TEST_DIRECTUS_VERSION']?.trim();
		if (!version) return DEFAULT_PLAN;
		const cells = DEFAULT_PLAN.filter((target) => target.version === version);
		if (cells.length === 0) {
			// A version outside the default plan: the full suite on SQLite, as before the matrix existed.
			return [{ version, database: 'sqlite3', level: 'full', websocketAuth: 'handshake' }];
		}
		return cells;
	}
	if (matrix === 'full') return DEFAULT_PLAN.map((target) => ({ ...target, level: 'full' }));
	return matrix.split(',').map((cell) => {
		const [version, database, level = 'full'] = cell.trim().split('/');
		const client = DATABASES[database?.toLowerCase() ?? ''];
		if (!version || !/^\d+\.\d+\.\d+$/.test(version) || !client || (level !== 'full' && level !== 'smoke')) {
			throw new Error(`BCC_TEST_MATRIX: "${cell}" is not <version>/<sqlite|pg>[/<full|smoke>], e.g. 12.4.0/sqlite`);
		}
		if (!(DIRECTUS_VERSIONS as readonly string[]).includes(version)) {
			console.warn(`BCC_TEST_MATRIX: Directus ${version} is not one of the tested versions (${DIRECTUS_VERSIONS.join(', ')}); it will be installed on first use.`);
		}
		return { version, database: client, level: level as Level, websocketAuth: level === 'smoke' ? 'strict' : 'handshake' };
	});
}

for (const target of planFromEnvironment(process.env)) describeHookSuite(target);
