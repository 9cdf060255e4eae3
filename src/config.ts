// Every setting of wsgate: its environment variable, its default, and what it means. The README's
// configuration table is this list; `wsgate config` prints it with the values in force.
import fs from 'node:fs';
import path from 'node:path';
import { parseBackoff, type BackoffPolicy } from './backoff.js';
import { parseAllowList } from './outbound/allow.js';

export interface Setting {
  env: string;
  default: string;
  description: string;
}

export const settings = {
  port: { env: 'PORT', default: '8080', description: 'HTTP port of `wsgate serve` (0 picks a free one).' },
  host: { env: 'WSGATE_HOST', default: '0.0.0.0', description: 'Address `wsgate serve` listens on.' },
  databaseUrl: {
    env: 'DATABASE_URL',
    default: 'file:DATA_DIR/wsgate.db',
    description: '`file:PATH` for SQLite (created on first start), or `postgresql://user@host:port/db`.',
  },
  dataDir: {
    env: 'WSGATE_DATA_DIR',
    default: './data',
    description: 'Folder for the SQLite file and the generated secret (a relative path is taken from the working directory).',
  },
  secret: {
    env: 'WSGATE_SECRET',
    default: '(generated into DATA_DIR/secret.key, mode 0600)',
    description: 'Server secret that encrypts access keys at rest. Every gateway sharing a database needs the same one.',
  },
  adminAccessKey: {
    env: 'WSGATE_ADMIN_ACCESSKEY',
    default: '(generated and printed once)',
    description: 'Access key given to the `admin` user created on first start.',
  },
  modulesFile: {
    env: 'WSGATE_MODULES_FILE',
    default: 'config/modules.json',
    description: 'The modules (entity types) and their fields (a relative path is taken from the package folder, where the sample set ships).',
  },
  executorSchedule: {
    env: 'WSGATE_EXECUTOR_SCHEDULE',
    default: '*/10 * * * * *',
    description: 'node-cron expression (with seconds) on which the in-process executor of `wsgate serve` looks for due operations (enqueues in the process, and NOTIFY on PostgreSQL, wake it at once); `off`: no executor in `serve`.',
  },
  queues: {
    env: 'WSGATE_QUEUES',
    default: 'default',
    description: 'Named queues the executors take work from, comma-separated, in priority order (`--queue`).',
  },
  maxWorkers: {
    env: 'WSGATE_MAX_WORKERS',
    default: '4',
    description: 'Operations an executor runs at once, each in a worker thread of its pool (`--concurrency`).',
  },
  timeoutSeconds: {
    env: 'WSGATE_TIMEOUT_SECONDS',
    default: '60',
    description: 'Seconds an operation may run; then its worker is stopped and the attempt fails with TIMEOUT (`--timeout`).',
  },
  workerMemoryMb: {
    env: 'WSGATE_WORKER_MEMORY_MB',
    default: '128',
    description: 'Heap (MB) a worker thread may use; one that needs more is stopped and its attempt fails (`--memory`).',
  },
  tries: {
    env: 'WSGATE_TRIES',
    default: '1',
    description: 'Attempts of an operation that fails for an infrastructure reason (TIMEOUT, worker death, INTERNAL_SERVER_ERROR) before it goes to the failed store (`--tries`).',
  },
  backoff: {
    env: 'WSGATE_BACKOFF',
    default: '0',
    description: 'Seconds before a retry: `10`, a list `10,60,300` (the last repeats), or `exponential[:BASE]` (`--backoff`).',
  },
  sleepSeconds: {
    env: 'WSGATE_SLEEP_SECONDS',
    default: '3',
    description: 'How often an idle `wsgate work` looks for due operations when nothing wakes it sooner (`--sleep`).',
  },
  leaseSeconds: {
    env: 'WSGATE_LEASE_SECONDS',
    default: '30',
    description: 'Lease of a claimed operation, renewed by its executor\'s heartbeat while it runs; an executor that died loses its operations to another one after this long.',
  },
  claimBatch: { env: 'WSGATE_CLAIM_BATCH', default: '20', description: 'Operations one claim reserves per free worker (one round trip; a worker\'s results commit together).' },
  graceSeconds: {
    env: 'WSGATE_SHUTDOWN_GRACE_SECONDS',
    default: '30',
    description: 'On SIGTERM/SIGINT, how long running operations may finish before they are stopped and handed back.',
  },
  failedRetentionHours: {
    env: 'WSGATE_FAILED_RETENTION_HOURS',
    default: '168',
    description: 'Entries in the failed store are pruned after this many hours (7 days); `wsgate prune-failed` prunes on demand.',
  },
  resultTtlSeconds: {
    env: 'WSGATE_RESULT_TTL_SECONDS',
    default: '604800',
    description: 'Unread results are purged after this many seconds (7 days).',
  },
  queryDefaultLimit: {
    env: 'WSGATE_QUERY_DEFAULT_LIMIT',
    default: '100',
    description: 'Records a `query` answers when it has no limit clause (coreBOS: 100).',
  },
  queryMaxLimit: {
    env: 'WSGATE_QUERY_MAX_LIMIT',
    default: '100',
    description: 'The most records one `query` answers; a larger limit is lowered to it (page with `limit offset, count`).',
  },
  idempotencyHours: {
    env: 'WSGATE_IDEMPOTENCY_HOURS',
    default: '24',
    description: 'How long a ClientRequestIdentifier (cbwsOptions) is remembered: a repeat within it answers the first call\'s answer.',
  },
  challengeTtlSeconds: {
    env: 'WSGATE_CHALLENGE_TTL_SECONDS',
    default: '7200',
    description: 'Lifetime of a getchallenge token; an unexpired token is handed out again (tokens expire on a per-name schedule of this period, at least a minute after they are handed out).',
  },
  sessionLifetimeSeconds: {
    env: 'WSGATE_SESSION_LIFETIME_SECONDS',
    default: '86400',
    description: 'Absolute lifetime of a session (SESSION_EXPIRED after it).',
  },
  sessionIdleSeconds: {
    env: 'WSGATE_SESSION_IDLE_SECONDS',
    default: '1800',
    description: 'A session unused this long is ended (SESSION_LEFT_IDLE).',
  },
  sqliteBusyTimeoutMs: {
    env: 'WSGATE_SQLITE_BUSY_TIMEOUT_MS',
    default: '10000',
    description: 'SQLite only: how long a statement waits (without blocking the process) for another process\'s write lock before it fails.',
  },
  statementTimeoutMs: {
    env: 'WSGATE_STATEMENT_TIMEOUT_MS',
    default: '5000',
    description: 'How long one database statement may run before it is stopped (PostgreSQL `statement_timeout`; on SQLite checked per row scanned); the call answers STATEMENT_TIMEOUT.',
  },
  callWorkers: {
    env: 'WSGATE_CALL_WORKERS',
    default: '2',
    description: 'Worker threads of `wsgate serve` that run synchronous calls of operations whose work grows with their input (MassCreate, MassUpdate, MassDelete; on SQLite also query and upsert) and of own operations, each with its own database connection, so that the event loop keeps answering; a pool apart from the executor\'s (WSGATE_MAX_WORKERS); 0 runs them on the event loop (only to measure the difference).',
  },
  callTimeoutSeconds: {
    env: 'WSGATE_CALL_TIMEOUT_SECONDS',
    default: '30',
    description: 'Seconds a synchronous call in a call worker may take; then the worker is stopped (its transaction rolled back) and the call answers TIMEOUT.',
  },
  bodyLimit: { env: 'WSGATE_BODY_LIMIT', default: '1mb', description: 'Largest request body accepted (HTTP 413 beyond).' },
  logLevel: { env: 'WSGATE_LOG_LEVEL', default: 'info', description: 'pino log level (silent, error, warn, info, debug).' },
  clockOffsetMs: {
    env: 'WSGATE_CLOCK_OFFSET_MS',
    default: '0',
    description: 'Testing only: moves this process\'s clock by this many milliseconds.',
  },
  queryMaxLength: {
    env: 'WSGATE_QUERY_MAX_LENGTH',
    default: '100000',
    description: 'The longest `query` text, in characters (QUERY_SYNTAX_ERROR beyond).',
  },
  queryMaxTerms: {
    env: 'WSGATE_QUERY_MAX_TERMS',
    default: '1000',
    description: 'The most conditions (comparisons, like, in, is null) one `query` may join with and/or; at most 10000.',
  },
  queryMaxValues: {
    env: 'WSGATE_QUERY_MAX_VALUES',
    default: '1000',
    description: 'The most values one `query` may hold, `in (...)` lists included; at most 10000.',
  },
  queryMaxPatternLength: {
    env: 'WSGATE_QUERY_MAX_PATTERN_LENGTH',
    default: '1000',
    description: 'The longest `like` pattern, in characters (a long pattern costs time per character of every value it is matched against); at most 10000.',
  },
  massMaxElements: {
    env: 'WSGATE_MASS_MAX_ELEMENTS',
    default: '1000',
    description: 'The most elements of one MassCreate or MassUpdate, and ids of one MassDelete (INVALID_PARAMETER beyond).',
  },
  loginMaxFailures: {
    env: 'WSGATE_LOGIN_MAX_FAILURES',
    default: '5',
    description: 'Failed logins for one user name before each further one doubles the wait (1 s, 2 s, 4 s, ...); a success clears them.',
  },
  loginMaxFailuresPerAddress: {
    env: 'WSGATE_LOGIN_MAX_FAILURES_PER_ADDRESS',
    default: '20',
    description: 'Failed logins from one client address (any user names) before the waits start; 0: no limit per address (behind a proxy every client has its address).',
  },
  loginBackoffMaxSeconds: {
    env: 'WSGATE_LOGIN_BACKOFF_MAX_SECONDS',
    default: '300',
    description: 'The longest wait after failed logins; a login tried sooner answers TOO_MANY_LOGIN_ATTEMPTS with the time to retry.',
  },
  scryptConcurrency: {
    env: 'WSGATE_SCRYPT_CONCURRENCY',
    default: '2',
    description: 'Password checks (scrypt, 128 MiB and a few hundred ms each) that run at once; failed logins of any kind run one.',
  },
  scryptQueue: {
    env: 'WSGATE_SCRYPT_QUEUE',
    default: '8',
    description: 'Password checks that may wait for a turn; a login beyond them answers TOO_MANY_LOGIN_ATTEMPTS at once.',
  },
  corsOrigins: {
    env: 'WSGATE_CORS_ORIGINS',
    default: '(none: no CORS headers)',
    description: 'Origins browser clients may call from, comma-separated and exact (`https://app.example.com`), or `*` for any; they get CORS headers and answered preflights.',
  },
  secretFile: {
    env: 'WSGATE_SECRET_FILE',
    default: '(unset)',
    description: 'A file holding the server secret (a mounted secret, say), instead of WSGATE_SECRET; surrounding white space is ignored.',
  },
  quotaQueued: {
    env: 'WSGATE_QUOTA_QUEUED',
    default: '10000',
    description: 'Deferred operations a user may have queued or running at once; beyond it a submit is QUOTA_EXCEEDED (`wsgate user quota NAME --queued N` overrides it per user).',
  },
  quotaQueuedBytes: {
    env: 'WSGATE_QUOTA_QUEUED_BYTES',
    default: '104857600',
    description: 'Bytes of parameters (as JSON) a user\'s queued and running operations may hold together (100 MiB); beyond it a submit is QUOTA_EXCEEDED (`--bytes N` per user).',
  },
  quotaMaxDelaySeconds: {
    env: 'WSGATE_QUOTA_MAX_DELAY_SECONDS',
    default: '2592000',
    description: 'The longest `queuedelay` a user may ask (30 days); a longer one is INVALID_PARAMETER (`--max-delay S` per user).',
  },
  priorityCeiling: {
    env: 'WSGATE_PRIORITY_CEILING',
    default: '500',
    description: 'The highest `priority` (cbwsOptions) a user who is not an administrator may ask; a higher one is INVALID_PARAMETER. Administrators may ask any.',
  },
  operationsDir: {
    env: 'WSGATE_OPERATIONS_DIR',
    default: './operations',
    description: 'Folder of the deployment\'s own operations (`.js`/`.mjs` files, each `export default defineOperation({...})`), loaded at start (a relative path is taken from the working directory); a missing folder means none.',
  },
  // issue 15: recurring operations
  scheduleFile: {
    env: 'WSGATE_SCHEDULE_FILE',
    default: './schedule.json',
    description: 'The recurring operations (`wsgate schedule list|add|remove` edits it), queued by every executor exactly once per tick; a missing file means none (a relative path is taken from the working directory).',
  },
  // issue 11: event scripts
  eventsDir: {
    env: 'WSGATE_EVENTS_DIR',
    default: './events',
    description: 'Folder of event scripts (`<operation>[.<Module>].<pre|post|queued>.js`, each `export default defineEvent(...)`), loaded at start (a relative path is taken from the working directory); a missing folder means none.',
  },
  eventTimeoutMs: {
    env: 'WSGATE_EVENT_TIMEOUT_MS',
    default: '2000',
    description: 'Milliseconds a pre or post event script may run (in an event worker thread); then it is stopped and the call answers TIMEOUT.',
  },
  // issue 12: jobs (httpRequest, exec, callbacks)
  httpAllow: {
    env: 'WSGATE_HTTP_ALLOW',
    default: 'none (httpRequest and callbacks off)',
    description: 'Hosts httpRequest and callbacks may call, comma-separated: `api.example.com`, `*.example.com`, `*` (any host at a public address), an address or a CIDR (`10.1.2.3`, `10.0.0.0/8`, `::1`). Loopback, private, link-local and metadata addresses are refused unless an address or CIDR entry covers them.',
  },
  httpMaxBodyBytes: {
    env: 'WSGATE_HTTP_MAX_BODY_BYTES',
    default: '65536',
    description: 'Bytes of an httpRequest answer\'s body kept in its result (the rest is cut off, `truncated: true`).',
  },
  execAllow: {
    env: 'WSGATE_EXEC_ALLOW',
    default: 'none (exec off)',
    description: 'JSON file naming the commands `exec` may run: `{"name": {"executable", "args", "allowArgs", "cwd", "env", "timeout"}}`; read at each run. Without it, exec is off.',
  },
  execMaxOutputBytes: {
    env: 'WSGATE_EXEC_MAX_OUTPUT_BYTES',
    default: '65536',
    description: 'Bytes of an exec command\'s stdout, and of its stderr, kept in its result (the rest is cut off).',
  },
  callbackSecret: {
    env: 'WSGATE_CALLBACK_SECRET',
    default: 'none (callbacks refused)',
    description: 'Key of the HMAC-SHA256 signature (`X-Wsgate-Signature`) of callback deliveries; without it a call naming `cbwsOptions.callback` is INVALID_PARAMETER.',
  },
  callbackTries: {
    env: 'WSGATE_CALLBACK_TRIES',
    default: '8',
    description: 'Tries of a callback delivery before it is given up (a 2xx answer ends them).',
  },
  callbackBackoff: {
    env: 'WSGATE_CALLBACK_BACKOFF',
    default: 'exponential:10',
    description: 'Seconds between the tries of a callback delivery, written as WSGATE_BACKOFF (10, 20, 40, ... at most an hour by default).',
  },
  // issue 14: dashboard
  trustProxy: {
    env: 'WSGATE_TRUST_PROXY',
    default: 'off',
    description: '`on`: a reverse proxy in front terminates TLS, and its `X-Forwarded-Proto: https` marks the dashboard\'s session cookie `Secure` (set it only when every request comes through that proxy).',
  },
  // issue 14: metrics and health
  metricsToken: {
    env: 'WSGATE_METRICS_TOKEN',
    default: 'unset (loopback clients only)',
    description: 'Bearer token that `GET /metrics` asks for (`Authorization: Bearer TOKEN`, 401 without); unset, only clients on this host (loopback) get the metrics (403 for others).',
  },
  metricsPort: {
    env: 'WSGATE_METRICS_PORT',
    default: 'unset (none)',
    description: '`wsgate work`: port of a small HTTP server for `/metrics`, `/healthz` and `/readyz` only, on WSGATE_HOST (0 picks a free one); unset, `work` serves none. `serve` answers them on PORT.',
  },
  metricsCacheSeconds: {
    env: 'WSGATE_METRICS_CACHE_SECONDS',
    default: '10',
    description: 'The queue gauges of `/metrics` (counts per queue and state, oldest waiting age) are read from the database at most once per this many seconds per process; set it to the scrape interval.',
  },
} satisfies Record<string, Setting>;

