// Everything that differs between SQLite and PostgreSQL, in one object per database kind, handed out as
// `db.dialect` (src/db/client.ts). Every statement is written once (SQL.sql templates, which each
// provider renders with its own placeholders) and takes from its database's Dialect the few words that
// differ; no code outside this file asks which database it is on.
import * as SQL from './sql.js';
import type { Provider } from './url.js';

/** The channel an enqueue notifies on PostgreSQL; the payload is `<queue> <due time in epoch ms>`. */
export const QUEUE_CHANNEL = 'wsgate_queue';

/** A JSON array's objects as rows of these columns (their SQL types: SQLite takes JSON's own). */
export type JsonColumns = Record<string, 'text' | 'integer'>;

export interface Dialect {
  /** The database's kind, for what names it (logs, metrics, the migrations folder), never to branch on. */
  name: Provider;
  /**
   * True where a write statement takes the whole database's write lock before it reads (SQLite): what it
   * counts includes every commit before it, and a write transaction excludes all others. False where
   * statements read a snapshot and writers lock rows (PostgreSQL).
   */
  serializesWrites: boolean;
  /**
   * True where statements run in this process, on its event loop (SQLite's library), rather than in the
   * database's own processes: a long scan holds up every other call.
   */
  inProcess: boolean;
  /**
   * True where a completion moves its entry from ws_queue_entry into ws_queue_result (PostgreSQL): an update
   * in place there adds a second version of the entry to the primary key and the partial indexes (state and
   * available_at are indexed, so it cannot stay on its page), while a DELETE adds nothing to any index and
   * the results' table is insert-only (migration 20261208000000_results_apart). False where the entry is
   * updated in place (SQLite: an UPDATE rewrites only the indexes of the columns it changes, a move would
   * rewrite all of them).
   */
  resultsApart: boolean;
  /**
   * A claim's (or a heartbeat's) condition `id` is one of those `select` (`SELECT id ...`) picks. PostgreSQL
   * skips the rows another transaction has locked rather than waiting for them (FOR UPDATE SKIP LOCKED), and reads the ids
   * as one array, first: as `id IN (select)` its planner joined the ids to a sequential scan of the whole
   * table (a hash semi join: it reckons n lookups of the primary key dearer than a scan of 20,000 rows).
   * SQLite's UPDATE holds the write lock before it reads, and looks each id up.
   */
  claimedIds(select: SQL.Sql): SQL.Sql;
  /**
   * Rows of the entries' table picked by their primary key `column` among `keys`, each with its value from
   * `values` (same order): `from` (a FROM clause, or nothing), `value` (the row's value) and `where` (the
   * condition, with its AND). PostgreSQL reads the keys as one array, whose length its planner sees, so it
   * reaches the rows by the primary key whatever the table's statistics (on a table not analyzed yet its
   * default estimates took a completion's other conditions for one row and scanned the whole table: 5 ms a
   * completion at 20,000 entries), and finds each value by its key's position in the array: joined to the
   * values as a set (a JSON array), its nested loop read the set again for every row, a cost that grows as
   * the square of a batch (the same time as this at 100 results, 10% more at 1,000: BENCHMARKS.md). SQLite
   * joins the values as rows of a JSON array, by the primary key.
   */
  keyedValues(column: string, keys: string[], values: string[]): { from: SQL.Sql; value: SQL.Sql; where: SQL.Sql };
  /**
   * After `FROM ws_queue_entry` in the read of a queue's earliest queued entry: the (state, queue,
   * available_at) index, one descent. SQLite's planner may take another by its statistics (a scan of the
   * claim index): named here; PostgreSQL's ORDER BY settles it: nothing.
   */
  byDueIndex: SQL.Sql;
  /**
   * After `FROM ws_queue_entry` in a claim's walk of due entries: the claim index, whose order is the
   * claim's (so the walk stops at its limit). SQLite's planner, given the statistics of a bulk enqueue (one
   * due and submitted time for all), read every entry of the queue by another index and sorted them, at every
   * claim: named here; PostgreSQL's planner takes it: nothing.
   */
  byClaimIndex: SQL.Sql;
  /**
   * A walk's LIMIT, skipping the walk unless `check` holds (a condition on no column of the walk, with a
   * scalar subquery): `where` goes after the walk's conditions, `limit` after its LIMIT. PostgreSQL plans such
   * a condition as a one-time filter, evaluated before the walk. SQLite evaluates it at every row the walk
   * reads (a claim with nothing due walked the 500,000 entries of its queue not due yet: 35 ms), but its
   * LIMIT once before the walk, and a LIMIT of 0 skips the walk: there the check goes in the LIMIT.
   */
  limitIf(check: SQL.Sql, limit: number): { where: SQL.Sql; limit: SQL.Sql };
  /**
   * Where the dashboard's list finds entries newest first, unfiltered or by queue, operation or user: a
   * table of those keys beside the entries (PostgreSQL: each update of an entry would add its keys to every
   * index of the entries' table again, migration 20261206000000_queue_write_costs), or null where the
   * entries' own indexes serve (SQLite updates only the indexes of the columns that changed).
   */
  entryKeys: SQL.Sql | null;
  /**
   * The objects of the JSON array `json` as a FROM item `v` with these columns, and, when `ordinal` is
   * given, a column of that name numbering them in the array's order.
   */
  jsonRows(json: string, columns: JsonColumns, ordinal?: string): SQL.Sql;
  /** The JSON text of column `column` with the keys of the JSON object `patch` set to its values. */
  mergeJson(column: string, patch: string): SQL.Sql;
  /** An expression that tells other processes' listeners `payload` on `channel`, or null where none can hear. */
  notify(channel: string, payload: SQL.Sql): SQL.Sql | null;
  /** A timestamp expression as epoch milliseconds (an integer). */
  epochMs(timestamp: SQL.Sql): SQL.Sql;
  /**
   * A statement that makes transactions asking for the same key wait for each other until commit, or
   * null where a write transaction excludes all others anyway (SQLite's BEGIN IMMEDIATE).
   */
  lockKey(key: string): SQL.Sql | null;
  /**
   * A statement whose commit waits until the log holds every commit before it on disk (PostgreSQL: it takes
   * a transaction id, so its commit is flushed like a write's), or null where every commit does
   * (SQLite). Claims do not wait for the disk (Database.unflushed): a worker makes them durable before
   * any statement of their batch reaches the database, and before an operation calls out (src/executor/batch.ts).
   */
  flushLog: SQL.Sql | null;
  /** The entries' table's size on disk (`bytes`), where the planner's choices follow it (src/queue/plan-class.ts); null where not. */
  queueTableSize: SQL.Sql | null;
  /** The text of field `field` of the JSON text column `data`, '' when absent; compared byte-wise. */
  jsonText(field: string): SQL.Sql;
  /** Field `field` of `data` as a number or a 0/1 boolean; NULL when empty. */
  jsonCast(field: string, as: 'number' | 'boolean'): SQL.Sql;
  /** A timestamp column as 'YYYY-MM-DD HH:MM:SS' (UTC), as coreBOS answers times; compared byte-wise. */
  dateTimeText(column: string): SQL.Sql;
  /** The operator of a pattern match that ignores the case of ASCII letters only. */
  like: SQL.Sql;
  /**
   * An ORDER BY item for `column` that no index can provide, or the column itself where the planner weighs
   * that by its statistics anyway.
   */
  unindexedOrder(column: string): string;
  /**
   * A condition asked at each row looked at, so that the statement time limit can stop a scan (SQLite's
   * `wsgate_live()`, src/db/sqlite-connection.ts), or empty where the database enforces the limit itself.
   */
  live: SQL.Sql;
  /** The names of wsgate's field indexes on ws_record (named `wsx_...`, src/vtql/indexes.ts). */
  fieldIndexes: SQL.Sql;
  /** `ddl` run without the statement time limit (building an index over a large table may take longer). */
  untimed(ddl: string): string;
  /** The CREATE TABLE of Prisma's migrations table (src/db/migrate.ts), as Prisma itself writes it. */
  migrationsTable: string;
}

