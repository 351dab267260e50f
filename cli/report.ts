/**
 * How `check` and `doctor` show results to people: one line per step, a
 * status word in a fixed-width column (coloured on a terminal), then the
 * detail; untrusted text made safe to print.
 */
import { safe, type Style } from './output.js';

export type ReportStatus = 'pass' | 'warn' | 'fail' | 'skip' | 'info';

const WORD: Record<ReportStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP', info: 'INFO' };

export function statusWord(status: ReportStatus, style: Style): string {
	const word = WORD[status];
	switch (status) {
		case 'pass':
			return style.green(word);
		case 'warn':
			return style.yellow(word);
		case 'fail':
			return style.red(style.bold(word));
		default:
			return style.dim(word);
	}
}

export interface ReportLine {
	name: string;
	status: ReportStatus;
	detail: string;
	/** What to do about it; printed under the detail. */
	remedy?: string | undefined;
}

/** `  PASS  name         detail`, the names padded to the longest one; a remedy goes on the next line. */
export function formatSteps(steps: readonly ReportLine[], style: Style, indent = '  '): string {
	const width = Math.max(0, ...steps.map((step) => step.name.length));
	const under = `${indent}${' '.repeat(4 + 2 + width + 2)}`;
	return steps
		.map((step) => {
			const line = `${indent}${statusWord(step.status, style)}  ${safe(step.name).padEnd(width)}  ${safe(step.detail)}`.trimEnd();
			return step.remedy ? `${line}\n${under}${style.cyan('fix:')} ${safe(step.remedy)}` : line;
		})
		.join('\n');
}
