// Every setting of wsgate, declared once: its environment variable, its CLI flag, the kind of value it takes,
// its default and its help line. The Config type, the flags' usage and help, `wsgate config` and README's
// configuration table (`npm run docs:settings`) all derive from this list.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kinds from './settings/kinds.js';
import { optional, setting, SettingValueError, type Setting, type ValueOf } from './settings/setting.js';

export type { Setting } from './settings/setting.js';
export { isQueueName, parseCorsOrigins, parseQueues } from './settings/kinds.js';

// import.meta.url, not .dirname: the worker bundles rewrite it to this file's (scripts/bundle-workers.mjs).
export const packageRoot = path.resolve(fileURLToPath(import.meta.url), '..', '..', '..');

/** The quotas' limits: whole numbers that fit the per-user override columns (INTEGER); 0 allows nothing. */
export const MAX_QUOTA = 2 ** 31 - 1;

/**
 * Query limits stay below what the databases take: SQLite binds at most 32,766 values per statement (a
 * condition binds up to 3) and matches like patterns of at most 50,000 bytes (4 per character).
 */
const QUERY_BOUND = 10_000;

const server = {
  port: setting({
    env: 'PORT',
    kind: kinds.wholeNumber(0, 65535),
    default: '8080',
    help: 'HTTP port of `wsgate serve` (0 picks a free one).',
  }),
  host: setting({
    env: 'WSGATE_HOST',
    kind: kinds.text,
    default: '0.0.0.0',
    help: 'Address `wsgate serve` (and the metrics server of `wsgate work`) listens on.',
  }),
  bodyLimit: setting({
    env: 'WSGATE_BODY_LIMIT',
    kind: kinds.byteSize,
    default: '1mb',
    help: 'Largest request body accepted (HTTP 413 with an `INVALID_PARAMETER` envelope beyond).',
  }),
  corsOrigins: setting({
    env: 'WSGATE_CORS_ORIGINS',
    kind: kinds.originList,
    default: '',
    shown: 'none (no CORS headers)',
    help: 'Origins browser clients may call from, comma-separated and exact (`https://app.example.com`), or `*` for any; they get CORS headers and answered preflights.',
  }),
  trustProxy: setting({
    env: 'WSGATE_TRUST_PROXY',
    kind: kinds.onOff,
    default: 'off',
    help: "`on`: a reverse proxy in front terminates TLS, and its `X-Forwarded-Proto: https` marks the dashboard's session cookie `Secure` (set it only when every request comes through that proxy).",
  }),
  callWorkers: setting({
    env: 'WSGATE_CALL_WORKERS',
    kind: kinds.wholeNumber(0),
    default: '2',
    help: "Worker threads of `wsgate serve` that run synchronous calls of operations whose work grows with their input (MassCreate, MassUpdate, MassDelete, MassRetrieve; on SQLite also query and upsert) and of own operations, each with its own database connection, so that the event loop keeps answering; a pool apart from the executor's (WSGATE_MAX_WORKERS), whose threads start with the first call that needs one (that call waits ~0.3 s for it); 0 runs them on the event loop (only to measure the difference).",
  }),
  callTimeoutSeconds: setting({
    env: 'WSGATE_CALL_TIMEOUT_SECONDS',
    kind: kinds.number('positive'),
    default: '30',
    help: 'Seconds a synchronous call in a call worker may take; then the worker is stopped (its transaction rolled back) and the call answers TIMEOUT.',
  }),
  callAheadMs: setting({
    env: 'WSGATE_CALL_AHEAD_MS',
    kind: kinds.wholeNumber(0),
    default: '2',
    help: "When every call worker is busy, one more call may wait in a worker's own line behind its current call, if that call's operation usually runs in less than this many milliseconds and it has not run as long yet: it then starts without the worker being woken for it (a third more no-op own calls per second on 2 cores). A call that waits behind one that then hangs waits until that one is stopped; 0 never sends a call ahead.",
  }),
};

