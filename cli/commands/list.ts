import type { Command } from 'commander';
import { clientIdForIdentifier, isClientUser } from '../../extension/core/identity.js';
import type { CommandContext, CommandDeps } from '../context.js';
import { formatTable, type Column } from '../output.js';
import { commandContext } from './shared.js';

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
		.option('--json', 'print a JSON array on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc list
  $ bcc-cc list --json | jq -r '.[] | select(.status != "active") | .clientId'

JSON output: [ { clientId, identifier, userId, role: { id, name } | null, status, provider } ]`,
		)
		.action(async (options: { json?: boolean }, command: Command) => {
			await list(commandContext(command, deps, options.json === true));
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
export async function list(context: CommandContext): Promise<ClientListEntry[]> {
	const api = await context.connect();
	const [users, roles] = await Promise.all([api.listUsersWithIdentifier(), api.listRoles()]);
	const roleNames = new Map(roles.map((role) => [role.id, role.name]));
	const entries = users
		.filter(isClientUser)
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
		context.output.info('No machine clients are provisioned.');
	} else {
		context.output.info(formatTable(COLUMNS, entries));
		context.output.info(`\n${entries.length} client${entries.length === 1 ? '' : 's'}.`);
	}
	return entries;
}
