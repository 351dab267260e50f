/**
 * Machine clients: turning the client id an operator types into the names
 * Directus knows it by, and finding the client's user.
 */
import {
	clientIdForIdentifier,
	identifierForClientId,
	isValidIdentifier,
	isValidNamespace,
	MAX_IDENTIFIER_LENGTH,
	namespaced,
	userIdForIdentifier,
} from '../extension/core/identity.js';
import { PROFILE_NAMES, type ProfileName } from '../extension/core/profiles.js';
import { Argument, Option } from 'commander';
import type { DirectusApi, DirectusUserRecord } from './directus.js';
import { CliError } from './errors.js';

export interface ClientRef {
	/** The client id as the issuer's dashboard shows it (Auth0: without `@clients`). */
	clientId: string;
	/** The token's `sub`, stored as the user's external_identifier. */
	identifier: string;
	/** The Directus user id: uuidv5(identifier, NIL). */
	userId: string;
}

/**
 * Parses a client id argument (`abc123` or `abc123@clients`). Throws
 * INVALID_CLIENT_ID (exit 2) for anything that cannot be a token's subject.
 */
export interface ClientNaming {
	/** Which provider's client id this is (default auth0). */
	readonly profile?: ProfileName | undefined;
	/** The issuer's namespace (BCC_AUTH_NAMESPACE), if it has one. */
	readonly namespace?: string | undefined;
}

export function parseClientId(input: string, naming: ClientNaming = {}): ClientRef {
	if (naming.namespace !== undefined && !isValidNamespace(naming.namespace)) {
		throw new CliError('INVALID_CLIENT_ID', `Invalid namespace ${JSON.stringify(naming.namespace)}: use 1 to 64 letters, digits, ".", "_" or "-".`, {
			hint: 'Use the namespace the hook gives the issuer (BCC_AUTH_NAMESPACE, or "namespace" in BCC_AUTH_ISSUERS).',
		});
	}
	const raw = identifierForClientId(input, naming.profile ?? 'auth0');
	const identifier = namespaced(raw, naming.namespace ?? null);
	const clientId = clientIdForIdentifier(raw);
	const reason = invalidReason(input, identifier, clientId);
	if (reason !== undefined) {
		throw new CliError('INVALID_CLIENT_ID', `Invalid client id ${JSON.stringify(input)}: ${reason}.`, {
			hint: 'Pass the client id as the identity provider shows it, e.g. the Auth0 application\'s Client ID.',
		});
	}
	return { clientId, identifier, userId: userIdForIdentifier(identifier) };
}

function invalidReason(input: string, identifier: string, clientId: string): string | undefined {
	if (input.trim() === '' || clientId === '') return 'it is empty';
	if (input.trim() !== input) return 'it starts or ends with white space';
	if (identifier.length > MAX_IDENTIFIER_LENGTH) return `it is longer than ${MAX_IDENTIFIER_LENGTH} characters`;
	if (!isValidIdentifier(identifier)) return 'it contains control characters';
	return undefined;
}

/** `<clientId>`: the argument of every command that names one client. */
export function clientIdArgument(): Argument {
	return new Argument('<clientId>', 'the client id as the identity provider shows it (Auth0: Client ID; "<id>@clients" also works)');
}

/** `--namespace`: the namespace the hook gives the client's issuer (BCC_AUTH_NAMESPACE, or an issuer's "namespace"). */
export function namespaceOption(): Option {
	return new Option('--namespace <namespace>', 'namespace of the client\'s issuer, when the hook configures one: the identifier becomes "<namespace>:<identifier>"').env(
		'BCC_AUTH_NAMESPACE',
	);
}

/** `--profile`: which provider's tokens the client id belongs to; the hook's BCC_AUTH_PROFILE by default. */
export function profileOption(): Option {
	return new Option('--profile <profile>', 'identity provider the client id comes from: decides the identifier tokens carry (auth0 adds "@clients")')
		.choices(PROFILE_NAMES)
		.env('BCC_AUTH_PROFILE')
		.default('auth0');
}

/**
 * The client's existing user, or null. Refuses (CLIENT_CONFLICT) when the
 * client's id or identifier is taken by a user that is not this client's.
 */
export async function findClientUser(api: DirectusApi, client: ClientRef): Promise<DirectusUserRecord | null> {
	const user = await api.readUser(client.userId);
	if (user) {
		if (user.external_identifier !== client.identifier) {
			throw new CliError(
				'CLIENT_CONFLICT',
				`The Directus user ${user.id} has the id of client ${client.clientId} but its external_identifier is ` +
					`${JSON.stringify(user.external_identifier)}, not ${JSON.stringify(client.identifier)}; bcc-cc will not touch it.`,
				{ hint: 'Fix or remove that user in Directus first.' },
			);
		}
		return user;
	}
	const others = await api.findUsersByIdentifier(client.identifier);
	const other = others[0];
	if (other) {
		throw new CliError(
			'CLIENT_CONFLICT',
			`The Directus user ${other.id} already has the external_identifier ${JSON.stringify(client.identifier)}, ` +
				`but it is not a client user (a client's user id is ${client.userId}); bcc-cc will not touch it.`,
			{ hint: 'Remove or change that user in Directus first.' },
		);
	}
	return null;
}
