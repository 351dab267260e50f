// @ts-nocheck -- BENCH: the seed guide's code as written; it does not pass this project's strict settings.
/**
 * COMPARISON BASELINE, NOT PART OF THE PRODUCT: the seed guide's hook, transcribed
 * for bench/e2e-throughput.ts. See ../README.md for the (two) changes made.
 */
import { defineHook } from '@directus/extensions-sdk';
import jwksRsa from 'jwks-rsa';
import jwt, { JwtPayload } from 'jsonwebtoken';
import { Accountability } from '@directus/types';
import { NIL, v5 } from 'uuid';

export default defineHook(({ filter, action }, { env, services, getSchema }) => {
	const { UsersService } = services;
	const issuer = env['BCC_AUTH_ISSUER'];
	const audience = env['BCC_AUTH_AUDIENCE'];

	if (!audience || !issuer) throw new Error(`Missing audience or issuer`);

	const algorithms: jwt.Algorithm[] = ['RS256'];

	const JwksClient = jwksRsa({
		cache: true,
		rateLimit: true,
		jwksRequestsPerMinute: 10,
		// Note: Add forward slash if your issuer doesn't have it
		jwksUri: `${issuer}.well-known/jwks.json`,
	});
	

	filter('authenticate', async (accountabilityIn, meta, context) => {
		const { req } = meta as { req: Request & { token: string } };
		if (!req.token) return accountabilityIn;

		const decoded = jwt.decode(req.token, { complete: true });
		if (!decoded?.payload) return accountabilityIn;

		const payload = decoded?.payload as JwtPayload & {
			iss: string;
			aud: string;
			gty: string; // Grant type
			sub: string; // Auth0 ClientId
			scope: string;
		};

		// We only support client credentials
		if (payload.gty !== 'client-credentials') return accountabilityIn;
		if (payload.iss !== issuer || payload.aud !== audience) return accountabilityIn;

		try {
			const key = await JwksClient.getSigningKey(decoded.header.kid);

			jwt.verify(req.token, key.getPublicKey(), { audience, issuer, algorithms });
		} catch (err) {
			console.error(err);
			return accountabilityIn;
		}

		const scopes = payload.scope.split(' ')
		// Change this to the scope you want to check
    // Optionally map different scopes to different roles
		if (!scopes.includes('my_service#read')) return accountabilityIn;
		const role = env['BENCH_SEED_ROLE']; // BENCH: the guide has 'THE-UUID-OF-THE-ROLE-FOR-API-ACCESS' here

		const { database } = context;
		const schema = await getSchema();
		const usersSvc = new UsersService({ knex: database, schema });

		const identifier = payload.sub;
		const userId = v5(identifier, NIL);

		const user = await usersSvc
			.readOne(userId, {
				fields: ['id', 'role', 'last_access', 'organizations.organization'],
			})
			.catch(() => null);

		// Orgs have been changed to uids and since we don't have that we disable this for now
		const issuedAtDate = payload.iat ? new Date(payload.iat * 1000) : new Date();

		if (!user) {
			await usersSvc.createOne({
				id: userId,
				provider: 'bcc-client-credentials',
				first_name: 'External',
				last_name: 'Client',
				external_identifier: identifier,
				last_access: issuedAtDate.toISOString(),
				role
			});
		} else {
			const updateUser: any = {};
			if (new Date(user.last_access) !== issuedAtDate) {
				updateUser.last_access = issuedAtDate.toISOString();
			}

			if (user.role !== role) {
				updateUser.role = role;
			}

			if (Object.keys(updateUser).length > 0) {
				await usersSvc.updateOne(userId, updateUser);
			}
		}

		return Object.assign({}, accountabilityIn, {
			user: userId,
			role: role,
			roles: [role],
		} as Accountability);
	});
});