const storage = {
  databaseUrl: setting({
    env: 'DATABASE_URL',
    kind: kinds.databaseUrl,
    default: 'file:DATA_DIR/wsgate.db',
    help: '`file:PATH` for SQLite (created on first start), or `postgresql://user@host:port/db`.',
  }),
  dataDir: setting({
    env: 'WSGATE_DATA_DIR',
    kind: kinds.file(),
    default: './data',
    help: 'Folder for the SQLite file and the generated secret (a relative path is taken from the working directory).',
  }),
  secret: optional({
    env: 'WSGATE_SECRET',
    kind: kinds.text,
    secret: true,
    unset: 'generated into DATA_DIR/secret.key (mode 0600)',
    help: 'Server secret that encrypts access keys at rest. Every gateway sharing a database needs the same one.',
  }),
  secretFile: optional({
    env: 'WSGATE_SECRET_FILE',
    kind: kinds.file(),
    unset: 'unset',
    help: 'A file holding the server secret (a mounted secret, say), instead of WSGATE_SECRET (setting both is an error); surrounding white space is ignored.',
  }),
  adminAccessKey: optional({
    env: 'WSGATE_ADMIN_ACCESSKEY',
    kind: kinds.text,
    secret: true,
    unset: 'generated, shown once on stderr',
    help: 'Access key given to the `admin` user created on first start.',
  }),
  modulesFile: setting({
    env: 'WSGATE_MODULES_FILE',
    kind: kinds.file(packageRoot),
    default: 'config/modules.json',
    help: 'The modules (entity types) and their fields (a relative path is taken from the package folder, where the sample set ships).',
  }),
  sqliteBusyTimeoutMs: setting({
    env: 'WSGATE_SQLITE_BUSY_TIMEOUT_MS',
    kind: kinds.wholeNumber(0),
    default: '10000',
    help: "SQLite only: how long a statement waits (without blocking the process) for another process's write lock before it fails.",
  }),
  statementTimeoutMs: setting({
    env: 'WSGATE_STATEMENT_TIMEOUT_MS',
    kind: kinds.wholeNumber(1),
    default: '5000',
    help: 'How long one database statement may run before it is stopped (PostgreSQL `statement_timeout`; on SQLite checked per row scanned); the call answers STATEMENT_TIMEOUT.',
  }),
};

