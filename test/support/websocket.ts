/**
 * A WebSocket client for the end-to-end tests that records everything that
 * happens on the connection (messages, the HTTP refusal of an upgrade, the
 * close code and reason), each with the time it happened, and waits for an
 * event with a deadline so that no test can hang.
 */
import WebSocket from 'ws';

export type SocketEvent =
	| { kind: 'open'; at: number }
	| { kind: 'message'; at: number; data: any }
	/** The server answered the upgrade request with an HTTP status instead of switching protocols. */
	| { kind: 'refused'; at: number; status: number }
	| { kind: 'close'; at: number; code: number; reason: string }
	| { kind: 'error'; at: number; message: string };

export interface RecordedSocket {
	readonly ws: WebSocket;
	readonly events: SocketEvent[];
	/** Messages received so far, parsed. */
	messages(): any[];
	send(message: unknown): void;
	/** The first event (past or future) matching `predicate`; rejects after `timeoutMs` with the events seen. */
	waitFor<T extends SocketEvent>(predicate: (event: SocketEvent) => event is T, timeoutMs: number, what?: string): Promise<T>;
	waitFor(predicate: (event: SocketEvent) => boolean, timeoutMs: number, what?: string): Promise<SocketEvent>;
	/** The first message matching `predicate`. */
	waitForMessage(predicate: (message: any) => boolean, timeoutMs: number, what?: string): Promise<any>;
	/** The close (or upgrade refusal) of the connection. */
	waitForEnd(timeoutMs: number): Promise<Extract<SocketEvent, { kind: 'close' | 'refused' }>>;
	/** Resolves once the connection is open; rejects if it ended first. */
	opened(timeoutMs?: number): Promise<void>;
	isOpen(): boolean;
	terminate(): void;
}

export function openSocket(url: string, options: { protocol?: string } = {}): RecordedSocket {
	const ws = options.protocol ? new WebSocket(url, options.protocol) : new WebSocket(url);
	const events: SocketEvent[] = [];
	const listeners = new Set<() => void>();
	const record = (event: SocketEvent) => {
		events.push(event);
		for (const listener of [...listeners]) listener();
	};
	ws.on('open', () => record({ kind: 'open', at: Date.now() }));
	ws.on('message', (raw) => {
		const text = raw.toString();
		let data: unknown = text;
		try {
			data = JSON.parse(text);
		} catch {
			// keep the text
		}
		record({ kind: 'message', at: Date.now(), data });
	});
	ws.on('unexpected-response', (_request, response) => {
		record({ kind: 'refused', at: Date.now(), status: response.statusCode ?? 0 });
		response.resume();
		ws.terminate();
	});
	ws.on('close', (code, reason) => record({ kind: 'close', at: Date.now(), code, reason: reason.toString() }));
	ws.on('error', (error) => record({ kind: 'error', at: Date.now(), message: error.message }));

	function waitFor(predicate: (event: SocketEvent) => boolean, timeoutMs: number, what = 'event'): Promise<SocketEvent> {
		return new Promise((resolve, reject) => {
			const check = () => {
				const found = events.find(predicate);
				if (!found) return false;
				listeners.delete(check);
				clearTimeout(timer);
				resolve(found);
				return true;
			};
			const timer = setTimeout(() => {
				listeners.delete(check);
				reject(new Error(`no ${what} within ${timeoutMs} ms on ${redact(url)}; events: ${describeEvents(events)}`));
			}, timeoutMs);
			listeners.add(check);
			check();
		});
	}

	const socket: RecordedSocket = {
		ws,
		events,
		messages: () => events.flatMap((event) => (event.kind === 'message' ? [event.data] : [])),
		send(message) {
			ws.send(typeof message === 'string' ? message : JSON.stringify(message));
		},
		waitFor: waitFor as RecordedSocket['waitFor'],
		async waitForMessage(predicate, timeoutMs, what = 'matching message') {
			const event = await waitFor((e) => e.kind === 'message' && predicate(e.data), timeoutMs, what);
			return (event as Extract<SocketEvent, { kind: 'message' }>).data;
		},
		async waitForEnd(timeoutMs) {
			return (await waitFor((e) => e.kind === 'close' || e.kind === 'refused', timeoutMs, 'end of the connection')) as Extract<
				SocketEvent,
				{ kind: 'close' | 'refused' }
			>;
		},
		async opened(timeoutMs = 5000) {
			const event = await waitFor((e) => e.kind === 'open' || e.kind === 'close' || e.kind === 'refused', timeoutMs, 'open');
			if (event.kind !== 'open') throw new Error(`connection ended before it opened: ${describeEvents(events)}`);
		},
		isOpen: () => ws.readyState === WebSocket.OPEN,
		terminate: () => ws.terminate(),
	};
	return socket;
}

/** Tokens in URLs must not end up in test output. */
function redact(url: string): string {
	return url.replace(/access_token=[^&]+/, 'access_token=<redacted>');
}

export function describeEvents(events: readonly SocketEvent[]): string {
	const start = events[0]?.at ?? 0;
	return JSON.stringify(
		events.map((event) => {
			const { at, ...rest } = event;
			return { t: at - start, ...rest };
		}),
	);
}

/** graphql-ws: the subprotocol Directus's /graphql WebSocket speaks. */
export const GRAPHQL_WS_PROTOCOL = 'graphql-transport-ws';
