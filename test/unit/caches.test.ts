import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Accountability } from '@directus/types';
import type { Knex } from 'knex';
import type { ClientStanding } from '../../extension/accountability.js';
import { BoundedCache } from '../../extension/bounded-cache.js';
import { ClientDirectory, type StandingLoader } from '../../extension/client-directory.js';
import { ConfigError, TokenRefusedError } from '../../extension/core/errors.js';
import type { VerifiedClient } from '../../extension/core/verifier.js';
import { GLOBAL_EVENTS, registerInvalidationHooks, touchesStanding, userChange, USER_EVENTS } from '../../extension/invalidation.js';
import type { Invalidation } from '../../extension/invalidation-bus.js';
import { TokenCache } from '../../extension/token-cache.js';
import { verifierFixture, type VerifierFixture } from '../support/verifier-fixture.js';

describe('BoundedCache', () => {
	it('never holds more than maxEntries and evicts the least recently used entry first', () => {
		const clock = { now: 0 };
		const cache = new BoundedCache<string, number>(3, () => clock.now);
		cache.set('a', 1, 100);
		cache.set('b', 2, 100);
		cache.set('c', 3, 100);
		assert.equal(cache.get('a'), 1); // a is now the most recently used; b the least
		cache.set('d', 4, 100);
		assert.equal(cache.size, 3);
		assert.equal(cache.get('b'), undefined, 'b was the least recently used');
		assert.deepEqual(['a', 'c', 'd'].map((key) => cache.get(key)), [1, 3, 4]);
		for (let index = 0; index < 1000; index++) cache.set(`k${index}`, index, 100);
		assert.equal(cache.size, 3);
		assert.deepEqual(['k997', 'k998', 'k999'].map((key) => cache.get(key)), [997, 998, 999]);
	});

	it('never returns an entry at or after its expiry time', () => {
		const clock = { now: 1000 };
		const cache = new BoundedCache<string, string>(10, () => clock.now);
		cache.set('x', 'value', 2000);
		clock.now = 1999;
		assert.equal(cache.get('x'), 'value');
		clock.now = 2000;
		assert.equal(cache.get('x'), undefined);
		assert.equal(cache.size, 0, 'an expired entry is dropped when read');
	});

	it('does not store a value that has already expired', () => {
		const clock = { now: 5000 };
		const cache = new BoundedCache<string, string>(10, () => clock.now);
		cache.set('past', 'v', 4000);
		cache.set('now', 'v', 5000);
		assert.equal(cache.size, 0);
	});

	it('prune drops expired entries nobody reads, and only those', () => {
		const clock = { now: 0 };
		const cache = new BoundedCache<string, number>(10, () => clock.now);
		cache.set('short', 1, 10);
		cache.set('long', 2, 1000);
		clock.now = 10;
		assert.equal(cache.prune(), 1);
		assert.equal(cache.size, 1);
		assert.equal(cache.get('long'), 2);
	});

	it('deleteWhere drops the matching entries', () => {
		const cache = new BoundedCache<string, { user: string }>(10, () => 0);
		cache.set('1', { user: 'u1' }, 10);
		cache.set('2', { user: 'u2' }, 10);
		cache.set('3', { user: 'u1' }, 10);
		assert.equal(cache.deleteWhere((value) => value.user === 'u1'), 2);
		assert.equal(cache.get('2')?.user, 'u2');
		assert.equal(cache.size, 1);
	});

	it('refuses a size limit that is not a positive integer', () => {
		assert.throws(() => new BoundedCache(0), RangeError);
		assert.throws(() => new BoundedCache(1.5), RangeError);
	});
});

