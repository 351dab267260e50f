/**
 * Where commands write.
 *
 * With --json, stdout carries exactly one JSON document and nothing else, so a
 * script can parse it; messages for people are dropped and warnings go to
 * stderr. Without --json, messages and tables go to stdout, warnings to stderr.
 *
 * Colour only on a terminal, never when NO_COLOR is set (https://no-color.org)
 * or TERM is "dumb", and never in --json output. Progress lines only on a
 * terminal (stderr), erased when the work is done.
 */

export interface Writable {
	write(chunk: string): unknown;
	/** Set by Node on a stream that is a terminal. */
	readonly isTTY?: boolean;
}

export interface Output {
	readonly json: boolean;
	/** Colour helpers; plain text when colour is off. */
	readonly style: Style;
	/** A message for people: stdout, and only without --json. */
	info(line: string): void;
	/** A warning: always stderr, prefixed with `Warning: `. */
	warn(line: string): void;
	/** The command's result for scripts: stdout, only with --json. */
	result(value: unknown): void;
	/** A progress line on a terminal's stderr (nothing elsewhere). */
	progress(label: string): Progress;
}

export interface Progress {
	/** Shows `<label> <done>[/<total>]`; redraws at most every 100 ms. */
	update(done: number, total?: number): void;
	/** Erases the line. */
	done(): void;
}

export interface OutputOptions {
	json: boolean;
	stdout?: Writable;
	stderr?: Writable;
	/** Default: process.env. */
	env?: Readonly<Record<string, string | undefined>>;
}

export type StyleName = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';
export type Style = Record<StyleName, (text: string) => string>;

const SGR: Record<StyleName, [number, number]> = {
	bold: [1, 22],
	dim: [2, 22],
	red: [31, 39],
	green: [32, 39],
	yellow: [33, 39],
	cyan: [36, 39],
};

export function createStyle(enabled: boolean): Style {
	const style = {} as Style;
	for (const [name, [open, close]] of Object.entries(SGR) as [StyleName, [number, number]][]) {
		style[name] = enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
	}
	return style;
}

/** Colour on `stream`: a terminal, NO_COLOR unset or empty, TERM not "dumb"; FORCE_COLOR (not "0") forces it. */
export function colorEnabled(stream: Writable, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
	if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
	const force = env['FORCE_COLOR'];
	if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
	if (env['TERM'] === 'dumb') return false;
	return stream.isTTY === true;
}

const PROGRESS_INTERVAL_MS = 100;

export function createOutput(options: OutputOptions): Output {
	const stdout = options.stdout ?? process.stdout;
	const stderr = options.stderr ?? process.stderr;
	const env = options.env ?? process.env;
	const style = createStyle(!options.json && colorEnabled(stdout, env));
	const warnStyle = createStyle(colorEnabled(stderr, env));
	const interactive = stderr.isTTY === true && env['TERM'] !== 'dumb';
	return {
		json: options.json,
		style,
		info(line) {
			if (!options.json) stdout.write(`${line}\n`);
		},
		warn(line) {
			stderr.write(`${warnStyle.yellow('Warning:')} ${line}\n`);
		},
		result(value) {
			if (options.json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
		},
		progress(label) {
			if (!interactive) return { update: () => undefined, done: () => undefined };
			let last = 0;
			let shown = false;
			return {
				update(done, total) {
					const now = Date.now();
					if (now - last < PROGRESS_INTERVAL_MS && (total === undefined || done < total)) return;
					last = now;
					shown = true;
					stderr.write(`\r\u001b[2K${cell(label)} ${done}${total === undefined ? '' : `/${total}`}`);
				},
				done() {
					if (shown) stderr.write('\r\u001b[2K');
					shown = false;
				},
			};
		},
	};
}

export interface Column<Row> {
	header: string;
	value: (row: Row) => string | null | undefined;
}

// Control characters would let a value (say, a role name) rewrite the terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function cell(text: string | null | undefined): string {
	return (text ?? '-').replace(CONTROL, '?') || '-';
}

/** Untrusted text (a claim, a name from Directus) made safe to print: control characters become `?`. */
export function safe(text: string): string {
	return text.replace(CONTROL, '?');
}

/** A plain-text table: a header row, then one row per item, columns padded with spaces. */
export function formatTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
	const cells = [columns.map((column) => column.header), ...rows.map((row) => columns.map((column) => cell(column.value(row))))];
	const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]?.length ?? 0)));
	return cells
		.map((line) =>
			line
				.map((text, index) => (index === line.length - 1 ? text : text.padEnd(widths[index] ?? 0)))
				.join('  ')
				.trimEnd(),
		)
		.join('\n');
}