const executor = {
  executorSchedule: setting({
    env: 'WSGATE_EXECUTOR_SCHEDULE',
    kind: kinds.cronOrOff,
    default: '*/10 * * * * *',
    help: 'node-cron expression (with seconds) on which the in-process executor of `wsgate serve` looks for due operations (enqueues in the process, and NOTIFY on PostgreSQL, wake it at once); `off`: no executor in `serve`.',
  }),
  queues: setting({
    env: 'WSGATE_QUEUES',
    kind: kinds.queueList,
    default: 'default',
    flag: { name: 'queue', arg: 'Q1,Q2' },
    help: 'Named queues the executors take work from, comma-separated, in priority order: a later one is served only when the earlier ones have nothing due.',
  }),
  maxWorkers: setting({
    env: 'WSGATE_MAX_WORKERS',
    kind: kinds.wholeNumber(1),
    default: '4',
    flag: { name: 'concurrency', arg: 'N' },
    help: 'Operations an executor runs at once, each in a worker thread of its pool; beyond that, due work waits in the database.',
  }),
  timeoutSeconds: setting({
    env: 'WSGATE_TIMEOUT_SECONDS',
    kind: kinds.number('positive'),
    default: '60',
    flag: { name: 'timeout', arg: 'S' },
    help: 'Seconds an operation may run; then its worker thread is terminated and replaced, and the attempt fails with TIMEOUT.',
  }),
  workerMemoryMb: setting({
    env: 'WSGATE_WORKER_MEMORY_MB',
    kind: kinds.wholeNumber(1),
    default: '128',
    flag: { name: 'memory', arg: 'MB' },
    help: 'Heap (MB) a worker thread may use (its old generation; the young one is 4 MB, 2 under `wsgate serve` on Node.js 20 and 22: WSGATE_OPTIMIZE_FOR_SIZE); a worker that needs more dies, its attempt fails and it is replaced; one near the limit is replaced between batches.',
  }),
  optimizeForSize: setting({
    env: 'WSGATE_OPTIMIZE_FOR_SIZE',
    kind: kinds.onOff,
    default: 'on',
    help: "`wsgate serve` asks V8 to favour memory over speed (its `--optimize-for-size`, set as it starts, for the main thread and every worker thread): under the sustained bench ~15% less resident memory for ~10% more CPU per operation (BENCHMARKS.md, sixteenth stop). `off`: V8's default. `wsgate work` keeps V8's default.",
  }),
  workerIdleSeconds: setting({
    env: 'WSGATE_WORKER_IDLE_SECONDS',
    kind: kinds.wholeNumber(0),
    default: '0',
    help: 'Seconds an executor worker thread may stay idle before it ends, all but the last one used (each idle thread holds ~15 MB); they start again when work comes, which the operations waiting for them feel (0.1-2 s a thread). 0: they never end.',
  }),
  tries: setting({
    env: 'WSGATE_TRIES',
    kind: kinds.wholeNumber(1),
    default: '1',
    flag: { name: 'tries', arg: 'N' },
    help: 'Attempts of an operation that fails for an infrastructure reason (TIMEOUT, worker death, INTERNAL_SERVER_ERROR) before it goes to the failed store; protocol errors are final at once.',
  }),
  backoff: setting({
    env: 'WSGATE_BACKOFF',
    kind: kinds.backoff,
    default: '0',
    flag: { name: 'backoff', arg: 'S' },
    help: 'Seconds before a retry: `10`, a list `10,60,300` (one per retry, the last repeating), or `exponential[:BASE]` (BASE, 2·BASE, 4·BASE, ... at most an hour).',
  }),
  sleepSeconds: setting({
    env: 'WSGATE_SLEEP_SECONDS',
    kind: kinds.number('positive'),
    default: '3',
    flag: { name: 'sleep', arg: 'S' },
    help: 'How often an idle `wsgate work` looks for due operations when nothing wakes it sooner.',
  }),
  leaseSeconds: setting({
    env: 'WSGATE_LEASE_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '30',
    help: "Lease of a claimed operation, renewed by its executor's heartbeat while it runs; an executor that died loses its operations to another one after this long.",
  }),
  claimBatch: setting({
    env: 'WSGATE_CLAIM_BATCH',
    kind: kinds.wholeNumber(1),
    default: '20',
    help: "Operations one claim reserves per free worker (one round trip; a worker's results commit together).",
  }),
  claimGatherMs: setting({
    env: 'WSGATE_CLAIM_GATHER_MS',
    kind: kinds.wholeNumber(0, 1000),
    default: '50',
    help: 'While operations come 500 a second or faster and the executor keeps up, how long at most a claim waits for more to come since the last one (fewer, larger claims and commits); 0: claim at once.',
  }),
  graceSeconds: setting({
    env: 'WSGATE_SHUTDOWN_GRACE_SECONDS',
    kind: kinds.number('orZero'),
    default: '30',
    help: 'On SIGTERM/SIGINT, how long running operations may finish before they are stopped and handed back.',
  }),
};

const retention = {
  failedRetentionHours: setting({
    env: 'WSGATE_FAILED_RETENTION_HOURS',
    kind: kinds.number('positive'),
    default: '168',
    help: 'Entries in the failed store are pruned after this many hours (7 days); `wsgate prune-failed` prunes on demand.',
  }),
  resultTtlSeconds: setting({
    env: 'WSGATE_RESULT_TTL_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '604800',
    help: 'Unread results are purged after this many seconds (7 days).',
  }),
  idempotencyHours: setting({
    env: 'WSGATE_IDEMPOTENCY_HOURS',
    kind: kinds.number('positive'),
    default: '24',
    help: "How long a ClientRequestIdentifier (cbwsOptions) is remembered: a repeat within it answers the first call's answer.",
  }),
};