describe('TokenCache', () => {
	let fixture: VerifierFixture;
	let verifications = 0;
	const counting = () => ({
		verify: (token: string) => {
			verifications++;
			return fixture.verifier.verify(token);
		},
	});

	before(async () => {
		fixture = await verifierFixture();
	});
	after(() => fixture.stop());

	it('verifies a token once, then answers from memory until exp and never after', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock });
		const exp = Math.floor(fixture.clock / 1000) + 60;
		const token = fixture.token({ exp });
		verifications = 0;
		const first = await tokens.verify(token, counting());
		const again = await tokens.verify(token, counting());
		assert.equal(verifications, 1, 'the second call verified again');
		assert.deepEqual(again, first);
		assert.equal(fixture.server.counts.jwks, 1);

		fixture.clock = exp * 1000 - 1;
		assert.ok(tokens.get(token), 'still cached one millisecond before exp');
		fixture.clock = exp * 1000;
		assert.equal(tokens.get(token), undefined, 'cached at exp');
		// The verifier itself allows the clock tolerance past exp; the cache never does.
		await tokens.verify(token, counting());
		assert.equal(verifications, 2);
		fixture.clock = Date.now();
	});

	it('with maxAgeMs, a token proves itself again after that time even if exp is later', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock, maxAgeMs: 10_000 });
		const token = fixture.token({ exp: Math.floor(fixture.clock / 1000) + 3600 });
		verifications = 0;
		await tokens.verify(token, counting());
		fixture.clock += 9_999;
		await tokens.verify(token, counting());
		assert.equal(verifications, 1);
		fixture.clock += 1;
		await tokens.verify(token, counting());
		assert.equal(verifications, 2, 'verified again once maxAgeMs passed');
		fixture.clock = Date.now();
	});

	it('remembers only tokens that verified', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock });
		const forged = fixture.token({}, { key: (await import('../support/tokens.js')).rsaKey('key-1') });
		verifications = 0;
		for (let attempt = 0; attempt < 3; attempt++) {
			await assert.rejects(tokens.verify(forged, counting()), (error: unknown) => error instanceof TokenRefusedError && error.reason === 'signature_invalid');
		}
		assert.equal(verifications, 3, 'a refused token is checked every time');
		assert.equal(tokens.size, 0);
		const expired = fixture.token({ exp: Math.floor(fixture.clock / 1000) - 3600 });
		await assert.rejects(tokens.verify(expired, counting()));
		assert.equal(tokens.size, 0);
	});

	it('is keyed by the whole token: a token differing in one signature character is a miss', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock });
		const token = fixture.token();
		await tokens.verify(token, counting());
		const last = token.at(-2) === 'A' ? 'B' : 'A';
		const altered = `${token.slice(0, -2)}${last}${token.at(-1)}`;
		assert.equal(tokens.get(altered), undefined);
		assert.ok(tokens.get(token));
	});

	it('holds at most maxEntries tokens, dropping the least recently used', async () => {
		const tokens = new TokenCache({ maxEntries: 5, now: () => fixture.clock });
		const issued = Array.from({ length: 8 }, (_, index) => fixture.token({ jti: `t${index}` }));
		for (const token of issued) await tokens.verify(token, counting());
		assert.equal(tokens.size, 5);
		assert.equal(tokens.get(issued[0] as string), undefined);
		assert.ok(tokens.get(issued[7] as string));
	});

	it('a verification that was running when the keys changed is not remembered', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock });
		const token = fixture.token({ jti: 'across-a-clear' });
		let release: () => void = () => undefined;
		const held = new Promise<void>((resolve) => {
			release = resolve;
		});
		const slow = { verify: async (value: string) => { const client = await fixture.verifier.verify(value); await held; return client; } };
		const verifying = tokens.verify(token, slow);
		await new Promise((resolve) => setTimeout(resolve, 20));
		tokens.clear(); // new keys were fetched meanwhile
		release();
		assert.ok(await verifying, 'the request itself is answered');
		assert.equal(tokens.get(token), undefined, 'but its answer from the old keys is not kept');
	});

	it('clear forgets every token', async () => {
		const tokens = new TokenCache({ now: () => fixture.clock });
		const token = fixture.token();
		await tokens.verify(token, counting());
		tokens.clear();
		assert.equal(tokens.get(token), undefined);
	});
});

