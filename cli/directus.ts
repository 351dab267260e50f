/**
 * The small Directus client the commands use.
 *
 * It wraps `@directus/sdk` and turns every failure into a `CliError` that says
 * what went wrong in terms an operator can act on: Directus unreachable (and at
 * which URL), token rejected, token lacking rights, or an answer that is not
 * what Directus sends. Responses are checked before use; nothing downstream
 * trusts their shape.
 */
import {
	createDirectus,
	createRole as createRoleCommand,
	createUser as createUserCommand,
	customEndpoint,
	deleteUser as deleteUserCommand,
	readExtensions,
	readPermissions,
	readPolicies,
	readPolicyGlobals,
	readRoles,
	readUsers,
	rest,
	serverInfo as serverInfoCommand,
	staticToken,
	updateUser as updateUserCommand,
} from '@directus/sdk';
import { isSecureTransport } from '../extension/core/http.js';
import { CliError } from './errors.js';

/** How long one request may take before Directus counts as unreachable. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** Page size used when reading every user or role. */
export const PAGE_SIZE = 100;

export interface ConnectOptions {
	url: string | undefined;
	token: string | undefined;
	timeoutMs?: number;
}

export interface PolicySummary {
	id: string;
	name: string;
	admin_access: boolean;
	app_access: boolean;
}

export interface Role {
	id: string;
	name: string;
	parent: string | null;
	policies: PolicySummary[];
}

export interface DirectusUserRecord {
	id: string;
	external_identifier: string | null;
	provider: string;
	status: string;
	role: string | null;
	first_name: string | null;
	last_name: string | null;
	/** Which of the user's own ways to sign in are set (email, password, token, tfa_secret): none for a client's user. */
	sign_in: SignInField[];
}

/** Fields that let a user sign in without a client's token: an email (password reset, SSO), a password, a static token. */
export const SIGN_IN_FIELDS = ['email', 'password', 'token', 'tfa_secret'] as const;
export type SignInField = (typeof SIGN_IN_FIELDS)[number];

export interface NewUser {
	id: string;
	external_identifier: string;
	provider: string;
	status: string;
	role: string;
	first_name: string;
	last_name: string | null;
	description: string;
}

export type UserChanges = Partial<Pick<DirectusUserRecord, 'role' | 'status' | 'first_name' | 'provider'>>;

export interface ServerInfo {
	/** Directus's version, e.g. `12.4.0`; null when Directus does not say. */
	version: string | null;
	/** The major version, e.g. 12; null when unknown. */
	major: number | null;
}

/** A policy with the settings that decide what a client may do. */
export interface PolicyDetail extends PolicySummary {
	/** IP ranges the policy is limited to; null: any address. */
	ip_access: string[] | null;
	enforce_tfa: boolean;
}

/** A policy attached to a user directly (directus_access with a user). */
export interface UserPolicy {
	user: string;
	policy: PolicySummary;
}

/** One permission row of a policy. */
export interface PermissionRecord {
	policy: string;
	collection: string;
	action: string;
	/** null or ["*"]: every field. */
	fields: string[] | null;
	/** Item filter; null or {} means every item. */
	permissions: Record<string, unknown> | null;
	validation: Record<string, unknown> | null;
	presets: Record<string, unknown> | null;
}

/** An extension as GET /extensions lists it. */
export interface ExtensionRecord {
	/** Package name (schema.name), or the folder when Directus could not read the package. */
	name: string;
	version: string | null;
	type: string | null;
	/** meta.enabled: Directus loads the extension only when true. */
	enabled: boolean;
	/** "local" (EXTENSIONS_PATH), "module" (node_modules of the project) or "registry". */
	source: string;
	folder: string;
	/** schema.host: the Directus versions the extension declares. */
	host: string | null;
}

