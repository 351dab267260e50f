/**
 * `bcc-cc doctor`: everything between a service and Directus that can keep a
 * client out, each finding with a remedy. The checks, in order:
 *
 * 1. configuration: the hook's own parseConfig on the BCC_AUTH_* settings;
 * 2. each issuer: discovery document, key set (fetched the hook's way, each key
 *    tried against the allowed algorithms with the hook's own key checks);
 * 3. Directus: reachable, admin token, version, this extension installed and
 *    enabled (GET /extensions), the licence on 12 (GET /license);
 * 4. the clients: statuses, and roles or policies that grant app or admin access;
 * 5. with --client-id/--client-secret: a real token from the issuer's token
 *    endpoint, checked like `bcc-cc check`, then used on Directus (/users/me).
 *    The secret goes only to --token-endpoint or to the token_endpoint of a
 *    discovery document that names the configured issuer, only over https (http
 *    on loopback), and never follows a redirect.
 *
 * Findings with status `fail` keep clients out; the command exits 6 then.
 */
import packageJson from '../package.json' with { type: 'json' };
import type { IssuerConfig, VerifierConfig } from '../extension/core/config.js';
import { routingKeyFor } from '../extension/core/config.js';
import { ConfigError, TokenRefusedError } from '../extension/core/errors.js';
import { FetchFailedError, fetchJson as defaultFetchJson, isSecureTransport, type FetchJson } from '../extension/core/http.js';
import { clientIdForIdentifier, isClientUser } from '../extension/core/identity.js';
import { assertKeyFitsAlgorithm } from '../extension/core/keys.js';
import { createVerifier } from '../extension/core/verifier.js';
import { loadAuthConfig, type AuthFlags } from './auth-config.js';
import type { DirectusApi, DirectusUserRecord, LicenseInfo, PermissionRecord, PolicySummary, Role, ServerInfo } from './directus.js';
import { isCliError } from './errors.js';
import type { Progress } from './output.js';
import type { ReportStatus } from './report.js';
import { roleAccess } from './roles.js';
import { checkToken, describe, duration } from './token-check.js';

/** The name this extension has in Directus (package.json `name`, also its folder in EXTENSIONS_PATH). */
export const EXTENSION_NAME = packageJson.name;
export const CLI_VERSION = packageJson.version;

export interface Finding {
	/** The part of the chain: `configuration`, `issuer <url>`, `directus`, `licence`, `clients`, `client <id>`. */
	section: string;
	/** A short, stable name for scripts: `settings`, `discovery`, `keys`, `extension`, ... */
	check: string;
	status: ReportStatus;
	message: string;
	remedy?: string;
}

export interface DoctorReport {
	/** False when a finding keeps clients out. */
	ok: boolean;
	counts: Record<ReportStatus, number>;
	findings: Finding[];
}

export interface LiveClient {
	id: string;
	secret: string;
	scope?: string | undefined;
	tokenEndpoint?: string | undefined;
}

export interface DoctorOptions {
	flags: AuthFlags;
	env?: Readonly<Record<string, string | undefined>>;
	/** Opens the checked admin connection; null when no --url/--token were given. */
	directus: (() => Promise<DirectusApi>) | null;
	/** Root URL of Directus, for the live call with a client's token. */
	directusUrl?: string | undefined;
	client?: LiveClient | undefined;
	fetchJson?: FetchJson;
	fetch?: typeof globalThis.fetch;
	progress?: (label: string) => Progress;
	now?: () => number;
}

const LIVE_TIMEOUT_MS = 15_000;

/** What an issuer's discovery document says, and whether it is the configured issuer's (only then is its token_endpoint used). */
interface Discovery {
	url: string;
	document: Record<string, unknown>;
	issuerMatches: boolean;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
	const findings: Finding[] = [];
	const add = (finding: Finding): void => {
		findings.push(finding);
	};
	const fetchJson = options.fetchJson ?? defaultFetchJson;

	const config = checkConfiguration(options, add);
	const discoveries = new Map<string, Discovery | null>();
	if (config) {
		for (const issuer of config.issuers) {
			discoveries.set(issuer.routingKey, await checkIssuer(issuer, config, fetchJson, add));
		}
	} else {
		add({ section: 'issuer', check: 'keys', status: 'skip', message: 'not checked: the configuration is invalid' });
	}

