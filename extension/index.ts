import { createHash } from 'node:crypto';
import { defineHook } from '@directus/extensions-sdk';
import {
	ForbiddenError,
	InvalidCredentialsError,
	ServiceUnavailableError,
	TokenExpiredError,
} from '@directus/errors';
import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import { accountabilityForClient } from './accountability.js';
import { parseConfig, type VerifierConfig } from './core/config.js';
import { ConfigError, REFUSAL_REASONS, TokenRefusedError } from './core/errors.js';
import type { KeySetEvent } from './core/keys.js';
import { createVerifier, type VerifiedClient } from './core/verifier.js';

const LOG_PREFIX = 'client-credentials:';

/**
 * Adapter between Directus and the verifier core: builds the verifier once,
 * then answers `authenticate` (REST, GraphQL) and `websocket.authenticate`.
 * Tokens it does not own are returned untouched, so Directus's own login,
 * static tokens and public access work exactly as before.
 */
export default defineHook(({ filter }, { env, logger }) => {
	let config: VerifierConfig;
	try {
		config = parseConfig(env);
	} catch (error) {
		if (error instanceof ConfigError) {
			logger.error(`${LOG_PREFIX} invalid configuration, client-credentials tokens will be refused: ${error.message}`);
		}
		throw error;
	}
	const verifier = createVerifier(config, { onKeyEvent: logKeyEvent });

	async function authenticate(token: unknown, defaults: Accountability, database: Knex): Promise<Accountability> {
		if (!verifier.owns(token)) return defaults;
		let client: VerifiedClient | null = null;
		try {
			client = await verifier.verify(token);
			const accountability = await accountabilityForClient(client, defaults, { knex: database, timeoutMs: config.directoryTimeoutMs });
			logger.debug({ client: client.identifier, user: client.userId }, `${LOG_PREFIX} token accepted`);
			return accountability;
		} catch (error) {
			throw refuse(error, token, client);
		}
	}

	/** Logs the refusal once, and turns it into the Directus error the client sees (no detail in it). */
	function refuse(error: unknown, token: string, client: VerifiedClient | null): Error {
		const fields = { token: fingerprint(token), ...(client ? { client: client.identifier } : {}) };
		if (!(error instanceof TokenRefusedError)) {
			logger.error({ ...fields, err: error }, `${LOG_PREFIX} unexpected error while checking a token`);
			return new ServiceUnavailableError({ service: 'client-credentials', reason: 'The token could not be checked' });
		}
		const { level } = REFUSAL_REASONS[error.reason];
		const kid = error.kid === undefined ? {} : { kid: error.kid };
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
		return authenticate(req.token, defaults as Accountability, context.database as Knex);
	});

	filter('websocket.authenticate', async (defaults, meta, context) => {
		const { message } = meta as { message: { access_token?: unknown } };
		return authenticate(message.access_token, defaults as Accountability, context.database as Knex);
	});
});

/** Enough to correlate log lines about one token; useless for replaying it. */
function fingerprint(token: string): string {
	return createHash('sha256').update(token).digest('base64url').slice(0, 12);
}