const CLIENT: VerifiedClient = { issuer: 'https://idp.example/', identifier: 'svc@clients', userId: 'user-1', scopes: [], expiresAt: 2e9, kid: 'k1' };
const OTHER: VerifiedClient = { ...CLIENT, identifier: 'other@clients', userId: 'user-2' };
const knex = {} as Knex;
const base = (ip: string | null): Accountability => ({ user: null, role: null, roles: [], admin: false, app: false, ip }) as Accountability;

/** A loader that answers from a table the test edits, counts its reads, and can be held mid-read. */
function fakeDirectory(ttlMs = 5000) {
	const clock = { now: 0 };
	const table = new Map<string, ClientStanding | 'suspended'>([
		['user-1', { user: 'user-1', role: 'role-a', roles: ['role-a'], admin: false, app: false }],
		['user-2', { user: 'user-2', role: 'role-b', roles: ['role-b'], admin: false, app: false }],
	]);
	const reads: Array<{ user: string; ip: string | null }> = [];
	let gate: Promise<void> | null = null;
	const load: StandingLoader = async (client, ip) => {
		reads.push({ user: client.userId, ip });
		const snapshot = table.get(client.userId);
		if (gate) await gate;
		if (snapshot === undefined) throw new TokenRefusedError('client_unknown', 'none');
		if (snapshot === 'suspended') throw new TokenRefusedError('client_inactive', 'suspended');
		return snapshot;
	};
	const directory = new ClientDirectory({ load, ttlMs, now: () => clock.now });
	return {
		directory,
		clock,
		table,
		reads,
		hold() {
			let release: () => void = () => undefined;
			gate = new Promise((resolve) => {
				release = resolve;
			});
			return () => {
				gate = null;
				release();
			};
		},
	};
}

