// The schedule file (WSGATE_SCHEDULE_FILE): the deployment's recurring operations, as JSON:
//   {"schedules": [{"name": "nightly-report", "cron": "0 3 * * *", "timezone": "Europe/Madrid",
//     "operation": "create", "params": {...}, "user": "admin", "queue": "default", "priority": 500,
//     "missed": "skip", "graceSeconds": 300, "catchUpLimit": 24}]}
// Read and checked as a whole (a broken file names the schedule and the field); written back whole,
// through a temporary file and a rename, so a reader never sees half of it.
import fs from 'node:fs';
import path from 'node:path';
import { cron } from '../cron.js';
import { isQueueName } from '../config.js';

export type MissedPolicy = 'skip' | 'catch-up';

export interface ScheduleEntry {
  /** Unique; letters, digits and `_ . -`. Renaming a schedule starts it afresh. */
  name: string;
  /** A node-cron expression: five fields (minute precision) or six (seconds first). */
  cron: string;
  /** IANA time zone the expression is read in (default UTC). */
  timezone: string;
  operation: string;
  params: Record<string, unknown>;
  /** The user name it runs as (its access rules, its results). */
  user: string;
  queue: string;
  priority: number;
  /**
   * Ticks that passed while no executor ran: `skip` queues only a tick found within graceSeconds of its
   * time; `catch-up` queues each missed tick (the newest catchUpLimit of them).
   */
  missed: MissedPolicy;
  graceSeconds: number;
  catchUpLimit: number;
}

export class ScheduleFileError extends Error {
  override name = 'ScheduleFileError';
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KEYS = new Set(['name', 'cron', 'timezone', 'operation', 'params', 'user', 'queue', 'priority', 'missed', 'graceSeconds', 'catchUpLimit']);
export const DEFAULT_GRACE_SECONDS = 300;
export const DEFAULT_CATCH_UP_LIMIT = 24;
const MAX_CATCH_UP = 1_000;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** One entry as written, checked and with its defaults; throws ScheduleFileError naming the field. */
export function checkEntry(raw: unknown, where = 'schedule'): ScheduleEntry {
  const fail = (why: string) => new ScheduleFileError(`${where}: ${why}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('must be an object');
  const e = raw as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!KEYS.has(key)) throw fail(`unknown field "${key}" (known: ${[...KEYS].join(', ')})`);
  if (typeof e.name !== 'string' || !NAME.test(e.name)) throw fail('name must be 1 to 64 letters, digits or _ . -');
  where = `schedule ${e.name}`;
  const at = (why: string) => new ScheduleFileError(`${where}: ${why}`);
  if (typeof e.cron !== 'string' || !cron().validate(e.cron))
    throw at(`cron ${JSON.stringify(e.cron)} is not a cron expression (five fields, or six with seconds first)`);
  const timezone = e.timezone ?? 'UTC';
  if (typeof timezone !== 'string' || !validTimeZone(timezone))
    throw at(`timezone ${JSON.stringify(e.timezone)} is not an IANA time zone (e.g. Europe/Madrid)`);
  if (typeof e.operation !== 'string' || !e.operation) throw at('operation is required');
  const params = e.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw at("params must be an object of the operation's parameters");
  if (typeof e.user !== 'string' || !e.user) throw at('user (the user name it runs as) is required');
  const queue = e.queue ?? 'default';
  if (typeof queue !== 'string' || !isQueueName(queue)) throw at(`queue ${JSON.stringify(e.queue)} is not a queue name`);
  const priority = e.priority ?? 500;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || Math.abs(priority) >= 2 ** 31) throw at('priority must be an integer');
  const missed = e.missed ?? 'skip';
  if (missed !== 'skip' && missed !== 'catch-up') throw at('missed must be "skip" or "catch-up"');
  const graceSeconds = e.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  if (typeof graceSeconds !== 'number' || !Number.isInteger(graceSeconds) || graceSeconds < 0) throw at('graceSeconds must be a whole number of seconds');
  const catchUpLimit = e.catchUpLimit ?? DEFAULT_CATCH_UP_LIMIT;
  if (typeof catchUpLimit !== 'number' || !Number.isInteger(catchUpLimit) || catchUpLimit < 1 || catchUpLimit > MAX_CATCH_UP) {
    throw at(`catchUpLimit must be a whole number from 1 to ${MAX_CATCH_UP}`);
  }
  return {
    name: e.name,
    cron: e.cron,
    timezone,
    operation: e.operation,
    params: params as Record<string, unknown>,
    user: e.user,
    queue,
    priority,
    missed,
    graceSeconds,
    catchUpLimit,
  };
}

/** The schedules of `file`; none when it does not exist. */
export function readSchedules(file: string): ScheduleEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ScheduleFileError(`${file}: cannot be read: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ScheduleFileError(`${file}: is not JSON: ${(error as Error).message}`);
  }
  const list = (doc as { schedules?: unknown })?.schedules;
  if (!Array.isArray(list)) throw new ScheduleFileError(`${file}: must be {"schedules": [...]}`);
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const entry = checkEntry(raw, `${file}: schedule #${i + 1}`);
    if (seen.has(entry.name)) throw new ScheduleFileError(`${file}: schedule ${entry.name} appears twice`);
    seen.add(entry.name);
    return entry;
  });
}

/** Writes the whole list (defaults left out where they hold), atomically. */
export function writeSchedules(file: string, entries: ScheduleEntry[]): void {
  const compact = entries.map((e) => {
    const out: Record<string, unknown> = { name: e.name, cron: e.cron };
    if (e.timezone !== 'UTC') out.timezone = e.timezone;
    out.operation = e.operation;
    if (Object.keys(e.params).length > 0) out.params = e.params;
    out.user = e.user;
    if (e.queue !== 'default') out.queue = e.queue;
    if (e.priority !== 500) out.priority = e.priority;
    if (e.missed !== 'skip') out.missed = e.missed;
    if (e.graceSeconds !== DEFAULT_GRACE_SECONDS) out.graceSeconds = e.graceSeconds;
    if (e.catchUpLimit !== DEFAULT_CATCH_UP_LIMIT) out.catchUpLimit = e.catchUpLimit;
    return out;
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ schedules: compact }, null, 2)}\n`);
  fs.renameSync(tmp, file);
}
