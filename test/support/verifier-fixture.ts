import { parseConfig } from '../../extension/core/config.js';
import type { KeySetEvent } from '../../extension/core/keys.js';
import { createVerifier, type Verifier } from '../../extension/core/verifier.js';
import type { TokenMaker } from './hostile-cases.js';
import { startKeyServer, type KeyServer } from './key-server.js';
import { auth0Claims, rsaKey, signToken, type TestKey } from './tokens.js';

export const AUDIENCE = 'https://api.example.test';

/** A verifier wired to a real key server on loopback, with a clock the test moves. */
export interface VerifierFixture extends TokenMaker {
	readonly server: KeyServer;
	readonly key: TestKey;
	readonly verifier: Verifier;
	readonly events: KeySetEvent[];
	clock: number;
	/** A valid Auth0-shaped token for `clientId`, with claim overrides (undefined removes a claim). */
	token(overrides?: Record<string, unknown>, options?: { header?: Record<string, unknown>; key?: TestKey; clientId?: string }): string;
	stop(): Promise<void>;
}

export async function verifierFixture(env: Record<string, unknown> = {}): Promise<VerifierFixture> {
	const server = await startKeyServer();
	const key = rsaKey('key-1');
	server.keys = [key.jwk];
	const events: KeySetEvent[] = [];
	const fixture: VerifierFixture = {
		server,
		key,
		issuer: server.issuer,
		audience: AUDIENCE,
		now: () => Math.floor(fixture.clock / 1000),
		events,
		clock: Date.now(),
		verifier: undefined as unknown as Verifier,
		token(overrides = {}, options = {}) {
			const payload = { ...auth0Claims({ issuer: server.issuer, audience: AUDIENCE, clientId: options.clientId ?? 'svc-orders', scope: 'read:items', now: fixture.clock }), ...overrides };
			for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name as keyof typeof payload];
			return signToken({ key: options.key ?? key, payload, ...(options.header ? { header: options.header } : {}) });
		},
		stop: () => server.stop(),
	};
	const config = parseConfig({
		BCC_AUTH_ISSUER: server.issuer,
		BCC_AUTH_AUDIENCE: AUDIENCE,
		BCC_AUTH_JWKS_TIMEOUT: '0.5',
		BCC_AUTH_JWKS_COOLDOWN: '30',
		...env,
	});
	(fixture as { verifier: Verifier }).verifier = createVerifier(config, { now: () => fixture.clock, onKeyEvent: (event) => events.push(event) });
	return fixture;
}
