import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Accountability } from '@directus/types';
import { TokenRefusedError } from '../../extension/core/errors.js';
import type { VerifiedClient } from '../../extension/core/verifier.js';
import { WebSocketSessions } from '../../extension/websocket-sessions.js';

const client = (userId: string, expiresAt = 2000): VerifiedClient => ({ issuer: 'https://idp/', identifier: `${userId}@clients`, userId, scopes: [], expiresAt, kid: 'k1' });
const base = { user: null, role: null, roles: [], admin: false, app: false, ip: '10.0.0.1' } as unknown as Accountability;
const granted = (user: string, role = 'reader'): Accountability => ({ ...base, user, role, roles: [role], admin: false, app: false }) as Accountability;
const NO_ACCESS = { user: null, role: null, roles: [], admin: false, app: false };
const rights = (accountability: Accountability) => ({ user: accountability.user, role: accountability.role, roles: accountability.roles, admin: accountability.admin, app: accountability.app });

describe('WebSocketSessions', () => {
	it('takes every right, in place, from the connections of a client that may no longer act', async () => {
		const sessions = new WebSocketSessions();
		const revoked = granted('u1');
		const other = granted('u2');
		sessions.track(revoked, client('u1'), base);
		sessions.track(other, client('u2'), base);
		await sessions.recheck(new Set(['u1']), async () => {
			throw new TokenRefusedError('client_inactive', 'suspended');
		});
		assert.deepEqual(rights(revoked), NO_ACCESS);
		assert.equal(revoked.ip, '10.0.0.1', 'the request fields stay');
		assert.deepEqual(rights(other), rights(granted('u2')), 'another client is untouched');
		assert.equal(sessions.size, 1);
	});

	it('gives a connection its new role after a change, keeping the same object', async () => {
		const sessions = new WebSocketSessions();
		const accountability = granted('u1', 'reader');
		sessions.track(accountability, client('u1'), base);
		await sessions.recheck('all', async () => granted('u1', 'writer'));
		assert.deepEqual(rights(accountability), rights(granted('u1', 'writer')));
		assert.equal(sessions.size, 1);
	});

	it('takes every right from a connection whose token expired, not before', () => {
		let now = 1_999_000;
		const sessions = new WebSocketSessions({ now: () => now });
		const accountability = granted('u1');
		sessions.track(accountability, client('u1', 2000), base);
		sessions.expire();
		assert.deepEqual(rights(accountability), rights(granted('u1')));
		now = 2_000_000;
		sessions.expire();
		assert.deepEqual(rights(accountability), NO_ACCESS);
		assert.equal(sessions.size, 0);
	});

	it('a decision that finishes after a newer one does not overwrite it (an old answer cannot give rights back)', async () => {
		const sessions = new WebSocketSessions();
		const accountability = granted('u1', 'admin-role');
		sessions.track(accountability, client('u1'), base);
		let answerOld!: (value: Accountability) => void;
		const older = sessions.recheck('all', () => new Promise<Accountability>((resolve) => (answerOld = resolve)));
		const newer = sessions.recheck(new Set(['u1']), async () => granted('u1', 'reader'));
		await newer;
		answerOld(granted('u1', 'admin-role'));
		await older;
		assert.deepEqual(rights(accountability), rights(granted('u1', 'reader')));
	});

	it('a connection that lost its rights never gets them back from a decision still running', async () => {
		let now = 1_000_000;
		const sessions = new WebSocketSessions({ now: () => now });
		const accountability = granted('u1');
		sessions.track(accountability, client('u1', 2000), base);
		let answer!: (value: Accountability) => void;
		const running = sessions.recheck('all', () => new Promise<Accountability>((resolve) => (answer = resolve)));
		now = 2_000_000;
		sessions.expire();
		answer(granted('u1'));
		await running;
		assert.deepEqual(rights(accountability), NO_ACCESS);
		// Nor from a later change: it is no longer tracked.
		await sessions.recheck('all', async () => granted('u1'));
		assert.deepEqual(rights(accountability), NO_ACCESS);
	});

	it('a refusal decided first is not undone by an older decision that answers later', async () => {
		const sessions = new WebSocketSessions();
		const accountability = granted('u1');
		sessions.track(accountability, client('u1'), base);
		let answerOld!: (value: Accountability) => void;
		const older = sessions.recheck('all', () => new Promise<Accountability>((resolve) => (answerOld = resolve)));
		await sessions.recheck('all', async () => {
			throw new TokenRefusedError('client_inactive', 'suspended');
		});
		answerOld(granted('u1'));
		await older;
		assert.deepEqual(rights(accountability), NO_ACCESS);
		assert.equal(sessions.size, 0);
	});
});
