// `wsgate queue list|pause|resume|limit`: the controls every executor applies to a named queue.
import { isQueueName, type Config } from '../config.js';
import { pauseQueue, readControls, resumeQueue, setLimits, type Limits } from '../queue/controls.js';
import { queueCounts } from '../queue/status.js';
import { queueNames } from '../queue/depth.js';
import { UsageError, withRuntime, type Verb } from './verb.js';

function oneQueue(verb: string, positionals: string[]): string {
  const [name] = positionals;
  if (!name || positionals.length !== 1) throw new UsageError(`${verb} needs exactly one QUEUE`);
  if (!isQueueName(name)) throw new UsageError(`${JSON.stringify(name)} is not a queue name (letters, digits, _ . -, up to 64 characters)`);
  return name;
}

/** A cap: a positive whole number, or `none` to lift it. */
function cap(flag: string, value: unknown): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  if (!/^\d+$/.test(String(value)) || Number(value) < 1 || Number(value) >= 2 ** 31) throw new UsageError(`${flag} must be a whole number from 1, or none`);
  return Number(value);
}

function limitsOf(values: Record<string, unknown>): Limits {
  const limits: Limits = {};
  const running = cap('--running', values.running);
  if (running !== undefined) limits.maxRunning = running;
  const starts = cap('--starts', values.starts);
  const per = cap('--per', values.per);
  if (starts === null) {
    limits.maxStarts = null;
    limits.perSeconds = null;
  } else if (starts !== undefined) {
    if (per === undefined || per === null) throw new UsageError('--starts N needs --per SECONDS (the window it counts in)');
    limits.maxStarts = starts;
    limits.perSeconds = per;
  } else if (per !== undefined) throw new UsageError('--per goes with --starts');
  if (Object.keys(limits).length === 0) throw new UsageError('give --running and/or --starts with --per (none lifts a cap)');
  return limits;
}

const describeLimits = (c: { maxRunning: number | null; maxStarts: number | null; perSeconds: number | null }) =>
  [c.maxRunning !== null ? `at most ${c.maxRunning} running` : null, c.maxStarts !== null ? `at most ${c.maxStarts} starts per ${c.perSeconds} s` : null]
    .filter(Boolean)
    .join(', ') || 'no limits';

export const queueVerbs: Record<string, Verb> = {
  'queue list': {
    usage: 'wsgate queue list [--json]',
    help: 'The named queues (those with entries or controls): their counts, whether paused, and their limits.',
    options: { json: { type: 'boolean' } },
    run: ({ values }, config: Config) =>
      withRuntime(config, async (rt) => {
        const controls = await readControls(rt.db);
        const names = await queueNames(rt.db);
        const all = [...new Set([...names, ...controls.keys()])].sort();
        const now = rt.services.clock.now();
        const rows = [];
        for (const name of all) {
          const c = controls.get(name);
          rows.push({
            queue: name,
            paused: Boolean(c?.pausedAt),
            maxRunning: c?.maxRunning ?? null,
            maxStarts: c?.maxStarts ?? null,
            perSeconds: c?.perSeconds ?? null,
            ...(await queueCounts(rt.db, now, [name])),
          });
        }
        if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
        else if (rows.length === 0) process.stdout.write('No queues yet.\n');
        else {
          for (const r of rows) {
            process.stdout.write(
              `${r.queue}${r.paused ? ' (paused)' : ''}: waiting=${r.waiting} delayed=${r.delayed} running=${r.running} failed=${r.failed} done-unread=${r.done}; ${describeLimits(r)}\n`,
            );
          }
        }
        return 0;
      }),
  },
  'queue pause': {
    usage: 'wsgate queue pause QUEUE',
    help: 'No executor starts entries of QUEUE (within a second) until it is resumed; running ones finish, submits are still accepted.',
    run: ({ positionals }, config) =>
      withRuntime(config, async (rt) => {
        const name = oneQueue('queue pause', positionals);
        await pauseQueue(rt.db, name, rt.services.clock.now());
        process.stdout.write(`Queue ${name} paused: its entries wait until "wsgate queue resume ${name}".\n`);
        return 0;
      }),
  },
  'queue resume': {
    usage: 'wsgate queue resume QUEUE',
    help: 'Executors start entries of QUEUE again.',
    run: ({ positionals }, config) =>
      withRuntime(config, async (rt) => {
        const name = oneQueue('queue resume', positionals);
        await resumeQueue(rt.db, name, rt.services.clock.now());
        process.stdout.write(`Queue ${name} resumed.\n`);
        return 0;
      }),
  },
  'queue limit': {
    usage: 'wsgate queue limit QUEUE [--running N|none] [--starts N --per SECONDS | --starts none]',
    help: `Caps QUEUE across all executors: --running, entries running at once; --starts per --per seconds, entries
started in each window (a fixed window from its first start). "none" lifts a cap. Entries held back wait for
the executors' next poll.`,
    options: { running: { type: 'string' }, starts: { type: 'string' }, per: { type: 'string' } },
    run: ({ values, positionals }, config) => {
      const name = oneQueue('queue limit', positionals);
      const limits = limitsOf(values);
      return withRuntime(config, async (rt) => {
        await setLimits(rt.db, name, limits, rt.services.clock.now());
        const c = (await readControls(rt.db)).get(name)!;
        process.stdout.write(`Queue ${name}: ${describeLimits(c)}.\n`);
        return 0;
      });
    },
  },
};
