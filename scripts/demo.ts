/**
 * `npm start`: the whole product on this machine, with nothing else set up.
 *
 * Starts a local OAuth2 server issuing client-credentials tokens shaped like
 * Auth0's, a Directus 12.4.0 on SQLite (in .demo/, git-ignored) with the built
 * extension in its EXTENSIONS_PATH, provisions a demo client with bcc-cc, proves
 * one call, and prints how to make your own. Ctrl-C stops everything.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startDirectus, type RunningDirectus } from '../dev/directus-runtime.js';
import { api } from '../dev/directus-api.js';
import { installBuiltExtension, PROJECT_ROOT } from '../dev/extension-install.js';
import { startOAuthServer, type RunningOAuthServer } from '../dev/oauth-server.js';
import { READER_ROLE, seedSchema } from '../dev/sample-content.js';

const DIRECTUS_VERSION = '12.4.0';
const AUDIENCE = 'https://directus.demo.local/api';
const CLIENT_ID = 'demo-service';
const CLIENT_SECRET = 'demo-secret-change-me';
const DEMO_FOLDER = path.join(PROJECT_ROOT, '.demo');

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const say = (line = '') => process.stdout.write(`${line}\n`);

let oauth: RunningOAuthServer | undefined;
let directus: RunningDirectus | undefined;

async function stopAll(): Promise<void> {
	await directus?.stop();
	await oauth?.stop();
}

async function main(): Promise<void> {
	rmSync(DEMO_FOLDER, { recursive: true, force: true });
	const extensionsPath = path.join(DEMO_FOLDER, 'extensions');
	installBuiltExtension(extensionsPath);

	oauth = await startOAuthServer({
		port: port('DEMO_OAUTH_PORT', 4455),
		audience: AUDIENCE,
		scopes: ['read:items'],
		clients: [{ clientId: `${CLIENT_ID}@clients`, clientSecret: CLIENT_SECRET }],
	});
	say(`OAuth2 server:  ${oauth.issuer} (token endpoint ${oauth.tokenEndpoint})`);

	const hookEnv = { BCC_AUTH_ISSUER: oauth.issuer, BCC_AUTH_AUDIENCE: AUDIENCE, BCC_AUTH_REQUIRED_SCOPES: 'read:items' };
	directus = await startDirectus({
		version: DIRECTUS_VERSION,
		dataDir: path.join(DEMO_FOLDER, 'directus'),
		extensionsPath,
		port: port('DEMO_DIRECTUS_PORT', 8055),
		adminEmail: 'admin@example.com',
		adminPassword: 'demo-admin-password',
		env: { ...hookEnv, EXTENSIONS_MUST_LOAD: 'true' },
		log: (line) => say(line),
	});
	say(`Directus:       ${directus.url} (admin@example.com / demo-admin-password; log ${path.relative(PROJECT_ROOT, directus.logFile)})`);

	await seedSchema(directus.url, directus.adminToken);
	const provision = execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'cli.js'), 'provision', CLIENT_ID, '--role', READER_ROLE], {
		env: { ...process.env, DIRECTUS_URL: directus.url, DIRECTUS_TOKEN: directus.adminToken },
		encoding: 'utf8',
	});
	say(`bcc-cc:         ${provision.trim()}`);

	const token = await oauth.getToken(`${CLIENT_ID}@clients`, CLIENT_SECRET);
	const proof = await api(directus.url, '/items/articles', { token });
	if (proof.status !== 200) throw new Error(`the demo client's first call failed: ${proof.status} ${JSON.stringify(proof.body)}`);
	say(`First call:     GET /items/articles with the client's token -> ${proof.status}, ${proof.body.data.length} articles`);

	say();
	say('Try it yourself (another terminal):');
	say(`  TOKEN=$(curl -s -u '${CLIENT_ID}@clients:${CLIENT_SECRET}' -d grant_type=client_credentials ${oauth.tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`);
	say(`  curl -H "Authorization: Bearer $TOKEN" ${directus.url}/items/articles    # 200`);
	say(`  curl -H "Authorization: Bearer $TOKEN" ${directus.url}/items/secrets     # 403`);
	say('  # bcc-cc: the admin token, and the hook\'s settings (check and doctor read them as Directus does)');
	say(`  export DIRECTUS_URL=${directus.url} DIRECTUS_TOKEN=${directus.adminToken}`);
	say(`  export ${Object.entries(hookEnv).map(([name, value]) => `${name}='${value}'`).join(' ')}`);
	say('  npx bcc-cc list');
	say('  npx bcc-cc check "$TOKEN"                  # every step of the verification, and the Directus user');
	say('  npx bcc-cc doctor');
	say(`  npx bcc-cc revoke ${CLIENT_ID}            # then the curl gets 401; provision ${CLIENT_ID} --role "${READER_ROLE}" lets it back in`);
	say();
	say('Press Ctrl-C to stop.');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.once(signal, () => {
		say('\nStopping...');
		stopAll().finally(() => process.exit(0));
	});
}

main().catch(async (error: unknown) => {
	process.stderr.write(`Demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
	await stopAll();
	process.exit(1);
});
