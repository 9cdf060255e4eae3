// `wsgate schedule list|add|remove`: the recurring operations of WSGATE_SCHEDULE_FILE.
import type { Config } from '../config.js';
import { forgetSchedule, scheduleStates } from '../queue/schedules.js';
import { checkEntry, readSchedules, writeSchedules, type ScheduleEntry } from '../schedule/file.js';
import { tickerOf } from '../schedule/ticks.js';
import { sanitize } from '../protocol/sanitize.js';
import { Refusal, UsageError, withRuntime, type Verb } from './verb.js';

function parseParams(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  try {
    const parsed = JSON.parse(String(value));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new UsageError("--params must be a JSON object of the operation's parameters");
}

function optionalInt(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(String(value))) throw new UsageError(`${flag} must be a whole number`);
  return Number(value);
}

const describeEntry = (e: ScheduleEntry, last: Date | undefined, next: Date | null) =>
  `${e.name}  ${e.cron}${e.timezone !== 'UTC' ? ` (${e.timezone})` : ''}  ${e.operation} as ${e.user} on ${e.queue}` +
  `  missed=${e.missed}  last=${last ? last.toISOString() : '-'}  next=${next ? next.toISOString() : '-'}`;

async function list(values: Record<string, unknown>, config: Config): Promise<number> {
  const entries = readSchedules(config.scheduleFile);
  return withRuntime(config, async (rt) => {
    const states = await scheduleStates(rt.db);
    const now = rt.services.clock.now();
    const rows = entries.map((e) => ({ ...e, lastTick: states.get(e.name)?.lastTick ?? null, nextTick: tickerOf(e.cron, e.timezone).next(now) }));
    if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (rows.length === 0) process.stdout.write(`No recurring operations (${config.scheduleFile} holds none).\n`);
    else for (const r of rows) process.stdout.write(`${describeEntry(r, r.lastTick ?? undefined, r.nextTick)}\n`);
    return 0;
  });
}

async function add(values: Record<string, unknown>, positionals: string[], config: Config): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('schedule add needs exactly one NAME');
  const entries = readSchedules(config.scheduleFile);
  const entry = (() => {
    try {
      return checkEntry({
        name: positionals[0],
        cron: values.cron,
        timezone: values.timezone,
        operation: values.operation,
        params: parseParams(values.params),
        user: values.user,
        queue: values.queue,
        priority: optionalInt('--priority', values.priority),
        missed: values.missed,
        graceSeconds: optionalInt('--grace', values.grace),
        catchUpLimit: optionalInt('--catch-up-limit', values['catch-up-limit']),
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  })();
  if (entries.some((e) => e.name === entry.name)) throw new Refusal(`schedule ${entry.name} exists already (remove it first)`);
  await withRuntime(config, async (rt) => {
    const op = rt.registry.get(entry.operation);
    if (!op) throw new Refusal(`operation ${entry.operation} is not registered`);
    if (!op.queueable) throw new Refusal(`operation ${op.name} cannot be queued`);
    entry.operation = op.name;
    if (!(await rt.db.prisma.user.findUnique({ where: { userName: entry.user }, select: { id: true } })))
      throw new Refusal(`user ${entry.user} does not exist`);
    try {
      sanitize(op, entry.params);
    } catch (error) {
      throw new Refusal((error as Error).message);
    }
  });
  writeSchedules(config.scheduleFile, [...entries, entry]);
  process.stdout.write(
    `Added schedule ${entry.name} (${entry.cron}) to ${config.scheduleFile}; executors queue it from their next pass on (running ones: after a restart).\n`,
  );
  return 0;
}

async function remove(positionals: string[], config: Config): Promise<number> {
  if (positionals.length !== 1) throw new UsageError('schedule remove needs exactly one NAME');
  const entries = readSchedules(config.scheduleFile);
  const kept = entries.filter((e) => e.name !== positionals[0]);
  if (kept.length === entries.length) throw new Refusal(`no schedule named ${positionals[0]} in ${config.scheduleFile}`);
  writeSchedules(config.scheduleFile, kept);
  await withRuntime(config, (rt) => forgetSchedule(rt.db, positionals[0]!));
  process.stdout.write(`Removed schedule ${positionals[0]}; entries it queued already stay queued.\n`);
  return 0;
}

export const scheduleVerbs: Record<string, Verb> = {
  'schedule list': {
    usage: 'wsgate schedule list [--json]',
    help: 'Lists the recurring operations of WSGATE_SCHEDULE_FILE with the last tick queued and the next one.',
    options: { json: { type: 'boolean' } },
    run: ({ values }, config) => list(values, config),
  },
  'schedule add': {
    usage:
      'wsgate schedule add NAME --cron EXPR --operation OP --user USER [--params JSON] [--queue Q] [--priority N] [--timezone TZ] [--missed skip|catch-up] [--grace S] [--catch-up-limit N]',
    help: `Adds a recurring operation: on each tick of the node-cron expression (five fields, or six with seconds
first; read in --timezone, default UTC) one entry of OP with --params is queued as USER, exactly once however
many executors run. Ticks missed while no executor ran: --missed skip (default) queues only a tick found within
--grace seconds (300) of its time; catch-up queues each missed one (the newest --catch-up-limit, 24).`,
    options: {
      cron: { type: 'string' },
      operation: { type: 'string' },
      user: { type: 'string' },
      params: { type: 'string' },
      queue: { type: 'string' },
      priority: { type: 'string' },
      timezone: { type: 'string' },
      missed: { type: 'string' },
      grace: { type: 'string' },
      'catch-up-limit': { type: 'string' },
    },
    run: ({ values, positionals }, config) => add(values, positionals, config),
  },
  'schedule remove': {
    usage: 'wsgate schedule remove NAME',
    help: 'Removes a recurring operation from WSGATE_SCHEDULE_FILE (entries it queued already stay queued).',
    run: ({ positionals }, config) => remove(positionals, config),
  },
};