export type SettingName = keyof typeof settings;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  dataDir: string;
  secret: string | undefined;
  adminAccessKey: string | undefined;
  modulesFile: string;
  executorSchedule: string;
  queues: string[];
  maxWorkers: number;
  timeoutSeconds: number;
  workerMemoryMb: number;
  tries: number;
  backoff: BackoffPolicy;
  sleepSeconds: number;
  leaseSeconds: number;
  claimBatch: number;
  graceSeconds: number;
  failedRetentionHours: number;
  resultTtlSeconds: number;
  queryDefaultLimit: number;
  queryMaxLimit: number;
  idempotencyHours: number;
  challengeTtlSeconds: number;
  sessionLifetimeSeconds: number;
  sessionIdleSeconds: number;
  sqliteBusyTimeoutMs: number;
  statementTimeoutMs: number;
  callWorkers: number;
  callTimeoutSeconds: number;
  bodyLimit: string;
  logLevel: string;
  clockOffsetMs: number;
  queryMaxLength: number;
  queryMaxTerms: number;
  queryMaxValues: number;
  queryMaxPatternLength: number;
  massMaxElements: number;
  loginMaxFailures: number;
  loginMaxFailuresPerAddress: number;
  loginBackoffMaxSeconds: number;
  scryptConcurrency: number;
  scryptQueue: number;
  corsOrigins: string[];
  secretFile: string | undefined;
  quotaQueued: number;
  quotaQueuedBytes: number;
  quotaMaxDelaySeconds: number;
  priorityCeiling: number;
  operationsDir: string;
  // issue 15: recurring operations
  scheduleFile: string;
  // issue 11: event scripts
  eventsDir: string;
  eventTimeoutMs: number;
  // issue 12: jobs (httpRequest, exec, callbacks)
  httpAllow: string[];
  httpMaxBodyBytes: number;
  execAllow: string | undefined;
  execMaxOutputBytes: number;
  callbackSecret: string | undefined;
  callbackTries: number;
  callbackBackoff: BackoffPolicy;
  // issue 14: dashboard
  trustProxy: boolean;
  // issue 14: metrics and health
  metricsToken: string | undefined;
  metricsPort: number | undefined;
  metricsCacheSeconds: number;
}