	const directus = await checkDirectus(options, add);
	if (directus) {
		const { api, info } = directus;
		await checkExtension(api, add);
		const facts = await loadClientFacts(api, options.progress);
		if (info.major === null || info.major >= 12) await checkLicense(api, facts, add);
		else add({ section: 'licence', check: 'licence', status: 'info', message: `Directus ${info.version} has no licence limits` });
		checkClients(facts, options.progress, add);
	}

	if (options.client) {
		if (!config) {
			add({ section: `client ${options.client.id}`, check: 'token', status: 'skip', message: 'not tried: the configuration is invalid' });
		} else {
			const issuer = config.issuers[0] as IssuerConfig;
			await checkLiveClient(options.client, issuer, config, discoveries.get(issuer.routingKey) ?? null, options, add);
		}
	}

	const counts: Record<ReportStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0, info: 0 };
	for (const finding of findings) counts[finding.status]++;
	return { ok: counts.fail === 0, counts, findings };
}

// ---------------------------------------------------------------------------------------------
// 1. Configuration
// ---------------------------------------------------------------------------------------------

function checkConfiguration(options: DoctorOptions, add: (finding: Finding) => void): VerifierConfig | null {
	const section = 'configuration';
	let config: VerifierConfig;
	try {
		config = loadAuthConfig(options.flags, options.env);
	} catch (error) {
		if (error instanceof ConfigError) {
			add({
				section,
				check: 'settings',
				status: 'fail',
				message: error.message,
				remedy: `Set ${error.variable} in the environment Directus runs with (the hook refuses to start with this same message), and here (or pass --env-file).`,
			});
			return null;
		}
		if (isCliError(error)) {
			add({ section, check: 'settings', status: 'fail', message: error.message, ...(error.hint ? { remedy: error.hint } : {}) });
			return null;
		}
		throw error;
	}
	for (const issuer of config.issuers) {
		const keys = issuer.jwksUri === null ? 'keys from discovery' : `keys from ${issuer.jwksUri}`;
		add({
			section,
			check: 'issuer',
			status: 'pass',
			message:
				`${issuer.issuer}: profile ${issuer.profile}, audience ${issuer.audiences.join(', ')}, ` +
				`algorithms ${issuer.algorithms.join(', ')}, ${keys}, required scopes: ${issuer.requiredScopes.join(' ') || 'none'}`,
		});
		if (issuer.requiredScopes.length === 0) {
			add({
				section,
				check: 'scopes',
				status: 'info',
				message: `no required scopes for ${issuer.issuer}: every client-credentials token for the audience whose client has a Directus user gets in`,
				remedy: 'Set BCC_AUTH_REQUIRED_SCOPES to a scope only the clients meant for Directus are granted.',
			});
		}
	}
	return config;
}

// ---------------------------------------------------------------------------------------------
// 2. Issuers: discovery and keys
// ---------------------------------------------------------------------------------------------

interface RawJwk {
	kid?: unknown;
	kty?: unknown;
	alg?: unknown;
	use?: unknown;
	crv?: unknown;
	n?: unknown;
}

