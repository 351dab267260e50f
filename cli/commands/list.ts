import type { Command } from 'commander';
import { clientIdForIdentifier, isClientUser } from '../../extension/core/identity.js';
import type { CommandContext, CommandDeps } from '../context.js';
import { CliError } from '../errors.js';
import { formatTable, type Column } from '../output.js';
import { pickRole, roleNotFound } from '../roles.js';
import { commandContext } from './shared.js';

/** The statuses a Directus user can have (12 adds inactive-license). */
export const USER_STATUSES = ['active', 'suspended', 'archived', 'draft', 'invited', 'unverified', 'inactive-license'] as const;

export interface ListOptions {
	/** Only clients with this role (name or id). */
	role?: string | undefined;
	/** Only clients with one of these statuses (comma-separated). */
	status?: string | undefined;
}

export interface ClientListEntry {
	clientId: string;
	identifier: string;
	userId: string;
	/** null when the user has no role; name null when the role could not be read. */
	role: { id: string; name: string | null } | null;
	status: string;
	provider: string;
}

export function registerListCommand(program: Command, deps: CommandDeps): Command {
	return program
		.command('list')
		.summary('list the provisioned machine clients')
		.description(
			'List every machine client that has a Directus user: users whose id is uuidv5(external_identifier, NIL). ' +
				'This includes users created by the original client-credentials hook (provider "bcc-client-credentials"). ' +
				'Other users with an external_identifier (SSO users) are not shown.',
		)
		.option('--role <role>', 'only clients with this role (name or id)')
		.option('--status <statuses>', `only clients with these statuses, comma-separated (${USER_STATUSES.join(', ')})`)
		.option('--json', 'print a JSON array on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc list
  $ bcc-cc list --role "Reporting API" --status suspended,archived
  $ bcc-cc list --json | jq -r '.[] | select(.status != "active") | .clientId'

JSON output: [ { clientId, identifier, userId, role: { id, name } | null, status, provider } ]`,
		)
		.action(async (options: ListOptions & { json?: boolean }, command: Command) => {
			await list(commandContext(command, deps, options.json === true), options);
		});
}

const COLUMNS: Column<ClientListEntry>[] = [
	{ header: 'CLIENT ID', value: (entry) => entry.clientId },
	{ header: 'IDENTIFIER', value: (entry) => entry.identifier },
	{ header: 'USER ID', value: (entry) => entry.userId },
	{ header: 'ROLE', value: (entry) => entry.role?.name ?? entry.role?.id },
	{ header: 'STATUS', value: (entry) => entry.status },
	{ header: 'PROVIDER', value: (entry) => entry.provider },
];

/** The `list` action. */
export async function list(context: CommandContext, options: ListOptions = {}): Promise<ClientListEntry[]> {
	const statuses = options.status === undefined ? null : parseStatuses(options.status);
	if (options.role !== undefined && options.role.trim() === '') throw new CliError('USAGE', 'The --role value is empty.');
	const api = await context.connect();
	const progress = context.output.progress('Reading users');
	const [users, roles] = await Promise.all([api.listUsersWithIdentifier((read) => progress.update(read)), api.listRoles()]);
	progress.done();
	let roleId: string | null = null;
	if (options.role !== undefined) {
		const role = pickRole(roles, options.role);
		if (!role) throw roleNotFound(options.role, roles);
		roleId = role.id;
	}
	const roleNames = new Map(roles.map((role) => [role.id, role.name]));
	const entries = users
		.filter(isClientUser)
		.filter((user) => (roleId === null || user.role === roleId) && (statuses === null || statuses.includes(user.status)))
		.map((user): ClientListEntry => {
			const identifier = user.external_identifier as string;
			return {
				clientId: clientIdForIdentifier(identifier),
				identifier,
				userId: user.id,
				role: user.role === null ? null : { id: user.role, name: roleNames.get(user.role) ?? null },
				status: user.status,
				provider: user.provider,
			};
		})
		.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : a.userId < b.userId ? -1 : 1));

	context.output.result(entries);
	if (entries.length === 0) {
		const filtered = options.role !== undefined || statuses !== null;
		context.output.info(filtered ? 'No machine client matches the filters.' : 'No machine clients are provisioned.');
	} else {
		context.output.info(formatTable(COLUMNS, entries));
		context.output.info(`\n${entries.length} client${entries.length === 1 ? '' : 's'}.`);
	}
	return entries;
}

function parseStatuses(input: string): string[] {
	const statuses = input.split(',').map((status) => status.trim()).filter((status) => status !== '');
	if (statuses.length === 0) throw new CliError('USAGE', 'The --status value is empty.');
	const unknown = statuses.filter((status) => !(USER_STATUSES as readonly string[]).includes(status));
	if (unknown.length > 0) {
		throw new CliError('USAGE', `Unknown status ${unknown.map((status) => JSON.stringify(status)).join(', ')}.`, {
			hint: `Use some of: ${USER_STATUSES.join(', ')}.`,
		});
	}
	return statuses;
}
