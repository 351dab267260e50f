import type { Command } from 'commander';
import { clientIdArgument, findClientUser, namespaceOption, parseClientId, profileOption } from '../clients.js';
import type { ProfileName } from '../../extension/core/profiles.js';
import type { CommandContext, CommandDeps } from '../context.js';
import type { DirectusApi, DirectusUserRecord, Role, UserChanges } from '../directus.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { looksLikeRoleId, pickRole, roleAccess, roleNotFound } from '../roles.js';
import { DEFAULT_PROVIDER } from './migrate-provider.js';
import { commandContext } from './shared.js';

/** `directus_users.first_name` is a varchar(50). */
export const MAX_NAME_LENGTH = 50;
/** `directus_roles.name` is a varchar(100). */
export const MAX_ROLE_NAME_LENGTH = 100;

export const USER_DESCRIPTION = 'OAuth2 client-credentials client, provisioned by bcc-cc';

export interface ProvisionOptions {
	/** Which provider's client id this is (default auth0). */
	profile?: ProfileName | undefined;
	/** The issuer's namespace, if the hook configures one. */
	namespace?: string | undefined;
	role: string;
	name?: string | undefined;
	createRole?: boolean | undefined;
}

export interface ProvisionResult {
	action: 'created' | 'updated' | 'unchanged';
	clientId: string;
	identifier: string;
	userId: string;
	role: { id: string; name: string };
	status: string;
	/** True when --create-role created the role in this run. */
	roleCreated: boolean;
}

export function registerProvisionCommand(program: Command, deps: CommandDeps): Command {
	return program
		.command('provision')
		.summary('create or update the Directus user of a machine client')
		.description(
			'Create the Directus user that a machine client is mapped to, or bring an existing one up to date.\n\n' +
				'The user gets the id uuidv5(identifier, NIL) and the identifier as external_identifier, where the ' +
				'identifier is what the tokens carry for the client (Auth0: "<clientId>@clients"; other --profile values: ' +
				'the client id as is). It also gets provider "default", status active, and no email or password: it can only act through the ' +
				'client-credentials hook. An existing user gets the role, the name (only with --name) and status ' +
				'active (this undoes "revoke"). Running it again with the same options changes nothing.',
		)
		.addArgument(clientIdArgument())
		.requiredOption('--role <role>', 'name or id of the Directus role the client acts with')
		.option('--name <name>', `display name stored as first_name (default: the client id; at most ${MAX_NAME_LENGTH} characters)`)
		.option('--create-role', 'create the role if no role has that name (it starts without policies)')
		.addOption(profileOption())
		.addOption(namespaceOption())
		.option('--json', 'print the result as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc provision 8fKq1ZfQ2bXw --role "Reporting API"
  $ bcc-cc provision 8fKq1ZfQ2bXw@clients --role 6a1e2c1e-5f0b-4d0a-9a4e-2b8a1f7c9d10 --name "Invoice service"
  $ DIRECTUS_URL=https://cms.example.org DIRECTUS_TOKEN=... bcc-cc provision 8fKq1ZfQ2bXw --role "Reporting API" --create-role --json

JSON output: { action: "created" | "updated" | "unchanged", clientId, identifier, userId, role: { id, name }, status, roleCreated }`,
		)
		.action(async (clientId: string, options: ProvisionOptions & { json?: boolean }, command: Command) => {
			const context = commandContext(command, deps, options.json === true);
			await provision(clientId, options, context);
		});
}

/** The `provision` action: validates its input, then creates or updates the client's user. */
export async function provision(clientIdInput: string, options: ProvisionOptions, context: CommandContext): Promise<ProvisionResult> {
	const client = parseClientId(clientIdInput, options);
	const roleInput = checkRoleInput(options.role, options.createRole === true);
	const name = options.name === undefined ? undefined : checkName(options.name);

	const api = await context.connect();
	// Everything that can refuse is checked before the first write.
	const roles = await api.listRoles();
	const found = pickRole(roles, roleInput);
	if (!found && (options.createRole !== true || looksLikeRoleId(roleInput))) throw roleNotFound(roleInput, roles);
	const existing = await findClientUser(api, client);
	if (existing !== null && existing.sign_in.length > 0) {
		// Whoever can sign in as this user (anyone allowed to create users can make one with a client's id) would get the role too.
		throw new CliError(
			'CLIENT_CONFLICT',
			`The Directus user ${existing.id} of client ${client.clientId} can also sign in by itself (${existing.sign_in.join(', ')} set); ` +
				'bcc-cc will not give it a role.',
			{ hint: 'Clear those fields in Directus (or delete the user) if it is really this client\'s, then provision again.' },
		);
	}
	if (existing !== null && existing.provider !== DEFAULT_PROVIDER) {
		context.output.warn(
			`the user of client ${client.clientId} has provider "${existing.provider}" (as the seed guide's hook made it), which an unlicensed ` +
				'Directus 12 refuses and locks itself over; provision keeps it. Run "bcc-cc migrate-provider" to move such users to "default".',
		);
	}
	const role = found ?? (await createRole(api, roleInput, context.output));
	const roleCreated = found === null;
	await warnAboutAppAccess(api, found ? roles : [...roles, role], role, context.output);

	let user: DirectusUserRecord;
	let action: ProvisionResult['action'];
	let changed: string[] = [];
	if (existing === null) {
		user = await api.createUser({
			id: client.userId,
			external_identifier: client.identifier,
			provider: 'default',
			status: 'active',
			role: role.id,
			first_name: name ?? client.clientId.slice(0, MAX_NAME_LENGTH),
			last_name: null,
			description: USER_DESCRIPTION,
		});
		action = 'created';
	} else {
		const changes = changesFor(existing, role, name);
		if (Object.keys(changes).length === 0) {
			user = existing;
			action = 'unchanged';
		} else {
			user = await api.updateUser(existing.id, changes);
			action = 'updated';
			changed = Object.keys(changes);
		}
	}

	const result: ProvisionResult = {
		action,
		clientId: client.clientId,
		identifier: client.identifier,
		userId: user.id,
		role: { id: role.id, name: role.name },
		status: user.status,
		roleCreated,
	};
	const what =
		action === 'unchanged' ? 'Unchanged (already up to date)' : action === 'created' ? 'Created' : `Updated (${changed.join(', ')})`;
	context.output.info(`${what}: client ${result.clientId} -> user ${result.userId}, role "${role.name}", status ${result.status}.`);
	context.output.result(result);
	return result;
}

