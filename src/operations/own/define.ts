// What a deployment's own operation is, as its file writes it: `export default defineOperation({...})`.
// The package exports this module (src/index.ts), so TypeScript users compile against it and JavaScript
// users get their editor's hints.
import { WsError, type ErrorCode } from '../../errors.js';

/** A JSON Schema of the operation's parameters: an object schema whose properties are the parameters. */
export interface ParamsSchema {
  type?: 'object';
  properties?: Record<string, Record<string, unknown>>;
  required?: string[];
  [keyword: string]: unknown;
}

/** The caller (synchronous) or the user who queued the operation (deferred). */
export interface OperationUser {
  /** coreBOS's user id, e.g. `19x1`. */
  id: string;
  userName: string;
  isAdmin: boolean;
}

export interface OperationContextForScripts {
  user: OperationUser;
  /** The operationTrackingID of a deferred run; undefined for a synchronous call. */
  trackingId?: string;
  api: {
    /**
     * Runs any registered operation (built-in or own) as `ctx.user`, with its access rules, and returns its
     * result; a protocol error is thrown as an error with `code`. A deferred run's calls happen inside its
     * transaction: if the handler then throws, what they wrote is rolled back.
     */
    call(operation: string, params?: Record<string, unknown>): Promise<any>;
  };
  /**
   * A line of the operation's own log. Deferred: kept with the entry (at most 100 lines and 16 KiB; the
   * rest is dropped, and a last line says how many), shown by getQueuedOperationStatus and `wsgate failed`.
   * Synchronous: written to the server's log with the operation's name.
   */
  log(...values: unknown[]): void;
  /** How far a deferred run is (0 to 1) and what it does now, answered by getQueuedOperationStatus. */
  progress(fraction: number, message?: string): void;
  /** Aborted when the run times out, is cancelled, or its executor stops: pass it to fetch and timers. */
  signal: AbortSignal;
}

export interface OwnOperationDefinition<P = Record<string, unknown>> {
  /** As callers write it in `operation=`; letters, digits and `_`, not a built-in's name (case-insensitive). */
  name: string;
  summary?: string;
  /** Validated with ajv before `handle` runs (numbers and booleans sent as text are converted). */
  params?: ParamsSchema;
  /** May be deferred with cbwsOptions (default true). */
  queueable?: boolean;
  /** A repeated call with the same ClientRequestIdentifier answers the first call's answer. */
  idempotent?: boolean;
  /** Roles that may call it (default: both, `admin` and `user`). */
  access?: ('admin' | 'user')[];
  /** DreamFactory's "queue for later execution": every call is deferred, with or without cbwsOptions. */
  queued?: boolean;
  /** The queue a deferred call goes to, unless the caller's cbwsOptions name one (default `default`). */
  queue?: string;
  /** Seconds a deferred call waits before it may run, unless the caller's cbwsOptions give a queuedelay. */
  delay?: number;
  /** A deferred call's priority (higher runs first), unless the caller's cbwsOptions give one. */
  priority?: number;
  /** Seconds a deferred run may take (the executor's --timeout otherwise). */
  timeout?: number;
  /** Attempts of a deferred run for infrastructure failures (the executor's --tries otherwise). */
  tries?: number;
  /** Seconds before a retry: `10`, `[10, 60, 300]`, `'10,60,300'` or `'exponential[:BASE]'` (the executor's --backoff otherwise). */
  backoff?: number | number[] | string;
  handle(params: P, ctx: OperationContextForScripts): Promise<unknown> | unknown;
}

const DEFINED = Symbol.for('wsgate.operation');

/** Marks a definition as an operation (the loader also takes plain objects of this shape). */
export function defineOperation<P = Record<string, unknown>>(definition: OwnOperationDefinition<P>): OwnOperationDefinition<P> {
  return Object.assign(definition, { [DEFINED]: true });
}

/**
 * A protocol error: the caller gets `{success: false, error: {code, message}}`, and a deferred run stores it
 * as its final result (no retry). Any other exception is an infrastructure failure, retried per `tries`.
 */
export class OperationError extends WsError {
  constructor(code: string, message: string) {
    super(code as ErrorCode, message);
    this.name = 'OperationError';
  }
}
