/**
 * Output conventions: colour only on a terminal and never with NO_COLOR or in
 * --json; progress only on a terminal's stderr, erased when done; warnings on
 * stderr; untrusted text made safe.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorEnabled, createOutput, safe } from '../../cli/output.js';
import { formatSteps } from '../../cli/report.js';

function stream(isTTY: boolean) {
	const sink = { text: '', isTTY, write: (chunk: string) => (sink.text += chunk) };
	return sink;
}

const ESC = '\u001b[';

describe('colour', () => {
	it('on a terminal only', () => {
		assert.equal(colorEnabled(stream(true), {}), true);
		assert.equal(colorEnabled(stream(false), {}), false);
	});

	it('never with NO_COLOR (any non-empty value) or TERM=dumb; FORCE_COLOR forces it', () => {
		assert.equal(colorEnabled(stream(true), { NO_COLOR: '1' }), false);
		assert.equal(colorEnabled(stream(true), { NO_COLOR: '' }), true);
		assert.equal(colorEnabled(stream(true), { TERM: 'dumb' }), false);
		assert.equal(colorEnabled(stream(false), { FORCE_COLOR: '1' }), true);
		assert.equal(colorEnabled(stream(true), { FORCE_COLOR: '0' }), true);
		assert.equal(colorEnabled(stream(true), { NO_COLOR: 'x', FORCE_COLOR: '1' }), false);
	});

	it('status words are coloured on a terminal, plain otherwise and with --json', () => {
		const steps = [{ name: 'signature', status: 'fail' as const, detail: 'bad', remedy: 'fix it' }];
		const tty = createOutput({ json: false, stdout: stream(true), stderr: stream(true), env: {} });
		assert.ok(formatSteps(steps, tty.style).includes(`${ESC}31m`));
		const plain = createOutput({ json: false, stdout: stream(false), stderr: stream(false), env: {} });
		assert.equal(formatSteps(steps, plain.style), '  FAIL  signature  bad\n                   fix: fix it');
		const noColor = createOutput({ json: false, stdout: stream(true), stderr: stream(true), env: { NO_COLOR: '1' } });
		assert.ok(!formatSteps(steps, noColor.style).includes(ESC));
		const json = createOutput({ json: true, stdout: stream(true), stderr: stream(true), env: {} });
		assert.ok(!json.style.red('x').includes(ESC));
	});
});

describe('streams', () => {
	it('data to stdout, warnings to stderr; --json prints only the result', () => {
		const stdout = stream(false);
		const stderr = stream(false);
		const human = createOutput({ json: false, stdout, stderr, env: {} });
		human.info('hello');
		human.result({ a: 1 });
		human.warn('careful');
		assert.equal(stdout.text, 'hello\n');
		assert.equal(stderr.text, 'Warning: careful\n');
		const jsonOut = stream(false);
		const json = createOutput({ json: true, stdout: jsonOut, stderr: stream(false), env: {} });
		json.info('hello');
		json.result({ a: 1 });
		assert.deepEqual(JSON.parse(jsonOut.text), { a: 1 });
	});
});

describe('progress', () => {
	it('draws on a terminal stderr and erases itself', () => {
		const stderr = stream(true);
		const stdout = stream(false);
		const progress = createOutput({ json: true, stdout, stderr, env: {} }).progress('Reading users');
		progress.update(100);
		progress.update(300, 300);
		progress.done();
		assert.ok(stderr.text.includes('Reading users 100'), stderr.text);
		assert.ok(stderr.text.includes('Reading users 300/300'), stderr.text);
		assert.ok(stderr.text.endsWith(`\r${ESC}2K`), 'the line is erased');
		assert.equal(stdout.text, '', 'progress never touches stdout');
	});

	it('prints nothing when stderr is not a terminal', () => {
		const stderr = stream(false);
		const progress = createOutput({ json: false, stdout: stream(false), stderr, env: {} }).progress('Reading users');
		progress.update(1, 2);
		progress.done();
		assert.equal(stderr.text, '');
	});
});

describe('safe', () => {
	it('turns control characters (terminal escapes) into ?', () => {
		assert.equal(safe('ok\u001b[2Jname\u0007'), 'ok?[2Jname?');
	});
});
