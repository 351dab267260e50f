import type { Command } from 'commander';
import type { ProfileName } from '../../extension/core/profiles.js';
import { clientIdArgument, findClientUser, namespaceOption, parseClientId, profileOption } from '../clients.js';
import type { CommandContext, CommandDeps } from '../context.js';
import type { PermissionRecord, PolicyDetail, Role } from '../directus.js';
import { CliError } from '../errors.js';
import { formatTable, safe, type Column } from '../output.js';
import { commandContext } from './shared.js';

export interface ShowPolicy extends PolicyDetail {
	/** Where the client gets it from: `role "<name>"` or `user`. */
	via: string;
}

export interface ShowResult {
	clientId: string;
	identifier: string;
	userId: string;
	name: string | null;
	status: string;
	provider: string;
	/** The role, then its parents up the tree; null when the user has none. */
	role: { id: string; name: string; parents: { id: string; name: string }[] } | null;
	/** What the hook hands Directus for this client (computed from the policies like Directus does). */
	access: { admin: boolean; app: boolean };
	policies: ShowPolicy[];
	/** Permission rows of those policies (empty for admin access: it bypasses permissions). */
	permissions: (PermissionRecord & { policyName: string })[];
}

export function registerShowCommand(program: Command, deps: CommandDeps): Command {
	return program
		.command('show')
		.summary('show one client: its user, role, policies and what it may access')
		.description(
			'Show the Directus user of one machine client, its role (and parent roles), the policies it gets from them and ' +
				'from the user itself, and the permissions of those policies: which collections it may read, create, update ' +
				'or delete, and whether field lists or item rules narrow them.',
		)
		.addArgument(clientIdArgument())
		.addOption(profileOption())
		.addOption(namespaceOption())
		.option('--json', 'print the result as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc show 8fKq1ZfQ2bXw
  $ bcc-cc show 8fKq1ZfQ2bXw --json | jq -r '.permissions[] | "\\(.collection) \\(.action)"'

JSON output: { clientId, identifier, userId, name, status, provider, role: { id, name, parents } | null,
  access: { admin, app }, policies: [ { id, name, admin_access, app_access, ip_access, enforce_tfa, via } ],
  permissions: [ { policy, policyName, collection, action, fields, permissions, validation, presets } ] }`,
		)
		.action(async (clientId: string, options: { profile?: ProfileName; namespace?: string; json?: boolean }, command: Command) => {
			await show(clientId, options, commandContext(command, deps, options.json === true));
		});
}

/** The `show` action. */
export async function show(clientIdInput: string, options: { profile?: ProfileName | undefined; namespace?: string | undefined }, context: CommandContext): Promise<ShowResult> {
	const client = parseClientId(clientIdInput, options);
	const api = await context.connect();
	const user = await findClientUser(api, client);
	if (user === null) {
		throw new CliError('CLIENT_NOT_FOUND', `No Directus user for client ${client.clientId} (user id ${client.userId}).`, {
			hint: 'Run "bcc-cc list" to see the provisioned clients.',
		});
	}
	const [roles, direct] = await Promise.all([api.listRoles(), api.listUserPolicies([user.id])]);
	const chain = roleChain(roles, user.role);
	const sources = new Map<string, string>();
	for (const role of chain) for (const policy of role.policies) if (!sources.has(policy.id)) sources.set(policy.id, `role ${JSON.stringify(role.name)}`);
	for (const row of direct) if (!sources.has(row.policy.id)) sources.set(row.policy.id, 'user');
	const details = await api.listPolicies([...sources.keys()]);
	const policies: ShowPolicy[] = details.map((policy) => ({ ...policy, via: sources.get(policy.id) ?? '' }));
	const admin = policies.some((policy) => policy.admin_access);
	const app = admin || policies.some((policy) => policy.app_access);
	const names = new Map(policies.map((policy) => [policy.id, policy.name]));
	const permissions = admin ? [] : (await api.listPermissions(policies.map((policy) => policy.id))).map((permission) => ({ ...permission, policyName: names.get(permission.policy) ?? '' }));

	const [role, ...parents] = chain;
	const result: ShowResult = {
		clientId: client.clientId,
		identifier: client.identifier,
		userId: user.id,
		name: user.first_name,
		status: user.status,
		provider: user.provider,
		role: role ? { id: role.id, name: role.name, parents: parents.map(({ id, name }) => ({ id, name })) } : user.role === null ? null : { id: user.role, name: '(unknown role)', parents: [] },
		access: { admin, app },
		policies,
		permissions,
	};
	context.output.result(result);
	printShow(result, context);
	return result;
}

/** The role and its parents, leaf first (Directus applies the policies of all of them). */
function roleChain(roles: readonly Role[], roleId: string | null): Role[] {
	const byId = new Map(roles.map((role) => [role.id, role]));
	const chain: Role[] = [];
	let current = roleId === null ? undefined : byId.get(roleId);
	while (current && !chain.includes(current)) {
		chain.push(current);
		current = current.parent ? byId.get(current.parent) : undefined;
	}
	return chain;
}

const POLICY_COLUMNS: Column<ShowPolicy>[] = [
	{ header: 'POLICY', value: (policy) => policy.name },
	{ header: 'FROM', value: (policy) => policy.via },
	{ header: 'ADMIN', value: (policy) => (policy.admin_access ? 'yes' : 'no') },
	{ header: 'APP', value: (policy) => (policy.app_access ? 'yes' : 'no') },
	{ header: 'IP ACCESS', value: (policy) => (policy.ip_access && policy.ip_access.length > 0 ? policy.ip_access.join(',') : 'any') },
];

interface CollectionAccess {
	collection: string;
	actions: string[];
	limits: string[];
}

const ACTION_ORDER = ['create', 'read', 'update', 'delete', 'share'];

const PERMISSION_COLUMNS: Column<CollectionAccess>[] = [
	{ header: 'COLLECTION', value: (row) => row.collection },
	{ header: 'ACTIONS', value: (row) => row.actions.join(', ') },
	{ header: 'LIMITED BY', value: (row) => (row.limits.length === 0 ? 'nothing (all items, all fields)' : row.limits.join('; ')) },
];

function byCollection(permissions: readonly PermissionRecord[]): CollectionAccess[] {
	const rows = new Map<string, CollectionAccess>();
	for (const permission of permissions) {
		const row = rows.get(permission.collection) ?? { collection: permission.collection, actions: [], limits: [] };
		if (!row.actions.includes(permission.action)) row.actions.push(permission.action);
		const limits: string[] = [];
		if (permission.fields !== null && !(permission.fields.length === 1 && permission.fields[0] === '*')) limits.push(`${permission.action}: fields ${permission.fields.join(',')}`);
		if (permission.permissions && Object.keys(permission.permissions).length > 0) limits.push(`${permission.action}: item filter`);
		if (permission.validation && Object.keys(permission.validation).length > 0) limits.push(`${permission.action}: validation`);
		if (permission.presets && Object.keys(permission.presets).length > 0) limits.push(`${permission.action}: presets`);
		row.limits.push(...limits);
		rows.set(permission.collection, row);
	}
	for (const row of rows.values()) row.actions.sort((a, b) => rank(a) - rank(b));
	return [...rows.values()].sort((a, b) => (a.collection < b.collection ? -1 : a.collection > b.collection ? 1 : 0));
}

function rank(action: string): number {
	const index = ACTION_ORDER.indexOf(action);
	return index === -1 ? ACTION_ORDER.length : index;
}

function printShow(result: ShowResult, context: CommandContext): void {
	if (context.output.json) return;
	const { style } = context.output;
	const role = result.role
		? `${result.role.name} (${result.role.id})${result.role.parents.length > 0 ? `, inherits from ${result.role.parents.map((parent) => parent.name).join(' > ')}` : ''}`
		: 'none';
	const access = result.access.admin
		? style.red('admin: may do anything (a client should not be an administrator)')
		: result.access.app
			? style.yellow('app access (takes a seat on Directus 12 without a licence; a client needs none)')
			: 'API only (no app or admin access)';
	const status = result.status === 'active' ? style.green(result.status) : style.red(`${result.status} (its tokens are refused)`);
	const facts: [string, string][] = [
		['Client', safe(result.clientId)],
		['Identifier', safe(result.identifier)],
		['User id', result.userId],
		['Name', safe(result.name ?? '-')],
		['Status', status],
		['Provider', safe(result.provider)],
		['Role', safe(role)],
		['Access', access],
	];
	const lines = facts.map(([label, value]) => `${label.padEnd(10)}  ${value}`);
	lines.push('');
	lines.push(result.policies.length === 0 ? 'Policies: none (the client may read nothing).' : formatTable(POLICY_COLUMNS, result.policies));
	if (!result.access.admin && result.policies.length > 0) {
		const rows = byCollection(result.permissions);
		lines.push('');
		lines.push(rows.length === 0 ? 'Permissions: none (the policies grant no collection).' : formatTable(PERMISSION_COLUMNS, rows));
	}
	context.output.info(lines.join('\n'));
}
