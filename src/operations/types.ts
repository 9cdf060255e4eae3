import { settings } from '../config.js';
import { WsError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { DbTx } from '../db/client.js';
import type { RawSql } from '../db/raw.js';
import type { SessionCache } from '../auth/session-cache.js';
import type { Dialect } from '../db/dialect.js';
import type { Limits } from '../vtql/index.js';
import type { LoginDefences, SessionPolicy } from '../auth/login.js';
import type { Secret } from '../auth/secret.js';
import type { WsUser } from '../auth/users.js';
import type { ModuleRegistry } from '../records/modules.js';
import type { QuotaSettings } from '../queue/quota.js';
import type { BackoffPolicy } from '../backoff.js';
import type { LiveStore } from '../queue/live.js';
import type { EventHooks } from './own/events-hooks.js';
import type { AllowList } from '../outbound/allow.js';

/** A declared parameter. `encoded` ones arrive as JSON text and reach the operation decoded. */
export interface ParamSpec {
  name: string;
  type: 'string' | 'encoded';
  required: boolean;
  description: string;
}

/** What operations need besides their parameters; the same for a synchronous call and a deferred run. */
export interface Services {
  modules: ModuleRegistry;
  secret: Secret;
  clock: Clock;
  sessionPolicy: SessionPolicy;
  /** Sessions this process checked (src/auth/session-cache.ts). */
  sessions: SessionCache;
  /** How long a deferred operation's result waits to be read (s). */
  resultTtlSeconds: number;
  /** What differs between the databases, for the statements that differ (src/db/dialect.ts). */
  dialect: Dialect;
  /** How long a ClientRequestIdentifier is remembered (s). */
  requestIdTtlSeconds: number;
  /** query's row counts (coreBOS: 100 per call) and the bounds of a query. */
  queryLimits: Limits;
  /** The most elements of a MassCreate or MassUpdate, ids of a MassDelete. */
  massMaxElements: number;
  /** Failed-login waits and the scrypt concurrency cap (in memory, per process). */
  loginDefences: LoginDefences;
  /** What one user may queue (src/queue/quota.ts). */
  quota: QuotaSettings;
  /** Where running own operations' reports are read when they are not in the entry's row (SQLite's side file). */
  liveReports?: Pick<LiveStore, 'read'> | null;
  /** The event scripts in force (WSGATE_EVENTS_DIR) and where they run. */
  events: EventHooks;
  /** The job kinds httpRequest and exec, and callbacks (src/jobs). */
  jobs: JobSettings;
}

export interface JobSettings {
  /** WSGATE_HTTP_ALLOW, for httpRequest and callbacks. */
  httpAllow: AllowList;
  httpMaxBodyBytes: number;
  /** WSGATE_EXEC_ALLOW: the allow file; unset, exec is off. */
  execAllowFile: string | undefined;
  execMaxOutputBytes: number;
  /** WSGATE_CALLBACK_SECRET is set: calls may name a callback. */
  callbacks: boolean;
}

export interface OperationContext {
  /** The database, or the transaction a deferred run happens in. */
  db: DbTx;
  /** The caller (synchronous) or the user who queued the operation (deferred); null before login. */
  user: WsUser | null;
  /** The caller's session (synchronous calls after login only). */
  sessionName?: string;
  /** A deferred run's operationTrackingID. */
  trackingId?: string;
  services: Services;
  /**
   * The driver, for reads outside any transaction (synchronous calls that are not idempotent); absent when
   * the operation runs inside a transaction, where only `db` may be used.
   */
  raw?: RawSql;
  /**
   * Runs `fn` in one transaction: the current one when the operation already runs inside one (deferred
   * runs, idempotent calls), a new one otherwise.
   */
  atomic<T>(fn: (db: DbTx) => Promise<T>): Promise<T>;
  /** The client's address (synchronous calls over HTTP). */
  address?: string;
  /** Where an own operation's ctx.log and ctx.progress go, and its ctx.signal (absent: log and progress are dropped). */
  hooks?: RunHooks;
  /** How deep ctx.api.call calls are nested here (0 for the call itself). */
  depth?: number;
  /**
   * A deferred run that starts a process group (exec) tells its executor here (-1 while it is being
   * started, then its id, 0 once it is gone), so that the group is killed with the worker, should the
   * executor stop it (timeout, shutdown).
   */
  holdProcessGroup?(pgid: number): void;
  /** A deferred run of an external operation (httpRequest, exec): aborted when its owner cancels it. */
  signal?: AbortSignal;
}

/** What the run of an own operation reports while it runs, and what stops it. */
export interface RunHooks {
  log(line: string): void;
  progress(fraction: number, message: string | null): void;
  signal: AbortSignal;
}

/** A deferred call's queue settings an operation declares; the caller's cbwsOptions override them. */
export interface QueueDefaults {
  queue?: string;
  delaySeconds?: number;
  priority?: number;
}

/** How the executor runs an operation's entries; what it does not declare, the executor's options decide. */
export interface ExecutionPolicy {
  timeoutSeconds?: number;
  tries?: number;
  backoff?: BackoffPolicy;
}

export type Params = Record<string, unknown>;

export interface OperationDefinition {
  /** As coreBOS spells it; looked up case-insensitively. */
  name: string;
  /** The method coreBOS clients use; both GET and POST are accepted, as coreBOS has since 2022. */
  method: 'GET' | 'POST';
  prelogin: boolean;
  queueable: boolean;
  /** A repeated call with the same cbwsOptions ClientRequestIdentifier answers the first call's answer. */
  idempotent?: boolean;
  /**
   * Its work grows with its input: called synchronously, it runs in one of the gateway's call workers rather
   * than on the event loop that answers every other call. `true`: its JavaScript work grows (a list of
   * elements to validate); `'sqlite'`: its statements do (a scan), which only SQLite runs on the event loop
   * (PostgreSQL runs them in its own processes, bounded by statement_timeout).
   */
  isolated?: boolean | 'sqlite';
  /**
   * For an isolated operation: this call's work is small (a query led by a field index), so it is first run
   * on the event loop under a short statement budget, and in a call worker only if the budget runs out.
   */
  quick?(services: Services, params: Params): boolean;
  /** Every call is deferred, with or without cbwsOptions (an own operation's `queued: true`). */
  queued?: boolean;
  /** A deployment's own operation (WSGATE_OPERATIONS_DIR), not a built-in. */
  own?: boolean;
  /** An own operation's file. */
  file?: string;
  /** Queue settings of its deferred calls, unless the caller's cbwsOptions say otherwise. */
  queueDefaults?: QueueDefaults;
  /** Timeout, tries and backoff of its deferred runs, read by the executor when it runs an entry. */
  policy?: ExecutionPolicy;
  /** Queued by wsgate itself (a queued event script), run by the executor, never called nor listed. */
  internal?: boolean;
  /**
   * It calls out (an HTTP request, a process) and writes nothing to the database: a deferred run calls it
   * before the transaction that stores its result, so no transaction (nor SQLite's write lock) is held
   * while it waits.
   */
  external?: boolean;
  summary: string;
  params: ParamSpec[];
  /** An own operation's JSON Schema of its parameters (the served openapi.yaml shows it). */
  paramsSchema?: Record<string, unknown>;
  /**
   * Checks that can be made when a deferred call is submitted (module exists, values valid), so that a
   * call bound to fail is rejected at once and nothing is queued. The run checks again.
   */
  precheck?(ctx: OperationContext, params: Params): Promise<void> | void;
  run(ctx: OperationContext, params: Params): Promise<unknown>;
}

/** A mass operation's list beyond WSGATE_MASS_MAX_ELEMENTS: INVALID_PARAMETER, before any work. */
export function checkMassSize(ctx: OperationContext, operation: string, what: string, n: number): void {
  const max = ctx.services.massMaxElements;
  if (n > max) throw new WsError('INVALID_PARAMETER', `${operation}: ${n} ${what}, more than ${max} (limit ${settings.massMaxElements.env})`);
}

/** The comma-separated ids of a mass operation's `ids`: spaces, empty entries and repeats dropped, at most the mass limit. */
export function listedIds(ctx: OperationContext, operation: string, ids: unknown): string[] {
  const list = [
    ...new Set(
      String(ids)
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ),
  ];
  checkMassSize(ctx, operation, 'ids', list.length);
  return list;
}

export function callerOf(ctx: OperationContext): WsUser {
  if (!ctx.user) throw new Error('operation needs a logged-in user but was called without one');
  return ctx.user;
}