/** Checks discovery and keys; returns the discovery document (null when it could not be read). */
async function checkIssuer(issuer: IssuerConfig, config: VerifierConfig, fetchJson: FetchJson, add: (finding: Finding) => void): Promise<Discovery | null> {
	const section = `issuer ${issuer.issuer}`;
	const limits = { timeoutMs: config.keys.timeoutMs, maxBytes: config.keys.maxResponseBytes };
	const discoveryUrl = `${issuer.routingKey}/.well-known/openid-configuration`;

	let discovery: Record<string, unknown> | null = null;
	let issuerMatches = false;
	let jwksUri = issuer.jwksUri;
	try {
		const document = await fetchJson(discoveryUrl, limits);
		if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new FetchFailedError('not a JSON object');
		discovery = document as Record<string, unknown>;
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		const notFound = error instanceof FetchFailedError && error.status === 404;
		if (issuer.jwksUri !== null) {
			add({ section, check: 'discovery', status: 'info', message: `${discoveryUrl}: ${message} (not needed: BCC_AUTH_JWKS_URI is set)` });
		} else if (notFound) {
			jwksUri = `${issuer.routingKey}/.well-known/jwks.json`;
			add({ section, check: 'discovery', status: 'info', message: `${discoveryUrl}: HTTP 404; the hook falls back to ${jwksUri}` });
		} else {
			add({
				section,
				check: 'discovery',
				status: 'fail',
				message: `cannot fetch ${discoveryUrl}: ${message}; the hook answers 503 to every token of this issuer`,
				remedy: 'Directus must reach the issuer over HTTPS: check DNS, proxies (HTTPS_PROXY) and firewalls from the Directus host, or set BCC_AUTH_JWKS_URI.',
			});
			return null;
		}
	}

	if (discovery) {
		const named = discovery['issuer'];
		issuerMatches = typeof named === 'string' && routingKeyFor(named) === issuer.routingKey;
		if (!issuerMatches) {
			if (issuer.jwksUri === null) {
				add({
					section,
					check: 'discovery',
					status: 'fail',
					message: `${discoveryUrl} names the issuer ${describe(named)}, not ${describe(issuer.issuer)}; the hook refuses to use its keys`,
					remedy: `Set BCC_AUTH_ISSUER to exactly ${describe(named)} (as the tokens' iss claim has it).`,
				});
				return { url: discoveryUrl, document: discovery, issuerMatches };
			}
			add({ section, check: 'discovery', status: 'warn', message: `${discoveryUrl} names the issuer ${describe(named)}, not ${describe(issuer.issuer)}` });
		} else {
			const endpoint = typeof discovery['token_endpoint'] === 'string' ? discovery['token_endpoint'] : 'none';
			add({ section, check: 'discovery', status: 'pass', message: `${discoveryUrl}: issuer matches; jwks_uri ${describe(discovery['jwks_uri'])}, token_endpoint ${endpoint}` });
		}
		if (jwksUri === null && typeof discovery['jwks_uri'] === 'string') jwksUri = discovery['jwks_uri'];
	}
	if (jwksUri === null) {
		add({
			section,
			check: 'keys',
			status: 'fail',
			message: `${discoveryUrl} has no jwks_uri`,
			remedy: 'Set BCC_AUTH_JWKS_URI to the issuer\'s JWKS URL.',
		});
		return discovery && { url: discoveryUrl, document: discovery, issuerMatches };
	}
	await checkKeys(issuer, config, jwksUri, fetchJson, limits, add);
	return discovery && { url: discoveryUrl, document: discovery, issuerMatches };
}

async function checkKeys(
	issuer: IssuerConfig,
	config: VerifierConfig,
	jwksUri: string,
	fetchJson: FetchJson,
	limits: { timeoutMs: number; maxBytes: number },
	add: (finding: Finding) => void,
): Promise<void> {
	const section = `issuer ${issuer.issuer}`;
	let raw: RawJwk[];
	try {
		const body = await fetchJson(jwksUri, limits);
		const keys = (body as { keys?: unknown } | null)?.keys;
		if (!Array.isArray(keys)) throw new Error('not a JWK set (no "keys" array)');
		raw = keys.filter((key): key is RawJwk => typeof key === 'object' && key !== null);
	} catch (error) {
		add({
			section,
			check: 'keys',
			status: 'fail',
			message: `cannot fetch the key set ${jwksUri}: ${error instanceof Error ? error.message : String(error)}; the hook answers 503 to every token of this issuer`,
			remedy: 'Directus must reach the key set URL: check DNS, proxies and firewalls from the Directus host, or BCC_AUTH_JWKS_URI.',
		});
		return;
	}
	if (raw.length === 0) {
		add({ section, check: 'keys', status: 'fail', message: `${jwksUri} lists no keys`, remedy: 'Check the issuer\'s signing keys (Auth0: Settings > Signing Keys).' });
		return;
	}

	// The hook's own key set for this issuer: the same fetch, jwks-rsa conversion and key checks.
	const verifier = createVerifier({ ...config, issuers: [issuer] }, { fetchJson });
	const keySet = verifier.keySets.get(issuer.routingKey);
	const described: string[] = [];
	let usable = 0;
	const problems: string[] = [];
	for (const jwk of raw) {
		const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
		const label = `${kid === undefined ? 'key without kid' : `kid ${describe(kid)}`} (${[jwk.kty, jwk.alg, jwk.use].filter((item) => typeof item === 'string').join(' ')})`;
		described.push(label);
		if (kid === undefined && raw.length > 1) {
			problems.push(`${label}: has no kid in a set of several keys, so no token can name it`);
			continue;
		}
		try {
			const resolved = await (keySet as NonNullable<typeof keySet>).getKey(kid);
			const fits = issuer.algorithms.filter((alg) => {
				try {
					assertKeyFitsAlgorithm(resolved.key, alg);
					return true;
				} catch {
					return false;
				}
			});
			if (fits.length === 0) {
				problems.push(`${label}: fits none of the allowed algorithms (${issuer.algorithms.join(', ')}), or is too weak`);
			} else {
				usable++;
			}
		} catch (error) {
			const detail = error instanceof TokenRefusedError ? `${error.reason}: ${error.detail}` : error instanceof Error ? error.message : String(error);
			if (error instanceof TokenRefusedError && error.reason === 'keys_unavailable') {
				add({
					section,
					check: 'keys',
					status: 'fail',
					message: `the hook cannot load the key set: ${detail}`,
					remedy: 'Check that the discovery document and the key set are reachable and valid from the Directus host.',
				});
				return;
			}
			problems.push(`${label}: not usable for signatures (${detail})`);
		}
	}
	const summary = `${raw.length} key${raw.length === 1 ? '' : 's'} at ${jwksUri}: ${described.join(', ')}`;
	if (usable === 0) {
		add({
			section,
			check: 'keys',
			status: 'fail',
			message: `${summary}; none can verify tokens: ${problems.join('; ')}`,
			remedy: `Allow the issuer's algorithm in BCC_AUTH_ALGORITHMS (now ${issuer.algorithms.join(', ')}), or fix the issuer's signing keys.`,
		});
		return;
	}
	add({ section, check: 'keys', status: 'pass', message: `${summary}; ${usable} usable with ${issuer.algorithms.join(', ')}` });
	for (const problem of problems) add({ section, check: 'keys', status: 'info', message: problem });
}

