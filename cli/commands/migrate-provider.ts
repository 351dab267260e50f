import type { Command } from 'commander';
import { clientIdForIdentifier, isClientUser } from '../../extension/core/identity.js';
import type { CommandContext, CommandDeps } from '../context.js';
import type { DirectusApi, DirectusUserRecord } from '../directus.js';
import { CliError, isCliError } from '../errors.js';
import { formatTable, type Column, type Output } from '../output.js';
import { commandContext } from './shared.js';

/** The provider the seed guide's hook gave the users it created. */
export const SEED_GUIDE_PROVIDER = 'bcc-client-credentials';
/** Directus's own provider: the only one an unlicensed Directus 12 accepts. */
export const DEFAULT_PROVIDER = 'default';
/** `directus_users.provider` is a varchar(128). */
const MAX_PROVIDER_LENGTH = 128;
/** The status Directus 12 gives users with a custom provider when an admin resolves the licence lock. */
const INACTIVE_LICENSE_STATUS = 'inactive-license';

export interface MigrateProviderOptions {
	/** The provider to move users away from; default SEED_GUIDE_PROVIDER. */
	from?: string | undefined;
	/** Change the users; without it, only show what would change. */
	apply?: boolean | undefined;
}

export interface MigratedUser {
	clientId: string;
	identifier: string;
	userId: string;
	status: string;
	/** null when the user has no role; name null when the role could not be read. */
	role: { id: string; name: string | null } | null;
	/** `pending`: would be moved (dry run); `moved`: moved by this run. */
	action: 'pending' | 'moved';
}

export interface MigrateProviderResult {
	/** False for a dry run: nothing was changed. */
	applied: boolean;
	from: string;
	to: typeof DEFAULT_PROVIDER;
	/** The client users that had provider `from` when the command started. */
	users: MigratedUser[];
	/** How many users this run moved (0 for a dry run). */
	moved: number;
	/** How many users still have provider `from` (the dry run's to-do list; 0 after a complete --apply). */
	pending: number;
	/** Users with provider `from` that are not client users: never touched. */
	skipped: { userId: string; external_identifier: string | null }[];
	/**
	 * True when Directus 12's cached licence usage was dropped after the change, so that a licence
	 * lock these users caused ends at once (Directus does not recount on a user update).
	 */
	cacheCleared: boolean;
}

