// Where an entry is. ws_queue_entry holds it from its enqueue on: queued, running, failed, cancelled, and
// done where results stay in place (SQLite). ws_queue_result holds the done ones where the dialect keeps
// results apart (PostgreSQL, ../../db/dialect.ts resultsApart). The view ws_queued_operation shows both, for
// people and tools; the statements here read the two tables, each by its own indexes (SQLite materializes a
// UNION ALL view that is joined to another table, and cannot walk it in an index's order).
import * as SQL from '../../db/sql.js';

export const ENTRIES = SQL.raw('ws_queue_entry');
export const RESULTS = SQL.raw('ws_queue_result');

/** `select(table)` of each table, their rows one after the other. */
export const fromEither = (select: (table: SQL.Sql) => SQL.Sql) => SQL.sql`${select(ENTRIES)} UNION ALL ${select(RESULTS)}`;