// ---------------------------------------------------------------------------------------------
// 3. Directus, the extension, the licence
// ---------------------------------------------------------------------------------------------

async function checkDirectus(options: DoctorOptions, add: (finding: Finding) => void): Promise<{ api: DirectusApi; info: ServerInfo } | null> {
	const section = 'directus';
	if (options.directus === null) {
		add({
			section,
			check: 'connection',
			status: 'skip',
			message: 'not checked: no Directus URL and token',
			remedy: 'Pass --url and --token (or set DIRECTUS_URL and DIRECTUS_TOKEN) to the static token of a Directus admin.',
		});
		return null;
	}
	let api: DirectusApi;
	try {
		api = await options.directus();
	} catch (error) {
		if (!isCliError(error)) throw error;
		const remedy =
			error.code === 'DIRECTUS_FORBIDDEN'
				? 'doctor reads extensions, users, policies and the licence: use the static token of a Directus admin.'
				: (error.hint ?? 'Check --url and --token.');
		add({ section, check: 'connection', status: 'fail', message: error.message, remedy });
		return null;
	}
	const info = await api.serverInfo();
	add({ section, check: 'connection', status: 'pass', message: `${api.url} answers; the token is an admin's` });
	if (info.major === 11 || info.major === 12) {
		add({ section, check: 'version', status: 'pass', message: `Directus ${info.version}` });
	} else {
		add({
			section,
			check: 'version',
			status: 'warn',
			message: `Directus ${info.version ?? '(version not reported)'}; this extension declares ${packageJson['directus:extension'].host} and was tested on 11.17.4 and 12.4.0`,
		});
	}
	return { api, info };
}

