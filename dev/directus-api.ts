/** Minimal Directus REST calls for the demo and the tests (the product's CLI uses @directus/sdk). */

export interface ApiResponse {
	readonly status: number;
	readonly body: any;
}

/** One call to the Directus API; `token` goes in the Authorization header. */
export async function api(
	baseUrl: string,
	route: string,
	options: { token?: string; method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
	if (options.body !== undefined) headers['content-type'] = 'application/json';
	const response = await fetch(new URL(route, baseUrl), {
		method: options.method ?? 'GET',
		headers,
		...(options.signal ? { signal: options.signal } : {}),
		...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
	});
	const text = await response.text();
	let body: unknown = text;
	try {
		body = text === '' ? null : JSON.parse(text);
	} catch {
		// not JSON: keep the text
	}
	return { status: response.status, body };
}

/** Like api(), but throws unless the status is 2xx; returns `data`. */
export async function adminApi(baseUrl: string, token: string, route: string, method = 'GET', body?: unknown): Promise<any> {
	const response = await api(baseUrl, route, { token, method, ...(body !== undefined ? { body } : {}) });
	if (response.status < 200 || response.status > 299) {
		throw new Error(`${method} ${route} -> ${response.status} ${JSON.stringify(response.body)}`);
	}
	return response.body?.data;
}

/** The Directus error code of a response, e.g. INVALID_CREDENTIALS. */
export function errorCode(response: ApiResponse): string | undefined {
	return response.body?.errors?.[0]?.extensions?.code;
}
