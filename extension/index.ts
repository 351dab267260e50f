import { createHash, randomUUID } from 'node:crypto';
import { defineHook } from '@directus/extensions-sdk';
import {
	ForbiddenError,
	InvalidCredentialsError,
	ServiceUnavailableError,
	TokenExpiredError,
} from '@directus/errors';
import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import { loadClientStanding } from './accountability.js';
import { ClientDirectory } from './client-directory.js';
import { ENV, issuersSharingIdentifiers, parseConfig, type VerifierConfig } from './core/config.js';
import { ConfigError, REFUSAL_REASONS, TokenRefusedError } from './core/errors.js';
import type { KeySetEvent } from './core/keys.js';
import { createVerifier, type VerifiedClient } from './core/verifier.js';
import { InvalidationBus, type Invalidation } from './invalidation-bus.js';
import { registerInvalidationHooks } from './invalidation.js';
import { redisSettingsFromEnv, type RedisSettings } from './redis-connection.js';
import { TokenCache } from './token-cache.js';
import { WebSocketSessions } from './websocket-sessions.js';

const LOG_PREFIX = 'client-credentials:';
/** How often expired cache entries that nobody reads any more are dropped. */
const PRUNE_INTERVAL_MS = 60_000;
/** How often WebSocket connections are checked for an expired token (Directus ends only REST ones at exp). */
const SESSION_EXPIRY_INTERVAL_MS = 1000;
/**
 * Least time between two re-decisions of every open WebSocket connection, which
 * otherwise only follow announced changes: changes made outside Directus, or on
 * an instance whose message did not arrive, reach them within BCC_AUTH_CACHE_TTL too.
 */
const MIN_SESSION_RECHECK_INTERVAL_MS = 1000;
/** Past the settle time, so that the answers read before the change settled have expired. */
const SETTLE_MARGIN_MS = 50;
/** Suffix of the Redis channel, after Directus's bus namespace (REDIS_BUS_NAMESPACE, default "directus:bus"). */
const CHANNEL_SUFFIX = 'bcc-client-credentials:invalidate';

/**
 * Adapter between Directus and the verifier core: builds the verifier once,
 * then answers `authenticate` (REST, GraphQL) and `websocket.authenticate`.
 * Tokens it does not own are returned untouched, so Directus's own login,
 * static tokens and public access work exactly as before.
 *
 * Two caches keep the per-request cost near zero (docs/scaling.md): verified
 * tokens until their `exp` (token-cache.ts), and each client's standing for
 * BCC_AUTH_CACHE_TTL seconds (client-directory.ts), dropped at once by changes
 * made through this instance (action hooks) and, with Redis, through any other.
 */