async function checkExtension(api: DirectusApi, add: (finding: Finding) => void): Promise<void> {
	const section = 'directus';
	const extensions = await api.listExtensions();
	const found = extensions.find((extension) => extension.name === EXTENSION_NAME) ?? extensions.find((extension) => extension.folder === EXTENSION_NAME);
	if (!found) {
		add({
			section,
			check: 'extension',
			status: 'fail',
			message: `${EXTENSION_NAME} is not installed (GET /extensions lists ${extensions.length === 0 ? 'no extensions' : extensions.map((extension) => extension.name).join(', ')}); Directus treats every client token as an unknown static token (401)`,
			remedy:
				`Extract the package into EXTENSIONS_PATH/${EXTENSION_NAME} (or npm install it in the Directus project) and restart Directus (docs/install.md). ` +
				'If it is there, the Directus log says why it was not loaded: look for "Couldn\'t load extensions" or "The manifest of the extension".',
		});
		return;
	}
	const where = `${found.source === 'module' ? 'node_modules' : found.source === 'local' ? 'EXTENSIONS_PATH' : found.source}/${found.folder}`;
	if (!found.enabled) {
		add({
			section,
			check: 'extension',
			status: 'fail',
			message: `${found.name}${found.version === null ? '' : ` ${found.version}`} is installed (${where}) but disabled`,
			remedy: 'Enable it in Settings > Extensions (or PATCH /extensions/<id> {"meta":{"enabled":true}}).',
		});
		return;
	}
	add({ section, check: 'extension', status: 'pass', message: `${found.name} ${found.version ?? '(version unknown)'} is installed (${where}) and enabled` });
	if (found.version !== null && found.version !== CLI_VERSION) {
		add({
			section,
			check: 'extension version',
			status: 'warn',
			message: `the extension is ${found.version}, this bcc-cc is ${CLI_VERSION}`,
			remedy: 'Use bcc-cc from the same package version as the extension (npx bcc-cc inside the Directus container uses the installed one).',
		});
	}
}

/** A Directus 12 entitlement's value: `{ limit }`, `{ default, override? }` or a plain value. */
function entitlement(license: LicenseInfo, name: string): unknown {
	const value = license.entitlements[name];
	if (typeof value !== 'object' || value === null) return value;
	const record = value as Record<string, unknown>;
	if ('override' in record && record['override'] !== undefined && record['override'] !== null) return record['override'];
	if ('limit' in record) return record['limit'];
	return record['default'];
}

interface ClientFacts {
	users: DirectusUserRecord[];
	roles: Role[];
	directPolicies: Map<string, PolicySummary[]>;
}

/** The client users, every role, and the policies attached to client users directly. */
async function loadClientFacts(api: DirectusApi, progress?: (label: string) => Progress): Promise<ClientFacts> {
	const bar = progress?.('Reading users');
	const [users, roles] = await Promise.all([api.listUsersWithIdentifier((read) => bar?.update(read)), api.listRoles()]);
	bar?.done();
	const clients = users.filter(isClientUser);
	const directPolicies = new Map<string, PolicySummary[]>();
	for (const row of await api.listUserPolicies(clients.map((user) => user.id))) {
		directPolicies.set(row.user, [...(directPolicies.get(row.user) ?? []), row.policy]);
	}
	return { users: clients, roles, directPolicies };
}

