import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * How the key server answers. `ok` serves discovery and the JWKS; the others
 * are faults applied to every request.
 */
export type KeyServerMode =
	| { kind: 'ok' }
	| { kind: 'refuse' }
	| { kind: 'hang' }
	| { kind: 'trickle'; intervalMs: number }
	| { kind: 'html' }
	| { kind: 'status'; status: number }
	| { kind: 'body'; body: string; contentType?: string }
	| { kind: 'slow'; delayMs: number }
	| { kind: 'redirect'; location: string };

export interface KeyServer {
	readonly issuer: string;
	readonly jwksUri: string;
	/** Keys currently published (public JWKs). */
	keys: Array<Record<string, unknown>>;
	mode: KeyServerMode;
	/** Whether `/.well-known/openid-configuration` exists (404 otherwise). */
	discovery: boolean;
	/** Members that replace those of the discovery document. */
	discoveryOverrides: Record<string, unknown>;
	/** Requests to the JWKS path, and to the discovery path. */
	readonly counts: { jwks: number; discovery: number };
	/** Every request received, whatever its path (a `jku` or `x5u` fetch would show here). */
	readonly requests: string[];
	/** performance.now() of the latest request; -Infinity before the first. */
	readonly lastRequestAt: number;
	/** Stops listening and drops open connections: clients now get ECONNREFUSED. State is kept. */
	down(): Promise<void>;
	/** Listens again on the same port after down(). */
	up(): Promise<void>;
	stop(): Promise<void>;
}

/** A key server we control, on 127.0.0.1, for crafted tokens and fault injection. */
export async function startKeyServer(options: { trailingSlash?: boolean } = {}): Promise<KeyServer> {
	const sockets = new Set<Socket>();
	const counts = { jwks: 0, discovery: 0 };
	const requests: string[] = [];
	let base = '';
	let port = 0;
	let listening = false;
	const close = async (): Promise<void> => {
		if (!listening) return;
		listening = false;
		for (const socket of sockets) socket.destroy();
		server.close();
		await once(server, 'close');
	};
	const listen = async (): Promise<void> => {
		if (listening) return;
		server.listen(port, '127.0.0.1');
		await once(server, 'listening');
		listening = true;
		port = (server.address() as AddressInfo).port;
	};
	const state: KeyServer = {
		issuer: '',
		jwksUri: '',
		keys: [],
		mode: { kind: 'ok' },
		discovery: true,
		discoveryOverrides: {},
		counts,
		requests,
		lastRequestAt: Number.NEGATIVE_INFINITY,
		down: close,
		up: listen,
		stop: close,
	};

	const server = createServer((req: IncomingMessage, res: ServerResponse) => {
		const path = req.url ?? '/';
		requests.push(path);
		(state as { lastRequestAt: number }).lastRequestAt = performance.now();
		if (path === '/.well-known/jwks.json') counts.jwks++;
		else if (path === '/.well-known/openid-configuration') counts.discovery++;
		const mode = state.mode;
		switch (mode.kind) {
			case 'refuse':
				req.socket.destroy();
				return;
			case 'hang':
				return;
			case 'html':
				res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Maintenance</body></html>');
				return;
			case 'status':
				res.writeHead(mode.status, { 'content-type': 'application/json' }).end('{"error":"nope"}');
				return;
			case 'body':
				res.writeHead(200, { 'content-type': mode.contentType ?? 'application/json' }).end(mode.body);
				return;
			case 'trickle': {
				res.writeHead(200, { 'content-type': 'application/json' });
				const body = JSON.stringify({ keys: state.keys });
				let index = 0;
				const timer = setInterval(() => {
					if (index >= body.length || res.destroyed) {
						clearInterval(timer);
						res.end();
						return;
					}
					res.write(body[index++]);
				}, mode.intervalMs);
				res.on('close', () => clearInterval(timer));
				return;
			}
			case 'redirect':
				res.writeHead(302, { location: mode.location }).end();
				return;
			case 'slow':
				setTimeout(() => answer(path, res), mode.delayMs);
				return;
			case 'ok':
				answer(path, res);
		}
	});

	function answer(path: string, res: ServerResponse): void {
		if (path === '/.well-known/openid-configuration' && state.discovery) {
			res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: state.issuer, jwks_uri: state.jwksUri, ...state.discoveryOverrides }));
		} else if (path === '/.well-known/jwks.json') {
			res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
		} else {
			res.writeHead(404).end();
		}
	}

	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await listen();
	base = `http://127.0.0.1:${port}`;
	Object.assign(state, {
		issuer: options.trailingSlash === false ? base : `${base}/`,
		jwksUri: `${base}/.well-known/jwks.json`,
	});
	return state;
}
