import type { JsonObject } from './token.js';

/** Auth0 writes a client-credentials token's `sub` as `<clientId>@clients`. */
export const AUTH0_CLIENT_SUFFIX = '@clients';

/**
 * Where each identity provider puts the client's identifier and scopes in a
 * client-credentials access token, and what tells such a token apart from a
 * user's token or an ID token. Sources: each provider's documentation of its
 * access tokens (see README, "Identity providers").
 */
export const PROFILE_NAMES = ['auth0', 'keycloak', 'entra', 'okta', 'cognito', 'rfc9068'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export type ScopeFormat = 'string' | 'array' | 'either';

export interface Profile {
	readonly name: ProfileName;
	/** Claims that may hold the client's identifier; the first one present is used. */
	readonly clientIdClaims: readonly string[];
	/** Claim holding the scopes, and its shape: a space-separated string or an array of strings. */
	readonly scopeClaim: string;
	readonly scopeFormat: ScopeFormat;
	/** Claim compared with the configured audiences (Cognito access tokens carry no `aud`). */
	readonly audienceClaim: 'aud' | 'client_id';
	/** Why the token is not a client-credentials access token, or null when it is. */
	notMachineToken(header: JsonObject, payload: JsonObject, identifier: string): string | null;
	/** The identifier the token carries, from a client id as the provider's console shows it. */
	identifierForClientId(clientId: string): string;
}

const asIs = (clientId: string) => clientId;

const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
	auth0: {
		name: 'auth0',
		clientIdClaims: ['sub'],
		scopeClaim: 'scope',
		scopeFormat: 'string',
		audienceClaim: 'aud',
		notMachineToken: (_header, payload) =>
			payload['gty'] === 'client-credentials' ? null : 'gty is not client-credentials',
		identifierForClientId: (clientId) => (clientId.endsWith(AUTH0_CLIENT_SUFFIX) ? clientId : `${clientId}${AUTH0_CLIENT_SUFFIX}`),
	},
	keycloak: {
		name: 'keycloak',
		// Service-account tokens carry the client id (`client_id` since Keycloak 22, `clientId` before);
		// user tokens carry only `azp`.
		clientIdClaims: ['client_id', 'clientId'],
		scopeClaim: 'scope',
		scopeFormat: 'string',
		audienceClaim: 'aud',
		notMachineToken: (_header, payload, identifier) => {
			// Keycloak writes the token type into the payload: Bearer (access), ID, Refresh.
			if (payload['typ'] !== 'Bearer') return 'typ claim is not Bearer';
			// Only service-account tokens carry the client id mapper's claim (whatever BCC_AUTH_CLIENT_ID_CLAIM says).
			if (payload['client_id'] === undefined && payload['clientId'] === undefined) return 'no client_id claim (not a service account)';
			if (payload['azp'] !== undefined && payload['azp'] !== identifier) return 'azp differs from the client id';
			const username = payload['preferred_username'];
			if (username !== undefined && (typeof username !== 'string' || !username.startsWith('service-account-'))) {
				return 'preferred_username is not a service account';
			}
			return null;
		},
		identifierForClientId: asIs,
	},
	entra: {
		name: 'entra',
		// v2.0 tokens name the client in `azp`, v1.0 tokens in `appid`.
		clientIdClaims: ['azp', 'appid'],
		scopeClaim: 'roles',
		scopeFormat: 'array',
		audienceClaim: 'aud',
		notMachineToken: (_header, payload) => {
			// Every Entra access token names its format version and tenant.
			if (payload['ver'] !== '1.0' && payload['ver'] !== '2.0') return 'ver is not 1.0 or 2.0';
			if (typeof payload['tid'] !== 'string') return 'tid missing';
			if (payload['idtyp'] !== undefined && payload['idtyp'] !== 'app') return 'idtyp is not app';
			// Delegated (user) tokens always carry `scp`; app-only tokens never do.
			if (payload['scp'] !== undefined) return 'scp present (a delegated user token)';
			// Without the optional idtyp claim: in an app-only token the subject is the service principal itself.
			if (payload['idtyp'] === undefined && (payload['oid'] === undefined || payload['oid'] !== payload['sub'])) return 'oid differs from sub (not an app-only token)';
			return null;
		},
		identifierForClientId: asIs,
	},
	okta: {
		name: 'okta',
		clientIdClaims: ['cid'],
		scopeClaim: 'scp',
		scopeFormat: 'array',
		audienceClaim: 'aud',
		// Tokens issued to a user carry the user's id in `uid`.
		notMachineToken: (_header, payload) => (payload['uid'] !== undefined ? 'uid present (a user token)' : null),
		identifierForClientId: asIs,
	},
	cognito: {
		name: 'cognito',
		clientIdClaims: ['client_id'],
		scopeClaim: 'scope',
		scopeFormat: 'string',
		audienceClaim: 'client_id',
		notMachineToken: (_header, payload) => {
			if (payload['token_use'] !== 'access') return 'token_use is not access';
			// Access tokens of signed-in users name the user; machine tokens do not.
			if (payload['username'] !== undefined || payload['cognito:groups'] !== undefined) return 'username present (a user token)';
			return null;
		},
		identifierForClientId: asIs,
	},
	rfc9068: {
		name: 'rfc9068',
		clientIdClaims: ['client_id'],
		scopeClaim: 'scope',
		scopeFormat: 'string',
		audienceClaim: 'aud',
		notMachineToken: (header, payload, identifier) => {
			if (typeof header['typ'] !== 'string' || !ACCESS_TOKEN_TYPES.has(header['typ'].toLowerCase())) return 'header typ is not at+jwt';
			// RFC 9068 §2.2: with no resource owner, sub is the client's id.
			if (payload['sub'] !== identifier) return 'sub differs from client_id (a user token)';
			return null;
		},
		identifierForClientId: asIs,
	},
};

export function isProfileName(value: string): value is ProfileName {
	return (PROFILE_NAMES as readonly string[]).includes(value);
}