function checkRoleInput(role: string, createRole: boolean): string {
	if (role.trim() === '') throw new CliError('USAGE', 'The --role value is empty.');
	if (createRole && role.length > MAX_ROLE_NAME_LENGTH) {
		throw new CliError('USAGE', `The role name is longer than ${MAX_ROLE_NAME_LENGTH} characters, the most Directus stores.`);
	}
	return role;
}

function checkName(name: string): string {
	const trimmed = name.trim();
	if (trimmed === '') throw new CliError('USAGE', 'The --name value is empty.');
	if (trimmed.length > MAX_NAME_LENGTH) {
		throw new CliError('USAGE', `The --name value is longer than ${MAX_NAME_LENGTH} characters, the most Directus stores in first_name.`);
	}
	return trimmed;
}

async function createRole(api: DirectusApi, name: string, output: Output): Promise<Role> {
	const role = await api.createRole(name);
	output.info(`Created role "${role.name}" (${role.id}).`);
	output.warn(
		`the new role "${role.name}" has no policies yet, so the client can do nothing until you attach policies to it in Directus (Settings > User Roles).`,
	);
	return role;
}

async function warnAboutAppAccess(api: DirectusApi, roles: Role[], role: Role, output: Output): Promise<void> {
	const access = roleAccess(roles, role.id);
	if (!access.app) return;
	const kind = access.admin ? 'admin' : 'app';
	const policies = access.grantedBy.map((policy) => `"${policy.name}"`).join(', ');
	const { major } = await api.serverInfo().catch(() => ({ major: null }));
	const seats =
		major === null || major >= 12
			? ' On Directus 12 without a licence, every active user with app or admin access takes one of only 3 seats.'
			: '';
	const advice = access.admin ? 'A machine client should not be an administrator' : 'A machine client never needs app access';
	output.warn(
		`role "${role.name}" grants ${kind} access (through ${policies}). ${advice}; ` +
			`prefer a role whose policies have neither admin nor app access.${seats}`,
	);
}

function changesFor(user: DirectusUserRecord, role: Role, name: string | undefined): UserChanges {
	const changes: UserChanges = {};
	if (user.role !== role.id) changes.role = role.id;
	if (name !== undefined && user.first_name !== name) changes.first_name = name;
	if (user.status !== 'active') changes.status = 'active';
	return changes;
}