export function registerMigrateProviderCommand(program: Command, deps: CommandDeps): Command {
	return program
		.command('migrate-provider')
		.summary(`move clients made by the seed guide's hook to provider "${DEFAULT_PROVIDER}" (dry run unless --apply)`)
		.description(
			`The seed guide's hook created each client's user with provider "${SEED_GUIDE_PROVIDER}". Directus 12 without a ` +
				'licence refuses users with a provider other than "default", and locks its content APIs (items, GraphQL, files, ' +
				`WebSocket) while active users with one exist. This command sets provider "${DEFAULT_PROVIDER}" on those users ` +
				'and changes nothing else: not the id, the external_identifier, the role or the status, so every client keeps ' +
				'working throughout. Only client users (id = uuidv5(external_identifier, NIL)) are touched.\n\n' +
				'Without --apply it is a dry run: it lists the users it would change and changes nothing. Running it again ' +
				'after --apply finds nothing to do. Works on Directus 11 (before upgrading) and on Directus 12, where it then ' +
				'clears the system cache so that a licence lock these users caused ends at once.',
		)
		.option('--from <provider>', `the provider to move users away from (default: "${SEED_GUIDE_PROVIDER}")`)
		.option('--apply', 'change the users (without it: dry run)')
		.option('--json', 'print the result as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc migrate-provider                 # dry run: what would change
  $ bcc-cc migrate-provider --apply
  $ bcc-cc migrate-provider --json | jq '.pending'

Exit codes: 0 when the dry run or the migration succeeded (also when there is nothing to do; with --json,
"pending" says how many users still need moving), 2 for a bad --from, 3 when Directus is unreachable,
4 when the token is rejected or lacks admin access, 1 when Directus refused a change (the users moved before
it keep their new provider; run the command again to continue).

JSON output: { applied, from, to: "default", users: [ { clientId, identifier, userId, status, role: { id, name } | null,
  action: "pending" | "moved" } ], moved, pending, skipped: [ { userId, external_identifier } ], cacheCleared }`,
		)
		.action(async (options: MigrateProviderOptions & { json?: boolean }, command: Command) => {
			await migrateProvider(options, commandContext(command, deps, options.json === true));
		});
}

const COLUMNS: Column<MigratedUser & { from: string }>[] = [
	{ header: 'CLIENT ID', value: (user) => user.clientId },
	{ header: 'USER ID', value: (user) => user.userId },
	{ header: 'ROLE', value: (user) => user.role?.name ?? user.role?.id },
	{ header: 'STATUS', value: (user) => user.status },
	{ header: 'PROVIDER', value: (user) => `${user.from} -> ${DEFAULT_PROVIDER}` },
];

/** The `migrate-provider` action. */
export async function migrateProvider(options: MigrateProviderOptions, context: CommandContext): Promise<MigrateProviderResult> {
	const from = checkFrom(options.from ?? SEED_GUIDE_PROVIDER);
	const apply = options.apply === true;
	const { output } = context;

	const api = await context.connect();
	const [users, roles] = await Promise.all([api.listUsersWithIdentifier(), api.listRoles()]);
	const roleNames = new Map(roles.map((role) => [role.id, role.name]));
	const withProvider = users.filter((user) => user.provider === from);
	const clients = withProvider.filter(isClientUser).sort((a, b) => compare(clientIdOf(a), clientIdOf(b)) || compare(a.id, b.id));
	const skipped = withProvider.filter((user) => !isClientUser(user)).map((user) => ({ userId: user.id, external_identifier: user.external_identifier }));

	const entries: MigratedUser[] = clients.map((user) => ({
		clientId: clientIdOf(user),
		identifier: user.external_identifier as string,
		userId: user.id,
		status: user.status,
		role: user.role === null ? null : { id: user.role, name: roleNames.get(user.role) ?? null },
		action: 'pending',
	}));

	if (skipped.length > 0) {
		output.warn(
			`${skipped.length} user${skipped.length === 1 ? '' : 's'} with provider "${from}" ${skipped.length === 1 ? 'is' : 'are'} not ` +
				`client users (id is not uuidv5(external_identifier, NIL)) and ${skipped.length === 1 ? 'is' : 'are'} left alone: ` +
				`${skipped.map((user) => user.userId).join(', ')}.`,
		);
	}

	let moved = 0;
	if (apply) {
		for (const entry of entries) {
			try {
				await api.updateUser(entry.userId, { provider: DEFAULT_PROVIDER });
			} catch (error) {
				throw partialFailure(error, { moved, total: entries.length, entry, from });
			}
			entry.action = 'moved';
			moved++;
		}
	}

	const cacheCleared = moved > 0 && (await recountLicenceUsage(api, output));

	const result: MigrateProviderResult = {
		applied: apply,
		from,
		to: DEFAULT_PROVIDER,
		users: entries,
		moved,
		pending: entries.length - moved,
		skipped,
		cacheCleared,
	};

	const rows = entries.map((entry) => ({ ...entry, from }));
	const count = (n: number) => `${n} client user${n === 1 ? '' : 's'}`;
	if (entries.length === 0) {
		output.info(`Nothing to do: no client user has provider "${from}".`);
	} else if (apply) {
		output.info(`Moved ${count(moved)} from provider "${from}" to "${DEFAULT_PROVIDER}":\n`);
		output.info(formatTable(COLUMNS, rows));
		if (cacheCleared) output.info("\nCleared Directus's system cache: Directus 12 recounts the users with a custom provider now (a licence lock they caused ends).");
	} else {
		output.info(`Dry run: ${count(entries.length)} ${entries.length === 1 ? 'has' : 'have'} provider "${from}"; with --apply each gets provider "${DEFAULT_PROVIDER}" (nothing else changes):\n`);
		output.info(formatTable(COLUMNS, rows));
		output.info('\nNothing was changed. Run again with --apply to change them.');
	}
	const inactive = entries.filter((entry) => entry.status === INACTIVE_LICENSE_STATUS);
	if (inactive.length > 0) {
		output.warn(
			`${inactive.length} of these users ${inactive.length === 1 ? 'has' : 'have'} status "${INACTIVE_LICENSE_STATUS}" (Directus 12 sets it when the ` +
				'licence lock is resolved in the app); their tokens stay refused until you reactivate them with ' +
				`"bcc-cc provision <clientId> --role <role>": ${inactive.map((entry) => entry.clientId).join(', ')}.`,
		);
	}
	output.result(result);
	return result;
}

/**
 * Directus 12 caches whether users with a custom provider exist, and a user update does not drop
 * that cache: without this, a licence lock they caused would last until Directus restarts.
 */
async function recountLicenceUsage(api: DirectusApi, output: Output): Promise<boolean> {
	const { major } = await api.serverInfo().catch(() => ({ major: null }));
	if ((major !== null && major < 12) || api.clearSystemCache === undefined) return false;
	try {
		await api.clearSystemCache();
		return true;
	} catch (error) {
		output.warn(
			`the users were moved, but Directus's system cache could not be cleared (${error instanceof Error ? error.message : String(error)}). ` +
				'If Directus 12 locked itself because of these users, the lock lasts until Directus restarts or an admin clears the cache (POST /utils/cache/clear?system=true).',
		);
		return false;
	}
}

function checkFrom(value: string): string {
	const from = value.trim();
	if (from === '') throw new CliError('USAGE', 'The --from value is empty.');
	if (from === DEFAULT_PROVIDER) {
		throw new CliError('USAGE', `--from "${DEFAULT_PROVIDER}" would move users to the provider they already have.`, {
			hint: `Pass the custom provider to move users away from, e.g. --from ${SEED_GUIDE_PROVIDER}.`,
		});
	}
	if (from.length > MAX_PROVIDER_LENGTH) throw new CliError('USAGE', `The --from value is longer than ${MAX_PROVIDER_LENGTH} characters, the most Directus stores.`);
	return from;
}

/** Keeps the failed request's exit code, and says how far the run got. */
function partialFailure(error: unknown, progress: { moved: number; total: number; entry: MigratedUser; from: string }): unknown {
	if (!isCliError(error)) return error;
	const { moved, total, entry, from } = progress;
	const done = moved === 0 ? 'No user was changed' : `${moved} of ${total} users were moved to provider "${DEFAULT_PROVIDER}" first`;
	const again = `Fix the cause and run "bcc-cc migrate-provider${from === SEED_GUIDE_PROVIDER ? '' : ` --from ${from}`} --apply" again: it continues with the users still on "${from}".`;
	return new CliError(error.code, `${error.message} (client ${entry.clientId}). ${done}.`, {
		hint: error.hint ? `${error.hint}\n${again}` : again,
		cause: error,
	});
}

function clientIdOf(user: DirectusUserRecord): string {
	return clientIdForIdentifier(user.external_identifier as string);
}

function compare(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}
