import type { Command } from 'commander';
import type { CommandContext, CommandDeps, GlobalOptions } from '../context.js';
import type { DirectusApi } from '../directus.js';
import { createOutput } from '../output.js';

/** The context for one command run: output per --json, and a connection opened on first use. */
export function commandContext(command: Command, deps: CommandDeps, json: boolean): CommandContext {
	const globals = command.optsWithGlobals<GlobalOptions>();
	let api: Promise<DirectusApi> | undefined;
	return {
		output: createOutput({ json, stdout: deps.stdout, stderr: deps.stderr }),
		connect: () => (api ??= deps.connector({ url: globals.url, token: globals.token })),
	};
}
