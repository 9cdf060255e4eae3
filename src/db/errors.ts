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
  if (isBusy(error) || TRANSIENT_PRISMA_CODES.has(code) || TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.test(code)) return true;
  for (const cause of [e.cause, e.meta?.driverAdapterError?.cause]) {
    if (cause && (TRANSIENT_ADAPTER_KINDS.has(String(cause.kind)) || TRANSIENT_SQLSTATES.test(String(cause.originalCode ?? '')))) return true;
  }
  return false;
}