async function checkLicense(api: DirectusApi, facts: ClientFacts, add: (finding: Finding) => void): Promise<void> {
	const section = 'licence';
	const license = await api.readLicense();
	if (license === null) {
		add({ section, check: 'licence', status: 'info', message: 'this Directus has no licence endpoint: no licence limits apply' });
		return;
	}
	const name = license.name ?? 'unknown';
	if (license.status === 'locked') {
		add({
			section,
			check: 'status',
			status: 'fail',
			message: `licence "${name}" is locked: usage exceeds the licence's limits`,
			remedy: 'Bring usage within the limits below (seats, users with a custom provider) or install a licence (Settings > License).',
		});
	} else if (license.status === 'grace') {
		add({ section, check: 'status', status: 'warn', message: `licence "${name}" is in its grace period: Directus locks when it ends`, remedy: 'Bring usage within the limits below, or install a licence.' });
	} else {
		add({ section, check: 'status', status: 'pass', message: `licence "${name}", status ${license.status ?? 'unknown'}` });
	}

	const { users, roles, directPolicies } = facts;
	const seatLimit = entitlement(license, 'seats');
	const seatsUsed = license.usage['seats'];
	const appClients = users.filter((user) => user.status === 'active' && accessOf(user, roles, directPolicies).app);
	if (typeof seatLimit === 'number' && seatLimit >= 0 && typeof seatsUsed === 'number') {
		const message = `${seatsUsed} of ${seatLimit} seats used (active users with app or admin access); ${appClients.length} of them ${appClients.length === 1 ? 'is a client' : 'are clients'}`;
		if (seatsUsed > seatLimit) {
			add({ section, check: 'seats', status: 'fail', message, remedy: 'Give clients roles without app access (they need none), or remove seats, or install a licence.' });
		} else if (seatsUsed === seatLimit) {
			add({ section, check: 'seats', status: 'warn', message: `${message}; no seat left: giving a client app access now fails with LIMIT_EXCEEDED`, remedy: 'Clients need no app access: use roles whose policies have neither app nor admin access.' });
		} else {
			add({ section, check: 'seats', status: 'pass', message });
		}
	}

	const sso = entitlement(license, 'sso_enabled');
	const customProvider = users.filter((user) => user.provider !== 'default' && user.status === 'active');
	if (sso === false && customProvider.length > 0) {
		add({
			section,
			check: 'providers',
			status: 'fail',
			message: `${customProvider.length} active client user${customProvider.length === 1 ? ' has' : 's have'} a provider other than "default" (${[...new Set(customProvider.map((user) => describe(user.provider)))].join(', ')}), which this licence does not include: Directus locks its content APIs once the grace period ends`,
			remedy: 'Move them to provider "default": "bcc-cc migrate-provider" shows what it would change, "bcc-cc migrate-provider --apply" does it; the hook ignores the provider, so the clients keep working.',
		});
	} else if (sso === false) {
		add({ section, check: 'providers', status: 'pass', message: 'every active client user has provider "default" (this licence allows no other)' });
	}

	if (entitlement(license, 'custom_permission_rules_enabled') === false) {
		const policyIds = [...new Set(users.flatMap((user) => policiesOf(user, roles, directPolicies).map((policy) => policy.id)))];
		const custom = (await api.listPermissions(policyIds)).filter(hasCustomRules);
		if (custom.length > 0) {
			add({
				section,
				check: 'permission rules',
				status: 'warn',
				message: `${custom.length} permission${custom.length === 1 ? '' : 's'} of client policies use field lists, filters, validation or presets, which this licence does not include: ${custom.slice(0, 5).map((permission) => `${permission.collection} ${permission.action}`).join(', ')}${custom.length > 5 ? ', ...' : ''}`,
				remedy: 'Use permissions on all fields without rules, or install a licence that includes custom permission rules.',
			});
		}
	}
}

function hasCustomRules(permission: PermissionRecord): boolean {
	const nonEmpty = (value: Record<string, unknown> | null) => value !== null && Object.keys(value).length > 0;
	const allFields = permission.fields === null || (permission.fields.length === 1 && permission.fields[0] === '*');
	return !allFields || nonEmpty(permission.permissions) || nonEmpty(permission.validation) || nonEmpty(permission.presets);
}

/** The policies of a user: its role's and its parent roles', and those attached to the user itself. */
function policiesOf(user: DirectusUserRecord, roles: readonly Role[], direct: Map<string, PolicySummary[]>): PolicySummary[] {
	const byId = new Map(roles.map((role) => [role.id, role]));
	const policies: PolicySummary[] = [...(direct.get(user.id) ?? [])];
	const seen = new Set<string>();
	let current = user.role === null ? undefined : byId.get(user.role);
	while (current && !seen.has(current.id)) {
		seen.add(current.id);
		policies.push(...current.policies);
		current = current.parent ? byId.get(current.parent) : undefined;
	}
	return policies;
}

function accessOf(user: DirectusUserRecord, roles: readonly Role[], direct: Map<string, PolicySummary[]>): { admin: boolean; app: boolean; grantedBy: PolicySummary[] } {
	const viaRole = user.role === null ? { admin: false, app: false, grantedBy: [] as PolicySummary[] } : roleAccess(roles, user.role);
	const viaUser = (direct.get(user.id) ?? []).filter((policy) => policy.admin_access || policy.app_access);
	const grantedBy = [...viaRole.grantedBy, ...viaUser];
	return {
		admin: grantedBy.some((policy) => policy.admin_access),
		app: grantedBy.some((policy) => policy.admin_access || policy.app_access),
		grantedBy,
	};
}

// ---------------------------------------------------------------------------------------------
// 4. Clients
// ---------------------------------------------------------------------------------------------