describe('ClientDirectory', () => {
	it('reads a client once per TTL, and again after it', async () => {
		const { directory, clock, reads } = fakeDirectory(5000);
		const first = await directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		assert.deepEqual(
			{ user: first.user, role: first.role, roles: first.roles, ip: first.ip },
			{ user: 'user-1', role: 'role-a', roles: ['role-a'], ip: '10.0.0.1' },
		);
		clock.now = 4999;
		await directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		assert.equal(reads.length, 1);
		clock.now = 5000;
		await directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		assert.equal(reads.length, 2, 'read again once the TTL passed');
	});

	it('counts the TTL from the start of a slow read, not its end', async () => {
		const fake = fakeDirectory(5000);
		const release = fake.hold();
		const reading = fake.directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		fake.clock.now = 3000; // the read took 3 s
		release();
		await reading;
		fake.clock.now = 5000;
		await fake.directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		assert.equal(fake.reads.length, 2, 'the answer read at 0 s is not reused at 5 s');
	});

	it('keeps answers for different IPs apart (ip_access makes admin/app depend on the IP)', async () => {
		const { directory, reads } = fakeDirectory();
		const fromA = await directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex);
		const fromB = await directory.accountabilityFor(CLIENT, base('192.0.2.7'), knex);
		assert.deepEqual(reads, [
			{ user: 'user-1', ip: '10.0.0.1' },
			{ user: 'user-1', ip: '192.0.2.7' },
		]);
		assert.equal(fromA.ip, '10.0.0.1');
		assert.equal(fromB.ip, '192.0.2.7');
	});

	it('returns a fresh object each time: the request fields come from the request, and changing one cannot poison the cache', async () => {
		const { directory } = fakeDirectory();
		const first = await directory.accountabilityFor(CLIENT, { ...base('10.0.0.1'), userAgent: 'a/1' } as Accountability, knex);
		(first.roles as string[]).push('injected');
		const second = await directory.accountabilityFor(CLIENT, { ...base('10.0.0.1'), userAgent: 'b/2' } as Accountability, knex);
		assert.deepEqual(second.roles, ['role-a']);
		assert.equal(second.userAgent, 'b/2');
		assert.notEqual(first, second);
	});

	it('does not remember refusals: a re-provisioned client gets in on its next request', async () => {
		const { directory, table, reads } = fakeDirectory();
		table.set('user-1', 'suspended');
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		assert.equal(reads.length, 2);
		table.set('user-1', { user: 'user-1', role: 'role-a', roles: ['role-a'], admin: false, app: false });
		assert.equal((await directory.accountabilityFor(CLIENT, base(null), knex)).user, 'user-1');
	});

	it('invalidateUsers drops the named users at once and keeps the others', async () => {
		const { directory, table, reads } = fakeDirectory();
		await directory.accountabilityFor(CLIENT, base(null), knex);
		await directory.accountabilityFor(OTHER, base(null), knex);
		table.set('user-1', 'suspended');
		directory.invalidateUsers(['user-1']);
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		await directory.accountabilityFor(OTHER, base(null), knex);
		assert.equal(reads.filter((read) => read.user === 'user-2').length, 1, 'user-2 was still cached');
	});

	it('invalidateAll drops every answer', async () => {
		const { directory, reads } = fakeDirectory();
		await directory.accountabilityFor(CLIENT, base(null), knex);
		await directory.accountabilityFor(OTHER, base(null), knex);
		directory.invalidateAll();
		assert.equal(directory.size, 0);
		await directory.accountabilityFor(CLIENT, base(null), knex);
		assert.equal(reads.length, 3);
	});

	it('a read that started before a change is not stored (no stale answer outlives an invalidation)', async () => {
		const { directory, table, reads, hold } = fakeDirectory();
		const release = hold();
		const started = directory.accountabilityFor(CLIENT, base(null), knex); // reads "active", then waits
		await new Promise((resolve) => setImmediate(resolve));
		table.set('user-1', 'suspended'); // the change commits...
		directory.invalidateUsers(['user-1']); // ...and its action hook runs while the read is still out
		release();
		assert.equal((await started).user, 'user-1', 'the request that started before the change may pass');
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		assert.equal(reads.length, 2);
	});

	it('an answer read just after a change is not kept (the change may have been announced before its commit)', async () => {
		const { directory, clock, table, reads } = fakeDirectory(5000);
		clock.now = 10_000;
		directory.invalidateUsers(['user-1']); // announced from inside a transaction: the table still shows "active"
		clock.now = 10_200;
		assert.equal((await directory.accountabilityFor(CLIENT, base(null), knex)).user, 'user-1');
		table.set('user-1', 'suspended'); // the transaction commits
		clock.now = 10_300;
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		assert.equal(reads.length, 2, 'the answer read before the commit was not reused');
		// Once settled, answers are kept for the whole TTL again.
		table.set('user-1', { user: 'user-1', role: 'role-a', roles: ['role-a'], admin: false, app: false });
		clock.now = 11_000;
		await directory.accountabilityFor(CLIENT, base(null), knex);
		clock.now = 15_999;
		await directory.accountabilityFor(CLIENT, base(null), knex);
		assert.equal(reads.length, 3);
	});

	it('a request just after a change does not share a read that started before it (it may predate the commit)', async () => {
		const { directory, clock, table, reads, hold } = fakeDirectory(5000);
		clock.now = 10_000;
		directory.invalidateUsers(['user-1']); // announced from inside a transaction: the table still shows "active"
		const release = hold();
		const early = directory.accountabilityFor(CLIENT, base(null), knex); // e.g. an open WebSocket connection decided again
		await new Promise((resolve) => setImmediate(resolve));
		table.set('user-1', 'suspended'); // the transaction commits; then a request arrives
		clock.now = 10_100;
		const late = directory.accountabilityFor(CLIENT, base(null), knex);
		release();
		assert.equal((await early).user, 'user-1', 'the read that started before the commit saw the client active');
		await assert.rejects(late, { reason: 'client_inactive' });
		assert.equal(reads.length, 2);
	});

	it('the epoch changes with every invalidation', () => {
		const { directory } = fakeDirectory();
		const before = directory.epoch;
		directory.invalidateUsers(['user-1']);
		const afterUsers = directory.epoch;
		directory.invalidateAll();
		assert.equal(new Set([before, afterUsers, directory.epoch]).size, 3);
	});

	it('concurrent requests of one client share one read', async () => {
		const { directory, reads, hold } = fakeDirectory();
		const release = hold();
		const all = Promise.all(Array.from({ length: 20 }, () => directory.accountabilityFor(CLIENT, base('10.0.0.1'), knex)));
		await new Promise((resolve) => setImmediate(resolve));
		release();
		assert.equal((await all).length, 20);
		assert.equal(reads.length, 1);
	});

	it('with a TTL of 0 every request reads', async () => {
		const { directory, reads } = fakeDirectory(0);
		await directory.accountabilityFor(CLIENT, base(null), knex);
		await directory.accountabilityFor(CLIENT, base(null), knex);
		assert.equal(reads.length, 2);
		assert.equal(directory.size, 0);
	});

	it('holds at most maxEntries answers', async () => {
		const clock = { now: 0 };
		const directory = new ClientDirectory({
			load: async (client) => ({ user: client.userId, role: null, roles: [], admin: false, app: false }),
			ttlMs: 5000,
			maxEntries: 50,
			now: () => clock.now,
		});
		for (let index = 0; index < 500; index++) await directory.accountabilityFor(CLIENT, base(`10.0.${index >> 8}.${index & 255}`), knex);
		assert.equal(directory.size, 50);
	});
});