/** GET /license (Directus 12). */
export interface LicenseInfo {
	/** e.g. "Core" when no licence key is installed. */
	name: string | null;
	/** active, grace or locked. */
	status: string | null;
	/** The licence's limits: { seats: { limit: 3 }, sso_enabled: { default: false }, ... }. */
	entitlements: Record<string, unknown>;
	/** Current usage: { seats, collections, flows }. */
	usage: Record<string, number>;
}

/** What the commands may ask of Directus. Tests substitute an in-memory fake. */
export interface DirectusApi {
	readonly url: string;
	serverInfo(): Promise<ServerInfo>;
	listRoles(): Promise<Role[]>;
	createRole(name: string): Promise<Role>;
	/** The user with this id, or null. */
	readUser(id: string): Promise<DirectusUserRecord | null>;
	/** Users whose external_identifier equals `identifier` (at most one: the column is unique). */
	findUsersByIdentifier(identifier: string): Promise<DirectusUserRecord[]>;
	/**
	 * Every user with an external_identifier, client or not; callers filter with isClientUser.
	 * `onProgress` gets the number of users read so far, after each page.
	 */
	listUsersWithIdentifier(onProgress?: (read: number) => void): Promise<DirectusUserRecord[]>;
	createUser(user: NewUser): Promise<DirectusUserRecord>;
	updateUser(id: string, changes: UserChanges): Promise<DirectusUserRecord>;
	deleteUser(id: string): Promise<void>;
	/** The policies with these ids, with their IP limits. */
	listPolicies(ids: readonly string[]): Promise<PolicyDetail[]>;
	/** Policies attached directly to users (all users, or only those given). */
	listUserPolicies(userIds?: readonly string[]): Promise<UserPolicy[]>;
	/** The permission rows of these policies. */
	listPermissions(policyIds: readonly string[]): Promise<PermissionRecord[]>;
	/** The installed extensions (admin only). */
	listExtensions(): Promise<ExtensionRecord[]>;
	/** The licence and its usage; null where Directus has no licences (before 12). */
	readLicense(): Promise<LicenseInfo | null>;
	/**
	 * POST /utils/cache/clear?system (admin): also drops Directus 12's cached licence usage, which
	 * a user update does not, so that a licence lock lifted by a change ends at once.
	 */
	clearSystemCache?(): Promise<void>;
}

const USER_FIELDS = ['id', 'external_identifier', 'provider', 'status', 'role', 'first_name', 'last_name', ...SIGN_IN_FIELDS];

const ROLE_FIELDS = [
	'id',
	'name',
	'parent',
	'policies.policy.id',
	'policies.policy.name',
	'policies.policy.admin_access',
	'policies.policy.app_access',
];

/**
 * Checks the settings, then checks that Directus answers and that the token is an
 * admin's, so that every command fails early and clearly on a wrong URL or token.
 */
export async function connect(options: ConnectOptions): Promise<DirectusApi> {
	const { url, token } = checkSettings(options);
	const api = createDirectusApi({ url, token, timeoutMs: options.timeoutMs });
	await api.assertAdmin();
	return api;
}

/** Validates --url and --token (flag or environment) without contacting Directus. */
export function checkSettings(options: Pick<ConnectOptions, 'url' | 'token'>): { url: string; token: string } {
	const url = options.url?.trim();
	const token = options.token?.trim();
	if (!url) {
		throw new CliError('MISSING_SETTING', 'No Directus URL given.', {
			hint: 'Pass --url <url> or set DIRECTUS_URL, e.g. --url http://localhost:8055',
		});
	}
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		throw new CliError('INVALID_SETTING', `The Directus URL "${url}" is not a valid URL.`, {
			hint: 'Pass the root URL of the Directus API, e.g. --url http://localhost:8055',
		});
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		throw new CliError('INVALID_SETTING', `The Directus URL "${url}" must start with http:// or https://.`, {
			hint: 'Pass the root URL of the Directus API, e.g. --url http://localhost:8055',
		});
	}
	if (!token) {
		throw new CliError('MISSING_SETTING', 'No Directus token given.', {
			hint: 'Set DIRECTUS_TOKEN (or pass --token <token>) to the static token of a Directus admin user.',
		});
	}
	return { url, token };
}

