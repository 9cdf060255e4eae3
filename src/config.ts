// Every setting of wsgate: its environment variable, its default, and what it means. The README's
// configuration table is this list; `wsgate config` prints it with the values in force.
import path from 'node:path';

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
    description: 'node-cron expression (with seconds) for the in-process executor of `wsgate serve`; `off` disables it.',
  },
  leaseSeconds: {
    env: 'WSGATE_LEASE_SECONDS',
    default: '300',
    description: 'How long a claimed operation is reserved for its executor; after that another pass may take it.',
  },
  claimBatch: { env: 'WSGATE_CLAIM_BATCH', default: '20', description: 'Operations one executor claims per round trip.' },
  resultTtlSeconds: {
    env: 'WSGATE_RESULT_TTL_SECONDS',
    default: '604800',
    description: 'Unread results are purged after this many seconds (7 days).',
  },
  challengeTtlSeconds: {
    env: 'WSGATE_CHALLENGE_TTL_SECONDS',
    default: '7200',
    description: 'Lifetime of a getchallenge token; an unexpired token is handed out again.',
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
  bodyLimit: { env: 'WSGATE_BODY_LIMIT', default: '1mb', description: 'Largest request body accepted (HTTP 413 beyond).' },
  logLevel: { env: 'WSGATE_LOG_LEVEL', default: 'info', description: 'pino log level (silent, error, warn, info, debug).' },
  clockOffsetMs: {
    env: 'WSGATE_CLOCK_OFFSET_MS',
    default: '0',
    description: 'Testing only: moves this process\'s clock by this many milliseconds.',
  },
  testOperations: {
    env: 'WSGATE_TEST_OPERATIONS',
    default: 'off',
    description: 'Testing only: `on` registers the operations the test suite uses (wsgatetest_*).',
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
  leaseSeconds: number;
  claimBatch: number;
  resultTtlSeconds: number;
  challengeTtlSeconds: number;
  sessionLifetimeSeconds: number;
  sessionIdleSeconds: number;
  sqliteBusyTimeoutMs: number;
  bodyLimit: string;
  logLevel: string;
  clockOffsetMs: number;
  testOperations: boolean;
}

export const packageRoot = path.resolve(import.meta.dirname, '..', '..');

function positiveInt(name: SettingName, raw: string, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || (!allowZero && n === 0)) {
    throw new Error(`${settings[name].env} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${raw}"`);
  }
  return n;
}

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
  return {
    port: positiveInt('port', get('port'), true),
    host: get('host'),
    databaseUrl: optional('databaseUrl') ?? `file:${path.join(dataDir, 'wsgate.db')}`,
    dataDir,
    secret: optional('secret'),
    adminAccessKey: optional('adminAccessKey'),
    modulesFile: path.resolve(packageRoot, get('modulesFile')),
    executorSchedule: get('executorSchedule'),
    leaseSeconds: positiveInt('leaseSeconds', get('leaseSeconds')),
    claimBatch: positiveInt('claimBatch', get('claimBatch')),
    resultTtlSeconds: positiveInt('resultTtlSeconds', get('resultTtlSeconds')),
    challengeTtlSeconds: positiveInt('challengeTtlSeconds', get('challengeTtlSeconds')),
    sessionLifetimeSeconds: positiveInt('sessionLifetimeSeconds', get('sessionLifetimeSeconds')),
    sessionIdleSeconds: positiveInt('sessionIdleSeconds', get('sessionIdleSeconds')),
    sqliteBusyTimeoutMs: positiveInt('sqliteBusyTimeoutMs', get('sqliteBusyTimeoutMs'), true),
    bodyLimit: get('bodyLimit'),
    logLevel: get('logLevel'),
    clockOffsetMs: clockOffset,
    testOperations: get('testOperations') === 'on',
  };
}
