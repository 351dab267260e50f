/**
 * What every command action receives besides its own arguments.
 */
import type { DirectusApi } from './directus.js';
import type { Output, Writable } from './output.js';

/** The global options, after commander applied flag > environment. */
export interface GlobalOptions {
	url?: string;
	token?: string;
}

/** Opens a checked connection to Directus (see `connect` in directus.ts). */
export type Connector = (options: GlobalOptions) => Promise<DirectusApi>;

export interface CommandContext {
	/** Connects lazily, after the action validated its own arguments. */
	connect(): Promise<DirectusApi>;
	output: Output;
}

/** What the program hands every command when registering it. */
export interface CommandDeps {
	connector: Connector;
	stdout: Writable;
	stderr: Writable;
}
