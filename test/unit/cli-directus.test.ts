/**
 * The Directus client module over real HTTP on loopback, with a small stand-in
 * server: how failures become CliErrors (codes and exit codes), paging, and
 * the shape checks on answers.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { checkSettings, connect, createDirectusApi, parseRole, toCliError } from '../../cli/directus.js';
import { CliError, ExitCode } from '../../cli/errors.js';

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: URL[];
const TOKEN = 'admin-token';

function json(res: ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
	res.end(JSON.stringify(body));
}

function directusError(res: ServerResponse, status: number, code: string, message: string): void {
	json(res, status, { errors: [{ message, extensions: { code } }] });
}

before(async () => {
	server = createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		requests.push(url);
		if (req.headers.authorization !== `Bearer ${TOKEN}`) {
			directusError(res, 401, 'INVALID_CREDENTIALS', 'Invalid user credentials.');
			return;
		}
		handler(req, url, res);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
	requests = [];
	handler = (_req, _url, res) => directusError(res, 404, 'ROUTE_NOT_FOUND', 'Route doesn\'t exist.');
});

async function rejection(promise: Promise<unknown>): Promise<CliError> {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof CliError, `expected a CliError, got ${error}`);
		return error;
	}
	assert.fail('expected a rejection');
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
	const { port } = probe.address() as AddressInfo;
	await new Promise((resolve) => probe.close(resolve));
	return port;
}

describe('checkSettings', () => {
	it('requires a URL and a token (MISSING_SETTING, exit 2)', () => {
		for (const settings of [{ url: undefined, token: 't' }, { url: '  ', token: 't' }, { url: 'http://x', token: undefined }, { url: 'http://x', token: '' }]) {
			assert.throws(
				() => checkSettings(settings),
				(error: unknown) => error instanceof CliError && error.code === 'MISSING_SETTING' && error.exitCode === ExitCode.USAGE,
				JSON.stringify(settings),
			);
		}
	});

	it('refuses URLs that are not http(s) (INVALID_SETTING, exit 2)', () => {
		for (const url of ['localhost:8055', 'ftp://example.org', 'not a url']) {
			assert.throws(
				() => checkSettings({ url, token: 't' }),
				(error: unknown) => error instanceof CliError && error.code === 'INVALID_SETTING' && error.exitCode === 2,
				url,
			);
		}
		assert.deepEqual(checkSettings({ url: ' https://cms.example.org ', token: ' t ' }), { url: 'https://cms.example.org', token: 't' });
	});
});

describe('connect', () => {
	it('accepts an admin token', async () => {
		handler = (_req, url, res) => {
			if (url.pathname === '/policies/me/globals') json(res, 200, { data: { admin_access: true, app_access: true } });
			else directusError(res, 404, 'ROUTE_NOT_FOUND', 'nope');
		};
		const api = await connect({ url: baseUrl, token: TOKEN });
		assert.equal(api.url, baseUrl);
		assert.deepEqual(requests.map((url) => url.pathname), ['/policies/me/globals']);
	});

	it('refuses a valid token without admin access (DIRECTUS_FORBIDDEN, exit 4)', async () => {
		handler = (_req, _url, res) => json(res, 200, { data: { admin_access: false, app_access: true } });
		const error = await rejection(connect({ url: baseUrl, token: TOKEN }));
		assert.equal(error.code, 'DIRECTUS_FORBIDDEN');
		assert.equal(error.exitCode, 4);
	});

	it('maps 401 to DIRECTUS_TOKEN_REJECTED (exit 4) and quotes Directus', async () => {
		const error = await rejection(connect({ url: baseUrl, token: 'wrong' }));
		assert.equal(error.code, 'DIRECTUS_TOKEN_REJECTED');
		assert.equal(error.exitCode, 4);
		assert.equal(error.message, `Directus at ${baseUrl} rejected the token (401 INVALID_CREDENTIALS: Invalid user credentials).`);
	});

	it('maps a refused connection to DIRECTUS_UNREACHABLE (exit 3) naming the URL', async () => {
		const url = `http://127.0.0.1:${await closedPort()}`;
		const error = await rejection(connect({ url, token: TOKEN }));
		assert.equal(error.code, 'DIRECTUS_UNREACHABLE');
		assert.equal(error.exitCode, 3);
		assert.equal(error.message, `Cannot reach Directus at ${url}: connection refused (ECONNREFUSED).`);
	});

	it('maps a server that never answers to DIRECTUS_UNREACHABLE after the timeout', async () => {
		handler = () => undefined; // never respond
		const started = Date.now();
		const error = await rejection(connect({ url: baseUrl, token: TOKEN, timeoutMs: 300 }));
		assert.equal(error.code, 'DIRECTUS_UNREACHABLE');
		assert.match(error.message, /did not answer within/);
		assert.ok(Date.now() - started < 5000);
	});

	it('refuses an HTML page (URL of the admin app, a proxy) as DIRECTUS_ERROR', async () => {
		handler = (_req, _url, res) => {
			res.writeHead(200, { 'content-type': 'text/html' });
			res.end('<html></html>');
		};
		const error = await rejection(connect({ url: baseUrl, token: TOKEN }));
		assert.equal(error.code, 'DIRECTUS_ERROR');
		assert.equal(error.exitCode, 1);
		assert.match(error.message, /HTTP 200 with content type "text\/html" instead of JSON/);
	});

	it('reports ROUTE_NOT_FOUND as a probable wrong --url', async () => {
		const error = await rejection(connect({ url: `${baseUrl}/admin`, token: TOKEN }));
		assert.equal(error.code, 'DIRECTUS_ERROR');
		assert.match(error.hint ?? '', /root URL/);
		assert.equal(requests[0]?.pathname, '/admin/policies/me/globals');
	});

	it('does not contact Directus when a setting is missing', async () => {
		const error = await rejection(connect({ url: baseUrl, token: undefined }));
		assert.equal(error.code, 'MISSING_SETTING');
		assert.deepEqual(requests, []);
	});
});

describe('requests', () => {
	const api = () => createDirectusApi({ url: baseUrl, token: TOKEN });

	it('pages through every user until an empty page, whatever the page size the server allows', async () => {
		const all = Array.from({ length: 250 }, (_, index) => ({
			id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
			external_identifier: `c${index}@clients`,
			provider: 'default',
			status: 'active',
			role: null,
			first_name: null,
			last_name: null,
		}));
		handler = (_req, url, res) => {
			const offset = Number(url.searchParams.get('offset') ?? 0);
			// The server caps pages at 70 (as QUERY_LIMIT_MAX would), below what the client asks for.
			const limit = Math.min(Number(url.searchParams.get('limit')), 70);
			json(res, 200, { data: all.slice(offset, offset + limit) });
		};
		const users = await api().listUsersWithIdentifier();
		assert.equal(users.length, 250);
		assert.equal(new Set(users.map((user) => user.id)).size, 250);
		assert.equal(requests[0]?.searchParams.get('filter'), JSON.stringify({ external_identifier: { _nnull: true } }));
	});

	it('stops paging when the server ignores offset instead of looping forever', async () => {
		handler = (_req, _url, res) => json(res, 200, { data: [{ id: 'r1', name: 'Only', parent: null, policies: [] }] });
		const roles = await api().listRoles();
		assert.deepEqual(roles, [{ id: 'r1', name: 'Only', parent: null, policies: [] }]);
		assert.equal(requests.length, 2);
	});

	it('reads a missing user as null (by filter: Directus answers 403 for a missing id)', async () => {
		handler = (_req, url, res) => json(res, 200, { data: [] });
		assert.equal(await api().readUser('5b2f2f5e-0000-5000-8000-000000000000'), null);
		assert.equal(requests[0]?.pathname, '/users');
		assert.equal(requests[0]?.searchParams.get('filter'), JSON.stringify({ id: { _eq: '5b2f2f5e-0000-5000-8000-000000000000' } }));
	});

	it('maps 403 FORBIDDEN on a call to DIRECTUS_FORBIDDEN naming the operation', async () => {
		handler = (_req, _url, res) => directusError(res, 403, 'FORBIDDEN', "You don't have permission to access this.");
		const error = await rejection(api().listRoles());
		assert.equal(error.code, 'DIRECTUS_FORBIDDEN');
		assert.equal(error.exitCode, 4);
		assert.match(error.message, /^The token may not read roles \(403 FORBIDDEN/);
	});

	it('maps the Directus 12 seat limit to DIRECTUS_LIMIT_EXCEEDED with a hint', async () => {
		handler = (_req, _url, res) => directusError(res, 403, 'LIMIT_EXCEEDED', 'seats limit exceeded.');
		const error = await rejection(
			api().createUser({
				id: 'u1',
				external_identifier: 'x@clients',
				provider: 'default',
				status: 'active',
				role: 'r',
				first_name: 'x',
				last_name: null,
				description: 'd',
			}),
		);
		assert.equal(error.code, 'DIRECTUS_LIMIT_EXCEEDED');
		assert.equal(error.message, 'Directus refused to create the user u1: seats limit exceeded.');
		assert.match(error.hint ?? '', /3 active users/);
	});

	it('maps other Directus errors to DIRECTUS_ERROR with status, code and message', async () => {
		handler = (_req, _url, res) =>
			directusError(res, 400, 'INVALID_PAYLOAD', 'Invalid payload. Setting a custom "provider" isn\'t included in the current license.');
		const error = await rejection(api().updateUser('u1', { status: 'active' }));
		assert.equal(error.code, 'DIRECTUS_ERROR');
		assert.equal(
			error.message,
			'Directus refused to update the user u1 (400 INVALID_PAYLOAD: Invalid payload. Setting a custom "provider" isn\'t included in the current license).',
		);
	});

	it('refuses answers of the wrong shape', async () => {
		handler = (_req, _url, res) => json(res, 200, { data: { not: 'a list' } });
		const error = await rejection(api().listUsersWithIdentifier());
		assert.equal(error.code, 'DIRECTUS_ERROR');
		assert.match(error.message, /expected a list/);
	});

	it('reads the version from /server/info', async () => {
		handler = (_req, _url, res) => json(res, 200, { data: { project: {}, version: '11.17.4' } });
		assert.deepEqual(await api().serverInfo(), { version: '11.17.4', major: 11 });
		handler = (_req, _url, res) => json(res, 200, { data: { project: {} } });
		assert.deepEqual(await api().serverInfo(), { version: null, major: null });
	});

	it('sends no body for delete and accepts 204', async () => {
		handler = (req, url, res) => {
			assert.equal(req.method, 'DELETE');
			assert.equal(url.pathname, '/users/u1');
			res.writeHead(204);
			res.end();
		};
		await api().deleteUser('u1');
		assert.equal(requests.length, 1);
	});
});

describe('parseRole', () => {
	it('flattens directus_access rows into policies', () => {
		assert.deepEqual(
			parseRole({
				id: 'r',
				name: 'API',
				parent: 'p',
				policies: [
					{ policy: { id: 'a', name: 'A', admin_access: false, app_access: true } },
					{ policy: null },
					{ policy: { id: 'b', name: 'B', admin_access: 1, app_access: false } },
				],
			}),
			{
				id: 'r',
				name: 'API',
				parent: 'p',
				policies: [
					{ id: 'a', name: 'A', admin_access: false, app_access: true },
					{ id: 'b', name: 'B', admin_access: false, app_access: false },
				],
			},
		);
	});
});

describe('toCliError', () => {
	const context = { url: 'http://cms.test', operation: 'read users' };

	it('finds the network code inside fetch\'s cause chain, including AggregateError', () => {
		const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
		const aggregate = new AggregateError([refused], 'all failed');
		for (const cause of [refused, aggregate]) {
			const error = toCliError(new TypeError('fetch failed', { cause }), context);
			assert.equal(error.code, 'DIRECTUS_UNREACHABLE');
			assert.equal(error.message, 'Cannot reach Directus at http://cms.test: connection refused (ECONNREFUSED).');
		}
		const dns = toCliError(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }), context);
		assert.equal(dns.message, 'Cannot reach Directus at http://cms.test: host not found (ENOTFOUND).');
	});

	it('keeps a CliError as it is, and wraps unknown errors as DIRECTUS_ERROR with the cause', () => {
		const original = new CliError('ROLE_NOT_FOUND', 'x');
		assert.equal(toCliError(original, context), original);
		const cause = new RangeError('boom');
		const wrapped = toCliError(cause, context);
		assert.equal(wrapped.code, 'DIRECTUS_ERROR');
		assert.equal(wrapped.cause, cause);
	});
});
