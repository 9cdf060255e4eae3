// The claim and the completion are prepared once per size class of the queue's table (a doubling of its
// pages). PostgreSQL keeps the plan a prepared statement settled on (after five runs) until the table's
// statistics change: a claim prepared while a new database's table held a few entries scanned the whole table
// at every run as the entries grew, until autovacuum's first ANALYZE a minute or more later (5-9 ms a
// statement at 20,000 entries, against 30-40 us an entry once analyzed: BENCHMARKS.md). Planned at every run
// instead, the claim's planning alone (1.2 ms) cost 12% of the executor's throughput. A new class is a new
// statement, planned for the table as it is then; there are at most ~40 classes.
import type { Dialect } from '../db/dialect.js';
import type { Queryable } from '../db/raw.js';

/** The table's size is read again after this many statements through the same connection (or transaction). */
const RUNS_PER_READ = 64;

const known = new WeakMap<Queryable, { runs: number; prepared: string }>();

/** What to pass as `prepared` for a hot statement on the queue's table run through `via`. */
export async function planClass(dialect: Dialect, via: Queryable): Promise<true | string> {
  if (!dialect.queueTableSize) return true;
  const seen = known.get(via);
  if (seen && ++seen.runs < RUNS_PER_READ) return seen.prepared;
  const [row] = await via.query<{ bytes: unknown }>(dialect.queueTableSize);
  const pages = Math.max(1, Number(row?.bytes ?? 0) / 8192);
  const prepared = `size class ${Math.floor(Math.log2(pages))}`;
  known.set(via, { runs: 0, prepared });
  return prepared;
}
