// What a verb of the `wsgate` command is. Verbs live in src/cli.ts and in files of this folder, each
// exporting a record of verbs that src/cli.ts spreads into its own.
import type { ParseArgsConfig } from 'node:util';
import type { Config, SettingName } from '../config.js';
import { withoutPassword } from '../settings/kinds.js';
import { ScheduleFileError } from '../schedule/file.js';
import { OperationFileError } from '../operations/own/load.js';
import { openRuntime, type Runtime } from '../runtime.js';

export interface Verb {
  usage: string;
  help: string;
  options?: ParseArgsConfig['options'];
  /** Settings this verb takes a flag for (src/config.ts names each one's flag); their values replace the settings'. */
  flags?: SettingName[];
  run(args: { values: Record<string, unknown>; positionals: string[] }, config: Config): Promise<number>;
}

/** A mistake in how the command was called: one line on stderr with the verb's usage, exit code 2. */
export class UsageError extends Error {}

/** A command that cannot be done as asked (an unknown user, say): one line on stderr, exit code 2. */
export class Refusal extends UsageError {}

/** The database named by DATABASE_URL could not be opened (unreachable, no such role): one line, exit code 1. */
export class DatabaseOpenError extends Error {}

/** The runtime, or a DatabaseOpenError saying which database could not be opened and why. */
export async function openCliRuntime(config: Config, options: { models?: boolean } = {}): Promise<Runtime> {
  try {
    return await openRuntime(config, undefined, options);
  } catch (error) {
    // A broken operation, event or schedule file names itself; only the rest is the database's failure.
    if (error instanceof OperationFileError || error instanceof ScheduleFileError) throw error;
    const why = (error as Error)?.message ?? String(error);
    throw new DatabaseOpenError(`cannot open the database ${withoutPassword(config.databaseUrl)}: ${why.split('\n')[0]}`);
  }
}

export async function withRuntime<T>(config: Config, fn: (rt: Runtime) => Promise<T>, options: { models?: boolean } = {}): Promise<T> {
  const rt = await openCliRuntime(config, options);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}