/** A warning for a Directus URL that sends the admin token unencrypted across a network, or null. */
export function plainHttpWarning(url: string | undefined): string | null {
	let parsed: URL;
	try {
		parsed = new URL(url?.trim() ?? '');
	} catch {
		return null; // checkSettings says what is wrong with it
	}
	if (parsed.protocol !== 'http:' || isSecureTransport(parsed)) return null;
	return `${parsed.origin} is plain http: the Directus token (and, for doctor, a client's access token) crosses the network unencrypted. Use https unless that network is yours alone.`;
}

interface ClientOptions {
	url: string;
	token: string;
	timeoutMs?: number | undefined;
}

export function createDirectusApi(options: ClientOptions): DirectusApi & { assertAdmin(): Promise<void> } {
	const url = options.url;
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const client = createDirectus(url, { globals: { fetch: guardedFetch(globalThis.fetch, timeoutMs) } })
		.with(staticToken(options.token))
		.with(rest());

	/** One request; `recover` may turn an expected failure into a value instead of an error. */
	async function call<T, R = never>(
		operation: string,
		command: Parameters<typeof client.request>[0],
		parse: (value: unknown) => T,
		recover?: (error: unknown) => { value: R } | undefined,
	): Promise<T | R> {
		let value: unknown;
		try {
			value = await client.request(command);
		} catch (error) {
			const recovered = recover?.(error);
			if (recovered) return recovered.value;
			throw toCliError(error, { url, operation, timeoutMs });
		}
		try {
			return parse(value);
		} catch (error) {
			throw new CliError('DIRECTUS_ERROR', `Unexpected answer from Directus at ${url} when trying to ${operation}: ${(error as Error).message}`, {
				hint: 'Is --url the root URL of the Directus API?',
				cause: error,
			});
		}
	}

	/** Reads every item page by page; stops on an empty page, so a lower server-side limit cannot cut it short. */
	async function readAll<T extends { id: string }>(
		operation: string,
		page: (offset: number) => Parameters<typeof client.request>[0],
		parse: (value: unknown) => T,
		onProgress?: (read: number) => void,
	): Promise<T[]> {
		const items: T[] = [];
		const seen = new Set<string>();
		for (;;) {
			const batch = await call(operation, page(items.length), (value) => asArray(value).map(parse));
			const fresh = batch.filter((item) => !seen.has(item.id));
			if (fresh.length === 0) return items;
			for (const item of fresh) {
				seen.add(item.id);
				items.push(item);
			}
			onProgress?.(items.length);
		}
	}

	return {
		url,

		async assertAdmin() {
			const globals = await call('check the token', readPolicyGlobals(), (value) => {
				const record = asRecord(value);
				return { admin: record['admin_access'] === true };
			});
			if (!globals.admin) {
				throw new CliError('DIRECTUS_FORBIDDEN', `The token is valid at ${url}, but its user has no admin access.`, {
					hint: 'bcc-cc needs the static token of a Directus user whose role or policies grant admin access.',
				});
			}
		},

		async serverInfo() {
			return call('read the server info', serverInfoCommand(), (value) => {
				const version = asRecord(value)['version'];
				if (typeof version !== 'string') return { version: null, major: null };
				const major = Number.parseInt(version, 10);
				return { version, major: Number.isNaN(major) ? null : major };
			});
		},

		async listRoles() {
			return readAll(
				'read roles',
				(offset) => readRoles({ fields: ROLE_FIELDS, sort: ['name', 'id'], limit: PAGE_SIZE, offset }),
				parseRole,
			);
		},

		async createRole(name) {
			return call(`create the role "${name}"`, createRoleCommand({ name }, { fields: ROLE_FIELDS }), parseRole);
		},

		async readUser(id) {
			const users = await call(
				'read users',
				readUsers({ filter: { id: { _eq: id } }, fields: USER_FIELDS, limit: 1 }),
				(value) => asArray(value).map(parseUser),
			);
			return users[0] ?? null;
		},

		async findUsersByIdentifier(identifier) {
			return call(
				'read users',
				readUsers({ filter: { external_identifier: { _eq: identifier } }, fields: USER_FIELDS, limit: 10 }),
				(value) => asArray(value).map(parseUser),
			);
		},

		async listUsersWithIdentifier(onProgress) {
			return readAll(
				'read users',
				(offset) =>
					readUsers({
						filter: { external_identifier: { _nnull: true } },
						fields: USER_FIELDS,
						sort: ['id'],
						limit: PAGE_SIZE,
						offset,
					}),
				parseUser,
				onProgress,
			);
		},

		async createUser(user) {
			return call(`create the user ${user.id}`, createUserCommand(user, { fields: USER_FIELDS }), parseUser);
		},

		async updateUser(id, changes) {
			return call(`update the user ${id}`, updateUserCommand(id, changes, { fields: USER_FIELDS }), parseUser);
		},

		async deleteUser(id) {
			await call(`delete the user ${id}`, deleteUserCommand(id), () => undefined);
		},

		async listPolicies(ids) {
			if (ids.length === 0) return [];
			return readAll(
				'read policies',
				(offset) =>
					readPolicies({
						filter: { id: { _in: [...ids] } },
						fields: ['id', 'name', 'admin_access', 'app_access', 'ip_access', 'enforce_tfa'],
						sort: ['name', 'id'],
						limit: PAGE_SIZE,
						offset,
					}),
				parsePolicyDetail,
			);
		},

		async listUserPolicies(userIds) {
			if (userIds !== undefined && userIds.length === 0) return [];
			const rows = await readAll(
				'read the policies of users',
				(offset) =>
					customEndpoint<unknown>({
						path: '/access',
						method: 'GET',
						params: {
							filter: userIds === undefined ? { user: { _nnull: true } } : { user: { _in: [...userIds] } },
							fields: ['id', 'user', 'policy.id', 'policy.name', 'policy.admin_access', 'policy.app_access'],
							sort: ['id'],
							limit: PAGE_SIZE,
							offset,
						},
					}),
				parseAccessRow,
			);
			return rows.map(({ user, policy }) => ({ user, policy }));
		},

		async listPermissions(policyIds) {
			if (policyIds.length === 0) return [];
			const rows = await readAll(
				'read permissions',
				(offset) =>
					readPermissions({
						filter: { policy: { _in: [...policyIds] } },
						fields: ['id', 'policy', 'collection', 'action', 'fields', 'permissions', 'validation', 'presets'],
						sort: ['collection', 'action', 'id'],
						limit: PAGE_SIZE,
						offset,
					}),
				parsePermission,
			);
			return rows.map(({ id: _id, ...permission }) => permission);
		},

		async listExtensions() {
			return call('read the installed extensions', readExtensions(), (value) => asArray(value).map(parseExtension));
		},

		async readLicense() {
			return call('read the licence', customEndpoint<unknown>({ path: '/license', method: 'GET' }), parseLicense, (error) => {
				// Directus 11 has no licences: 404 ROUTE_NOT_FOUND "Route /license doesn't exist."
				const http = directusErrorOf(error);
				return http?.status === 404 && http.code === 'ROUTE_NOT_FOUND' ? { value: null } : undefined;
			});
		},

		async clearSystemCache() {
			await call(
				'clear the system cache',
				customEndpoint<void>({ path: '/utils/cache/clear', method: 'POST', params: { system: true } }),
				() => undefined,
				// Directus answers 200 with an empty body, which guardedFetch reports as not JSON.
				(error) => (error instanceof UnexpectedResponse && error.status === 200 ? { value: undefined } : undefined),
			);
		},
	};
}

