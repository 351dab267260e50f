const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or plain http to this machine: the only ways a token, a secret or a key set may travel. */
export function isSecureTransport(url: URL): boolean {
	return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** Why a fetch of a discovery document or key set failed; for logs, never for clients. */
export class FetchFailedError extends Error {
	override readonly name = 'FetchFailedError';
	readonly status: number | null;

	constructor(message: string, options?: { status?: number; cause?: unknown }) {
		super(message, options);
		this.status = options?.status ?? null;
	}
}

export interface FetchJsonOptions {
	readonly timeoutMs: number;
	readonly maxBytes: number;
}

export type FetchJson = (url: string, options: FetchJsonOptions) => Promise<unknown>;

/**
 * GETs a JSON document with one deadline for the whole exchange (connect,
 * headers and body, so a server that trickles bytes cannot hold us) and a cap
 * on the body size.
 */
export const fetchJson: FetchJson = async (url, { timeoutMs, maxBytes }) => {
	const signal = AbortSignal.timeout(timeoutMs);
	let response: Response;
	try {
		// No redirects: the URL was checked (https, or http on loopback), the place a redirect names was not.
		response = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
	} catch (error) {
		throw new FetchFailedError(describeFetchError(error, timeoutMs), { cause: error });
	}
	if (!response.ok) {
		await response.body?.cancel().catch(() => undefined);
		throw new FetchFailedError(`HTTP ${response.status}`, { status: response.status });
	}
	let text: string;
	try {
		text = await readLimited(response, maxBytes);
	} catch (error) {
		if (error instanceof FetchFailedError) throw error;
		throw new FetchFailedError(describeFetchError(error, timeoutMs), { cause: error });
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new FetchFailedError(`response is not JSON (content-type ${response.headers.get('content-type') ?? 'none'})`);
	}
};

async function readLimited(response: Response, maxBytes: number): Promise<string> {
	if (!response.body) return '';
	const chunks: Uint8Array[] = [];
	let size = 0;
	for await (const chunk of response.body) {
		size += chunk.byteLength;
		if (size > maxBytes) {
			await response.body.cancel().catch(() => undefined);
			throw new FetchFailedError(`response larger than ${maxBytes} bytes`);
		}
		chunks.push(chunk);
	}
	return Buffer.concat(chunks).toString('utf8');
}

function describeFetchError(error: unknown, timeoutMs: number): string {
	if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
		return `no complete answer within ${timeoutMs} ms`;
	}
	const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
	if (cause?.code) return `request failed: ${cause.code}`;
	return `request failed: ${error instanceof Error ? error.message : String(error)}`;
}
