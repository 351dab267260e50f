import { api } from '../../dev/directus-api.js';

/**
 * One HTTP call to Directus with a stopwatch and a deadline of its own, so a
 * test can assert that an answer came, how fast, and what it was; a hang is a
 * result (`status: 'no answer'`), not a stuck test.
 */
export interface TimedResponse {
	/** HTTP status, or 'no answer' when nothing came within the deadline, or 'connection failed'. */
	readonly status: number | 'no answer' | 'connection failed';
	readonly body: any;
	/** Milliseconds from sending to the full body (or to giving up). */
	readonly ms: number;
}

export async function timedCall(
	baseUrl: string,
	route: string,
	options: { token?: string; deadlineMs?: number; method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<TimedResponse> {
	const { deadlineMs, ...request } = options;
	const started = performance.now();
	try {
		const { status, body } = await api(baseUrl, route, { ...request, signal: AbortSignal.timeout(deadlineMs ?? 15_000) });
		return { status, body, ms: performance.now() - started };
	} catch (error) {
		const name = (error as Error).name;
		const status = name === 'TimeoutError' || name === 'AbortError' ? 'no answer' : 'connection failed';
		return { status, body: null, ms: performance.now() - started };
	}
}

/** The Directus error code of a response, e.g. INVALID_CREDENTIALS. */
export function codeOf(response: { body: any }): string | undefined {
	return response.body?.errors?.[0]?.extensions?.code;
}

/** The exact body Directus sends for one of the hook's 401/403 refusals. */
export function refusalBody(code: string): unknown {
	const message = { INVALID_CREDENTIALS: 'Invalid user credentials.', TOKEN_EXPIRED: 'Token expired.', FORBIDDEN: "You don't have permission to access this." }[code];
	if (message === undefined) throw new Error(`refusalBody: no fixed body for ${code}`);
	return { errors: [{ message, extensions: { code } }] };
}

/** The exact body Directus sends for one of the hook's 503 refusals, e.g. unavailableBody('Signing keys could not be fetched'). */
export function unavailableBody(reason: string): unknown {
	return {
		errors: [{ message: `Service "client-credentials" is unavailable. ${reason}.`, extensions: { service: 'client-credentials', reason, code: 'SERVICE_UNAVAILABLE' } }],
	};
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
