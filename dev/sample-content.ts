import { adminApi } from './directus-api.js';

export const READER_ROLE = 'Article readers';
export const EMPTY_ROLE = 'No access';

/**
 * A small content model: `articles` that the reader role may read, and
 * `secrets` that nobody but admins may. Works on Directus 11 and 12 (Core
 * licence: only `*` field lists, no permission filters).
 */
export async function seedSchema(url: string, adminToken: string): Promise<{ readerRoleId: string }> {
	for (const collection of ['articles', 'secrets']) {
		await adminApi(url, adminToken, '/collections', 'POST', {
			collection,
			schema: {},
			meta: { icon: 'article' },
			fields: [
				{ field: 'id', type: 'integer', meta: { hidden: true }, schema: { is_primary_key: true, has_auto_increment: true } },
				{ field: 'title', type: 'string', meta: {}, schema: {} },
			],
		});
	}
	await adminApi(url, adminToken, '/items/articles', 'POST', [{ title: 'First' }, { title: 'Second' }]);
	await adminApi(url, adminToken, '/items/secrets', 'POST', [{ title: 'Launch codes' }]);
	const policy = await adminApi(url, adminToken, '/policies', 'POST', {
		name: 'Read articles',
		app_access: false,
		admin_access: false,
		permissions: [{ collection: 'articles', action: 'read', fields: ['*'], permissions: {}, validation: {} }],
	});
	const role = await adminApi(url, adminToken, '/roles', 'POST', { name: READER_ROLE, policies: [{ policy: policy.id }] });
	await adminApi(url, adminToken, '/roles', 'POST', { name: EMPTY_ROLE });
	return { readerRoleId: role.id };
}