describe('invalidation hooks', () => {
	it('register every user, role, policy, access and permission action', () => {
		const events: string[] = [];
		registerInvalidationHooks((event) => events.push(event), () => undefined);
		for (const event of ['users.update', 'users.delete', 'roles.update', 'roles.delete', 'policies.update', 'policies.delete', 'access.create', 'access.delete']) {
			assert.ok(events.includes(event), event);
		}
		assert.equal(events.length, USER_EVENTS.length + GLOBAL_EVENTS.length);
	});

	it('a user change names its users; any other change names everything', () => {
		const handlers = new Map<string, (meta: Record<string, unknown>) => void>();
		const changes: Invalidation[] = [];
		registerInvalidationHooks((event, handler) => handlers.set(event, handler), (change) => changes.push(change));
		handlers.get('users.update')?.({ keys: ['u1', 'u2'], payload: { status: 'suspended' } });
		handlers.get('users.delete')?.({ keys: ['u3'], payload: ['u3'] });
		handlers.get('users.create')?.({ key: 'u4', payload: {} });
		handlers.get('policies.update')?.({ keys: ['p1'] });
		assert.deepEqual(changes, [
			{ kind: 'users', userIds: ['u1', 'u2'] },
			{ kind: 'users', userIds: ['u3'] },
			{ kind: 'users', userIds: ['u4'] },
			{ kind: 'all' },
		]);
	});

	it('a user update that touches no field the standing depends on drops nothing', () => {
		const handlers = new Map<string, (meta: Record<string, unknown>) => void>();
		const changes: Invalidation[] = [];
		registerInvalidationHooks((event, handler) => handlers.set(event, handler), (change) => changes.push(change));
		handlers.get('users.update')?.({ keys: ['u1'], payload: { last_page: '/content', theme_light: 'x' } });
		assert.deepEqual(changes, []);
		for (const field of ['status', 'role', 'external_identifier', 'policies', 'id']) {
			handlers.get('users.update')?.({ keys: ['u1'], payload: { last_page: '/x', [field]: null } });
		}
		handlers.get('users.update')?.({ keys: ['u1'] }); // no payload: unclear, so it matters
		assert.equal(changes.length, 6);
		assert.equal(touchesStanding({}), true);
		assert.equal(touchesStanding(['status']), true);
	});

	it('a user change without usable keys drops everything', () => {
		assert.deepEqual(userChange({}), { kind: 'all' });
		assert.deepEqual(userChange({ keys: [] }), { kind: 'all' });
		assert.deepEqual(userChange({ keys: [1, 2] }), { kind: 'all' });
	});

	it('wired to a directory, a revocation takes effect on the next request', async () => {
		const { directory, table } = fakeDirectory(60_000);
		const handlers = new Map<string, (meta: Record<string, unknown>) => void>();
		registerInvalidationHooks(
			(event, handler) => handlers.set(event, handler),
			(change) => (change.kind === 'all' ? directory.invalidateAll() : directory.invalidateUsers(change.userIds)),
		);
		await directory.accountabilityFor(CLIENT, base(null), knex);
		table.set('user-1', 'suspended');
		handlers.get('users.update')?.({ keys: ['user-1'], payload: { status: 'suspended' } });
		await assert.rejects(directory.accountabilityFor(CLIENT, base(null), knex), { reason: 'client_inactive' });
		table.set('user-1', { user: 'user-1', role: null, roles: [], admin: false, app: false });
		await directory.accountabilityFor(CLIENT, base(null), knex);
		table.set('user-1', { user: 'user-1', role: 'admin-role', roles: ['admin-role'], admin: true, app: true });
		handlers.get('access.create')?.({ key: 'a1' });
		assert.equal((await directory.accountabilityFor(CLIENT, base(null), knex)).admin, true);
	});
});

