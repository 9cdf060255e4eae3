// `wsgate top`: the queue's overview in the terminal, redrawn every second (what htop is to processes):
// per queue its entries by state, the oldest waiting age, runs and failures per minute; the executors with
// their busy and free workers and last heartbeat. q or Ctrl-C ends it. When stdout is not a terminal (a
// pipe, a script, a test), it prints one frame and exits.
import type { Verb } from './verb.js';
import { withRuntime, UsageError } from './verb.js';
import type { Runtime } from '../runtime.js';
import { queueDepth, type QueueDepth } from '../queue/depth.js';
import { minuteCounts, minuteOf, type MinuteCount } from '../queue/minutes.js';
import { listExecutors, type ExecutorSeen } from '../queue/executors.js';
import { heartbeatEveryMs } from '../executor/engine.js';

export interface Frame {
  at: Date;
  database: string;
  queues: QueueDepth[];
  minutes: MinuteCount[];
  executors: ExecutorSeen[];
}

async function readFrame(rt: Runtime): Promise<Frame> {
  const at = rt.services.clock.now();
  const [queues, minutes, executors] = [
    await queueDepth(rt.db, at, rt.config.queues),
    await minuteCounts(rt.db, new Date(at.getTime() - 60_000)),
    await listExecutors(rt.db, new Date(at.getTime() - 3 * heartbeatEveryMs(rt.config.leaseSeconds) - 1_000)),
  ];
  return { at, database: rt.db.dialect.name, queues, minutes, executors };
}

const ago = (ms: number) =>
  ms < 1_000 ? 'now' : ms < 120_000 ? `${Math.round(ms / 1000)}s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 3_600_000)}h`;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** One screen of text (no terminal codes). */
export function renderFrame(f: Frame): string {
  const thisMinute = minuteOf(f.at).getTime();
  const lastMinute = thisMinute - 60_000;
  const count = (queue: string, minute: number) => {
    const c = f.minutes.find((m) => m.queue === queue && m.minute.getTime() === minute);
    return c ? { runs: c.runs, failures: c.failures } : { runs: 0, failures: 0 };
  };
  const names = [...new Set([...f.queues.map((q) => q.queue), ...f.minutes.map((m) => m.queue)])].sort();
  const queueRows = [['QUEUE', 'WAITING', 'DELAYED', 'RUNNING', 'FAILED', 'DONE', 'OLDEST', 'RUNS/MIN', 'FAILS/MIN', 'RUNS NOW', 'FAILS NOW']];
  for (const name of names) {
    const q = f.queues.find((x) => x.queue === name) ?? { queue: name, waiting: 0, delayed: 0, running: 0, failed: 0, done: 0, oldestWaitingDueAt: null };
    const last = count(name, lastMinute);
    const now = count(name, thisMinute);
    queueRows.push([
      name,
      ...[q.waiting, q.delayed, q.running, q.failed, q.done].map(String),
      q.oldestWaitingDueAt ? ago(f.at.getTime() - q.oldestWaitingDueAt.getTime()) : '-',
      ...[last.runs, last.failures, now.runs, now.failures].map(String),
    ]);
  }
  const executorRows = [['EXECUTOR', 'HOST', 'PID', 'QUEUES', 'BUSY', 'FREE', 'HEARTBEAT']];
  for (const e of f.executors) {
    executorRows.push([
      e.id.slice(0, 8),
      e.host,
      String(e.pid),
      e.queues.join(','),
      String(e.busyWorkers),
      String(Math.max(0, e.maxWorkers - e.busyWorkers)),
      (ago(f.at.getTime() - e.seenAt.getTime()) + ' ago').replace('now ago', 'now'),
    ]);
  }
  const busy = f.executors.reduce((n, e) => n + e.busyWorkers, 0);
  const max = f.executors.reduce((n, e) => n + e.maxWorkers, 0);
  return [
    `wsgate top  ${f.at.toISOString().replace(/\.\d+Z$/, 'Z')}  ${f.database}  workers busy ${busy} free ${Math.max(0, max - busy)}  (q quits)`,
    '',
    ...table(queueRows),
    '',
    ...(f.executors.length ? table(executorRows) : ['EXECUTOR  (none seen within their last three heartbeats)']),
    '',
    'RUNS/MIN, FAILS/MIN: the last whole minute; NOW: this minute so far. OLDEST: since the oldest waiting entry became due.',
  ].join('\n');
}

const CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export const topVerbs: Record<string, Verb> = {
  top: {
    usage: 'wsgate top [--interval S] [--once]',
    help: `The queue's overview, redrawn every second: per queue its entries (waiting, delayed, running, failed, done
unread), the oldest waiting age, runs and failures per minute; the executors with their busy and free workers
and last heartbeat. q or Ctrl-C quits. When stdout is not a terminal, or with --once, it prints one frame and
exits.
--interval S   seconds between frames (1)
--once         print one frame and exit`,
    options: { interval: { type: 'string' }, once: { type: 'boolean' } },
    async run({ values }, config) {
      const interval = values.interval === undefined ? 1 : Number(values.interval);
      if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) throw new UsageError('--interval: seconds between 0.1 and 3600');
      return withRuntime(config, async (rt) => {
        const out = process.stdout;
        if (values.once || !out.isTTY) {
          out.write(renderFrame(await readFrame(rt)) + '\n');
          return 0;
        }
        return live(rt, interval * 1000);
      });
    },
  },
};

/** Redraws until q, Ctrl-C, SIGINT or SIGTERM. */
async function live(rt: Runtime, everyMs: number): Promise<number> {
  const out = process.stdout;
  const input = process.stdin;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onKey = (key: Buffer) => {
    const k = key.toString();
    if (k === 'q' || k === 'Q' || k === '\u0003' || k === '\u0004') stop();
  };
  if (input.isTTY) {
    input.setRawMode(true);
    input.resume();
    input.on('data', onKey);
  }
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  out.write(HIDE_CURSOR);
  let done = false;
  void stopped.then(() => (done = true));
  try {
    while (!done) {
      let text: string;
      try {
        text = renderFrame(await readFrame(rt));
      } catch (error) {
        text = `wsgate top: cannot read the queue just now (${String((error as Error)?.message ?? error).split('\n')[0]}); trying again`;
      }
      if (done) break;
      out.write(CLEAR + text + '\n');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, everyMs)))]);
      clearTimeout(timer);
    }
  } finally {
    out.write(SHOW_CURSOR);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (input.isTTY) {
      input.off('data', onKey);
      input.setRawMode(false);
      input.pause();
    }
  }
  return 0;
}