export const packageRoot = path.resolve(import.meta.dirname, '..', '..');

function onOff(name: SettingName, raw: string): boolean {
  if (raw !== 'on' && raw !== 'off') throw new Error(`${settings[name].env} must be on or off, not ${JSON.stringify(raw)}`);
  return raw === 'on';
}

export function positiveInt(name: SettingName, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || (!allowZero && n === 0)) {
    throw new Error(`${settings[name].env} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}"`);
  }
  return n;
}

export function positiveNumber(name: SettingName, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    throw new Error(`${settings[name].env} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
  }
  return n;
}

/**
 * Query limits stay below what the databases take: SQLite binds at most 32,766 values per statement (a
 * condition binds up to 3) and matches like patterns of at most 50,000 bytes (4 per character).
 */
function atMost(name: SettingName, n: number, max: number): number {
  if (n > max) throw new Error(`${settings[name].env} must be at most ${max}, got ${n}`);
  return n;
}

/** The quotas' limits: whole numbers that fit the per-user override columns (INTEGER); 0 allows nothing. */
export const MAX_QUOTA = 2 ** 31 - 1;

function quotaLimit(name: SettingName, raw: string): number {
  const n = positiveInt(name, raw, true);
  if (n > MAX_QUOTA) throw new Error(`${settings[name].env} must be at most ${MAX_QUOTA}, got "${raw}"`);
  return n;
}

function int32(name: SettingName, raw: string): number {
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw new Error(`${settings[name].env} must be an integer (32 bits), got "${raw}"`);
  }
  return n;
}

function withName<T>(name: SettingName, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new Error(`${settings[name].env}: ${(error as Error).message}`);
  }
}

/** WSGATE_CORS_ORIGINS: `*`, or exact origins (scheme, host and port, no path). */
export function parseCorsOrigins(text: string): string[] {
  const origins = text.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.includes('*')) return ['*'];
  for (const o of origins) {
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== o) throw new Error(`"${o}" is not an origin: write scheme, host and port only, e.g. https://app.example.com`);
  }
  return [...new Set(origins)];
}

