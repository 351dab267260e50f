/**
 * Client-credentials access tokens (and user tokens) shaped the way each
 * provider documents them, for a given issuer/audience/client. Claim sets
 * follow the providers' published token references (see README, "Identity
 * providers"); values are examples.
 */
import type { ProfileName } from '../../extension/core/profiles.js';

export interface ShapedToken {
	readonly header: Record<string, unknown>;
	readonly payload: Record<string, unknown>;
	/** The identifier the hook should derive (what `bcc-cc provision` stores). */
	readonly identifier: string;
}

export interface ShapeInput {
	readonly issuer: string;
	readonly audience: string;
	readonly clientId: string;
	/** Scopes the token grants. */
	readonly scopes: readonly string[];
	readonly nowSeconds: number;
}

type Shaper = (input: ShapeInput) => { machine: ShapedToken; user: ShapedToken };

const times = (now: number) => ({ iat: now, nbf: now, exp: now + 3600 });

export const PROVIDER_SHAPES: Record<ProfileName, Shaper> = {
	auth0: ({ issuer, audience, clientId, scopes, nowSeconds }) => ({
		machine: {
			header: { typ: 'JWT' },
			payload: { iss: issuer, sub: `${clientId}@clients`, aud: audience, iat: nowSeconds, exp: nowSeconds + 86400, scope: scopes.join(' '), gty: 'client-credentials', azp: clientId },
			identifier: `${clientId}@clients`,
		},
		user: {
			header: { typ: 'JWT' },
			payload: { iss: issuer, sub: 'auth0|64f1c2', aud: [audience, `${issuer}userinfo`], iat: nowSeconds, exp: nowSeconds + 86400, scope: `openid profile ${scopes.join(' ')}`, azp: clientId },
			identifier: 'auth0|64f1c2',
		},
	}),
	keycloak: ({ issuer, audience, clientId, scopes, nowSeconds }) => ({
		machine: {
			header: { typ: 'JWT' },
			payload: {
				...times(nowSeconds), jti: 'onrtcc:1f2e', iss: issuer, aud: audience, sub: '4b0f5a34-7d0b-4f5e-9c1e-service', typ: 'Bearer', azp: clientId,
				acr: '1', 'allowed-origins': ['/*'], realm_access: { roles: ['default-roles-demo'] }, scope: scopes.join(' '),
				clientHost: '10.0.0.5', preferred_username: `service-account-${clientId}`, clientAddress: '10.0.0.5', client_id: clientId,
			},
			identifier: clientId,
		},
		user: {
			header: { typ: 'JWT' },
			payload: {
				...times(nowSeconds), iss: issuer, aud: audience, sub: 'b3c5f7e2-user', typ: 'Bearer', azp: clientId, session_state: 's1', sid: 's1',
				scope: `openid ${scopes.join(' ')}`, email_verified: true, preferred_username: 'alice',
			},
			identifier: clientId,
		},
	}),
	entra: ({ issuer, audience, clientId, scopes, nowSeconds }) => {
		const v1 = issuer.startsWith('https://sts.windows.net/');
		const common = { ...times(nowSeconds), aud: audience, iss: issuer, aio: 'E2ZgYJ', oid: '9d7f-sp', rh: '0.AX', sub: '9d7f-sp', tid: 'f3a1c0de-0000-4000-8000-000000000001', uti: 'u1', ver: v1 ? '1.0' : '2.0' };
		const client = v1 ? { appid: clientId, appidacr: '1', idp: issuer } : { azp: clientId, azpacr: '1' };
		return {
			machine: { header: { typ: 'JWT', x5t: 'thumb' }, payload: { ...common, ...client, idtyp: 'app', roles: [...scopes] }, identifier: clientId },
			user: { header: { typ: 'JWT', x5t: 'thumb' }, payload: { ...common, ...client, idtyp: 'user', name: 'Alice', scp: 'User.Read', roles: [...scopes] }, identifier: clientId },
		};
	},
	okta: ({ issuer, audience, clientId, scopes, nowSeconds }) => ({
		machine: {
			header: {},
			payload: { ver: 1, jti: 'AT.x1', iss: issuer, aud: audience, iat: nowSeconds, exp: nowSeconds + 3600, cid: clientId, scp: [...scopes], sub: clientId },
			identifier: clientId,
		},
		user: {
			header: {},
			payload: { ver: 1, jti: 'AT.x2', iss: issuer, aud: audience, iat: nowSeconds, exp: nowSeconds + 3600, cid: clientId, uid: '00u1abc', scp: ['openid', ...scopes], auth_time: nowSeconds, sub: 'alice@example.com' },
			identifier: clientId,
		},
	}),
	cognito: ({ issuer, clientId, scopes, nowSeconds }) => ({
		machine: {
			header: {},
			payload: { sub: clientId, token_use: 'access', scope: scopes.join(' '), auth_time: nowSeconds, iss: issuer, exp: nowSeconds + 3600, iat: nowSeconds, version: 2, jti: 'j1', client_id: clientId },
			identifier: clientId,
		},
		user: {
			header: {},
			payload: { sub: 'aaaa-user', 'cognito:groups': ['staff'], token_use: 'access', scope: `aws.cognito.signin.user.admin ${scopes.join(' ')}`, auth_time: nowSeconds, iss: issuer, exp: nowSeconds + 3600, iat: nowSeconds, jti: 'j2', client_id: clientId, username: 'alice' },
			identifier: clientId,
		},
	}),
	rfc9068: ({ issuer, audience, clientId, scopes, nowSeconds }) => ({
		machine: {
			header: { typ: 'at+jwt' },
			payload: { iss: issuer, exp: nowSeconds + 3600, aud: audience, sub: clientId, client_id: clientId, iat: nowSeconds, jti: 'j3', scope: scopes.join(' ') },
			identifier: clientId,
		},
		user: {
			header: { typ: 'at+jwt' },
			payload: { iss: issuer, exp: nowSeconds + 3600, aud: audience, sub: 'user-5ba552d67', client_id: clientId, iat: nowSeconds, jti: 'j4', scope: scopes.join(' ') },
			identifier: clientId,
		},
	}),
};

/** Issuer URLs in each provider's form (tests point BCC_AUTH_JWKS_URI at their own key server). */
export const PROVIDER_ISSUERS: Record<ProfileName, string> = {
	auth0: 'https://tenant.eu.auth0.com/',
	keycloak: 'https://sso.example.org/realms/services',
	entra: 'https://login.microsoftonline.com/f3a1c0de-0000-4000-8000-000000000001/v2.0',
	okta: 'https://example.okta.com/oauth2/default',
	cognito: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI',
	rfc9068: 'https://as.example.org',
};
