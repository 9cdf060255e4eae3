// SQL straight on the driver: every statement of the queue, the records and the sessions. Going through
// Prisma's $queryRaw cost 0.4-0.7 ms a call in its query compiler and interpreter (measured:
// BENCHMARKS.md); the driver itself takes 5-20 us on SQLite. Statements are SQL.sql templates, so each
// provider gets its own placeholders and values are never spliced into SQL.
// Never from inside a transaction's callback, which gets its own Queryable (Database.atomic): on SQLite the
// statement would wait for the transaction to end, and the transaction for the callback: a deadlock until
// the transaction's time runs out.
import type { Statement } from 'better-sqlite3';
import type * as SQL from './sql.js';
import type { InTransaction, SqliteConnection } from './sqlite-connection.js';
import { inSpan } from '../observe/trace.js';

/** What runs statements: the driver (RawSql) or a transaction (Database.atomic), which gives only this. */
export interface Queryable {
  /**
   * `prepared`: a statement whose text recurs (a query's shape, a claim): PostgreSQL parses and plans it once
   * per connection instead of at every call (up to MAX_PREPARED), and keeps the plan it settles on until the
   * table's statistics change (VACUUM, ANALYZE), however the table grows meanwhile. A string prepares the text
   * once per distinct string: a plan of its own for each (src/queue/plan-class.ts). SQLite prepares every
   * statement anyway.
   */
  query<T>(sql: SQL.Sql, options?: { prepared?: boolean | string }): Promise<T[]>;
  /** The number of rows changed. */
  execute(sql: SQL.Sql): Promise<number>;
}

export interface RawSql extends Queryable {
  /**
   * A number that changes whenever what the session check reads may have changed, so that what this process
   * read stays true while it is unchanged (the session cache, src/auth); undefined when there is none now.
   * SQLite: PRAGMA data_version (any commit by another connection or process); PostgreSQL: session-notices.ts.
   */
  changeMark?(): Promise<number | undefined>;
}

/**
 * Whether a statement changes rows, and so may share a commit with others (SqliteConnection.grouped). Other
 * statements that are not read-only (VACUUM, a PRAGMA that sets something, DDL) run on their own: some of
 * them cannot run inside a transaction.
 */
const changesRows = (stmt: Statement, sql: string) => !stmt.readonly && /^\s*(WITH|INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql);

/** Dates as epoch milliseconds (the adapter's unixepoch-ms format), booleans as 0/1. */
const sqliteValue = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v);

export function sqliteRaw(connection: () => Promise<SqliteConnection>): RawSql & { within(run: InTransaction): Queryable } {
  let shared: { mark: Promise<number>; at: number } | undefined;
  const cache = new WeakMap<SqliteConnection, Map<string, Statement>>();
  const prepared = (conn: SqliteConnection, sql: string) => {
    let statements = cache.get(conn);
    if (!statements) cache.set(conn, (statements = new Map()));
    // Statements with lists of varying length (bulk enqueues) would grow the cache without end.
    if (statements.size > 500) statements.clear();
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = conn.client.prepare(sql);
      if (stmt.reader) stmt.safeIntegers(false);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  type Run = (conn: SqliteConnection, statement: () => unknown, writes: boolean) => Promise<unknown>;
  // Preparing reads the schema: a lock another connection holds on it (WAL recovery) is waited for as a
  // statement's is.
  const statementOf = (conn: SqliteConnection, sql: string): Statement | Promise<Statement> => {
    try {
      return prepared(conn, sql);
    } catch {
      return conn.exclusive(() => prepared(conn, sql));
    }
  };
  const over = (run: Run): Queryable => ({
    async query<T>(q: SQL.Sql) {
      const conn = await connection();
      const stmt = await statementOf(conn, q.sql);
      return run(
        conn,
        () => {
          const args = q.values.map(sqliteValue);
          if (stmt.reader) return stmt.all(...args) as T[];
          stmt.run(...args);
          return [];
        },
        changesRows(stmt, q.sql),
      ) as Promise<T[]>;
    },
    async execute(q) {
      const conn = await connection();
      const stmt = await statementOf(conn, q.sql);
      return run(conn, () => stmt.run(...q.values.map(sqliteValue)).changes, changesRows(stmt, q.sql)) as Promise<number>;
    },
  });
  return {
    ...over((conn, statement, writes) => (writes ? conn.grouped(statement) : conn.exclusive(statement))),
    within: (inside) => over((_conn, statement) => inside(statement)),
    changeMark() {
      if (shared && performance.now() - shared.at < MARK_SHARED_MS) return shared.mark;
      const mark = connection().then((conn) => conn.exclusive(() => (prepared(conn, 'PRAGMA data_version').get() as { data_version: number }).data_version));
      const current = { mark, at: performance.now() };
      shared = current;
      const drop = () => {
        if (shared === current) shared = undefined;
      };
      setImmediate(drop);
      mark.catch(drop);
      return mark;
    },
  };
}

/**
 * The PRAGMA takes the WAL index's read locks (~37 µs under load, the largest cost of a cached session
 * check): the session checks of one turn of the event loop share one read, if it is less than this old. A
 * commit by another process is thus seen by the checks that start after it at most 1 ms late, as on
 * PostgreSQL (whose notices take about as long).
 */
const MARK_SHARED_MS = 1;

/** The first word of a statement (SELECT, INSERT, ...), for its span's name. */
const verbOf = (sql: string) => /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';

/**
 * Each statement in a span (@opentelemetry/api: a no-op unless an SDK is registered), named by its verb,
 * with its text (placeholders only: values are never in it) as db.statement.
 */
export function tracedRaw<Q extends Queryable>(raw: Q, system: 'sqlite' | 'postgresql'): Q {
  const attributes = (q: SQL.Sql) => ({ 'db.system': system, 'db.statement': q.sql.length > 2000 ? `${q.sql.slice(0, 2000)}...` : q.sql });
  return {
    ...raw,
    query: (q, options) => inSpan(`db ${verbOf(q.sql)}`, attributes(q), () => raw.query(q, options)),
    execute: (q) => inSpan(`db ${verbOf(q.sql)}`, attributes(q), () => raw.execute(q)),
  };
}