function checkClients(facts: ClientFacts, progress: ((label: string) => Progress) | undefined, add: (finding: Finding) => void): void {
	const section = 'clients';
	const { users, roles, directPolicies } = facts;
	if (users.length === 0) {
		add({ section, check: 'clients', status: 'info', message: 'no client is provisioned yet', remedy: 'bcc-cc provision <clientId> --role <role>' });
		return;
	}
	const byStatus = new Map<string, number>();
	for (const user of users) byStatus.set(user.status, (byStatus.get(user.status) ?? 0) + 1);
	add({
		section,
		check: 'clients',
		status: 'info',
		message: `${users.length} client${users.length === 1 ? '' : 's'}: ${[...byStatus].map(([status, count]) => `${count} ${status}`).join(', ')}`,
	});
	const roleNames = new Map(roles.map((role) => [role.id, role.name]));
	const bar = progress?.('Checking clients');
	for (const [index, user] of users.entries()) {
		bar?.update(index + 1, users.length);
		const clientId = clientIdForIdentifier(user.external_identifier as string);
		const access = accessOf(user, roles, directPolicies);
		const role = user.role === null ? 'no role' : `role ${describe(roleNames.get(user.role) ?? user.role)}`;
		if (access.app) {
			const kind = access.admin ? 'admin' : 'app';
			add({
				section,
				check: `${kind} access`,
				status: 'warn',
				message: `client ${describe(clientId)} (${user.status}, ${role}) has ${kind} access through ${access.grantedBy.map((policy) => describe(policy.name)).join(', ')}${access.admin ? ': it may do anything in Directus' : ''}`,
				remedy: `Clients need neither: "bcc-cc provision ${clientId} --role <a role whose policies have no app or admin access>"${access.admin ? '' : '; on Directus 12 without a licence each active one takes one of 3 seats'}.`,
			});
		} else if (user.status === 'active' && policiesOf(user, roles, directPolicies).length === 0) {
			add({ section, check: 'no access', status: 'info', message: `client ${describe(clientId)} (${role}) has no policies: its tokens get in, but it may read nothing`, remedy: 'Attach policies to its role in Directus (Settings > User Roles).' });
		}
	}
	bar?.done();
}

// ---------------------------------------------------------------------------------------------
// 5. A real client: token endpoint, token check, Directus
// ---------------------------------------------------------------------------------------------

/** Why the client secret may not go to `endpoint`, or null: https, or plain http on loopback only. */
export function unsafeTokenEndpoint(endpoint: string): string | null {
	let url: URL;
	try {
		url = new URL(endpoint);
	} catch {
		return 'is not a URL';
	}
	if (isSecureTransport(url)) return null;
	return url.protocol === 'http:' ? 'is plain http on a host other than localhost' : `uses ${url.protocol}, not https`;
}