/**
 * A fetch that gives up after `timeoutMs`, and refuses answers that are not
 * JSON (an HTML page means --url points at something other than the API).
 */
function guardedFetch(fetchImpl: typeof globalThis.fetch, timeoutMs: number): typeof globalThis.fetch {
	return async (input, init) => {
		const response = await fetchImpl(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
		const contentType = response.headers.get('content-type')?.toLowerCase() ?? '';
		if (response.status === 204 || contentType.startsWith('application/json')) return response;
		await response.body?.cancel().catch(() => undefined);
		throw new UnexpectedResponse(response.status, contentType);
	};
}

class UnexpectedResponse extends Error {
	constructor(
		readonly status: number,
		readonly contentType: string,
	) {
		super(`HTTP ${status} with content type "${contentType || 'none'}" instead of JSON`);
	}
}

interface ErrorContext {
	url: string;
	operation: string;
	timeoutMs?: number;
}

const NETWORK_ERROR_CODES: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ECONNRESET: 'connection reset',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'host name lookup failed',
	EHOSTUNREACH: 'host unreachable',
	ENETUNREACH: 'network unreachable',
	ETIMEDOUT: 'connection timed out',
	UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
	UND_ERR_SOCKET: 'connection closed',
	CERT_HAS_EXPIRED: 'TLS certificate expired',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
	SELF_SIGNED_CERT_IN_CHAIN: 'self-signed TLS certificate',
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
};

