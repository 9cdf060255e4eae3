// The event scripts of WSGATE_EVENTS_DIR: every `.js`/`.mjs` file, named `<operation>[.<Module>].<kind>.js`,
// checked at start (a broken file stops the start, naming the file and why) into an EventScripts value that
// can be swapped whole (a reload loads a new one and replaces the old).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { OperationLookup } from '../registry.js';
import type { ModuleRegistry } from '../../records/modules.js';
import { OperationFileError } from './load.js';

export const EVENT_KINDS = ['pre', 'post', 'queued'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** A file of the events folder that cannot be used: the start stops with this message (as for an operation file). */
export class EventFileError extends OperationFileError {
  override name = 'EventFileError';
}

export interface EventScriptFile {
  /** The file's name in the folder, e.g. `create.Contacts.post.js`. */
  script: string;
  /** Its absolute path. */
  file: string;
  /** A file: URL that changes with the file's modification time, so that a reload imports the new text. */
  url: string;
  kind: EventKind;
  /** The operation as the registry spells it. */
  operation: string;
  /** The module in lower case (matched case-insensitively); undefined: every module. */
  module: string | undefined;
}

type ByKind = Record<EventKind, EventScriptFile[]>;

/** The scripts per operation (lower-cased name) and kind; an operation without scripts is not in it. */
export class EventScripts {
  static readonly none = new EventScripts('', []);
  private readonly byOperation = new Map<string, ByKind>();

  constructor(
    readonly dir: string,
    readonly list: EventScriptFile[],
  ) {
    for (const s of list) {
      const key = s.operation.toLowerCase();
      let kinds = this.byOperation.get(key);
      if (!kinds) this.byOperation.set(key, (kinds = { pre: [], post: [], queued: [] }));
      kinds[s.kind].push(s);
    }
    // Scripts for every module run before the ones for a module; otherwise in file-name order.
    for (const kinds of this.byOperation.values()) {
      for (const k of EVENT_KINDS) kinds[k].sort((a, b) => Number(a.module !== undefined) - Number(b.module !== undefined) || a.script.localeCompare(b.script));
    }
  }

  /** The operation's scripts, or undefined when it has none (the cost of an operation without scripts). */
  of(operation: string): ByKind | undefined {
    return this.byOperation.size === 0 ? undefined : this.byOperation.get(operation.toLowerCase());
  }
}

/** The scripts of `kinds[kind]` for a call about `module` (undefined: scripts for every module only). */
export const matching = (scripts: EventScriptFile[], module: string | undefined) =>
  scripts.filter((s) => s.module === undefined || s.module === module?.toLowerCase());

const NAME = /^([A-Za-z][A-Za-z0-9_]*)(?:\.([A-Za-z][A-Za-z0-9_]*))?\.([a-z]+)\.(m?js)$/;

/** The file's name in its parts, checked against the registry and the modules. */
function parse(dir: string, script: string, registry: OperationLookup, modules: ModuleRegistry): EventScriptFile {
  const file = path.join(dir, script);
  const fail = (why: string) => new EventFileError(`${file}: ${why}`);
  const m = NAME.exec(script);
  if (!m) throw fail('the name must be <operation>[.<Module>].<pre|post|queued>.js (or .mjs)');
  const [, operation, module, kind] = m as unknown as [string, string, string | undefined, string];
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) throw fail(`"${kind}" is not a kind of event script (pre, post or queued)`);
  const op = registry.get(operation);
  if (!op || op.internal) throw fail(`there is no operation ${operation}`);
  if (op.prelogin) throw fail(`${op.name} runs before login: it has no user to run event scripts as`);
  if (module !== undefined && !modules.find(module)) throw fail(`there is no module ${module} (WSGATE_MODULES_FILE)`);
  const mtime = fs.statSync(file).mtimeMs;
  return {
    script,
    file,
    url: `${pathToFileURL(file).href}?v=${mtime}`,
    kind: kind as EventKind,
    operation: op.name,
    module: module === undefined ? undefined : modules.find(module)!.name.toLowerCase(),
  };
}

/** The default export of an event script file, checked to be a function. */
export async function importEventScript(url: string, file: string): Promise<(event: unknown, ctx: unknown) => unknown> {
  let module: Record<string, unknown>;
  try {
    module = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new EventFileError(`${file}: it cannot be loaded: ${(error as Error).message}`);
  }
  if (typeof module.default !== 'function')
    throw new EventFileError(`${file}: it exports no event script (export default defineEvent(async (event, ctx) => ...))`);
  return module.default as (event: unknown, ctx: unknown) => unknown;
}

/**
 * The scripts of `dir` (none when it does not exist). `importing` (the process that starts) imports each
 * file to check it; threads that only need to know which scripts exist (call and executor workers) pass
 * false. Throws EventFileError naming the file for anything wrong.
 */
export async function loadEvents(dir: string, registry: OperationLookup, modules: ModuleRegistry, importing = true): Promise<EventScripts> {
  if (!fs.existsSync(dir)) return new EventScripts(dir, []);
  const names = fs
    .readdirSync(dir)
    .filter((f) => (f.endsWith('.js') || f.endsWith('.mjs')) && !f.startsWith('.'))
    .sort();
  const list: EventScriptFile[] = [];
  for (const name of names) {
    const s = parse(dir, name, registry, modules);
    if (importing) await importEventScript(s.url, s.file);
    list.push(s);
  }
  return new EventScripts(dir, list);
}
