/**
 * A real OAuth 2.0 authorization server (oidc-provider 9) on 127.0.0.1 that issues client-credentials
 * access tokens as RS256 JWTs shaped like Auth0's:
 *
 *   header  { alg: 'RS256', typ: 'at+jwt', kid }
 *   payload { iss: 'http://127.0.0.1:<port>/', sub: '<client_id>', client_id, aud: '<audience>',
 *             scope, gty: 'client-credentials', azp: '<client_id without @clients>', iat, exp, jti }
 *
 * oidc-provider always sets sub = client_id, so register clients whose id already ends in `@clients`
 * (Auth0's machine-to-machine subject shape), e.g. `orders-service@clients`.
 *
 * Like Auth0: the token endpoint is /oauth/token, the JWKS is /.well-known/jwks.json, the issuer ends
 * with '/', the audience is defaulted (the `audience` parameter Auth0 clients send is accepted and
 * ignored; `resource` works too), and a request without `scope` gets every scope the client may have.
 */
import { generateKeyPairSync, createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OAuthClientSpec {
	clientId: string;
	clientSecret: string;
	/** Space-separated scopes this client may get. Absent: every scope of the resource; '': none. */
	scope?: string;
	/** How the client authenticates at the token endpoint; default client_secret_basic. */
	tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface StartOAuthServerOptions {
	/** Default: a free port. */
	port?: number;
	/** The API identifier: the only resource, and the tokens' aud. */
	audience: string;
	/** Scopes the resource offers. */
	scopes: string[];
	clients: OAuthClientSpec[];
	/** Default true: issuer `http://127.0.0.1:<port>/` like Auth0. */
	trailingSlashIssuer?: boolean;
	/** Default 3600. */
	accessTokenTtlSeconds?: number;
	/** Extra claims; default (Auth0 style) { gty: 'client-credentials', azp: <clientId without @clients> }. */
	extraClaims?: (clientId: string) => Record<string, unknown>;
	/**
	 * Last word on a token before it is signed: may change any claim (sub, aud as an array, remove
	 * gty...) or header field. For tokens that oidc-provider cannot shape by configuration.
	 */
	customizeToken?: (
		token: { header: Record<string, unknown>; payload: Record<string, unknown> },
		clientId: string,
	) => void | Promise<void>;
}

export interface TokenRequestOptions {
	/** Space-separated scopes to ask for; absent: the server grants every scope the client may have. */
	scope?: string;
	/**
	 * Sent as `resource` (RFC 8707); absent: the server defaults to the audience. The server knows one
	 * resource: the audience if it is an absolute URI, else `urn:bcc:audience`.
	 */
	resource?: string;
	/** Sent as `audience` like Auth0 clients do (ignored by the server). */
	audience?: string;
	/** Default: the method the client was registered with, else client_secret_basic. */
	authMethod?: 'client_secret_basic' | 'client_secret_post';
}

export interface TokenResponse {
	status: number;
	body: Record<string, unknown>;
}

export interface RunningOAuthServer {
	/** e.g. http://127.0.0.1:40000/ */
	issuer: string;
	port: number;
	audience: string;
	tokenEndpoint: string;
	jwksUri: string;
	discoveryUrl: string;
	/** The signing key's kid. */
	kid: string;
	/** The public signing key as a JWK. */
	publicJwk: Record<string, unknown>;
	/** POSTs grant_type=client_credentials to the token endpoint; returns access_token or throws. */
	getToken(clientId: string, clientSecret: string, options?: TokenRequestOptions): Promise<string>;
	/** Same request; returns the status and JSON body whatever they are. */
	requestToken(clientId: string, clientSecret: string, options?: TokenRequestOptions): Promise<TokenResponse>;
	/** Adds (or replaces) a client at run time. */
	addClient(spec: OAuthClientSpec): void;
	removeClient(clientId: string): void;
	stop(): Promise<void>;
}

// oidc-provider ships no type declarations; load it untyped through a non-literal specifier.
interface OidcModule {
	default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
	errors: { InvalidTarget: new (description?: string) => Error };
}
interface OidcProvider {
	callback(): http.RequestListener;
	on(event: string, listener: (...args: unknown[]) => void): void;
}
interface OidcToken {
	clientId?: string;
}
interface OidcContext {
	oidc?: { params?: Record<string, unknown> };
}

const OIDC_PROVIDER = 'oidc-provider';

async function loadOidcProvider(): Promise<OidcModule> {
	// oidc-provider prints an "Unsupported runtime" warning at import time on Node < 22.
	const warn = console.warn;
	console.warn = (...args: unknown[]) => {
		if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
		warn(...args);
	};
	try {
		return (await import(OIDC_PROVIDER)) as OidcModule;
	} finally {
		console.warn = warn;
	}
}

/** Minimal in-memory storage for oidc-provider (also the source of the clients). */
function createAdapterClass(clients: Map<string, Record<string, unknown>>) {
	const stores = new Map<string, Map<string, Record<string, unknown>>>();
	const storeFor = (name: string) => {
		let store = stores.get(name);
		if (!store) {
			store = new Map();
			stores.set(name, store);
		}
		return store;
	};
	return class MemoryAdapter {
		private readonly store: Map<string, Record<string, unknown>>;
		constructor(private readonly name: string) {
			this.store = name === 'Client' ? clients : storeFor(name);
		}
		async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
			this.store.set(id, payload);
		}
		async find(id: string): Promise<Record<string, unknown> | undefined> {
			const found = this.store.get(id);
			return found ? structuredClone(found) : undefined;
		}
		async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
			return [...this.store.values()].find((p) => p['userCode'] === userCode);
		}
		async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
			return [...this.store.values()].find((p) => p['uid'] === uid);
		}
		async consume(id: string): Promise<void> {
			const found = this.store.get(id);
			if (found) found['consumed'] = Math.floor(Date.now() / 1000);
		}
		async destroy(id: string): Promise<void> {
			this.store.delete(id);
		}
		async revokeByGrantId(grantId: string): Promise<void> {
			for (const [id, p] of this.store) if (p['grantId'] === grantId) this.store.delete(id);
		}
	};
}

