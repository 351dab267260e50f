/**
 * `bcc-cc migrate-provider` against an in-memory Directus, through the real
 * commander program (`main`): flags, output streams and exit codes as shipped.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { DirectusApi, UserChanges } from '../../cli/directus.js';
import { CliError } from '../../cli/errors.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';
import { FAKE_DIRECTUS_FLAGS, runInProcess, type CliResult } from '../support/cli-in-process.js';
import { FakeDirectus } from '../support/fake-directus.js';

let directus: FakeDirectus;
let connected: number;

const run = (...args: string[]): Promise<CliResult> =>
	runInProcess([...FAKE_DIRECTUS_FLAGS, 'migrate-provider', ...args], async () => {
		connected++;
		return directus;
	});

function json(result: CliResult): any {
	assert.equal(result.code, 0, result.stderr);
	return JSON.parse(result.stdout);
}

/** A user exactly as the seed guide's hook created it. */
function addSeedUser(clientId: string, role: string | null, extra: { status?: string; provider?: string } = {}): string {
	const identifier = `${clientId}@clients`;
	const id = userIdForIdentifier(identifier);
	directus.addUser({ id, external_identifier: identifier, provider: 'bcc-client-credentials', first_name: 'External', last_name: 'Client', role, ...extra });
	return id;
}

let roleId: string;

beforeEach(() => {
	directus = new FakeDirectus();
	connected = 0;
	roleId = directus.addRole('Seed API access').id;
});