// Text compares byte-wise on both databases (SQLite's BINARY, PostgreSQL's "C" collation), so ordering and
// < > agree. LIKE ignores case for ASCII letters only, on both: SQLite's LIKE folds ASCII only, and
// PostgreSQL's ILIKE under the "C" collation does the same.

// SQLite: one writer at a time, which every write statement waits for before it reads. No other process can
// be told of an enqueue. The adapter stores timestamps as epoch milliseconds.
export const sqlite: Dialect = {
  name: 'sqlite',
  serializesWrites: true,
  inProcess: true,
  resultsApart: false,
  claimedIds: (select) => SQL.sql`id IN (${select})`,
  keyedValues(column, keys, values) {
    const json = JSON.stringify(keys.map((k, i) => ({ k, val: values[i] })));
    return {
      from: SQL.sql`FROM ${sqlite.jsonRows(json, { k: 'text', val: 'text' })}`,
      value: SQL.raw('v.val'),
      where: SQL.sql` AND ${SQL.raw(column)} = v.k`,
    };
  },
  byDueIndex: SQL.raw(' INDEXED BY ws_queued_operation_state_queue_available_at_idx'),
  byClaimIndex: SQL.raw(' INDEXED BY ws_queued_operation_claim_idx'),
  limitIf: (check, limit) => ({ where: SQL.empty, limit: SQL.sql`CASE WHEN ${check} THEN ${limit} ELSE 0 END` }),
  entryKeys: null,
  jsonRows: (json, columns, ordinal) => {
    const items = Object.keys(columns).map((c) => `value ->> '${c}' AS ${c}`);
    if (ordinal) items.unshift(`CAST(key AS INTEGER) AS ${ordinal}`);
    return SQL.sql`(SELECT ${SQL.raw(items.join(', '))} FROM json_each(${json})) AS v`;
  },
  mergeJson: (column, patch) => SQL.sql`json_patch(${SQL.raw(column)}, ${patch})`,
  notify: () => null,
  epochMs: (timestamp) => timestamp,
  lockKey: () => null,
  flushLog: null,
  queueTableSize: null,
  jsonText: (f) => SQL.raw(`COALESCE(json_extract(data, '$.${f}'), '')`),
  jsonCast: (f, as) => SQL.raw(`CAST(NULLIF(json_extract(data, '$.${f}'), '') AS ${as === 'number' ? 'REAL' : 'INTEGER'})`),
  dateTimeText: (c) => SQL.raw(`strftime('%Y-%m-%d %H:%M:%S', ${c} / 1000, 'unixepoch')`),
  like: SQL.raw('LIKE'),
  // SQLite has no statistics: it would rather read a whole module in id order (its module index) than sort
  // the few rows a field index finds. `+id` cannot come from an index, so the field index wins.
  unindexedOrder: (column) => `+${column}`,
  live: SQL.sql` AND wsgate_live()`,
  fieldIndexes: SQL.sql`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ws_record' AND name LIKE 'wsx\\_%' ESCAPE '\\'`,
  untimed: (ddl) => ddl,
  migrationsTable: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`,
};

// PostgreSQL: rows another claim holds are skipped rather than waited for; an enqueue wakes the listeners
// at once (graphile-worker does the same), polling being the fallback.
export const postgresql: Dialect = {
  name: 'postgresql',
  serializesWrites: false,
  inProcess: false,
  resultsApart: true,
  claimedIds: (select) => SQL.sql`id = ANY(ARRAY(${select} FOR UPDATE SKIP LOCKED))`,
  keyedValues: (column, keys, values) => ({
    from: SQL.empty,
    value: SQL.sql`(${values}::text[])[array_position(${keys}::text[], ${SQL.raw(column)})]`,
    where: SQL.sql` AND ${SQL.raw(column)} = ANY(${keys}::text[])`,
  }),
  byDueIndex: SQL.empty,
  byClaimIndex: SQL.empty,
  limitIf: (check, limit) => ({ where: SQL.sql` AND ${check}`, limit: SQL.sql`${limit}` }),
  entryKeys: SQL.raw('ws_queued_operation_key'),
  jsonRows: (json, columns, ordinal) => {
    const typed = Object.entries(columns).map(([c, type]) => `${c} ${type}`);
    if (!ordinal) return SQL.sql`json_to_recordset(${json}::json) AS v(${SQL.raw(typed.join(', '))})`;
    const names = [...Object.keys(columns), ordinal].join(', ');
    return SQL.sql`ROWS FROM (json_to_recordset(${json}::json) AS (${SQL.raw(typed.join(', '))})) WITH ORDINALITY AS v(${SQL.raw(names)})`;
  },
  mergeJson: (column, patch) => SQL.sql`(${SQL.raw(column)}::jsonb || ${patch}::jsonb)::text`,
  notify: (channel, payload) => SQL.sql`pg_notify(${channel}, ${payload})`,
  epochMs: (timestamp) => SQL.sql`(floor(extract(epoch FROM ${timestamp}) * 1000))::bigint`,
  lockKey: (key) => SQL.sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))::text AS locked`,
  flushLog: SQL.sql`SELECT pg_current_xact_id()::text AS xid`,
  queueTableSize: SQL.sql`SELECT pg_relation_size('ws_queue_entry') AS bytes`,
  jsonText: (f) => SQL.raw(`(COALESCE(data::jsonb ->> '${f}', '') COLLATE "C")`),
  jsonCast: (f, as) => SQL.raw(`(NULLIF(data::jsonb ->> '${f}', '')::${as === 'number' ? 'numeric' : 'integer'})`),
  dateTimeText: (c) => SQL.raw(`(to_char(${c}, 'YYYY-MM-DD HH24:MI:SS') COLLATE "C")`),
  like: SQL.raw('ILIKE'),
  unindexedOrder: (column) => column,
  live: SQL.empty,
  fieldIndexes: SQL.sql`SELECT indexname AS name FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = 'ws_record' AND indexname LIKE 'wsx\\_%' ESCAPE '\\'`,
  // SET and RESET in one implicit transaction, so a failure leaves the connection's setting as it was.
  untimed: (ddl) => `SET statement_timeout = 0; ${ddl}; RESET statement_timeout`,
  migrationsTable: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`,
};

/** The Dialect of a database kind (a URL's provider, src/db/url.ts). */
export const dialectOf = (provider: Provider): Dialect => (provider === 'sqlite' ? sqlite : postgresql);