const sessions = {
  challengeTtlSeconds: setting({
    env: 'WSGATE_CHALLENGE_TTL_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '7200',
    help: 'Lifetime of a getchallenge token; an unexpired token is handed out again (tokens expire on a per-name schedule of this period, at least a minute after they are handed out).',
  }),
  sessionLifetimeSeconds: setting({
    env: 'WSGATE_SESSION_LIFETIME_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '86400',
    help: 'Absolute lifetime of a session (SESSION_EXPIRED after it).',
  }),
  sessionIdleSeconds: setting({
    env: 'WSGATE_SESSION_IDLE_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '1800',
    help: 'A session unused this long is ended (SESSION_LEFT_IDLE).',
  }),
  loginMaxFailures: setting({
    env: 'WSGATE_LOGIN_MAX_FAILURES',
    kind: kinds.wholeNumber(1),
    default: '5',
    help: 'Failed logins for one user name before each further one doubles the wait (1 s, 2 s, 4 s, ...); a success clears them.',
  }),
  loginMaxFailuresPerAddress: setting({
    env: 'WSGATE_LOGIN_MAX_FAILURES_PER_ADDRESS',
    kind: kinds.wholeNumber(0),
    default: '20',
    help: 'Failed logins from one client address (any user names) before the waits start; 0: no limit per address (behind a proxy every client has its address).',
  }),
  loginBackoffMaxSeconds: setting({
    env: 'WSGATE_LOGIN_BACKOFF_MAX_SECONDS',
    kind: kinds.wholeNumber(1),
    default: '300',
    help: 'The longest wait after failed logins; a login tried sooner answers TOO_MANY_LOGIN_ATTEMPTS with the time to retry.',
  }),
  scryptConcurrency: setting({
    env: 'WSGATE_SCRYPT_CONCURRENCY',
    kind: kinds.wholeNumber(1),
    default: '2',
    help: 'Password checks (scrypt, 128 MiB and a few hundred ms each) that run at once; failed logins of any kind run one.',
  }),
  scryptQueue: setting({
    env: 'WSGATE_SCRYPT_QUEUE',
    kind: kinds.wholeNumber(0),
    default: '8',
    help: 'Password checks that may wait for a turn; a login beyond them answers TOO_MANY_LOGIN_ATTEMPTS at once.',
  }),
};

const limits = {
  queryDefaultLimit: setting({
    env: 'WSGATE_QUERY_DEFAULT_LIMIT',
    kind: kinds.wholeNumber(1),
    default: '100',
    help: 'Records a `query` answers when it has no limit clause (coreBOS: 100); at most WSGATE_QUERY_MAX_LIMIT.',
  }),
  queryMaxLimit: setting({
    env: 'WSGATE_QUERY_MAX_LIMIT',
    kind: kinds.wholeNumber(1),
    default: '100',
    help: 'The most records one `query` answers; a larger limit is lowered to it (page with `limit offset, count`).',
  }),
  queryMaxLength: setting({
    env: 'WSGATE_QUERY_MAX_LENGTH',
    kind: kinds.wholeNumber(1),
    default: '100000',
    help: 'The longest `query` text, in characters (QUERY_SYNTAX_ERROR beyond).',
  }),
  queryMaxTerms: setting({
    env: 'WSGATE_QUERY_MAX_TERMS',
    kind: kinds.wholeNumber(1, QUERY_BOUND),
    default: '1000',
    help: 'The most conditions (comparisons, like, in, is null) one `query` may join with and/or.',
  }),
  queryMaxValues: setting({
    env: 'WSGATE_QUERY_MAX_VALUES',
    kind: kinds.wholeNumber(1, QUERY_BOUND),
    default: '1000',
    help: 'The most values one `query` may hold, `in (...)` lists included.',
  }),
  queryMaxPatternLength: setting({
    env: 'WSGATE_QUERY_MAX_PATTERN_LENGTH',
    kind: kinds.wholeNumber(1, QUERY_BOUND),
    default: '1000',
    help: 'The longest `like` pattern, in characters (a long pattern costs time per character of every value it is matched against).',
  }),
  massMaxElements: setting({
    env: 'WSGATE_MASS_MAX_ELEMENTS',
    kind: kinds.wholeNumber(1),
    default: '1000',
    help: 'The most elements of one MassCreate or MassUpdate, and ids of one MassDelete or MassRetrieve (INVALID_PARAMETER beyond).',
  }),
  quotaQueued: setting({
    env: 'WSGATE_QUOTA_QUEUED',
    kind: kinds.wholeNumber(0, MAX_QUOTA),
    default: '10000',
    help: 'Deferred operations a user may have queued or running at once; beyond it a submit is QUOTA_EXCEEDED (`wsgate user quota NAME --queued N` overrides it per user).',
  }),
  quotaQueuedBytes: setting({
    env: 'WSGATE_QUOTA_QUEUED_BYTES',
    kind: kinds.wholeNumber(0, MAX_QUOTA),
    default: '104857600',
    help: "Bytes of parameters (as JSON) a user's queued and running operations may hold together (100 MiB); beyond it a submit is QUOTA_EXCEEDED (`--bytes N` per user).",
  }),
  quotaMaxDelaySeconds: setting({
    env: 'WSGATE_QUOTA_MAX_DELAY_SECONDS',
    kind: kinds.wholeNumber(0, MAX_QUOTA),
    default: '2592000',
    help: 'The longest `queuedelay` a user may ask (30 days); a longer one is INVALID_PARAMETER (`--max-delay S` per user).',
  }),
  priorityCeiling: setting({
    env: 'WSGATE_PRIORITY_CEILING',
    kind: kinds.wholeNumber(-(2 ** 31), 2 ** 31 - 1),
    default: '500',
    help: 'The highest `priority` (cbwsOptions) a user who is not an administrator may ask; a higher one is INVALID_PARAMETER. Administrators may ask any.',
  }),
};

