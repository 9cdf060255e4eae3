#!/usr/bin/env node
// The `wsgate` command: thin over the runtime. Each verb has --help.
import { parseArgs } from 'node:util';
import { loadConfig, MAX_QUOTA, parseQueues, settings, type Config, type SettingName } from './config.js';
import { isUniqueViolation } from './db/errors.js';
import { addUser, InvalidUserInput, rotateAccessKey, setDisabled, setQuotaOverrides, userIdOf, type QuotaOverrides } from './auth/users.js';
import { purgeQueued, quotaUsage } from './queue/quota.js';
import { MAX_QUEUEDELAY } from './protocol/cbwsOptions.js';
import { formatSummary, type Engine, type EngineOptions, type PassSummary } from './executor/engine.js';
import { purgeExpired } from './executor/maintenance.js';
import { flushFailed, forgetFailed, listFailed, pruneFailed, retryFailed } from './queue/failed.js';
import { liveQueues, liveSince, workerCounts } from './queue/executors.js';
import { queueCounts, queuedByQueue } from './queue/status.js';
import { loadRegistry } from './operations/registry.js';
import { engineOf, ensureAdmin, keepServingOnUnhandledRejection, reloadOperations, retentionOf, syncIndexes, type Runtime } from './runtime.js';
import { topVerbs } from './cli/top.js';
import { openCliRuntime, Refusal, UsageError, withRuntime, type Verb } from './cli/verb.js';
import { flagHelp, flagOptions, flagUsage, withFlags } from './cli/flags.js';
import { configVerbs } from './cli/config.js';
import { report, SettingError } from './cli/report.js';
import { versionVerbs } from './cli/version.js';
import { scheduleVerbs } from './cli/schedule.js';
import { queueVerbs } from './cli/queue.js';
import { tokenVerbs } from './cli/tokens.js';
import { runVerbs } from './cli/run.js';
import { makeVerbs } from './cli/make.js';
import { idsAsPositionals } from './cli/ids.js';
import { holdYoungGeneration } from './young-generation.js';
import { favourMemory } from './heap-policy.js';

/** The one positional NAME of a `user` verb. */
function oneUserName(verb: string, positionals: string[]): string {
  const [userName] = positionals;
  if (!userName || positionals.length !== 1) throw new UsageError(`${verb} needs exactly one NAME`);
  return userName;
}

const noUser = (userName: string) => new Refusal(`no user ${userName}`);

/** A quota option: a whole number from 0 to `max`, or "default" (null: the setting holds again). */
function quotaOption(flag: string, value: unknown, max: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n > max) {
    throw new UsageError(`${flag} must be a whole number from 0 to ${max}, or "default", got "${String(value)}"`);
  }
  return n;
}

/** The settings `execute` and `work` take flags for (`work` also --sleep). */
const EXECUTOR_FLAGS: SettingName[] = ['queues', 'maxWorkers', 'timeoutSeconds', 'workerMemoryMb', 'tries', 'backoff'];
const WORK_FLAGS: SettingName[] = [...EXECUTOR_FLAGS, 'sleepSeconds'];

