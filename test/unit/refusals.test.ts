/**
 * The fixed list of refusal reasons: what a client sees for each (security.md,
 * "Errors and logs"), and the operator table in docs/refusals.md, which must
 * list every reason with the same answer and log level.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../dev/extension-install.js';
import { MAX_DETAIL_LENGTH, REFUSAL_REASONS, TokenRefusedError, type RefusalReason } from '../../extension/core/errors.js';
import { parseToken } from '../../extension/core/token.js';
import { HTTP_FOR_REASON } from '../support/hostile-cases.js';

const reasons = Object.keys(REFUSAL_REASONS) as RefusalReason[];

describe('refusal reasons', () => {
	it('are exactly the ones the tests expect', () => {
		assert.deepEqual([...reasons].sort(), Object.keys(HTTP_FOR_REASON).sort());
	});

	for (const reason of reasons) {
		it(`${reason} answers ${HTTP_FOR_REASON[reason].status} ${HTTP_FOR_REASON[reason].code}`, () => {
			const { status, code } = REFUSAL_REASONS[reason];
			assert.deepEqual({ status, code }, HTTP_FOR_REASON[reason]);
			const error = new TokenRefusedError(reason, 'detail');
			assert.deepEqual({ status: error.status, code: error.code }, HTTP_FOR_REASON[reason]);
		});
	}

	it('TOKEN_EXPIRED is the answer of token_expired only, FORBIDDEN of scope_missing only', () => {
		assert.deepEqual(reasons.filter((reason) => REFUSAL_REASONS[reason].code === 'TOKEN_EXPIRED'), ['token_expired']);
		assert.deepEqual(reasons.filter((reason) => REFUSAL_REASONS[reason].code === 'FORBIDDEN'), ['scope_missing']);
	});

	it('a detail that quotes the token is bounded in length (it goes to the log)', () => {
		const longName = 'x'.repeat(10_000);
		const header = Buffer.from(`{"alg":"RS256","${longName}":1,"${longName}":2}`).toString('base64url');
		const payload = Buffer.from('{}').toString('base64url');
		assert.throws(
			() => parseToken(`${header}.${payload}.c2ln`),
			(error: unknown) =>
				error instanceof TokenRefusedError &&
				error.reason === 'token_malformed' &&
				error.detail.startsWith('header: duplicate member name "xxx') &&
				error.detail.length === MAX_DETAIL_LENGTH &&
				error.message.length < MAX_DETAIL_LENGTH + 50,
		);
		assert.equal(new TokenRefusedError('token_malformed', 'short').detail, 'short');
	});

	it('faults of a dependency are errors in the log, refusals of a token are not', () => {
		for (const reason of reasons) {
			const expected = reason === 'keys_unavailable' || reason === 'directory_unavailable' ? 'error' : ['info', 'warn'];
			if (Array.isArray(expected)) assert.ok(expected.includes(REFUSAL_REASONS[reason].level), reason);
			else assert.equal(REFUSAL_REASONS[reason].level, expected, reason);
		}
	});
});

describe('docs/refusals.md', () => {
	const text = readFileSync(path.join(PROJECT_ROOT, 'docs', 'refusals.md'), 'utf8');
	const rows = text
		.split('\n')
		.filter((line) => /^\| `[a-z_]+` \|/.test(line))
		.map((line) => line.split('|').map((cell) => cell.trim()));

	it('lists every reason once, and no other', () => {
		const listed = rows.map((cells) => (cells[1] as string).replaceAll('`', ''));
		assert.deepEqual([...listed].sort(), [...reasons].sort());
	});

	for (const reason of reasons) {
		it(`gives ${reason} its answer and log level, and says what to do`, () => {
			const cells = rows.find((row) => row[1] === `\`${reason}\``) as string[];
			const { status, code, level } = REFUSAL_REASONS[reason];
			assert.equal(cells[2], `${status} \`${code}\``);
			assert.equal(cells[3], level);
			assert.ok((cells[5] ?? '').length > 10, 'an action for the operator');
		});
	}
});