/** Turns whatever the SDK or fetch threw into a CliError. Exported for tests. */
export function toCliError(error: unknown, context: ErrorContext): CliError {
	if (error instanceof CliError) return error;
	const { url, operation } = context;

	if (error instanceof UnexpectedResponse) {
		return new CliError('DIRECTUS_ERROR', `Unexpected answer from ${url} when trying to ${operation}: ${error.message}.`, {
			hint: 'Is --url the root URL of the Directus API (not the admin app or a proxy error page)?',
			cause: error,
		});
	}

	if (isTimeout(error)) {
		const seconds = Math.round((context.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000);
		return new CliError('DIRECTUS_UNREACHABLE', `Directus at ${url} did not answer within ${seconds} s.`, { cause: error });
	}

	const networkCode = findNetworkCode(error);
	if (networkCode !== undefined) {
		const reason = NETWORK_ERROR_CODES[networkCode] ?? networkCode;
		return new CliError('DIRECTUS_UNREACHABLE', `Cannot reach Directus at ${url}: ${reason} (${networkCode}).`, {
			hint: 'Check --url (or DIRECTUS_URL) and that Directus is running.',
			cause: error,
		});
	}

	// Any other failure before a response (e.g. a port that fetch refuses to use).
	if (error instanceof TypeError && error.message === 'fetch failed') {
		return new CliError('DIRECTUS_UNREACHABLE', `Cannot reach Directus at ${url}: ${innermostMessage(error)}.`, {
			hint: 'Check --url (or DIRECTUS_URL) and that Directus is running.',
			cause: error,
		});
	}

	const http = directusErrorOf(error);
	if (http !== undefined) {
		const detail = `${http.status}${http.code ? ` ${http.code}` : ''}${http.message ? `: ${http.message}` : ''}`;
		if (http.status === 401) {
			return new CliError('DIRECTUS_TOKEN_REJECTED', `Directus at ${url} rejected the token (${detail}).`, {
				hint: 'Check --token (or DIRECTUS_TOKEN): it must be the static token of an active Directus admin user.',
				cause: error,
			});
		}
		if (http.status === 403 && http.code === 'LIMIT_EXCEEDED') {
			return new CliError('DIRECTUS_LIMIT_EXCEEDED', `Directus refused to ${operation}: ${http.message || 'a licence limit was exceeded'}.`, {
				hint: 'On Directus 12 without a licence, at most 3 active users may have app or admin access; give the client a role without app access.',
				cause: error,
			});
		}
		if (http.status === 403) {
			return new CliError('DIRECTUS_FORBIDDEN', `The token may not ${operation} (${detail}).`, {
				hint: 'bcc-cc needs the static token of a Directus user with admin access.',
				cause: error,
			});
		}
		if (http.status === 404 && http.code === 'ROUTE_NOT_FOUND') {
			return new CliError('DIRECTUS_ERROR', `Directus at ${url} has no such route when trying to ${operation} (${detail}).`, {
				hint: 'Is --url the root URL of the Directus API (no path such as /admin)?',
				cause: error,
			});
		}
		return new CliError('DIRECTUS_ERROR', `Directus refused to ${operation} (${detail}).`, { cause: error });
	}

	const message = error instanceof Error ? error.message : String(error);
	return new CliError('DIRECTUS_ERROR', `Failed to ${operation} at ${url}: ${message}`, { cause: error });
}

function isTimeout(error: unknown): boolean {
	return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

/** The errno-style code of a failed fetch (`TypeError: fetch failed` with a cause chain). */
function findNetworkCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && (code in NETWORK_ERROR_CODES || /^E[A-Z]+$/.test(code))) return code;
		// AggregateError (e.g. both IPv4 and IPv6 refused) keeps the reasons in `errors`.
		const nested = current instanceof AggregateError ? current.errors[0] : undefined;
		current = nested ?? current.cause;
	}
	return undefined;
}