function cliNumber(flag: string, value: unknown, integer = false, min = 0): number {
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be ${integer ? 'an integer' : 'a number'} of at least ${min}, got "${String(value)}"`);
  }
  return n;
}

function queuesOption(value: unknown): string[] {
  try {
    return parseQueues(String(value), '--queue');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Runs an engine over the runtime until `run` ends: SIGTERM/SIGINT stop it gracefully, its summary is
 * printed, and it is closed whatever happens.
 */
async function withEngine(
  config: Config,
  overrides: Partial<EngineOptions>,
  name: string,
  run: (engine: Engine, rt: Runtime) => Promise<PassSummary>,
): Promise<number> {
  return withRuntime(
    config,
    async (rt) => {
      const engine = engineOf(rt, overrides);
      const stop = onStopSignal(() => engine.stop());
      try {
        process.stdout.write(formatSummary(await run(engine, rt), name) + '\n');
        return 0;
      } finally {
        stop();
        await engine.close();
      }
    },
    { models: false },
  );
}

/**
 * The ids asked for that were not in the failed store (unknown, or not failed: queued, running, done),
 * each named on stderr; exit code 2 when there is any, 0 otherwise.
 */
function notInFailedStore(asked: string[] | null, handled: string[]): number {
  const missing = (asked ?? []).filter((id) => !handled.includes(id));
  for (const id of missing) process.stderr.write(`wsgate: ${id}: no such entry in the failed store (wsgate failed lists them)\n`);
  return missing.length ? 2 : 0;
}

/** SIGTERM/SIGINT run `stop` (once); the returned function removes the handlers. */
function onStopSignal(stop: () => Promise<void>): () => void {
  const handler = () => void stop();
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

const verbs: Record<string, Verb> = {
  serve: {
    usage: 'wsgate serve',
    help: `Serves the coreBOS web-service protocol on PORT (${settings.port.default}) at /webservice.php, creating and
migrating the database first (and bringing the field indexes in line with the modules file), and the admin user on first start (its access key is printed once when
generated). Runs the executor in-process on WSGATE_EXECUTOR_SCHEDULE (${settings.executorSchedule.default}; "off"
to leave execution to cron or other processes). SIGTERM/SIGINT stop it. SIGHUP reloads the operations folder
(a folder that does not load keeps the operations in force, and the log says why).`,
    async run(_args, config) {
      favourMemory(config.optimizeForSize);
      const letGrow = holdYoungGeneration();
      const rt = await openCliRuntime(config, { models: false });
      keepServingOnUnhandledRejection(rt.log);
      await syncIndexes(rt);
      const generated = await ensureAdmin(rt);
      // On stderr: stdout is the JSON log stream, which log collectors keep.
      if (generated) process.stderr.write(`Created user admin. Its access key (shown only this once): ${generated}\n`);
      // Loaded here: the HTTP stack is a third of a start, and only serve (and work's metrics) need it.
      const { startServer } = await import('./server.js');
      const server = await startServer(rt);
      rt.log.info({ url: `${server.url}/webservice.php`, database: rt.db.dialect.name, executor: config.executorSchedule }, 'wsgate serving');
      const reload = () => void server.reload();
      process.on('SIGHUP', reload);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      process.off('SIGHUP', reload);
      await server.close();
      await rt.close();
      letGrow();
      return 0;
    },
  },
  execute: {
    usage: `wsgate execute ${flagUsage(EXECUTOR_FLAGS)}`,
    help: `Runs every due queued operation once, purges expired results and old failed entries, prints one summary
line and exits (what the OS cron runs as cron/executeOperationsFromQueue). Several may run at once (overlapping
cron runs; on PostgreSQL, several hosts): each operation is claimed by one of them with a lease that its
heartbeat renews while it runs; one whose executor died is taken again once its lease (WSGATE_LEASE_SECONDS)
has run out. SIGTERM/SIGINT stop it as they stop \`wsgate work\`. Exit code 0 unless the database fails.
${flagHelp(EXECUTOR_FLAGS)}`,
    flags: EXECUTOR_FLAGS,
    async run(_args, config) {
      return withEngine(config, {}, 'executeOperationsFromQueue', async (engine, rt) => {
        const summary = await engine.drain();
        await purgeExpired(rt.db, rt.services.clock.now(), retentionOf(rt));
        return summary;
      });
    },
  },
  work: {
    usage: `wsgate work ${flagUsage(WORK_FLAGS)}\n              [--max-jobs N] [--max-time S] [--stop-when-empty] [--once]`,
    help: `Listens for queued operations and runs them until stopped (the queue listener). An enqueue wakes it at once
(NOTIFY on PostgreSQL; on SQLite only in the process that enqueued, so another process finds work by polling
every --sleep seconds); a delayed operation starts when due. SIGTERM/SIGINT stop claiming, let running
operations finish within WSGATE_SHUTDOWN_GRACE_SECONDS, hand back the rest, print a summary and exit 0.
SIGHUP reloads the operations folder (its workers are replaced as they finish what they run).
${flagHelp(WORK_FLAGS)}
--max-jobs N        stop after N operations
--max-time S        stop after S seconds
--stop-when-empty   stop when nothing is due
--once              run one operation, then stop`,
    flags: WORK_FLAGS,
    options: {
      'max-jobs': { type: 'string' },
      'max-time': { type: 'string' },
      'stop-when-empty': { type: 'boolean' },
      once: { type: 'boolean' },
    },
    async run({ values }, config) {
      const overrides: Partial<EngineOptions> = {};
      if (values['max-jobs'] !== undefined) overrides.maxJobs = cliNumber('--max-jobs', values['max-jobs'], true);
      if (values['max-time'] !== undefined) overrides.maxTimeSeconds = cliNumber('--max-time', values['max-time']);
      if (values.once) overrides.maxJobs = 1;
      const letGrow = holdYoungGeneration();
      try {
        return await withEngine(config, overrides, 'work', async (engine, rt) => {
          keepServingOnUnhandledRejection(rt.log);
          // issue 14: /metrics, /healthz and /readyz on WSGATE_METRICS_PORT.
          const metrics = config.metricsPort === undefined ? null : await startMetrics(rt, () => engine, config);
          rt.log.info(
            { queues: engine.options.queues, concurrency: engine.options.concurrency, database: rt.db.dialect.name, metrics: metrics?.url },
            'wsgate work listening',
          );
          const reload = () => void reloadOperations(rt, () => engine.recycleWorkers());
          process.on('SIGHUP', reload);
          try {
            return await engine.listen(!!values['stop-when-empty'] || !!values.once);
          } finally {
            process.off('SIGHUP', reload);
            await metrics?.close();
          }
        });
      } finally {
        letGrow();
      }
    },
  },
  status: {
    usage: 'wsgate status [--queue Q1,Q2] [--context X] [--json]',
    help: `Prints the queue's counts (waiting: due now; delayed: due later or waiting for a retry; running; failed;
done: results not read yet) and the executors' workers (max and free, over every executor seen within its
last three heartbeats), and warns about operations queued in a queue that no live executor serves. --context X
counts only the entries submitted with that context label.`,
    options: { queue: { type: 'string' }, context: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }, config) {
      const queues = values.queue === undefined ? undefined : queuesOption(values.queue);
      const context = values.context === undefined ? undefined : String(values.context);
      return withRuntime(config, async (rt) => {
        const now = rt.services.clock.now();
        const counts = await queueCounts(rt.db, now, queues, { context });
        const since = liveSince(now, config.leaseSeconds);
        const workers = await workerCounts(rt.db, since);
        const served = await liveQueues(rt.db.raw, since);
        // Work that waits for an executor that is not there: queued in a queue no live executor serves.
        const unserved = Object.fromEntries([...(await queuedByQueue(rt.db))].filter(([q]) => (!queues || queues.includes(q)) && !served.has(q)));
        const status = {
          ...counts,
          working: counts.running,
          executors: workers.executors,
          max_threads: workers.maxWorkers,
          free_threads: Math.max(0, workers.maxWorkers - workers.busyWorkers),
          unserved,
        };
        if (values.json) process.stdout.write(JSON.stringify(status) + '\n');
        else {
          process.stdout.write(
            `waiting=${status.waiting} delayed=${status.delayed} running=${status.running} failed=${status.failed} done=${status.done}\n` +
              `executors=${status.executors} max_threads=${status.max_threads} free_threads=${status.free_threads}\n`,
          );
          for (const [queue, n] of Object.entries(unserved)) {
            process.stdout.write(`warning: ${n} queued in queue "${queue}", which no live executor serves (wsgate work --queue ${queue})\n`);
          }
        }
        return 0;
      });
    },
  },
  failed: {
    usage: 'wsgate failed [--json]',
    help: "Lists the failed store: operations whose attempts were used up, with their user, their parameters\n(secrets masked), each attempt's error and what the last attempt logged (an own operation's ctx.log lines).",
    options: { json: { type: 'boolean' } },
    async run({ values }, config) {
      return withRuntime(config, async (rt) => {
        const failed = await listFailed(rt.db);
        if (values.json) process.stdout.write(JSON.stringify(failed) + '\n');
        else {
          for (const f of failed) {
            process.stdout.write(
              `${f.operationTrackingID}  ${f.operation}  queue=${f.queue}  user=${f.userName ?? `(deleted, 19x${f.userId})`}  ` +
                `failed=${f.failedAt.toISOString()}  attempts=${f.errors.length}\n` +
                `    params: ${JSON.stringify(f.params)}\n` +
                f.errors.map((e) => `    attempt ${e.attempt} at ${e.at}: ${e.code}: ${e.message}\n`).join(''),
            );
            for (const line of f.output) process.stdout.write(`    ${line}\n`);
          }
          process.stdout.write(`${failed.length} failed\n`);
        }
        return 0;
      });
    },
  },
  retry: {
    usage: 'wsgate retry ID... | all',
    help: "Queues failed operations again, due now, with their attempts counted afresh; the operationTrackingID stays\nthe same, and the caller reads the new run's result with it. An id not in the failed store is named on\nstderr, and the exit code is 2.",
    async run({ positionals }, config) {
      if (positionals.length === 0) throw new UsageError('retry needs ids, or "all"');
      const ids = positionals.length === 1 && positionals[0] === 'all' ? null : positionals;
      return withRuntime(config, async (rt) => {
        const retried = await retryFailed(rt.db, ids, rt.services.clock.now());
        process.stdout.write(`${retried.length} queued again${retried.length ? `: ${retried.join(' ')}` : ''}\n`);
        return notInFailedStore(ids, retried);
      });
    },
  },
  forget: {
    usage: 'wsgate forget ID...',
    help: 'Deletes failed operations from the failed store.',
    async run({ positionals }, config) {
      if (positionals.length === 0) throw new UsageError('forget needs ids');
      return withRuntime(config, async (rt) => {
        const forgotten = await forgetFailed(rt.db, positionals);
        process.stdout.write(`${forgotten.length} forgotten\n`);
        return notInFailedStore(positionals, forgotten);
      });
    },
  },
  flush: {
    usage: 'wsgate flush',
    help: 'Deletes every failed operation from the failed store.',
    async run(_args, config) {
      return withRuntime(config, async (rt) => {
        process.stdout.write(`${await flushFailed(rt.db)} forgotten\n`);
        return 0;
      });
    },
  },
  'prune-failed': {
    usage: 'wsgate prune-failed [--hours N]',
    help: `Deletes failed operations that failed more than N hours ago (default WSGATE_FAILED_RETENTION_HOURS, ${settings.failedRetentionHours.default}).`,
    options: { hours: { type: 'string' } },
    async run({ values }, config) {
      const hours = values.hours === undefined ? config.failedRetentionHours : cliNumber('--hours', values.hours, true);
      return withRuntime(config, async (rt) => {
        const n = await pruneFailed(rt.db, new Date(rt.services.clock.now().getTime() - hours * 3_600_000));
        process.stdout.write(`${n} pruned\n`);
        return 0;
      });
    },
  },
  'user add': {
    usage: 'wsgate user add NAME [--admin] [--access-key KEY] [--password-stdin]',
    help: `Creates a user and prints its access key (generated unless --access-key is given).
--admin             the user is an administrator
--access-key KEY    use this access key (16 characters or more)
--password-stdin    also give the user a password, read from standard input (for the
                    token+password login variant)`,
    options: {
      admin: { type: 'boolean' },
      'access-key': { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    async run({ values, positionals }, config) {
      const [userName] = positionals;
      if (!userName || positionals.length > 1) throw new UsageError('user add needs exactly one NAME');
      let password: string | undefined;
      if (values['password-stdin']) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        password = Buffer.concat(chunks)
          .toString('utf8')
          .replace(/\r?\n$/, '');
        if (!password) throw new UsageError('--password-stdin: standard input was empty');
      }
      return withRuntime(config, async (rt) => {
        try {
          const { id, accessKey } = await addUser(
            rt.db.raw,
            rt.services.secret,
            { userName, isAdmin: !!values.admin, accessKey: values['access-key'] as string | undefined, password },
            rt.services.clock.now(),
          );
          process.stdout.write(`user ${userName} (19x${id}) access key: ${accessKey}\n`);
          return 0;
        } catch (error) {
          if (isUniqueViolation(error)) throw new UsageError(`user ${userName} exists already`);
          if (error instanceof InvalidUserInput) throw new UsageError(error.message);
          throw error;
        }
      });
    },
  },
  'user role': {
    usage: 'wsgate user role NAME admin|user',
    help: `Sets a user's role, which the modules file's access rules grant actions to. Takes effect at the
user's next call, and for operations the user queued earlier when they run.`,
    options: {},
    async run({ positionals }, config) {
      const [userName, role] = positionals;
      if (!userName || positionals.length !== 2 || (role !== 'admin' && role !== 'user')) {
        throw new UsageError('user role needs a NAME and a role: admin or user');
      }
      return withRuntime(config, async (rt) => {
        const changed = await rt.db.prisma.user.updateMany({ where: { userName }, data: { isAdmin: role === 'admin' } });
        if (changed.count !== 1) throw new UsageError(`no user ${userName}`);
        process.stdout.write(`user ${userName} is now ${role}\n`);
        return 0;
      });
    },
  },
  'user disable': {
    usage: 'wsgate user disable NAME',
    help: `Disables a user: it can no longer log in (AUTHENTICATION_REQUIRED, "Given user is inactive"), and its
sessions end at once. What it queued stays queued (\`wsgate purge --user NAME\` removes it), but the executor
does not run it: each such operation is answered ACCESS_DENIED, a result the user can read once enabled again.`,
    async run({ positionals }, config) {
      const userName = oneUserName('user disable', positionals);
      return withRuntime(config, async (rt) => {
        const done = await setDisabled(rt.db.prisma, userName, true, rt.services.clock.now());
        if (!done) throw noUser(userName);
        process.stdout.write(`user ${userName} disabled, ${done.sessionsEnded} sessions ended\n`);
        return 0;
      });
    },
  },
  'user enable': {
    usage: 'wsgate user enable NAME',
    help: 'Enables a disabled user again: it can log in, and the executor runs what it queues.',
    async run({ positionals }, config) {
      const userName = oneUserName('user enable', positionals);
      return withRuntime(config, async (rt) => {
        if (!(await setDisabled(rt.db.prisma, userName, false, rt.services.clock.now()))) throw noUser(userName);
        process.stdout.write(`user ${userName} enabled\n`);
        return 0;
      });
    },
  },
  'user key': {
    usage: 'wsgate user key NAME --rotate',
    help: `--rotate   gives the user a new random access key, printed this once; the old key stops working and
           the user's sessions end at once.`,
    options: { rotate: { type: 'boolean' } },
    async run({ values, positionals }, config) {
      const userName = oneUserName('user key', positionals);
      if (!values.rotate) throw new UsageError('user key needs --rotate (an access key is never shown again)');
      return withRuntime(config, async (rt) => {
        const done = await rotateAccessKey(rt.db.prisma, rt.services.secret, userName);
        if (!done) throw noUser(userName);
        process.stdout.write(`user ${userName} new access key: ${done.accessKey} (${done.sessionsEnded} sessions ended)\n`);
        return 0;
      });
    },
  },
  'user quota': {
    usage: 'wsgate user quota NAME [--queued N] [--bytes N] [--max-delay S]',
    help: `Sets the user's own queue limits, which replace the settings for this user; "default" clears one (the
setting holds again). Prints the limits in force and what the user has queued or running.
--queued N      operations queued or running at once (WSGATE_QUOTA_QUEUED)
--bytes N       bytes of their parameters together (WSGATE_QUOTA_QUEUED_BYTES)
--max-delay S   the longest queuedelay, in seconds (WSGATE_QUOTA_MAX_DELAY_SECONDS)`,
    options: { queued: { type: 'string' }, bytes: { type: 'string' }, 'max-delay': { type: 'string' } },
    async run({ values, positionals }, config) {
      const userName = oneUserName('user quota', positionals);
      const overrides: QuotaOverrides = {
        queued: quotaOption('--queued', values.queued, MAX_QUOTA),
        queuedBytes: quotaOption('--bytes', values.bytes, MAX_QUOTA),
        maxDelaySeconds: quotaOption('--max-delay', values['max-delay'], MAX_QUEUEDELAY),
      };
      return withRuntime(config, async (rt) => {
        const id = await setQuotaOverrides(rt.db.prisma, userName, overrides);
        if (id === null) throw noUser(userName);
        const usage = (await quotaUsage(rt.db, id, rt.services.quota))!;
        const shown = (limit: number, own: number | null) => `${limit}${own === null ? ' (setting)' : ''}`;
        process.stdout.write(
          `user ${userName}: queued=${usage.queued}/${shown(usage.limits.queued, usage.overrides.queued)} ` +
            `bytes=${usage.queuedBytes}/${shown(usage.limits.queuedBytes, usage.overrides.queuedBytes)} ` +
            `max-delay=${shown(usage.limits.maxDelaySeconds, usage.overrides.maxDelaySeconds)}\n`,
        );
        return 0;
      });
    },
  },
  purge: {
    usage: 'wsgate purge --user NAME [--queue Q]',
    help: `Deletes the user's queued operations (not the running ones, nor finished results), of one queue or of
all, and prints how many. Their tracking ids then answer as unknown ones.`,
    options: { user: { type: 'string' }, queue: { type: 'string' } },
    async run({ values, positionals }, config) {
      if (typeof values.user !== 'string' || positionals.length > 0) throw new UsageError('purge needs --user NAME');
      const userName = values.user;
      let queue: string | undefined;
      if (values.queue !== undefined) {
        const queues = queuesOption(values.queue);
        if (queues.length !== 1) throw new UsageError('--queue takes one queue name');
        queue = queues[0];
      }
      return withRuntime(config, async (rt) => {
        const id = await userIdOf(rt.db.prisma, userName);
        if (id === null) throw noUser(userName);
        const n = await purgeQueued(rt.db, id, queue);
        process.stdout.write(`${n} purged\n`);
        return 0;
      });
    },
  },
  operations: {
    usage: 'wsgate operations [--json]',
    help: 'Lists the operations the gateway answers: the built-in ones and the own ones of WSGATE_OPERATIONS_DIR (a broken file is reported and the exit code is 2).',
    options: { json: { type: 'boolean' } },
    async run({ values }, config) {
      const registry = await loadRegistry({ operationsDir: config.operationsDir });
      const rows = registry.list.map((op) => ({
        name: op.name,
        kind: op.own ? 'own' : 'built-in',
        queueable: op.queueable,
        queued: op.queued === true,
        idempotent: op.idempotent === true,
        summary: op.summary,
      }));
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows)
          process.stdout.write(`${r.name.padEnd(28)} ${r.kind.padEnd(8)} ${r.queued ? 'queued' : r.queueable ? 'queueable' : '-'}  ${r.summary}\n`);
      return 0;
    },
  },
  ...configVerbs,
  ...scheduleVerbs,
  ...queueVerbs,
  ...tokenVerbs,
  ...runVerbs,
  ...makeVerbs,
  ...topVerbs,
  ...versionVerbs,
};