/** WSGATE_SECRET_FILE: the secret is the file's text without surrounding white space; it may not be empty. */
function readSecretFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    throw new Error(`${settings.secretFile.env}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const secret = text.trim();
  if (!secret) throw new Error(`${settings.secretFile.env}: ${file} is empty`);
  return secret;
}

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A comma-separated list of queue names (letters, digits, `_.-`, up to 64 characters), in priority order. */
export function parseQueues(text: string, what: string): string[] {
  const queues = text.split(',').map((q) => q.trim());
  const bad = queues.find((q) => !QUEUE_NAME.test(q));
  if (bad !== undefined) throw new Error(`${what}: "${bad}" is not a queue name (letters, digits, _ . -, up to 64 characters)`);
  return [...new Set(queues)];
}

export const isQueueName = (q: string) => QUEUE_NAME.test(q);

/** Reads the configuration from an environment (process.env by default); bad values throw at start. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const get = (name: SettingName): string => {
    const v = env[settings[name].env];
    return v === undefined || v === '' ? settings[name].default : v;
  };
  const optional = (name: SettingName): string | undefined => env[settings[name].env] || undefined;
  const clockOffset = Number(get('clockOffsetMs'));
  if (!Number.isFinite(clockOffset)) throw new Error(`${settings.clockOffsetMs.env} must be a number`);
  const dataDir = path.resolve(get('dataDir'));
  const secretFile = optional('secretFile');
  if (secretFile && optional('secret')) {
    throw new Error(`${settings.secret.env} and ${settings.secretFile.env} are both set: set one of them`);
  }
  const config = {
    port: positiveInt('port', get('port'), true),
    host: get('host'),
    databaseUrl: optional('databaseUrl') ?? `file:${path.join(dataDir, 'wsgate.db')}`,
    dataDir,
    secret: secretFile ? readSecretFile(secretFile) : optional('secret'),
    adminAccessKey: optional('adminAccessKey'),
    modulesFile: path.resolve(packageRoot, get('modulesFile')),
    executorSchedule: get('executorSchedule'),
    queues: parseQueues(get('queues'), settings.queues.env),
    maxWorkers: positiveInt('maxWorkers', get('maxWorkers')),
    timeoutSeconds: positiveNumber('timeoutSeconds', get('timeoutSeconds')),
    workerMemoryMb: positiveInt('workerMemoryMb', get('workerMemoryMb')),
    tries: positiveInt('tries', get('tries')),
    backoff: withName('backoff', () => parseBackoff(get('backoff'))),
    sleepSeconds: positiveNumber('sleepSeconds', get('sleepSeconds')),
    leaseSeconds: positiveInt('leaseSeconds', get('leaseSeconds')),
    claimBatch: positiveInt('claimBatch', get('claimBatch')),
    graceSeconds: positiveNumber('graceSeconds', get('graceSeconds'), true),
    failedRetentionHours: positiveNumber('failedRetentionHours', get('failedRetentionHours')),
    resultTtlSeconds: positiveInt('resultTtlSeconds', get('resultTtlSeconds')),
    queryDefaultLimit: positiveInt('queryDefaultLimit', get('queryDefaultLimit')),
    queryMaxLimit: positiveInt('queryMaxLimit', get('queryMaxLimit')),
    idempotencyHours: positiveNumber('idempotencyHours', get('idempotencyHours')),
    challengeTtlSeconds: positiveInt('challengeTtlSeconds', get('challengeTtlSeconds')),
    sessionLifetimeSeconds: positiveInt('sessionLifetimeSeconds', get('sessionLifetimeSeconds')),
    sessionIdleSeconds: positiveInt('sessionIdleSeconds', get('sessionIdleSeconds')),
    sqliteBusyTimeoutMs: positiveInt('sqliteBusyTimeoutMs', get('sqliteBusyTimeoutMs'), true),
    statementTimeoutMs: positiveInt('statementTimeoutMs', get('statementTimeoutMs')),
    callWorkers: positiveInt('callWorkers', get('callWorkers'), true),
    callTimeoutSeconds: positiveNumber('callTimeoutSeconds', get('callTimeoutSeconds')),
    bodyLimit: get('bodyLimit'),
    logLevel: get('logLevel'),
    clockOffsetMs: clockOffset,
    queryMaxLength: positiveInt('queryMaxLength', get('queryMaxLength')),
    queryMaxTerms: atMost('queryMaxTerms', positiveInt('queryMaxTerms', get('queryMaxTerms')), 10_000),
    queryMaxValues: atMost('queryMaxValues', positiveInt('queryMaxValues', get('queryMaxValues')), 10_000),
    queryMaxPatternLength: atMost('queryMaxPatternLength', positiveInt('queryMaxPatternLength', get('queryMaxPatternLength')), 10_000),
    massMaxElements: positiveInt('massMaxElements', get('massMaxElements')),
    loginMaxFailures: positiveInt('loginMaxFailures', get('loginMaxFailures')),
    loginMaxFailuresPerAddress: positiveInt('loginMaxFailuresPerAddress', get('loginMaxFailuresPerAddress'), true),
    loginBackoffMaxSeconds: positiveInt('loginBackoffMaxSeconds', get('loginBackoffMaxSeconds')),
    scryptConcurrency: positiveInt('scryptConcurrency', get('scryptConcurrency')),
    scryptQueue: positiveInt('scryptQueue', get('scryptQueue'), true),
    corsOrigins: withName('corsOrigins', () => parseCorsOrigins(optional('corsOrigins') ?? '')),
    secretFile: secretFile ? path.resolve(secretFile) : undefined,
    quotaQueued: quotaLimit('quotaQueued', get('quotaQueued')),
    quotaQueuedBytes: quotaLimit('quotaQueuedBytes', get('quotaQueuedBytes')),
    quotaMaxDelaySeconds: quotaLimit('quotaMaxDelaySeconds', get('quotaMaxDelaySeconds')),
    priorityCeiling: int32('priorityCeiling', get('priorityCeiling')),
    operationsDir: path.resolve(get('operationsDir')),
    // issue 15: recurring operations
    scheduleFile: path.resolve(get('scheduleFile')),
    // issue 11: event scripts
    eventsDir: path.resolve(get('eventsDir')),
    eventTimeoutMs: positiveInt('eventTimeoutMs', get('eventTimeoutMs')),
    // issue 12: jobs (httpRequest, exec, callbacks)
    httpAllow: withName('httpAllow', () => parseAllowList(optional('httpAllow') ?? '')),
    httpMaxBodyBytes: positiveInt('httpMaxBodyBytes', get('httpMaxBodyBytes')),
    execAllow: optional('execAllow') ? path.resolve(optional('execAllow')!) : undefined,
    execMaxOutputBytes: positiveInt('execMaxOutputBytes', get('execMaxOutputBytes')),
    callbackSecret: optional('callbackSecret'),
    callbackTries: positiveInt('callbackTries', get('callbackTries')),
    callbackBackoff: withName('callbackBackoff', () => parseBackoff(get('callbackBackoff'))),
    // issue 14: dashboard
    trustProxy: onOff('trustProxy', get('trustProxy')),
    // issue 14: metrics and health
    metricsToken: optional('metricsToken'),
    metricsPort: optional('metricsPort') === undefined ? undefined : positiveInt('metricsPort', optional('metricsPort')!, true),
    metricsCacheSeconds: positiveNumber('metricsCacheSeconds', get('metricsCacheSeconds'), true),
  };
  if (config.queryDefaultLimit > config.queryMaxLimit) {
    throw new Error(`${settings.queryDefaultLimit.env} (${config.queryDefaultLimit}) must not exceed ${settings.queryMaxLimit.env} (${config.queryMaxLimit})`);
  }
  return config;
}
