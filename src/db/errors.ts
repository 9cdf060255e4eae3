import { databaseUnavailable, WsError } from '../errors.js';

// Which database errors are the database's passing trouble (unreachable, connection lost, locked, a
// serialization conflict) rather than something wrong with the statement: the caller may try again later.
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034', 'P2037']);
const TRANSIENT_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'SocketTimeout', 'ConnectionClosed', 'TransactionWriteConflict', 'TooManyConnections']);
// PostgreSQL SQLSTATEs: serialization failure, deadlock, admin shutdown, crash shutdown, cannot connect now,
// connection exceptions.
const TRANSIENT_SQLSTATES = /^(40001|40P01|57P01|57P02|57P03|08\w{3})$/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** SQLite's "database is locked", as better-sqlite3 throws it or as the Prisma adapter maps it. */
export function isBusy(error: unknown): boolean {
  const e = error as MaybeDbError | undefined;
  const code = e?.code ?? e?.cause?.originalCode;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

interface MaybeDbError {
  code?: unknown;
  cause?: { kind?: unknown; originalCode?: unknown };
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
}

export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as MaybeDbError;
  const code = typeof e.code === 'string' ? e.code : '';
  if (databaseUnavailability(error)) return true;
  if (isBusy(error) || TRANSIENT_PRISMA_CODES.has(code) || TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.test(code)) return true;
  for (const cause of [e.cause, e.meta?.driverAdapterError?.cause]) {
    if (cause && (TRANSIENT_ADAPTER_KINDS.has(String(cause.kind)) || TRANSIENT_SQLSTATES.test(String(cause.originalCode ?? '')))) return true;
  }
  return false;
}

/** Raised inside a SQLite statement (by `wsgate_live()`, sqlite-connection.ts) once it outlives its time. */
export const SQLITE_STATEMENT_TIMEOUT = 'wsgate: statement timeout';

/** PostgreSQL's query_canceled (57014) from statement_timeout, or SQLite's, however Prisma wrapped it. */
export function isStatementTimeout(error: unknown): boolean {
  for (let e = error as (MaybeDbError & { message?: unknown; originalMessage?: unknown }) | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === '57014' || e.cause?.originalCode === '57014' || e.meta?.driverAdapterError?.cause?.originalCode === '57014') return true;
    const text = `${String(e.message ?? '')} ${String((e.cause as { originalMessage?: unknown } | undefined)?.originalMessage ?? '')}`;
    if (text.includes(SQLITE_STATEMENT_TIMEOUT) || text.includes('canceling statement due to statement timeout')) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** A database failure with a meaning for the caller, as the protocol error that says so; undefined otherwise. */
export function knownDatabaseFailure(error: unknown): WsError | undefined {
  const unavailable = databaseUnavailability(error);
  if (unavailable) return databaseUnavailable(unavailable);
  if (isStatementTimeout(error)) {
    return new WsError(
      'STATEMENT_TIMEOUT',
      'A database statement of this call took longer than WSGATE_STATEMENT_TIMEOUT_MS and was stopped: narrow the query (an indexed field, a shorter pattern) or split the work',
    );
  }
  return undefined;
}
/**
 * Why the database cannot serve at all just now, when that is the trouble: it is unreachable (down,
 * restarting, the connection lost), or (SQLite) its disk is full or failing. Null for anything else
 * (a statement's own error, a lock, a conflict). Callers answer DATABASE_UNAVAILABLE and try again later.
 */
export function databaseUnavailability(error: unknown): 'unreachable' | 'full' | 'io' | null {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const x = e as MaybeDbError & { message?: unknown; errno?: unknown };
    const causes = [x, x.cause, x.meta?.driverAdapterError?.cause].filter((c): c is NonNullable<typeof c> => typeof c === 'object' && c !== null);
    for (const c of causes as (MaybeDbError & { originalCode?: unknown; kind?: unknown })[]) {
      const code = String(c.code ?? c.originalCode ?? '');
      if (code.startsWith('SQLITE_FULL')) return 'full';
      if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io';
      if (UNREACHABLE_PRISMA_CODES.has(code) || TRANSIENT_NODE_CODES.has(code) || UNREACHABLE_SQLSTATES.test(code)) return 'unreachable';
      if (c.kind === 'DatabaseNotReachable' || c.kind === 'ConnectionClosed' || c.kind === 'TooManyConnections') return 'unreachable';
    }
    const message = typeof x.message === 'string' ? x.message : '';
    if (/database or disk is full/i.test(message)) return 'full';
    if (/disk I\/O error/i.test(message)) return 'io';
    if (UNREACHABLE_MESSAGES.test(message)) return 'unreachable';
    e = x.cause;
  }
  return null;
}

// Can't reach the server, timed out reaching it, server closed the connection, too many connections.
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2037']);
// Admin shutdown, crash shutdown, cannot connect now (starting or shutting down), connection exceptions,
// too many connections.
const UNREACHABLE_SQLSTATES = /^(57P01|57P02|57P03|08\w{3}|53300)$/;
// node-postgres's own words for a connection that died under it (they carry no code).
const UNREACHABLE_MESSAGES =
  /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command|Can't reach database server/i;

/** A unique constraint refused the row (the drivers' codes, or Prisma's P2002). */
export function isUniqueViolation(error: unknown): boolean {
  const code = String((error as { code?: unknown } | undefined)?.code ?? '');
  return code === 'P2002' || code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** How long a transaction may run when its caller names no time (Database.atomic). */
export const DEFAULT_TRANSACTION_MS = 30_000;

/** What a transaction that outlived its time (Database.atomic's timeoutMs) fails with. */
export const transactionTimedOut = (ms: number): Error => new Error(`The transaction outlived its time (${ms} ms) and was rolled back`);