async function checkLiveClient(
	client: LiveClient,
	issuer: IssuerConfig,
	config: VerifierConfig,
	discovery: Discovery | null,
	options: DoctorOptions,
	add: (finding: Finding) => void,
): Promise<void> {
	const section = `client ${client.id}`;
	const fetchImpl = options.fetch ?? globalThis.fetch;
	// Only a document that names the configured issuer speaks for it: the secret goes nowhere else.
	const trusted = discovery?.issuerMatches === true ? discovery.document : null;
	const endpoint = client.tokenEndpoint ?? (typeof trusted?.['token_endpoint'] === 'string' ? trusted['token_endpoint'] : null);
	if (endpoint === null) {
		const why =
			discovery === null
				? `the discovery document of ${issuer.issuer} could not be read`
				: !discovery.issuerMatches
					? `${discovery.url} names another issuer, so its token_endpoint ${describe(discovery.document['token_endpoint'])} is not used (the client secret is not sent there)`
					: `the discovery document of ${issuer.issuer} names none`;
		add({ section, check: 'token endpoint', status: 'fail', message: `no token endpoint: ${why}`, remedy: 'Pass --token-endpoint <url> (the issuer\'s own token endpoint).' });
		return;
	}
	const unsafe = unsafeTokenEndpoint(endpoint);
	if (unsafe !== null) {
		add({
			section,
			check: 'token endpoint',
			status: 'fail',
			message: `token endpoint ${describe(endpoint)} ${unsafe}: the client secret is not sent there`,
			remedy: 'Use the issuer\'s https token endpoint (--token-endpoint <https url>); plain http only for localhost, 127.0.0.1 or [::1].',
		});
		return;
	}
	const methods = trusted?.['token_endpoint_auth_methods_supported'];
	const usePost = Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
	const body = new URLSearchParams({ grant_type: 'client_credentials' });
	// Auth0 needs the API identifier; other providers take scopes (Entra: "<api>/.default").
	if (issuer.profile === 'auth0' && issuer.audiences[0] !== undefined) body.set('audience', issuer.audiences[0]);
	if (client.scope !== undefined) body.set('scope', client.scope);
	const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
	if (usePost) {
		body.set('client_id', client.id);
		body.set('client_secret', client.secret);
	} else {
		const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
		headers['authorization'] = `Basic ${Buffer.from(`${encode(client.id)}:${encode(client.secret)}`).toString('base64')}`;
	}

	let accessToken: string;
	try {
		// No redirects: the endpoint was checked (https, or http on loopback), the place a redirect names was not.
		const response = await fetchImpl(endpoint, { method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(LIVE_TIMEOUT_MS) });
		const text = await response.text();
		let json: Record<string, unknown> = {};
		try {
			json = JSON.parse(text) as Record<string, unknown>;
		} catch {
			// reported below
		}
		if (response.status !== 200 || typeof json['access_token'] !== 'string') {
			const error = typeof json['error'] === 'string' ? ` ${json['error']}` : '';
			const description = typeof json['error_description'] === 'string' ? `: ${json['error_description']}` : '';
			add({
				section,
				check: 'token',
				status: 'fail',
				message: `POST ${endpoint} (client_credentials, ${usePost ? 'client_secret_post' : 'client_secret_basic'}) answered HTTP ${response.status}${error}${description}`.slice(0, 400),
				remedy: 'Check the client id and secret, and that the client may get tokens for the API (Auth0: APIs > <your API> > Machine to Machine Applications).',
			});
			return;
		}
		accessToken = json['access_token'];
		const expires = typeof json['expires_in'] === 'number' ? `, expires in ${duration(json['expires_in'])}` : '';
		const type = typeof json['token_type'] === 'string' ? `${json['token_type']} ` : '';
		add({ section, check: 'token', status: 'pass', message: `POST ${endpoint} issued a ${type}token${expires}` });
	} catch (error) {
		add({
			section,
			check: 'token',
			status: 'fail',
			message: `cannot reach ${endpoint}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
			remedy: 'Check the network path to the issuer from here.',
		});
		return;
	}

	const { report } = await checkToken(accessToken, {
		config,
		directus: options.directus,
		...(options.now ? { now: options.now } : {}),
		...(options.fetchJson ? { fetchJson: options.fetchJson } : {}),
	});
	for (const step of report.steps) {
		add({ section, check: `check: ${step.name}`, status: step.status, message: step.detail });
	}

	if (!options.directusUrl) {
		add({ section, check: 'directus call', status: 'skip', message: 'not tried: no Directus URL' });
		return;
	}
	const expectedUser = report.client?.userId ?? null;
	const url = `${options.directusUrl.replace(/\/+$/, '')}/users/me?fields=id`;
	try {
		const response = await fetchImpl(url, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(LIVE_TIMEOUT_MS) });
		const text = await response.text();
		let json: { data?: { id?: unknown }; errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } = {};
		try {
			json = JSON.parse(text) as typeof json;
		} catch {
			// reported below
		}
		const id = json.data?.id;
		if (response.status === 200 && (expectedUser === null || id === expectedUser)) {
			add({ section, check: 'directus call', status: 'pass', message: `GET /users/me with the token: 200, user ${describe(id)}` });
			return;
		}
		const first = json.errors?.[0];
		const code = typeof first?.extensions?.code === 'string' ? ` ${first.extensions.code}` : '';
		const message = typeof first?.message === 'string' ? `: ${first.message}` : '';
		const accepted = report.verdict !== 'refused';
		add({
			section,
			check: 'directus call',
			status: 'fail',
			message:
				response.status === 200
					? `GET /users/me with the token: 200, but as user ${describe(id)}, not the client's user ${expectedUser}`
					: `GET /users/me with the token: HTTP ${response.status}${code}${message}`,
			remedy: accepted
				? `bcc-cc accepts this token with the settings it was given, but Directus does not: the hook is not loaded, or runs with other BCC_AUTH_* values. Look for "client-credentials:" lines with token ${report.token.fingerprint} in the Directus log.`
				: 'Fix the steps that failed above.',
		});
	} catch (error) {
		add({ section, check: 'directus call', status: 'fail', message: `cannot call ${options.directusUrl}: ${error instanceof Error ? error.message : String(error)}` });
	}
}
