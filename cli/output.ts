/**
 * Where commands write.
 *
 * With --json, stdout carries exactly one JSON document and nothing else, so a
 * script can parse it; messages for people are dropped and warnings go to
 * stderr. Without --json, messages and tables go to stdout, warnings to stderr.
 */

export interface Writable {
	write(chunk: string): unknown;
}

export interface Output {
	readonly json: boolean;
	/** A message for people: stdout, and only without --json. */
	info(line: string): void;
	/** A warning: always stderr, prefixed with `Warning: `. */
	warn(line: string): void;
	/** The command's result for scripts: stdout, only with --json. */
	result(value: unknown): void;
}

export interface OutputOptions {
	json: boolean;
	stdout?: Writable;
	stderr?: Writable;
}

export function createOutput(options: OutputOptions): Output {
	const stdout = options.stdout ?? process.stdout;
	const stderr = options.stderr ?? process.stderr;
	return {
		json: options.json,
		info(line) {
			if (!options.json) stdout.write(`${line}\n`);
		},
		warn(line) {
			stderr.write(`Warning: ${line}\n`);
		},
		result(value) {
			if (options.json) stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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