export default defineHook(({ filter, action }, { env, logger, database }) => {
	let config: VerifierConfig;
	let redis: RedisSettings;
	try {
		config = parseConfig(env);
		redis = redisSettingsFromEnv(env);
	} catch (error) {
		if (error instanceof ConfigError) {
			logger.error(`${LOG_PREFIX} invalid configuration, client-credentials tokens will be refused: ${error.message}`);
		}
		throw error;
	}
	for (const sharing of issuersSharingIdentifiers(config)) {
		logger.warn(
			`${LOG_PREFIX} issuers ${sharing.map((issuer) => issuer.issuer).join(', ')} share one client identifier space: ` +
				`a client id issued by one names the same Directus user as that id at another. Give each its own namespace (${ENV.namespace}, or "namespace" in ${ENV.issuers}), all but one at least.`,
		);
	}
	const tokens = new TokenCache({ maxAgeMs: config.keys.maxAgeMs });
	const directory = new ClientDirectory({
		ttlMs: config.cacheTtlMs,
		load: (client, ip, knex) => loadClientStanding(client, ip, { knex, timeoutMs: config.directoryTimeoutMs }),
	});
	const issuersWithKeys = new Set<string>();
	const verifier = createVerifier(config, {
		onKeyEvent(event) {
			// New keys (rotation, or a key withdrawn): every cached token proves itself again against them.
			// An issuer's first fetch changes nothing cached (and must not discard the verification that caused it).
			if (event.type === 'keys_fetched') {
				if (issuersWithKeys.has(event.issuer)) tokens.clear();
				else issuersWithKeys.add(event.issuer);
			}
			logKeyEvent(event);
		},
	});
	const sessions = new WebSocketSessions();
	const bus = startBus();
	registerInvalidationHooks(action, (change) => {
		applyChange(change);
		void bus?.publish(change);
	});
	const pruner = setInterval(() => {
		tokens.prune();
		directory.prune();
	}, PRUNE_INTERVAL_MS);
	pruner.unref();
	const sessionExpiry = setInterval(() => sessions.expire(), SESSION_EXPIRY_INTERVAL_MS);
	sessionExpiry.unref();
	const sessionRecheck = setInterval(() => recheckSessions('all'), Math.max(config.cacheTtlMs, MIN_SESSION_RECHECK_INTERVAL_MS));
	sessionRecheck.unref();
	action('extensions.unload', () => {
		clearInterval(pruner);
		clearInterval(sessionExpiry);
		clearInterval(sessionRecheck);
		void bus?.close();
	});

	/** The accountability of an owned token's client and the client itself, or null for a token that is not ours. */
	async function authenticate(
		token: unknown,
		defaults: Accountability,
		knex: Knex,
	): Promise<{ accountability: Accountability; client: VerifiedClient } | null> {
		if (!verifier.owns(token)) return null;
		let client: VerifiedClient | null = null;
		try {
			// A token seen before: no key lookup, no signature check (the get avoids an await on the hot path).
			client = tokens.get(token) ?? (await tokens.verify(token, verifier));
			const accountability = await directory.accountabilityFor(client, defaults, knex);
			logger.debug({ client: client.identifier, user: client.userId }, `${LOG_PREFIX} token accepted`);
			return { accountability, client };
		} catch (error) {
			throw refuse(error, token, client);
		}
	}

	function applyChange(change: Invalidation): void {
		if (change.kind === 'all') directory.invalidateAll();
		else directory.invalidateUsers(change.userIds);
		const affected = change.kind === 'all' ? 'all' : new Set(change.userIds);
		recheckSessions(affected);
		// Once more when the change has settled: it may have been announced before its transaction committed.
		setTimeout(() => recheckSessions(affected), directory.settleMs + SETTLE_MARGIN_MS).unref();
	}

	/** Open WebSocket connections of changed clients are decided again (see websocket-sessions.ts). */
	function recheckSessions(userIds: ReadonlySet<string> | 'all'): void {
		if (sessions.size === 0) return;
		sessions
			.recheck(userIds, (client, base) => directory.accountabilityFor(client, base, database))
			.catch((error: unknown) => logger.error({ err: error }, `${LOG_PREFIX} could not check open WebSocket connections again`));
	}

	function startBus(): InvalidationBus | null {
		const ttl = `${config.cacheTtlMs / 1000} s`;
		if (redis.kind === 'none') {
			logger.info(`${LOG_PREFIX} ${redis.why}: changes made on other instances take effect here within ${ttl} (${ENV.cacheTtl})`);
			return null;
		}
		if (redis.kind === 'unsupported') {
			logger.warn(`${LOG_PREFIX} ${redis.why}; changes made on other instances take effect here within ${ttl} (${ENV.cacheTtl})`);
			return null;
		}
		const log = (level: 'info' | 'warn' | 'debug') => (message: string) => logger[level](`${LOG_PREFIX} ${message}`);
		return new InvalidationBus({
			target: redis.target,
			channel: `${redis.namespace}:${CHANNEL_SUFFIX}`,
			instanceId: randomUUID(),
			onInvalidation(change) {
				applyChange(change);
				logger.debug(`${LOG_PREFIX} cached answers dropped: ${change.kind === 'all' ? 'all' : `${change.userIds.length} user(s)`} (change on another instance)`);
			},
			onResync: () => applyChange({ kind: 'all' }),
			log: { info: log('info'), warn: log('warn'), debug: log('debug') },
			fallback: `within ${ttl} (${ENV.cacheTtl})`,
		});
	}

	/** Logs the refusal once, and turns it into the Directus error the client sees (no detail in it). */
	function refuse(error: unknown, token: string, client: VerifiedClient | null): Error {
		const fields = { token: fingerprint(token), ...(client ? { client: client.identifier } : {}) };
		if (!(error instanceof TokenRefusedError)) {
			logger.error({ ...fields, err: error }, `${LOG_PREFIX} unexpected error while checking a token`);
			return new ServiceUnavailableError({ service: 'client-credentials', reason: 'The token could not be checked' });
		}
		const { level } = REFUSAL_REASONS[error.reason];
		const kidValue = error.kid ?? client?.kid;
		const kid = kidValue === undefined ? {} : { kid: kidValue };
		logger[level]({ ...fields, ...kid, reason: error.reason, detail: error.detail }, `${LOG_PREFIX} token refused (${error.reason})`);
		switch (error.code) {
			case 'TOKEN_EXPIRED':
				return new TokenExpiredError();
			case 'FORBIDDEN':
				return new ForbiddenError();
			case 'SERVICE_UNAVAILABLE':
				return new ServiceUnavailableError({
					service: 'client-credentials',
					reason: error.reason === 'keys_unavailable' ? 'Signing keys could not be fetched' : 'The user directory could not be read',
				});
			default:
				return new InvalidCredentialsError();
		}
	}

	function logKeyEvent(event: KeySetEvent): void {
		switch (event.type) {
			case 'keys_fetched':
				logger.info(`${LOG_PREFIX} fetched ${event.count} signing key(s) for ${event.issuer} from ${event.jwksUri}`);
				break;
			case 'keys_fetch_failed':
				logger.warn(`${LOG_PREFIX} could not fetch ${event.url}: ${event.error.message}`);
				break;
			case 'keys_stale':
				logger.warn(`${LOG_PREFIX} key server unreachable; using keys fetched ${event.ageSeconds}s ago for ${event.issuer}`);
				break;
		}
	}

	filter('authenticate', async (defaults, meta, context) => {
		const { req } = meta as { req: { token?: unknown } };
		const owned = await authenticate(req.token, defaults as Accountability, context.database as Knex);
		return owned === null ? defaults : owned.accountability;
	});

	filter('websocket.authenticate', async (defaults, meta, context) => {
		const { message } = meta as { message: { access_token?: unknown } };
		const epoch = directory.epoch;
		const owned = await authenticate(message.access_token, defaults as Accountability, context.database as Knex);
		if (owned === null) return defaults;
		// Directus keeps this very object on the connection: the sessions can change it in place later.
		sessions.track(owned.accountability, owned.client, defaults as Accountability);
		// A change announced while this connection was being decided did not see it: decide it again.
		if (directory.epoch !== epoch) recheckSessions(new Set([owned.client.userId]));
		return owned.accountability;
	});
});

/** Enough to correlate log lines about one token; useless for replaying it. */
function fingerprint(token: string): string {
	return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}
