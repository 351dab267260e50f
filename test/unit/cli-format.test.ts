/**
 * The pure parts of the CLI: client id parsing, role choice and access,
 * output formatting, and how the top-level handler reports errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { parseClientId } from '../../cli/clients.js';
import { userIdForIdentifier as uuidv5Nil } from '../../extension/core/identity.js';
import type { Role } from '../../cli/directus.js';
import { CliError, ExitCode } from '../../cli/errors.js';
import { handleError } from '../../cli/index.js';
import { createOutput, formatTable } from '../../cli/output.js';
import { pickRole, roleAccess, roleNotFound } from '../../cli/roles.js';
import { userIdForIdentifier } from '../../extension/core/identity.js';

function sink() {
	let text = '';
	return { write: (chunk: string) => (text += chunk), get text() { return text; } };
}

describe('parseClientId', () => {
	it('stores the client id as is for providers other than Auth0', () => {
		for (const profile of ['keycloak', 'entra', 'okta', 'cognito', 'rfc9068'] as const) {
			const client = parseClientId('orders-service', { profile });
			assert.equal(client.identifier, 'orders-service');
			assert.equal(client.userId, uuidv5Nil('orders-service'));
		}
		assert.equal(parseClientId('orders-service', { profile: 'auth0' }).identifier, 'orders-service@clients');
	});

	it('prefixes the identifier with the issuer\'s namespace, when it has one', () => {
		const client = parseClientId('orders-service', { profile: 'keycloak', namespace: 'realm-b' });
		assert.equal(client.identifier, 'realm-b:orders-service');
		assert.equal(client.clientId, 'orders-service');
		assert.equal(client.userId, uuidv5Nil('realm-b:orders-service'));
	});

	it('derives identifier and user id; the @clients form is the same client', () => {
		const short = parseClientId('abc123');
		assert.deepEqual(short, { clientId: 'abc123', identifier: 'abc123@clients', userId: userIdForIdentifier('abc123@clients') });
		assert.deepEqual(parseClientId('abc123@clients'), short);
	});

	it('keeps the seed guide\'s user id: uuidv5(sub, NIL)', () => {
		// Python: uuid.uuid5(uuid.UUID(int=0), 'abc123@clients')
		assert.equal(parseClientId('abc123').userId, '7523979d-9208-5441-ba60-d62cbd6d6f42');
	});

	it('rejects ids that cannot be a token subject with INVALID_CLIENT_ID (exit 2)', () => {
		const cases: [string, RegExp][] = [
			['', /empty/],
			['@clients', /empty/],
			[' abc', /white space/],
			['abc\n', /white space|control/],
			['ab\u0000c', /control/],
			['a'.repeat(250), /longer than 255/],
		];
		for (const [input, reason] of cases) {
			assert.throws(
				() => parseClientId(input),
				(error: unknown) =>
					error instanceof CliError && error.code === 'INVALID_CLIENT_ID' && error.exitCode === ExitCode.USAGE && reason.test(error.message),
				JSON.stringify(input),
			);
		}
	});
});

describe('roles', () => {
	const role = (id: string, name: string, extra: Partial<Role> = {}): Role => ({ id, name, parent: null, policies: [], ...extra });
	const a = role('6a1e2c1e-5f0b-4d0a-9a4e-2b8a1f7c9d10', 'API');
	const b = role('7b1e2c1e-5f0b-4d0a-9a4e-2b8a1f7c9d10', 'Editors');

	it('picks by id first, then by exact name', () => {
		assert.equal(pickRole([a, b], a.id), a);
		assert.equal(pickRole([a, b], 'Editors'), b);
		assert.equal(pickRole([a, b], 'editors'), null);
		assert.equal(pickRole([a, b], 'API '), null);
	});

	it('throws ROLE_AMBIGUOUS with both ids for a shared name', () => {
		const twin = role('8c1e2c1e-5f0b-4d0a-9a4e-2b8a1f7c9d10', 'API');
		assert.throws(
			() => pickRole([a, b, twin], 'API'),
			(error: unknown) => error instanceof CliError && error.code === 'ROLE_AMBIGUOUS' && error.message.includes(a.id) && error.message.includes(twin.id),
		);
	});

	it('roleNotFound lists the existing names and exits 5', () => {
		const error = roleNotFound('Nope', [a, b]);
		assert.equal(error.code, 'ROLE_NOT_FOUND');
		assert.equal(error.exitCode, ExitCode.NOT_FOUND);
		assert.equal(error.message, 'No role "Nope" in Directus. Existing roles: "API", "Editors".');
	});

	it('roleAccess follows parent roles and ignores policies without global access', () => {
		const app = { id: 'p1', name: 'App', app_access: true, admin_access: false };
		const plain = { id: 'p2', name: 'Data', app_access: false, admin_access: false };
		const root = role('root', 'Root', { policies: [app] });
		const child = role('child', 'Child', { parent: 'root', policies: [plain] });
		assert.deepEqual(roleAccess([root, child], 'child'), { admin: false, app: true, grantedBy: [app] });
		assert.deepEqual(roleAccess([root, child], 'root'), { admin: false, app: true, grantedBy: [app] });
		assert.deepEqual(roleAccess([child], 'child'), { admin: false, app: false, grantedBy: [] });
		const admin = { id: 'p3', name: 'Admin', app_access: false, admin_access: true };
		assert.deepEqual(roleAccess([role('r', 'R', { policies: [admin] })], 'r'), { admin: true, app: true, grantedBy: [admin] });
		// A cycle in parents does not hang.
		const loopA = role('x', 'X', { parent: 'y' });
		const loopB = role('y', 'Y', { parent: 'x' });
		assert.equal(roleAccess([loopA, loopB], 'x').app, false);
	});
});

describe('output', () => {
	it('formats an aligned table and neutralises control characters', () => {
		const table = formatTable(
			[
				{ header: 'NAME', value: (row: { name: string; note: string | null }) => row.name },
				{ header: 'NOTE', value: (row) => row.note },
			],
			[
				{ name: 'a', note: 'first' },
				{ name: 'longer\u001b[31m', note: null },
			],
		);
		assert.equal(table, ['NAME         NOTE', 'a            first', 'longer?[31m  -'].join('\n'));
	});

	it('with --json writes only the result to stdout; warnings go to stderr', () => {
		const stdout = sink();
		const stderr = sink();
		const output = createOutput({ json: true, stdout, stderr });
		output.info('for people');
		output.warn('careful');
		output.result({ ok: true });
		assert.deepEqual(JSON.parse(stdout.text), { ok: true });
		assert.equal(stderr.text, 'Warning: careful\n');
	});

	it('without --json writes messages and no JSON', () => {
		const stdout = sink();
		const output = createOutput({ json: false, stdout, stderr: sink() });
		output.info('for people');
		output.result({ ok: true });
		assert.equal(stdout.text, 'for people\n');
	});
});

describe('handleError', () => {
	const program = new Command('bcc-cc');
	program.command('provision');

	it('prints Error: and the hint for a CliError and returns its exit code; no stack without DEBUG', () => {
		const stderr = sink();
		const code = handleError(new CliError('CLIENT_NOT_FOUND', 'No such client.', { hint: 'Run list.' }), { stderr, debug: false, argv: [], program });
		assert.equal(code, 5);
		assert.equal(stderr.text, 'Error: No such client.\nRun list.\n');
	});

	it('adds the stack and causes with DEBUG', () => {
		const stderr = sink();
		const error = new CliError('DIRECTUS_UNREACHABLE', 'down', { cause: new Error('inner cause') });
		assert.equal(handleError(error, { stderr, debug: true, argv: [], program }), 3);
		assert.match(stderr.text, /^Error: down\n/);
		assert.match(stderr.text, /Caused by: Error: inner cause\n\s+at /);
	});

	it('reports unexpected errors with exit 1', () => {
		const stderr = sink();
		assert.equal(handleError(new Error('kaput'), { stderr, debug: false, argv: [], program }), 1);
		assert.match(stderr.text, /^Error: kaput\n.*DEBUG=1/s);
	});

	it('turns commander usage errors into exit 2 pointing at the command help, and help into 0', () => {
		const stderr = sink();
		const usage = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'");
		assert.equal(handleError(usage, { stderr, debug: false, argv: ['provision', '--x'], program }), 2);
		assert.equal(stderr.text, 'Error: unknown option \'--x\'\nRun "bcc-cc provision --help" for usage.\n');
		assert.equal(handleError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), { stderr, debug: false, argv: [], program }), 0);
		assert.equal(handleError(new CommanderError(1, 'commander.help', '(outputHelp)'), { stderr, debug: false, argv: [], program }), 2);
	});
});