describe('loadClientStanding', () => {
	/** A knex stand-in whose builders are thenables, like knex's: each then() runs the query again, and is counted. */
	function countingKnex(rows: Record<string, unknown>) {
		const executed: string[] = [];
		const builder = () => {
			let table = '';
			const run = (first: boolean) => {
				executed.push(table);
				const value = rows[table];
				return Promise.resolve(first ? value : (value ?? []));
			};
			const chain: Record<string, unknown> = {
				select: () => chain,
				where: () => chain,
				leftJoin: () => chain,
				from: (name: string) => {
					table = name;
					return chain;
				},
				first: () => ({ then: (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => run(true).then(resolve, reject) }),
				then: (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => run(false).then(resolve, reject),
			};
			return chain;
		};
		const knex = { select: (...args: unknown[]) => (builder().select as (...a: unknown[]) => unknown)(...args), where: () => builder() };
		return { knex: knex as unknown as Knex, executed };
	}

	it('runs each query once (a knex builder re-runs its query on every then)', async () => {
		const { loadClientStanding } = await import('../../extension/accountability.js');
		const { knex, executed } = countingKnex({
			directus_users: { id: CLIENT.userId, role: 'role-a', status: 'active', external_identifier: CLIENT.identifier },
			directus_roles: { id: 'role-a', parent: null },
			directus_access: [{ admin_access: false, app_access: true, ip_access: null }],
		});
		const standing = await loadClientStanding(CLIENT, '10.0.0.1', { knex, timeoutMs: 1000 });
		assert.deepEqual(standing, { user: CLIENT.userId, role: 'role-a', roles: ['role-a'], admin: false, app: true });
		assert.deepEqual(executed, ['directus_users', 'directus_roles', 'directus_access', 'directus_access']);
	});
});

describe('BCC_AUTH_CACHE_TTL', () => {
	const minimal = { BCC_AUTH_ISSUER: 'https://tenant.eu.auth0.com/', BCC_AUTH_AUDIENCE: 'https://api.example.com' };

	it('defaults to 5 seconds, and accepts 0 (no reuse) to 300, also as a number Directus cast', async () => {
		const { parseConfig, DEFAULTS } = await import('../../extension/core/config.js');
		assert.equal(DEFAULTS.cacheTtlSeconds, 5);
		assert.equal(parseConfig(minimal).cacheTtlMs, 5000);
		assert.equal(parseConfig({ ...minimal, BCC_AUTH_CACHE_TTL: '0' }).cacheTtlMs, 0);
		assert.equal(parseConfig({ ...minimal, BCC_AUTH_CACHE_TTL: 300 }).cacheTtlMs, 300_000);
		assert.equal(parseConfig({ ...minimal, BCC_AUTH_CACHE_TTL: '2.5' }).cacheTtlMs, 2500);
	});

	it('refuses other values, naming the variable', async () => {
		const { parseConfig } = await import('../../extension/core/config.js');
		for (const value of ['-1', '301', 'five', 'Infinity']) {
			assert.throws(
				() => parseConfig({ ...minimal, BCC_AUTH_CACHE_TTL: value }),
				(error: unknown) => error instanceof ConfigError && error.variable === 'BCC_AUTH_CACHE_TTL',
				value,
			);
		}
	});
});