function overview(): string {
  return `wsgate: a coreBOS web-service gateway with deferred operations.

Usage:
${Object.values(verbs)
  .map((v) => `  ${v.usage}`)
  .join('\n')}

Run "wsgate VERB --help" for a verb's help; settings come from the environment ("wsgate config").
`;
}

/** /metrics, /healthz and /readyz of `wsgate work`, with the HTTP stack loaded only when they are asked for. */
async function startMetrics(rt: Runtime, engine: () => Engine | null, config: Config) {
  const [{ observabilityOf }, { startMetricsServer }] = await Promise.all([import('./server.js'), import('./http/metrics-server.js')]);
  return startMetricsServer({ ...observabilityOf(rt, engine), port: config.metricsPort!, host: config.host, log: rt.log });
}

/** Verbs of two words (`user add`, `schedule list`). */
const GROUPS = new Set(['user', 'schedule', 'queue']);
/** The verbs whose words are tracking IDs (src/cli/ids.ts); no other verb's words are rearranged. */
const TAKES_IDS = new Set(['forget', 'retry', 'run']);

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v') argv = ['version', ...argv.slice(1)];
  const name = GROUPS.has(argv[0] ?? '') ? `${argv[0]} ${argv[1] ?? ''}`.trim() : (argv[0] ?? '');
  const rest = argv.slice(name.split(' ').length);
  const verb = verbs[name];
  const json = argv.includes('--json');
  if (!verb) {
    const asked = !name || name === '--help' || name === '-h' || name === 'help';
    if (asked) process.stdout.write(overview());
    else if (json) report('', undefined, new UsageError(`unknown verb "${name}"`), true);
    else process.stderr.write(`wsgate: unknown verb "${name}"; the verbs are:\n\n${overview()}`);
    return asked ? 0 : 2;
  }
  const asJson = json && verb.options?.json !== undefined;
  try {
    const flags = verb.flags ?? [];
    const options = { ...flagOptions(flags), ...verb.options, help: { type: 'boolean' as const, short: 'h' } };
    const args = parseArgs({
      args: TAKES_IDS.has(name) ? idsAsPositionals(rest, options) : rest,
      options,
      allowPositionals: true,
    }) as {
      values: Record<string, unknown>;
      positionals: string[];
    };
    if (args.values.help) {
      process.stdout.write(`Usage: ${verb.usage}\n\n${verb.help}\n`);
      return 0;
    }
    let config: Config;
    try {
      config = loadConfig();
    } catch (error) {
      throw new SettingError((error as Error).message);
    }
    return await verb.run(args, withFlags(config, flags, args.values));
  } catch (error) {
    return report(name, verb.usage, error, asJson);
  }
}

// Node 20 ends a process whose event loop empties while this await is pending with exit code 13 and
// prints nothing: say so, so that such an end is never silent.
let finished = false;
process.once('beforeExit', () => {
  if (!finished) process.stderr.write(`wsgate: stopped before the command finished (exit code 13): nothing was left running to finish it\n`);
});
process.exitCode = await main(process.argv.slice(2));
finished = true;
