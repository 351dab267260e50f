/**
 * bcc-cc: provisions the Directus users that OAuth2 client-credentials clients
 * are mapped to.
 *
 * This file builds the commander program and holds the one top-level error
 * handler. Commands throw; only `main` decides the exit code.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerCheckCommand } from './commands/check.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerListCommand } from './commands/list.js';
import { registerMigrateProviderCommand } from './commands/migrate-provider.js';
import { registerProvisionCommand } from './commands/provision.js';
import { registerRevokeCommand } from './commands/revoke.js';
import { registerShowCommand } from './commands/show.js';
import type { Connector } from './context.js';
import { connect } from './directus.js';
import { EXIT_CODES_HELP, ExitCode, isCliError, type ExitCodeValue } from './errors.js';
import type { Writable } from './output.js';

const SETTINGS_HELP = `Settings (a flag beats its environment variable):
  --url   or DIRECTUS_URL     root URL of the Directus API, e.g. https://cms.example.org
  --token or DIRECTUS_TOKEN   static token of a Directus user with admin access
                              (prefer the variable: command-line flags show up in process lists)`;

const ROOT_EXAMPLES = `Examples:
  $ export DIRECTUS_URL=https://cms.example.org DIRECTUS_TOKEN=...
  $ bcc-cc provision 8fKq1ZfQ2bXw --role "Reporting API"
  $ bcc-cc list
  $ bcc-cc revoke 8fKq1ZfQ2bXw
  $ bcc-cc doctor
  $ pbpaste | bcc-cc check`;

export interface ProgramOptions {
	/** Opens the Directus connection; tests substitute a fake. */
	connector?: Connector;
	stdout?: Writable;
	stderr?: Writable;
}

const defaultConnector: Connector = (options) => connect({ url: options.url, token: options.token });

export function buildProgram(options: ProgramOptions = {}): Command {
	const connector = options.connector ?? defaultConnector;
	const stdout = options.stdout ?? process.stdout;
	const stderr = options.stderr ?? process.stderr;

	const program = new Command('bcc-cc')
		.description(
			'Provision the Directus users that OAuth2 client-credentials clients (Auth0 machine-to-machine ' +
				'applications) act as. Each client maps to one user whose id is uuidv5(identifier, NIL), the identifier being what its tokens carry (Auth0: "<clientId>@clients"); ' +
				'the directus-extension-auth-client-credentials hook only reads these users.',
		)
		.version(packageJson.version, '-V, --version', 'print the version of bcc-cc')
		.addOption(new Option('--url <url>', 'root URL of the Directus API').env('DIRECTUS_URL'))
		.addOption(new Option('--token <token>', 'static token of a Directus admin user').env('DIRECTUS_TOKEN'))
		.helpOption('-h, --help', 'show help for a command')
		.helpCommand('help [command]', 'show help for a command')
		// Settings below are inherited by every command registered after them.
		.exitOverride()
		.configureOutput({
			writeOut: (text) => stdout.write(text),
			writeErr: (text) => stderr.write(text),
			// Usage errors reach the top-level handler as CommanderErrors and are printed there.
			outputError: () => undefined,
		})
		.configureHelp({ showGlobalOptions: true, sortSubcommands: false })
		.showSuggestionAfterError(true)
		.addHelpText('after', `\n${SETTINGS_HELP}\n\n${ROOT_EXAMPLES}\n\n${EXIT_CODES_HELP}`);

	const deps = { connector, stdout, stderr };
	registerProvisionCommand(program, deps);
	registerListCommand(program, deps);
	registerShowCommand(program, deps);
	registerRevokeCommand(program, deps);
	registerCheckCommand(program, deps);
	registerDoctorCommand(program, deps);
	registerMigrateProviderCommand(program, deps);

	for (const command of program.commands) {
		command.addHelpText('after', `\n${SETTINGS_HELP}\n\nExit codes: see "bcc-cc --help".`);
	}
	return program;
}

export interface ErrorReport {
	stderr: Writable;
	/** Print stacks and causes (the DEBUG environment variable is set). */
	debug: boolean;
	/** The command line, to point usage errors at the right --help. */
	argv: readonly string[];
	program: Command;
}

/**
 * The one place that turns an error into output and an exit code: `Error:
 * <message>` (and a hint line) on stderr, the stack only when debugging.
 */
export function handleError(error: unknown, report: ErrorReport): ExitCodeValue {
	const { stderr } = report;
	if (error instanceof CommanderError) {
		// --help, --version, `help`: already printed.
		if (error.exitCode === 0) return ExitCode.OK;
		// Help shown because no command was given: already printed, still a usage error.
		if (error.code === 'commander.help') return ExitCode.USAGE;
		const command = report.program.commands.find((candidate) => report.argv.includes(candidate.name()));
		stderr.write(`Error: ${error.message.replace(/^error: /i, '')}\n`);
		stderr.write(`Run "bcc-cc ${command ? `${command.name()} ` : ''}--help" for usage.\n`);
		return ExitCode.USAGE;
	}
	if (isCliError(error)) {
		stderr.write(`Error: ${error.message}\n`);
		if (error.hint) stderr.write(`${error.hint}\n`);
		if (report.debug) writeDebug(error, stderr);
		return error.exitCode;
	}
	const message = error instanceof Error ? error.message : String(error);
	stderr.write(`Error: ${message}\n`);
	if (report.debug) writeDebug(error, stderr);
	else stderr.write('This is unexpected; run again with DEBUG=1 for details.\n');
	return ExitCode.UNEXPECTED;
}

function writeDebug(error: unknown, stderr: Writable): void {
	let current: unknown = error;
	for (let depth = 0; current !== undefined && depth < 5; depth++) {
		stderr.write(`${depth === 0 ? '' : 'Caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}\n`);
		current = current instanceof Error ? current.cause : undefined;
	}
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: readonly string[] = process.argv, options: ProgramOptions = {}): Promise<ExitCodeValue> {
	const program = buildProgram(options);
	try {
		await program.parseAsync([...argv]);
		return ExitCode.OK;
	} catch (error) {
		return handleError(error, {
			stderr: options.stderr ?? process.stderr,
			debug: Boolean(process.env['DEBUG']),
			argv: argv.slice(2),
			program,
		});
	}
}

function isEntryPoint(): boolean {
	const script = process.argv[1];
	if (!script) return false;
	try {
		return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
	} catch {
		return false;
	}
}

if (isEntryPoint()) {
	// A reader that went away (`bcc-cc list | head -1`) is not an error worth a stack trace.
	for (const stream of [process.stdout, process.stderr]) {
		stream.on('error', (error: NodeJS.ErrnoException) => {
			if (error.code !== 'EPIPE') throw error;
			process.exit(process.exitCode ?? ExitCode.OK);
		});
	}
	process.exitCode = await main();
}