const extensions = {
  operationsDir: setting({
    env: 'WSGATE_OPERATIONS_DIR',
    kind: kinds.file(),
    default: './operations',
    help: "Folder of the deployment's own operations (`.js`/`.mjs` files, each `export default defineOperation({...})`), loaded at start (a relative path is taken from the working directory); a missing folder means none.",
  }),
  eventsDir: setting({
    env: 'WSGATE_EVENTS_DIR',
    kind: kinds.file(),
    default: './events',
    help: 'Folder of event scripts (`<operation>[.<Module>].<pre|post|queued>.js`, each `export default defineEvent(...)`), loaded at start (a relative path is taken from the working directory); a missing folder means none.',
  }),
  eventTimeoutMs: setting({
    env: 'WSGATE_EVENT_TIMEOUT_MS',
    kind: kinds.wholeNumber(1),
    default: '2000',
    help: 'Milliseconds a pre or post event script may run (in an event worker thread); then it is stopped and the call answers TIMEOUT.',
  }),
  scheduleFile: setting({
    env: 'WSGATE_SCHEDULE_FILE',
    kind: kinds.file(),
    default: './schedule.json',
    help: 'The recurring operations (`wsgate schedule list|add|remove` edits it), queued by every executor exactly once per tick; a missing file means none (a relative path is taken from the working directory).',
  }),
};

const outbound = {
  httpAllow: setting({
    env: 'WSGATE_HTTP_ALLOW',
    kind: kinds.hostList,
    default: '',
    shown: 'none (httpRequest and callbacks off)',
    help: 'Hosts httpRequest and callbacks may call, comma-separated: `api.example.com`, `*.example.com`, `*` (any host at a public address), an address or a CIDR (`10.1.2.3`, `10.0.0.0/8`, `::1`). Loopback, private, link-local and metadata addresses are refused unless an address or CIDR entry covers them.',
  }),
  httpMaxBodyBytes: setting({
    env: 'WSGATE_HTTP_MAX_BODY_BYTES',
    kind: kinds.wholeNumber(1),
    default: '65536',
    help: "Bytes of an httpRequest answer's body kept in its result (the rest is cut off, `truncated: true`).",
  }),
  execAllow: optional({
    env: 'WSGATE_EXEC_ALLOW',
    kind: kinds.file(),
    unset: 'none (exec off)',
    help: 'JSON file naming the commands `exec` may run: `{"name": {"executable", "args", "allowArgs", "cwd", "env", "timeout"}}`; read at each run. Without it, exec is off.',
  }),
  execMaxOutputBytes: setting({
    env: 'WSGATE_EXEC_MAX_OUTPUT_BYTES',
    kind: kinds.wholeNumber(1),
    default: '65536',
    help: "Bytes of an exec command's stdout, and of its stderr, kept in its result (the rest is cut off).",
  }),
  callbackSecret: optional({
    env: 'WSGATE_CALLBACK_SECRET',
    kind: kinds.text,
    secret: true,
    unset: 'none (callbacks refused)',
    help: 'Key of the HMAC-SHA256 signature (`X-Wsgate-Signature`) of callback deliveries; without it a call naming `cbwsOptions.callback` is INVALID_PARAMETER.',
  }),
  callbackTries: setting({
    env: 'WSGATE_CALLBACK_TRIES',
    kind: kinds.wholeNumber(1),
    default: '8',
    help: 'Tries of a callback delivery before it is given up (a 2xx answer ends them).',
  }),
  callbackBackoff: setting({
    env: 'WSGATE_CALLBACK_BACKOFF',
    kind: kinds.backoff,
    default: 'exponential:10',
    help: 'Seconds between the tries of a callback delivery, written as WSGATE_BACKOFF (10, 20, 40, ... at most an hour by default).',
  }),
};

