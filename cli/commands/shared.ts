import type { Command } from 'commander';
import type { CommandContext, CommandDeps, GlobalOptions } from '../context.js';
import { plainHttpWarning, type DirectusApi } from '../directus.js';
import { createOutput } from '../output.js';

/** The context for one command run: output per --json, and a connection opened on first use. */
export function commandContext(command: Command, deps: CommandDeps, json: boolean): CommandContext {
	const globals = command.optsWithGlobals<GlobalOptions>();
	const output = createOutput({ json, stdout: deps.stdout, stderr: deps.stderr });
	let api: Promise<DirectusApi> | undefined;
	return {
		output,
		connect: () => {
			if (api === undefined) {
				const warning = plainHttpWarning(globals.url);
				if (warning !== null) output.warn(warning);
				api = deps.connector({ url: globals.url, token: globals.token });
			}
			return api;
		},
	};
}
