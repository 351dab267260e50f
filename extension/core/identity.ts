import { NIL, v5 as uuidv5 } from 'uuid';
import { AUTH0_CLIENT_SUFFIX, PROFILES, type ProfileName } from './profiles.js';

export { AUTH0_CLIENT_SUFFIX };

/**
 * How a machine client is named in Directus.
 *
 * The identifier is the value the token carries for the client (Auth0: `sub`,
 * which is `<clientId>@clients`; other providers: see profiles.ts). The Directus user id is derived from it the
 * way the seed guide's hook did, so users that hook created keep matching.
 */

/** Longest identifier we accept; `directus_users.external_identifier` is a varchar(255). */
export const MAX_IDENTIFIER_LENGTH = 255;

// C0/C1 controls, DEL, and lone surrogates: never part of a real client id, and
// dangerous in logs and tables.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isValidIdentifier(value: unknown): value is string {
	return (
		typeof value === 'string' &&
		value.length > 0 &&
		value.length <= MAX_IDENTIFIER_LENGTH &&
		value.trim() === value &&
		!UNSAFE_CHARACTERS.test(value)
	);
}

/** The Directus user id of a client: uuidv5(identifier, NIL). */
export function userIdForIdentifier(identifier: string): string {
	return uuidv5(identifier, NIL);
}

/**
 * The identifier a provider's token carries for a client id as the operator
 * sees it in the provider's console (Auth0: `<clientId>@clients`; typing the
 * full `...@clients` form gives the same result).
 */
export function identifierForClientId(clientId: string, profile: ProfileName = 'auth0', namespace: string | null = null): string {
	return namespaced(PROFILES[profile].identifierForClientId(clientId), namespace);
}

/**
 * The identifier stored for a client of an issuer with a namespace: `<namespace>:<identifier>`.
 * Issuers whose client ids could collide (two Keycloak realms, say) are given one so
 * that the same client id at each maps to a different Directus user.
 */
export function isValidNamespace(value: string): boolean {
	return /^[A-Za-z0-9._-]{1,64}$/.test(value);
}

export function namespaced(identifier: string, namespace: string | null): string {
	return namespace === null ? identifier : `${namespace}:${identifier}`;
}

/** The client id an operator recognises, for display. */
export function clientIdForIdentifier(identifier: string): string {
	return identifier.endsWith(AUTH0_CLIENT_SUFFIX) ? identifier.slice(0, -AUTH0_CLIENT_SUFFIX.length) : identifier;
}

/** True when `userId` is the id this project (or the seed guide) gives to `identifier`. */
export function isClientUser(user: { id: string; external_identifier: string | null }): boolean {
	return user.external_identifier !== null && user.id === userIdForIdentifier(user.external_identifier);
}