function innermostMessage(error: Error): string {
	let current: Error = error;
	for (let depth = 0; depth < 5 && current.cause instanceof Error; depth++) current = current.cause;
	return current.message;
}

interface HttpFailure {
	status: number;
	code: string | undefined;
	message: string | undefined;
}

/** The status and first error of an SDK `RequestError` ({ errors, response }). */
function directusErrorOf(error: unknown): HttpFailure | undefined {
	if (typeof error !== 'object' || error === null || !('response' in error)) return undefined;
	const response = (error as { response?: unknown }).response;
	if (!(response instanceof Response)) return undefined;
	const errors = (error as { errors?: unknown }).errors;
	const first = Array.isArray(errors) && typeof errors[0] === 'object' && errors[0] !== null ? (errors[0] as Record<string, unknown>) : {};
	const extensions = typeof first['extensions'] === 'object' && first['extensions'] !== null ? (first['extensions'] as Record<string, unknown>) : {};
	return {
		status: response.status,
		code: typeof extensions['code'] === 'string' ? extensions['code'] : undefined,
		// Directus ends its messages with a period; ours add punctuation of their own.
		message: typeof first['message'] === 'string' ? first['message'].replace(/\.+$/, '') : undefined,
	};
}

function asRecord(value: unknown): Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
	return value as Record<string, unknown>;
}

function asArray(value: unknown): unknown[] {
	if (!Array.isArray(value)) throw new Error('expected a list');
	return value;
}

function stringField(record: Record<string, unknown>, key: string): string {
	const value = record[key];
	if (typeof value !== 'string') throw new Error(`expected "${key}" to be a string`);
	return value;
}

function nullableStringField(record: Record<string, unknown>, key: string): string | null {
	const value = record[key];
	if (value === null || value === undefined) return null;
	if (typeof value !== 'string') throw new Error(`expected "${key}" to be a string or null`);
	return value;
}

/** Exported for tests. */
export function parseUser(value: unknown): DirectusUserRecord {
	const record = asRecord(value);
	return {
		id: stringField(record, 'id'),
		external_identifier: nullableStringField(record, 'external_identifier'),
		provider: nullableStringField(record, 'provider') ?? 'default',
		status: stringField(record, 'status'),
		role: nullableStringField(record, 'role'),
		first_name: nullableStringField(record, 'first_name'),
		last_name: nullableStringField(record, 'last_name'),
		// Directus reads back "**********" for a password, token or tfa_secret that is set, null otherwise.
		sign_in: SIGN_IN_FIELDS.filter((field) => record[field] !== null && record[field] !== undefined && record[field] !== ''),
	};
}