const observability = {
  logLevel: setting({
    env: 'WSGATE_LOG_LEVEL',
    kind: kinds.oneOf({
      silent: 'silent',
      fatal: 'fatal',
      error: 'error',
      warn: 'warn',
      info: 'info',
      debug: 'debug',
      trace: 'trace',
    }),
    default: 'info',
    help: 'pino log level; logs are JSON on stdout and never carry parameters, keys or session names.',
  }),
  metricsToken: optional({
    env: 'WSGATE_METRICS_TOKEN',
    kind: kinds.text,
    secret: true,
    unset: 'unset (loopback clients only)',
    help: 'Bearer token that `GET /metrics` asks for (`Authorization: Bearer TOKEN`, 401 without); unset, only clients on this host (loopback) get the metrics (403 for others).',
  }),
  metricsPort: optional({
    env: 'WSGATE_METRICS_PORT',
    kind: kinds.wholeNumber(0, 65535),
    unset: 'unset (none)',
    help: '`wsgate work`: port of a small HTTP server for `/metrics`, `/healthz` and `/readyz` only, on WSGATE_HOST (0 picks a free one); unset, `work` serves none. `serve` answers them on PORT.',
  }),
  metricsCacheSeconds: setting({
    env: 'WSGATE_METRICS_CACHE_SECONDS',
    kind: kinds.number('orZero'),
    default: '10',
    help: 'The queue gauges of `/metrics` (counts per queue and state, oldest waiting age) are read from the database at most once per this many seconds per process; set it to the scrape interval.',
  }),
  clockOffsetMs: setting({
    env: 'WSGATE_CLOCK_OFFSET_MS',
    kind: kinds.number('any'),
    default: '0',
    help: "Testing only: moves this process's clock by this many milliseconds.",
  }),
};

/** The settings by topic, in the order README and `wsgate config` show them. */
export const settingGroups: [title: string, group: Record<string, Setting>][] = [
  ['Server', server],
  ['Database and files', storage],
  ['Executors', executor],
  ['Retention', retention],
  ['Sessions and logins', sessions],
  ['Limits and quotas', limits],
  ['Own operations, event scripts, schedules', extensions],
  ['Outbound: httpRequest, exec, callbacks', outbound],
  ['Logs, metrics, testing', observability],
];

export const settings = {
  ...server,
  ...storage,
  ...executor,
  ...retention,
  ...sessions,
  ...limits,
  ...extensions,
  ...outbound,
  ...observability,
};

export type SettingName = keyof typeof settings;

/** The values in force, one per setting, of the type its kind parses to. */
export type Config = { [K in SettingName]: ValueOf<(typeof settings)[K]> };

/** WSGATE_SECRET_FILE: the secret is the file's text without surrounding white space; it may not be empty. */
function readSecretFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingValueError(`${settings.secretFile.env}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const secret = text.trim();
  if (!secret) throw new SettingValueError(`${settings.secretFile.env}: ${file} is empty`);
  return secret;
}

/** Reads the configuration from an environment (process.env by default); bad values throw at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings) as [SettingName, Setting][]) values[name] = s.read(env[s.env]);
  const config = values as Config;
  // What one setting means depends on another.
  if (!env[settings.databaseUrl.env]) config.databaseUrl = `file:${path.join(config.dataDir, 'wsgate.db')}`;
  if (config.secretFile) {
    if (config.secret) throw new SettingValueError(`${settings.secret.env} and ${settings.secretFile.env} are both set: set one of them`);
    config.secret = readSecretFile(config.secretFile);
  }
  if (config.queryDefaultLimit > config.queryMaxLimit) {
    throw new SettingValueError(
      `${settings.queryDefaultLimit.env} (${config.queryDefaultLimit}) must not exceed ${settings.queryMaxLimit.env} (${config.queryMaxLimit})`,
    );
  }
  return config;
}
