import { Option, type Command } from 'commander';
import { addAuthOptions, AUTH_SETTINGS_HELP, type AuthFlags } from '../auth-config.js';
import type { CommandContext, CommandDeps, GlobalOptions } from '../context.js';
import { runDoctor, type DoctorReport, type LiveClient } from '../doctor.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { formatSteps } from '../report.js';
import { commandContext } from './shared.js';

export interface DoctorCommandOptions extends AuthFlags {
	clientId?: string | undefined;
	clientSecret?: string | undefined;
	scope?: string | undefined;
	tokenEndpoint?: string | undefined;
}

export function registerDoctorCommand(program: Command, deps: CommandDeps): Command {
	const command = program
		.command('doctor')
		.summary('find what keeps clients out: configuration, issuer keys, Directus, extension, licence, client roles')
		.description(
			'Check, in order: the hook\'s configuration (the BCC_AUTH_* settings, through the hook\'s own parser); each ' +
				'issuer\'s discovery document and key set (reachable, how many keys, their algorithms and kids, whether the ' +
				'hook can use them); Directus (reachable, the admin token, the version, whether this extension is installed ' +
				'and enabled); on Directus 12 the licence limits that affect clients (seats, providers, permission rules); ' +
				'and the clients whose roles or policies grant app or admin access. Each finding comes with a remedy.\n\n' +
				'With --client-id and --client-secret it also gets a token from the issuer\'s token endpoint (client ' +
				'credentials grant, with the audience as Auth0 expects it), checks it like "bcc-cc check", and calls ' +
				'Directus (/users/me) with it.\n\n' +
				'Exit code 6 when a finding (FAIL) keeps clients out; warnings (WARN) do not change the exit code.',
		);
	addAuthOptions(command)
		.addOption(new Option('--client-id <id>', 'also try a real client: its id at the identity provider').env('BCC_CLIENT_ID'))
		.addOption(new Option('--client-secret <secret>', 'the client\'s secret (prefer the variable)').env('BCC_CLIENT_SECRET'))
		.option('--scope <scopes>', 'scopes to ask for with --client-id (Entra: "<app id uri>/.default")')
		.option('--token-endpoint <url>', 'token endpoint for --client-id, https (http only on localhost) (default: the discovery document\'s token_endpoint, when it names the issuer)')
		.option('--json', 'print the findings as JSON on stdout and nothing else')
		.addHelpText(
			'after',
			`
Examples:
  $ bcc-cc doctor
  $ bcc-cc doctor --env-file /directus/.env --json | jq '.findings[] | select(.status == "fail")'
  $ BCC_CLIENT_ID=8fKq1ZfQ2bXw BCC_CLIENT_SECRET=... bcc-cc doctor

JSON output: { ok, counts: { pass, warn, fail, skip, info },
  findings: [ { section, check, status: "pass" | "warn" | "fail" | "skip" | "info", message, remedy? } ] }

${AUTH_SETTINGS_HELP}`,
		)
		.action(async (options: DoctorCommandOptions & { json?: boolean }, cmd: Command) => {
			const context = commandContext(cmd, deps, options.json === true);
			const globals = cmd.optsWithGlobals<GlobalOptions>();
			await doctor(options, context, { url: globals.url, directus: globals.url !== undefined || globals.token !== undefined });
		});
	return command;
}

/** The `doctor` action: prints the findings, then throws when one keeps clients out. */
export async function doctor(
	options: DoctorCommandOptions,
	context: CommandContext,
	settings: { url?: string | undefined; directus: boolean; env?: Readonly<Record<string, string | undefined>>; fetch?: typeof globalThis.fetch },
): Promise<DoctorReport> {
	const client = liveClient(options);
	const report = await runDoctor({
		flags: options,
		...(settings.env ? { env: settings.env } : {}),
		directus: settings.directus ? () => context.connect() : null,
		directusUrl: settings.url,
		client,
		progress: (label) => context.output.progress(label),
		...(settings.fetch ? { fetch: settings.fetch } : {}),
	});
	context.output.result(report);
	printReport(report, context.output);
	if (!report.ok) {
		throw new CliError('PROBLEMS_FOUND', `doctor found ${report.counts.fail} problem${report.counts.fail === 1 ? '' : 's'} that keep${report.counts.fail === 1 ? 's' : ''} clients out.`);
	}
	return report;
}

function liveClient(options: DoctorCommandOptions): LiveClient | undefined {
	if (options.clientId === undefined && options.clientSecret === undefined) return undefined;
	if (!options.clientId || !options.clientSecret) {
		throw new CliError('USAGE', '--client-id and --client-secret go together.', { hint: 'Pass both (or set BCC_CLIENT_ID and BCC_CLIENT_SECRET).' });
	}
	return { id: options.clientId, secret: options.clientSecret, scope: options.scope, tokenEndpoint: options.tokenEndpoint };
}

function printReport(report: DoctorReport, output: Output): void {
	if (output.json) return;
	const { style } = output;
	const sections = new Map<string, DoctorReport['findings']>();
	for (const finding of report.findings) sections.set(finding.section, [...(sections.get(finding.section) ?? []), finding]);
	const blocks: string[] = [];
	for (const [section, findings] of sections) {
		const title = section.charAt(0).toUpperCase() + section.slice(1);
		blocks.push(`${style.bold(title)}\n${formatSteps(findings.map((finding) => ({ name: finding.check, status: finding.status, detail: finding.message, remedy: finding.remedy })), style)}`);
	}
	const { fail, warn } = report.counts;
	const summary =
		fail > 0
			? style.red(`${fail} problem${fail === 1 ? '' : 's'} keep${fail === 1 ? 's' : ''} clients out`) + (warn > 0 ? `, ${warn} warning${warn === 1 ? '' : 's'}.` : '.')
			: warn > 0
				? style.yellow(`No problem keeps clients out; ${warn} warning${warn === 1 ? '' : 's'}.`)
				: style.green('No problems found.');
	output.info(`${blocks.join('\n\n')}\n\n${summary}`);
}