function jwkThumbprint(jwk: { e?: string; n?: string }): string {
	return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}

function listen(server: http.Server, port: number): Promise<number> {
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => {
			server.removeListener('error', reject);
			resolve((server.address() as AddressInfo).port);
		});
	});
}

const AUDIENCE_STAND_IN = 'urn:bcc:audience';

function isAbsoluteUri(value: string): boolean {
	try {
		const url = new URL(value);
		return url.href.length > 0 && !value.includes('#');
	} catch {
		return false;
	}
}

/** Auth0: `azp` is the bare client id, `sub` is `<client id>@clients`. */
function bareClientId(clientId: string): string {
	return clientId.endsWith('@clients') ? clientId.slice(0, -'@clients'.length) : clientId;
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 section 2.3.1 for basic auth). */
function formEncode(value: string): string {
	return new URLSearchParams({ v: value }).toString().slice(2);
}

export async function startOAuthServer(options: StartOAuthServerOptions): Promise<RunningOAuthServer> {
	const { default: Provider, errors } = await loadOidcProvider();

	const resourceScopes = [...new Set(options.scopes)];
	for (const scope of resourceScopes) {
		if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope)) throw new Error(`Invalid scope "${scope}"`);
	}
	const ttl = options.accessTokenTtlSeconds ?? 3600;
	// The resource indicator (RFC 8707) must be an absolute URI; an audience that is not one (Auth0 allows
	// any string) gets a stand-in indicator, and the tokens still carry aud = audience.
	const resourceIndicator = isAbsoluteUri(options.audience) ? options.audience : AUDIENCE_STAND_IN;
	const extraClaims =
		options.extraClaims ?? ((clientId: string) => ({ gty: 'client-credentials', azp: bareClientId(clientId) }));

	// Clients: metadata for oidc-provider (through the adapter) and the scopes each may get.
	const clientMetadata = new Map<string, Record<string, unknown>>();
	const allowedScopes = new Map<string, string[]>();
	const authMethods = new Map<string, 'client_secret_basic' | 'client_secret_post'>();
	const addClient = (spec: OAuthClientSpec): void => {
		const allowed =
			spec.scope === undefined ? resourceScopes : spec.scope.split(' ').filter((s) => s.length > 0);
		const unknown = allowed.filter((s) => !resourceScopes.includes(s));
		if (unknown.length > 0) throw new Error(`Client ${spec.clientId}: scopes not offered by the resource: ${unknown.join(' ')}`);
		const method = spec.tokenEndpointAuthMethod ?? 'client_secret_basic';
		allowedScopes.set(spec.clientId, allowed);
		authMethods.set(spec.clientId, method);
		clientMetadata.set(spec.clientId, {
			client_id: spec.clientId,
			client_secret: spec.clientSecret,
			grant_types: ['client_credentials'],
			response_types: [],
			redirect_uris: [],
			token_endpoint_auth_method: method,
			...(allowed.length > 0 ? { scope: allowed.join(' ') } : {}),
		});
	};
	const removeClient = (clientId: string): void => {
		clientMetadata.delete(clientId);
		allowedScopes.delete(clientId);
		authMethods.delete(clientId);
	};
	for (const spec of options.clients) addClient(spec);

	// Our own signing key (oidc-provider would otherwise use its published development keys).
	const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
	const publicJwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown> & { e?: string; n?: string };
	const kid = jwkThumbprint(publicJwk);
	const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };

	// Listen first: the issuer contains the port.
	let handler: http.RequestListener | undefined;
	const server = http.createServer((req, res) => {
		if (handler) handler(req, res);
		else {
			res.statusCode = 503;
			res.end();
		}
	});
	const port = await listen(server, options.port ?? 0);
	const origin = `http://127.0.0.1:${port}`;
	const issuer = options.trailingSlashIssuer === false ? origin : `${origin}/`;

	const configuration: Record<string, unknown> = {
		adapter: createAdapterClass(clientMetadata),
		jwks: { keys: [privateJwk] },
		cookies: { keys: [randomBytes(32).toString('hex')] },
		scopes: ['openid', ...resourceScopes],
		ttl: { ClientCredentials: ttl },
		clientDefaults: {
			grant_types: ['client_credentials'],
			response_types: [],
			token_endpoint_auth_method: 'client_secret_basic',
			id_token_signed_response_alg: 'RS256',
		},
		routes: { token: '/oauth/token', jwks: '/.well-known/jwks.json' },
		features: {
			devInteractions: { enabled: false },
			clientCredentials: { enabled: true },
			introspection: { enabled: false },
			revocation: { enabled: false },
			resourceIndicators: {
				enabled: true,
				defaultResource: async () => resourceIndicator,
				getResourceServerInfo: async (ctx: OidcContext, indicator: string, client: { clientId: string }) => {
					if (indicator !== resourceIndicator) {
						throw new errors.InvalidTarget(`unknown resource ${indicator}`);
					}
					const allowed = allowedScopes.get(client.clientId) ?? [];
					// Auth0: a client-credentials request without `scope` gets every scope granted to the client.
					const params = ctx.oidc?.params;
					if (params && params['grant_type'] === 'client_credentials' && params['scope'] === undefined) {
						params['scope'] = allowed.join(' ') || undefined;
					}
					return {
						scope: allowed.join(' '),
						audience: options.audience,
						accessTokenTTL: ttl,
						accessTokenFormat: 'jwt',
						jwt: { sign: { alg: 'RS256', kid } },
					};
				},
			},
		},
		extraTokenClaims: async (_ctx: unknown, token: OidcToken) =>
			token.clientId ? extraClaims(token.clientId) : undefined,
		...(options.customizeToken
			? {
					formats: {
						customizers: {
							jwt: async (
								_ctx: unknown,
								token: OidcToken,
								structured: { header?: Record<string, unknown>; payload: Record<string, unknown> },
							) => {
								const t = { header: structured.header ?? {}, payload: structured.payload };
								await options.customizeToken?.(t, token.clientId ?? '');
								structured.header = t.header;
								structured.payload = t.payload;
							},
						},
					},
				}
			: {}),
	};

	let provider: OidcProvider;
	try {
		provider = new Provider(issuer, configuration);
	} catch (error) {
		await new Promise<void>((resolve) => server.close(() => resolve()));
		throw error;
	}
	provider.on('server_error', (_ctx: unknown, error: unknown) => {
		console.error('oauth-server: server_error', error);
	});
	handler = provider.callback();

	const tokenEndpoint = `${origin}/oauth/token`;
	const jwksUri = `${origin}/.well-known/jwks.json`;
	const discoveryUrl = `${origin}/.well-known/openid-configuration`;

	const requestToken = async (
		clientId: string,
		clientSecret: string,
		request: TokenRequestOptions = {},
	): Promise<TokenResponse> => {
		const method = request.authMethod ?? authMethods.get(clientId) ?? 'client_secret_basic';
		const body = new URLSearchParams({ grant_type: 'client_credentials' });
		if (request.scope !== undefined) body.set('scope', request.scope);
		if (request.resource !== undefined) body.set('resource', request.resource);
		if (request.audience !== undefined) body.set('audience', request.audience);
		const headers: Record<string, string> = {
			'content-type': 'application/x-www-form-urlencoded',
			accept: 'application/json',
		};
		if (method === 'client_secret_basic') {
			// RFC 6749 2.3.1: form-encode id and secret before base64 ('@' -> %40).
			headers['authorization'] =
				`Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
		} else {
			body.set('client_id', clientId);
			body.set('client_secret', clientSecret);
		}
		const res = await fetch(tokenEndpoint, { method: 'POST', headers, body });
		const text = await res.text();
		let json: Record<string, unknown>;
		try {
			json = JSON.parse(text) as Record<string, unknown>;
		} catch {
			json = { raw: text };
		}
		return { status: res.status, body: json };
	};

	return {
		issuer,
		port,
		audience: options.audience,
		tokenEndpoint,
		jwksUri,
		discoveryUrl,
		kid,
		publicJwk: { ...publicJwk, kid, alg: 'RS256', use: 'sig' },
		requestToken,
		async getToken(clientId, clientSecret, request) {
			const { status, body } = await requestToken(clientId, clientSecret, request);
			if (status !== 200 || typeof body['access_token'] !== 'string') {
				throw new Error(`Token request for ${clientId} failed: HTTP ${status} ${JSON.stringify(body)}`);
			}
			return body['access_token'];
		},
		addClient,
		removeClient,
		async stop() {
			handler = undefined;
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
		},
	};
}