/** Exported for tests. */
export function parseRole(value: unknown): Role {
	const record = asRecord(value);
	const access = Array.isArray(record['policies']) ? record['policies'] : [];
	const policies: PolicySummary[] = [];
	for (const row of access) {
		const policy = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)['policy'] : null;
		if (typeof policy !== 'object' || policy === null) continue;
		const p = policy as Record<string, unknown>;
		policies.push({
			id: stringField(p, 'id'),
			name: nullableStringField(p, 'name') ?? '',
			admin_access: p['admin_access'] === true,
			app_access: p['app_access'] === true,
		});
	}
	return {
		id: stringField(record, 'id'),
		name: stringField(record, 'name'),
		parent: nullableStringField(record, 'parent'),
		policies,
	};
}


function parsePolicyDetail(value: unknown): PolicyDetail {
	const record = asRecord(value);
	const ip = record['ip_access'];
	return {
		id: stringField(record, 'id'),
		name: nullableStringField(record, 'name') ?? '',
		admin_access: record['admin_access'] === true,
		app_access: record['app_access'] === true,
		ip_access: Array.isArray(ip) ? ip.map(String) : typeof ip === 'string' && ip !== '' ? ip.split(',') : null,
		enforce_tfa: record['enforce_tfa'] === true,
	};
}

function parseAccessRow(value: unknown): UserPolicy & { id: string } {
	const record = asRecord(value);
	const policy = asRecord(record['policy']);
	return {
		id: stringField(record, 'id'),
		user: stringField(record, 'user'),
		policy: {
			id: stringField(policy, 'id'),
			name: nullableStringField(policy, 'name') ?? '',
			admin_access: policy['admin_access'] === true,
			app_access: policy['app_access'] === true,
		},
	};
}

function parsePermission(value: unknown): PermissionRecord & { id: string } {
	const record = asRecord(value);
	const fields = record['fields'];
	const object = (key: string): Record<string, unknown> | null => {
		const item = record[key];
		return typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : null;
	};
	return {
		id: String(record['id']),
		policy: stringField(record, 'policy'),
		collection: stringField(record, 'collection'),
		action: stringField(record, 'action'),
		fields: Array.isArray(fields) ? fields.map(String) : typeof fields === 'string' ? fields.split(',') : null,
		permissions: object('permissions'),
		validation: object('validation'),
		presets: object('presets'),
	};
}

function parseExtension(value: unknown): ExtensionRecord {
	const record = asRecord(value);
	const meta = asRecord(record['meta']);
	const schema = typeof record['schema'] === 'object' && record['schema'] !== null ? (record['schema'] as Record<string, unknown>) : {};
	const text = (source: Record<string, unknown>, key: string): string | null => (typeof source[key] === 'string' ? (source[key] as string) : null);
	const folder = text(meta, 'folder') ?? '';
	return {
		name: text(schema, 'name') ?? folder,
		version: text(schema, 'version'),
		type: text(schema, 'type'),
		enabled: meta['enabled'] === true,
		source: text(meta, 'source') ?? '',
		folder,
		host: text(schema, 'host'),
	};
}

function parseLicense(value: unknown): LicenseInfo {
	const record = asRecord(value);
	const entitlements = typeof record['entitlements'] === 'object' && record['entitlements'] !== null ? (record['entitlements'] as Record<string, unknown>) : {};
	const usage: Record<string, number> = {};
	const rawUsage = record['usage'];
	if (typeof rawUsage === 'object' && rawUsage !== null) {
		for (const [key, count] of Object.entries(rawUsage)) if (typeof count === 'number') usage[key] = count;
	}
	return {
		name: typeof record['name'] === 'string' ? record['name'] : null,
		status: typeof record['status'] === 'string' ? record['status'] : null,
		entitlements,
		usage,
	};
}