describe('migrate-provider', () => {
	it('dry run by default: lists the seed-guide client users and changes nothing', async () => {
		const a = addSeedUser('svcA', roleId);
		const b = addSeedUser('svcB', null);
		// Not to be touched: a client already on "default", an SSO user, and a non-client user with the seed provider.
		directus.addUser({ id: userIdForIdentifier('svcC@clients'), external_identifier: 'svcC@clients' });
		directus.addUser({ id: '11111111-1111-4111-8111-111111111111', external_identifier: 'person@example.org', provider: 'openid' });

		const result = await run();
		assert.equal(result.code, 0, result.stderr);
		assert.deepEqual(directus.writes, []);
		const lines = result.stdout.split('\n');
		assert.equal(lines[0], 'Dry run: 2 client users have provider "bcc-client-credentials"; with --apply each gets provider "default" (nothing else changes):');
		assert.match(lines[2] ?? '', /^CLIENT ID\s+USER ID\s+ROLE\s+STATUS\s+PROVIDER$/);
		assert.match(lines[3] ?? '', new RegExp(`^svcA\\s+${a}\\s+Seed API access\\s+active\\s+bcc-client-credentials -> default$`));
		assert.match(lines[4] ?? '', new RegExp(`^svcB\\s+${b}\\s+-\\s+active\\s+bcc-client-credentials -> default$`));
		assert.ok(result.stdout.includes('Nothing was changed. Run again with --apply to change them.'));
		assert.equal(result.stderr, '');
	});

	it('--apply changes only the provider of each client user, then a second run finds nothing to do', async () => {
		const a = addSeedUser('svcA', roleId);
		const b = addSeedUser('svcB', roleId, { status: 'suspended' });
		const before = structuredClone([...directus.users.values()]);

		const applied = json(await run('--apply', '--json'));
		assert.deepEqual(directus.writes, [`updateUser ${a} {"provider":"default"}`, `updateUser ${b} {"provider":"default"}`]);
		assert.deepEqual(applied, {
			applied: true,
			from: 'bcc-client-credentials',
			to: 'default',
			users: [
				{ clientId: 'svcA', identifier: 'svcA@clients', userId: a, status: 'active', role: { id: roleId, name: 'Seed API access' }, action: 'moved' },
				{ clientId: 'svcB', identifier: 'svcB@clients', userId: b, status: 'suspended', role: { id: roleId, name: 'Seed API access' }, action: 'moved' },
			],
			moved: 2,
			pending: 0,
			skipped: [],
			cacheCleared: false,
		});
		// Everything but the provider is as before: a suspended client stays suspended.
		assert.deepEqual(
			[...directus.users.values()],
			before.map((user) => ({ ...user, provider: 'default' })),
		);

		const writes = directus.writes.length;
		const again = await run('--apply');
		assert.equal(again.code, 0);
		assert.equal(again.stdout, 'Nothing to do: no client user has provider "bcc-client-credentials".\n');
		assert.equal(directus.writes.length, writes, 'the second run writes nothing');
		assert.equal(json(await run('--json')).pending, 0);
	});

	it('--json dry run: exactly one JSON document on stdout, with what is pending', async () => {
		const a = addSeedUser('svcA', roleId);
		const result = await run('--json');
		const parsed = json(result);
		assert.equal(parsed.applied, false);
		assert.equal(parsed.moved, 0);
		assert.equal(parsed.pending, 1);
		assert.deepEqual(parsed.users.map((user: { userId: string; action: string }) => [user.userId, user.action]), [[a, 'pending']]);
		assert.deepEqual(directus.writes, []);
	});

	it('warns about, and never touches, users with the provider that are not client users', async () => {
		addSeedUser('svcA', roleId);
		directus.addUser({ id: '22222222-2222-4222-8222-222222222222', external_identifier: 'svcZ@clients', provider: 'bcc-client-credentials' });
		const result = json(await run('--apply', '--json'));
		assert.equal(result.moved, 1);
		assert.deepEqual(result.skipped, [{ userId: '22222222-2222-4222-8222-222222222222', external_identifier: 'svcZ@clients' }]);
		assert.equal(directus.users.get('22222222-2222-4222-8222-222222222222')?.provider, 'bcc-client-credentials');
		assert.equal(directus.writes.length, 1);
	});

	it('--from moves users of another custom provider', async () => {
		const a = addSeedUser('svcA', roleId, { provider: 'm2m' });
		addSeedUser('svcB', roleId);
		const result = json(await run('--from', 'm2m', '--apply', '--json'));
		assert.equal(result.from, 'm2m');
		assert.deepEqual(directus.writes, [`updateUser ${a} {"provider":"default"}`]);
	});

	it('a bad --from exits 2 before connecting', async () => {
		for (const from of ['default', ' ', 'x'.repeat(129)]) {
			const result = await run('--from', from);
			assert.equal(result.code, 2, from);
			assert.match(result.stderr, /^Error: /);
		}
		assert.equal(connected, 0);
	});

	it('a refused change stops the run with its exit code, saying how far it got', async () => {
		const a = addSeedUser('svcA', roleId);
		const b = addSeedUser('svcB', roleId);
		const update = directus.updateUser.bind(directus);
		directus.updateUser = async (id: string, changes: UserChanges) => {
			if (id === b) throw new CliError('DIRECTUS_ERROR', `Directus refused to update the user ${id} (400 INVALID_PAYLOAD: nope)`);
			return update(id, changes);
		};
		const result = await run('--apply');
		assert.equal(result.code, 1);
		const [message, ...hints] = result.stderr.trimEnd().split('\n');
		assert.equal(message, `Error: Directus refused to update the user ${b} (400 INVALID_PAYLOAD: nope) (client svcB). 1 of 2 users were moved to provider "default" first.`);
		assert.deepEqual(hints, ['Fix the cause and run "bcc-cc migrate-provider --apply" again: it continues with the users still on "bcc-client-credentials".']);
		assert.equal(directus.users.get(a)?.provider, 'default');
		assert.equal(directus.users.get(b)?.provider, 'bcc-client-credentials');

		directus.updateUser = async () => {
			throw new CliError('DIRECTUS_FORBIDDEN', 'The token may not update the user');
		};
		assert.equal((await run('--apply')).code, 4, 'a permission problem keeps exit code 4');
	});

	it('on Directus 12, clears the system cache after moving users so that a licence lock ends; not on 11, not in a dry run', async () => {
		addSeedUser('svcA', roleId);
		let cleared = 0;
		// The fake has no clearSystemCache; the real client has (the method is optional in DirectusApi).
		const api: DirectusApi = directus;
		api.clearSystemCache = async () => {
			cleared++;
		};
		assert.equal(json(await run('--json')).cacheCleared, false);
		assert.equal(cleared, 0, 'a dry run clears nothing');
		const applied = await run('--apply');
		assert.equal(applied.code, 0, applied.stderr);
		assert.equal(cleared, 1);
		assert.match(applied.stdout, /Cleared Directus's system cache/);
		assert.equal(json(await run('--apply', '--json')).cacheCleared, false, 'nothing moved, nothing to recount');
		assert.equal(cleared, 1);

		addSeedUser('svcB', roleId);
		directus.version = { version: '11.17.4', major: 11 };
		assert.equal(json(await run('--apply', '--json')).cacheCleared, false);
		assert.equal(cleared, 1, 'Directus 11 has no licence to recount');

		addSeedUser('svcC', roleId);
		directus.version = { version: '12.4.0', major: 12 };
		api.clearSystemCache = async () => {
			throw new CliError('DIRECTUS_FORBIDDEN', 'The token may not clear the system cache');
		};
		const failed = await run('--apply', '--json');
		assert.equal(failed.code, 0, 'the users were moved: the run succeeded');
		assert.equal(JSON.parse(failed.stdout).moved, 1);
		assert.match(failed.stderr, /^Warning: the users were moved, but Directus's system cache could not be cleared \(The token may not clear the system cache\)\./);
	});

	it('points at provision for users Directus 12 set to inactive-license', async () => {
		addSeedUser('svcA', roleId, { status: 'inactive-license' });
		const result = await run('--apply');
		assert.equal(result.code, 0);
		assert.match(result.stderr, /^Warning: 1 of these users has status "inactive-license" .* "bcc-cc provision <clientId> --role <role>": svcA\.\n$/);
	});

	it('provision of a seed-guide user warns about its provider and keeps it', async () => {
		const id = addSeedUser('svcA', null);
		const { code, stderr } = await runInProcess([...FAKE_DIRECTUS_FLAGS, 'provision', 'svcA', '--role', 'Seed API access', '--json'], async () => directus);
		assert.equal(code, 0, stderr);
		assert.match(stderr, /^Warning: the user of client svcA has provider "bcc-client-credentials" .* Run "bcc-cc migrate-provider" to move such users to "default"\.\n$/);
		assert.equal(directus.users.get(id)?.provider, 'bcc-client-credentials');
	});
});
