// The executor's claim stays an index walk when nothing is due: it does not read the queue's entries that
// are not due yet (a backlog scheduled for later would otherwise be read at every claim of an idle executor).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { backends, startGateway, type Gateway } from './support.js';
import { claimDue, nextDue } from '../src/queue/sql/claim.js';
import { parseDatabaseUrl } from '../src/db/url.js';
import * as SQL from '../src/db/sql.js';
import { toDate } from '../src/db/values.js';

const LATER = 20_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Parent Relationship'?: string;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}
/** SQLite's plan of `q` (EXPLAIN QUERY PLAN), a line per step. */
function sqlitePlan(file: string, q: SQL.Sql): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.values.map((v) => (v instanceof Date ? v.getTime() : v))) as { detail: string }[]).map(
      (r) => r.detail,
    );
  } finally {
    db.close();
  }
}
/** The plan of `q` as PostgreSQL ran it (EXPLAIN ANALYZE), in a transaction rolled back: a claim changes nothing. */
async function analyzed(url: string, q: SQL.Sql): Promise<PlanNode> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const explained = await client.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${q.text}`,
      q.values.map((v) => (v instanceof Date ? v.toISOString() : v)),
    );
    await client.query('ROLLBACK');
    return (explained.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
  } finally {
    await client.end();
  }
}
/** Every node of the plan, InitPlans and SubPlans included. */
const allNodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(allNodesOf)];
/** The plan's nodes, leaving out InitPlans (run once, before the rest). */
const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).filter((c) => c['Parent Relationship'] !== 'InitPlan').flatMap(nodesOf)];

for (const backend of backends) {
  describe(`the claim with nothing due on ${backend.name}`, () => {
    let gw: Gateway;
    const claim = () =>
      claimDue(gw.rt.db.dialect, { queue: 'later', now: new Date(), leaseUntil: new Date(Date.now() + 60_000), leaseToken: 'plan', limit: 20 });

    before(async () => {
      gw = await startGateway(backend);
      const dayAhead = new Date(Date.now() + 86_400_000);
      const rows = gw.rt.db.dialect.inProcess
        ? SQL.sql`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${LATER}) SELECT i FROM s`
        : SQL.sql`SELECT i FROM generate_series(1, ${LATER}) AS s(i)`;
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queued_operation (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        SELECT 'later' || i, 'create', '{}', 1, 'queued', ${dayAhead}, ${dayAhead}, ${new Date()}, 'later' FROM (${rows}) AS r`);
      await gw.rt.db.raw.execute(SQL.sql`ANALYZE`);
    });
    after(() => gw?.close());

    test('claims nothing, and never walks the claim index past the entries that are not due', async () => {
      assert.deepEqual(await gw.rt.db.raw.query(claim()), []);
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        // SQLite shows no counts: its plan must ask the queue's earliest entry through the index first.
        assert.match(
          sqlitePlan(location.file, claim()).join('\n'),
          /SCALAR SUBQUERY[\s\S]*SEARCH ws_queued_operation USING COVERING INDEX ws_queued_operation_state_queue_available_at_idx \(state=\? AND queue=\?\)/,
        );
        return;
      }
      const root = await analyzed(location.url, claim());
      // The check that something is due is an InitPlan, run once; every scan of the entries besides it is
      // never executed.
      const scans = nodesOf(root).filter((n) => n['Relation Name'] === 'ws_queued_operation' && n['Node Type'].includes('Scan'));
      assert.ok(scans.length > 0, 'the claim reads the entries through scans');
      for (const scan of scans) assert.equal(scan['Actual Loops'], 0, `entries were read: ${JSON.stringify(scan)}`);
    });

    test("an idle executor's next due time over several queues reads one index entry per queue", async () => {
      const soon = new Date(Date.now() + 3_600_000);
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queued_operation (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        VALUES ('other-1', 'create', '{}', 1, 'queued', ${soon}, ${soon}, ${new Date()}, 'other')`);
      const q = nextDue(gw.rt.db.dialect, ['later', 'other', 'empty']);
      const [row] = await gw.rt.db.raw.query<{ at: unknown }>(q);
      assert.equal(toDate(row!.at).getTime(), soon.getTime());
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const plan = sqlitePlan(location.file, q);
        const reads = plan.filter((d) => / ws_queued_operation\b/.test(d));
        assert.equal(reads.length, 3, plan.join('\n'));
        for (const d of reads)
          assert.match(d, /^SEARCH ws_queued_operation USING COVERING INDEX ws_queued_operation_state_queue_available_at_idx \(state=\? AND queue=\?\)$/);
        return;
      }
      const root = await analyzed(location.url, q);
      const scans = allNodesOf(root).filter((n) => n['Relation Name'] === 'ws_queued_operation');
      assert.equal(scans.length, 3, JSON.stringify(root));
      for (const scan of scans) assert.ok((scan['Actual Rows'] ?? 0) <= 1, `more than one entry read: ${JSON.stringify(scan)}`);
    });
  });
}
