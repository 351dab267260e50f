import type { Command } from 'commander';
import { clientIdArgument, findClientUser, namespaceOption, parseClientId, profileOption } from '../clients.js';
import type { ProfileName } from '../../extension/core/profiles.js';
import type { CommandContext, CommandDeps } from '../context.js';
import { CliError } from '../errors.js';
import { commandContext } from './shared.js';

export interface RevokeOptions {
	/** Which provider's client id this is (default auth0). */
	profile?: ProfileName | undefined;
	/** The issuer's namespace, if the hook configures one. */
	namespace?: string | undefined;
	delete?: boolean | undefined;
}

export interface RevokeResult {
	action: 'suspended' | 'deleted' | 'unchanged';
	clientId: string;
	identifier: string;
	userId: string;
	/** The user's status afterwards; null once deleted. */
	status: string | null;
}

export function registerRevokeCommand(program: Command, deps: CommandDeps): Command {
	return program
		.command('revoke')
		.summary("suspend (or delete) a machine client's Directus user")
		.description(
			"Stop a machine client from acting in Directus. By default its user's status becomes \"suspended\": " +
				'the hook then rejects its tokens, and "bcc-cc provision" reactivates it. With --delete the user is ' +
				'deleted instead (its activity rows lose the link to it; this cannot be undone). ' +
				'Only users whose id matches their external_identifier (client users) are touched.',
		)
		.addArgument(clientIdArgument())
		.option('--delete', 'delete the user instead of suspending it')
		.addOption(profileOption())
		.addOption(namespaceOption())
		.option('--json', 'print the result as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc revoke 8fKq1ZfQ2bXw
  $ bcc-cc revoke 8fKq1ZfQ2bXw --delete --json

JSON output: { action: "suspended" | "deleted" | "unchanged", clientId, identifier, userId, status }`,
		)
		.action(async (clientId: string, options: RevokeOptions & { json?: boolean }, command: Command) => {
			await revoke(clientId, options, commandContext(command, deps, options.json === true));
		});
}

/** The `revoke` action. */
export async function revoke(clientIdInput: string, options: RevokeOptions, context: CommandContext): Promise<RevokeResult> {
	const client = parseClientId(clientIdInput, options);
	const api = await context.connect();
	const user = await findClientUser(api, client);
	if (user === null) {
		throw new CliError('CLIENT_NOT_FOUND', `No Directus user for client ${client.clientId} (user id ${client.userId}).`, {
			hint: 'Run "bcc-cc list" to see the provisioned clients.',
		});
	}

	let result: RevokeResult;
	if (options.delete === true) {
		await api.deleteUser(user.id);
		result = { action: 'deleted', ...refOf(client), status: null };
		context.output.info(`Deleted: client ${client.clientId}, user ${user.id}.`);
	} else if (user.status === 'suspended') {
		result = { action: 'unchanged', ...refOf(client), status: user.status };
		context.output.info(`Unchanged (already suspended): client ${client.clientId}, user ${user.id}.`);
	} else {
		const updated = await api.updateUser(user.id, { status: 'suspended' });
		result = { action: 'suspended', ...refOf(client), status: updated.status };
		context.output.info(
			`Suspended: client ${client.clientId}, user ${user.id} (was ${user.status}). Undo with "bcc-cc provision ${client.clientId} --role <role>".`,
		);
	}
	context.output.result(result);
	return result;
}

function refOf(client: { clientId: string; identifier: string; userId: string }) {
	return { clientId: client.clientId, identifier: client.identifier, userId: client.userId };
}
