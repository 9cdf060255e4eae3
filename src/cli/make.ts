// `wsgate make:operation NAME [--queued]`, `make:job NAME` and `make:event OPERATION[.MODULE].pre|post|queued`: write a
// commented file that works as it is into the operations or events folder, never
// over an existing one, and print its path.
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { operations } from '../operations/registry.js';
import { Refusal, UsageError, type Verb } from './verb.js';
import { eventTemplate, operationTemplate, type EventKind } from './templates.js';

const builtIn = new Set(operations.map((o) => o.name.toLowerCase()));

/** `SendWelcomeEmail`, `send-welcome-email`, `send_welcome_email` or `send welcome email`: sendWelcomeEmail. */
export function operationNameOf(given: string): string {
  const words = given
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  const name = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  if (!/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name)) {
    throw new UsageError(`"${given}" makes no operation name: use letters and digits, starting with a letter (SendWelcomeEmail)`);
  }
  if (builtIn.has(name.toLowerCase())) throw new Refusal(`${name} is the name of a built-in operation: choose another`);
  return name;
}

/** Writes `text` to `file` unless it exists (refused), creating its folder. */
function writeNew(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.writeFileSync(file, text, { flag: 'wx' });
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') throw new Refusal(`${file} exists: nothing written (remove it or choose another name)`);
    throw error;
  }
}

/** WSGATE_EVENTS_DIR (`./events`), the folder of the event scripts. */
function eventsDirOf(config: Config): string {
  const configured = (config as Config & { eventsDir?: string }).eventsDir;
  return configured ?? path.resolve(process.env.WSGATE_EVENTS_DIR || './events');
}

/** Writes the own operation NAME.mjs into the operations folder and prints its path. */
function makeOperation(given: string, config: Config, queued: boolean): number {
  const name = operationNameOf(given);
  const file = path.join(config.operationsDir, `${name}.mjs`);
  writeNew(file, operationTemplate(name, { queued }));
  process.stdout.write(`${file}\n`);
  return 0;
}

export const makeVerbs: Record<string, Verb> = {
  'make:operation': {
    usage: 'wsgate make:operation NAME [--queued]',
    help: `Writes NAME.mjs into WSGATE_OPERATIONS_DIR (./operations): an own operation that works as it is (it answers
at once with what it was given), commented, to be edited. NAME is turned into an operation name
(SendWelcomeEmail, send-welcome-email: sendWelcomeEmail). --queued: every call is deferred (answered with an
operationTrackingID). An existing file is never overwritten. Restart wsgate serve or send it SIGHUP to load it.`,
    options: { queued: { type: 'boolean' } },
    async run({ values, positionals }, config) {
      if (positionals.length !== 1) throw new UsageError('give one operation name');
      return makeOperation(positionals[0]!, config, values.queued === true);
    },
  },
  'make:job': {
    usage: 'wsgate make:job NAME',
    help: `dframework's verb: make:operation NAME --queued. Writes NAME.mjs into WSGATE_OPERATIONS_DIR (./operations): an own
operation every call of which is deferred (a job: answered with an operationTrackingID, run by the executor
in a worker thread, its result read once), commented, to be edited. An existing file is never overwritten.
Restart wsgate serve or send it SIGHUP to load it.`,
    async run({ positionals }, config) {
      if (positionals.length !== 1) throw new UsageError('give one job name');
      return makeOperation(positionals[0]!, config, true);
    },
  },
  'make:event': {
    usage: 'wsgate make:event OPERATION[.MODULE].pre|post|queued',
    help: `Writes an event script into WSGATE_EVENTS_DIR (./events), named after what it hooks: create.Contacts.post
runs after every create of a Contacts record (pre: before the operation, and may change its parameters or
refuse the call; post: after, and may change its result; queued: later, in the executor, with a snapshot of
the call). The script works as it is (it logs one line and changes nothing), commented, to be edited. An
existing file is never overwritten.`,
    async run({ positionals }, config) {
      if (positionals.length !== 1) throw new UsageError('give one event, such as create.Contacts.post');
      const match = /^([A-Za-z][A-Za-z0-9_]{0,63})(?:\.([A-Za-z][A-Za-z0-9_]{0,63}))?\.(pre|post|queued)$/.exec(positionals[0]!);
      if (!match) throw new UsageError(`"${positionals[0]}" is no event: write OPERATION[.MODULE].pre|post|queued (create.Contacts.post)`);
      const [, operation, module, kind] = match as unknown as [string, string, string | undefined, EventKind];
      const file = path.join(eventsDirOf(config), `${positionals[0]}.mjs`);
      writeNew(file, eventTemplate(operation, module, kind));
      process.stdout.write(`${file}\n`);
      return 0;
    },
  },
};
