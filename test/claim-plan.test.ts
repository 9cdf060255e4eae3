// The executor's claim stays an index walk when nothing is due: it does not read the queue's entries that
// are not due yet (a backlog scheduled for later would otherwise be read at every claim of an idle executor).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startGateway, type Gateway } from './support.js';
import { claimDue, nextDue } from '../src/queue/sql/claim.js';
import { parseDatabaseUrl } from '../src/db/url.js';
import * as SQL from '../src/db/sql.js';
import { allNodesOf, analyzed, sqliteBytesRead, sqlitePlan } from './plans.js';
import { toDate } from '../src/db/values.js';

const LATER = 20_000;

for (const backend of backends) {
  describe(`the claim with nothing due on ${backend.name}`, () => {
    let gw: Gateway;
    const claim = () =>
      claimDue(gw.rt.db.dialect, { queue: 'later', now: new Date(), leaseUntil: new Date(Date.now() + 60_000), leaseToken: 'plan', limit: 20 });

    before(async () => {
      gw = await startGateway(backend);
      const dayAhead = new Date(Date.now() + 86_400_000);
      // Each due a millisecond after the one before, as entries queued one by one are: SQLite's planner, given
      // one due time for all, bounds the walk by it.
      const [rows, at] = gw.rt.db.dialect.inProcess
        ? [SQL.sql`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${LATER}) SELECT i FROM s`, SQL.sql`${dayAhead} + i`]
        : [SQL.sql`SELECT i FROM generate_series(1, ${LATER}) AS s(i)`, SQL.sql`${dayAhead}::timestamp + i * interval '1 millisecond'`];
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        SELECT 'later' || i, 'create', '{}', 1, 'queued', ${at}, ${at}, ${new Date()}, 'later' FROM (${rows}) AS r`);
      // As many due in a queue of its own: with the statistics of such a table, SQLite's planner put the
      // check inside the walk (a claim with nothing due walked every entry of its queue not due yet).
      const past = new Date(Date.now() - 60_000);
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        SELECT 'elsewhere' || i, 'create', '{}', 1, 'queued', ${past}, ${past}, ${past}, 'elsewhere' FROM (${rows}) AS r`);
      await gw.rt.db.raw.execute(SQL.sql`ANALYZE`);
    });
    after(() => gw?.close());

    test('claims nothing, and never walks the claim index past the entries that are not due', async () => {
      assert.deepEqual(await gw.rt.db.raw.query(claim()), []);
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        // SQLite counts no rows: the pages it reads tell. Its plan asks the queue's earliest entry through the
        // index, and the claim reads a few pages (3 here); a walk of the 20,000 entries not due read ~170.
        assert.match(
          sqlitePlan(location.file, claim()).join('\n'),
          /SCALAR SUBQUERY[\s\S]*SEARCH ws_queue_entry USING COVERING INDEX ws_queued_operation_state_queue_available_at_idx \(state=\? AND queue=\?\)/,
        );
        const read = sqliteBytesRead(location.file, claim());
        assert.ok(read < 16 * 4096, `the claim read ${read} bytes`);
        return;
      }
      const root = await analyzed(location.url, claim());
      // The check that something is due reads the queue's earliest entry (one descent of the (state, queue,
      // available_at) index, run once): no other entry is read, by a walk of an index or by the look-up of
      // the claimed ids.
      const scans = allNodesOf(root).filter((n) => n['Relation Name'] === 'ws_queue_entry' && n['Node Type'].includes('Scan'));
      assert.ok(scans.length > 0, 'the claim reads the entries through scans');
      assert.ok(!scans.some((n) => n['Node Type'] === 'Seq Scan'), `the claim scans the entries: ${JSON.stringify(root)}`);
      // EXPLAIN gives both counts per loop.
      const read = scans.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 0), 0);
      assert.equal(read, 1, `entries were read: ${JSON.stringify(root)}`);
    });

    test("an idle executor's next due time over several queues reads one index entry per queue", async () => {
      const soon = new Date(Date.now() + 3_600_000);
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        VALUES ('other-1', 'create', '{}', 1, 'queued', ${soon}, ${soon}, ${new Date()}, 'other')`);
      const q = nextDue(gw.rt.db.dialect, ['later', 'other', 'empty']);
      const [row] = await gw.rt.db.raw.query<{ at: unknown }>(q);
      assert.equal(toDate(row!.at).getTime(), soon.getTime());
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const plan = sqlitePlan(location.file, q);
        const reads = plan.filter((d) => / ws_queue_entry\b/.test(d));
        assert.equal(reads.length, 3, plan.join('\n'));
        for (const d of reads)
          assert.match(d, /^SEARCH ws_queue_entry USING COVERING INDEX ws_queued_operation_state_queue_available_at_idx \(state=\? AND queue=\?\)$/);
        return;
      }
      const root = await analyzed(location.url, q);
      const scans = allNodesOf(root).filter((n) => n['Relation Name'] === 'ws_queue_entry');
      assert.equal(scans.length, 3, JSON.stringify(root));
      for (const scan of scans) assert.ok((scan['Actual Rows'] ?? 0) <= 1, `more than one entry read: ${JSON.stringify(scan)}`);
    });

    test('a claim of due entries looks up only the entries it takes, by their ids', async () => {
      // 20,000 entries of 'later' and 2,000 due ones are in the table: a claim of 400 looks those up by their
      // ids (PostgreSQL planned `id IN (claim)` as a hash join to a scan of the whole table).
      const now = new Date();
      const due = new Date(now.getTime() - 1_000);
      const ids = Array.from({ length: 2_000 }, (_, i) => `due-${i}`);
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        VALUES ${SQL.join(ids.map((id) => SQL.sql`(${id}, 'create', '{}', 1, 'queued', ${due}, ${due}, ${due}, 'due')`))}`);
      await gw.rt.db.raw.execute(SQL.sql`ANALYZE`);
      const q = claimDue(gw.rt.db.dialect, { queue: 'due', now, leaseUntil: new Date(now.getTime() + 60_000), leaseToken: 'plan', limit: 400 });
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const plan = sqlitePlan(location.file, q);
        assert.ok(!plan.some((d) => /^SCAN ws_queue_entry\b/.test(d)), `the claim scans the entries:\n${plan.join('\n')}`);
        return;
      }
      const root = await analyzed(location.url, q);
      const reads = allNodesOf(root).filter((n) => n['Relation Name'] === 'ws_queue_entry' && n['Node Type'].includes('Scan'));
      assert.ok(!reads.some((n) => n['Node Type'] === 'Seq Scan'), `the claim scans the entries: ${JSON.stringify(root)}`);
      // An Index Scan, or a Bitmap Index Scan under a Bitmap Heap Scan.
      const byId = allNodesOf(root).filter((n) => n['Index Name'] === 'ws_queued_operation_pkey');
      assert.equal(byId.length, 1, `the claimed ids are not looked up by the primary key: ${JSON.stringify(root)}`);
      assert.equal(byId[0]!['Actual Rows'], 400, JSON.stringify(byId[0]));
    });
  });

  describe(`the claim of a bulk enqueue on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw?.close());

    test("a claim walks the claim index in the claim's order, whatever the statistics say: it reads what it takes", async () => {
      // A bulk enqueue gives its entries one due and submitted time. With the statistics of such a table,
      // SQLite's planner read every entry of the queue (finished ones too) by the dashboard's (queue,
      // submitted_at, id) index and sorted them, at every claim: 11 ms a claim at 20,000 entries, on the event
      // loop.
      const at = new Date(Date.now() - 1_000);
      const rows = gw.rt.db.dialect.inProcess
        ? SQL.sql`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) SELECT i FROM s`
        : SQL.sql`SELECT i FROM generate_series(1, 5000) AS s(i)`;
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        SELECT 'bulk' || i, 'create', '{}', 1, 'queued', ${at}, ${at}, ${at}, 'bulk' FROM (${rows}) AS r`);
      await gw.rt.db.raw.execute(SQL.sql`ANALYZE`);
      const now = new Date();
      const q = claimDue(gw.rt.db.dialect, { queue: 'bulk', now, leaseUntil: new Date(now.getTime() + 60_000), leaseToken: 'plan', limit: 100 });
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const plan = sqlitePlan(location.file, q).join('\n');
        assert.match(plan, /LIST SUBQUERY[\s\S]*SEARCH ws_queue_entry USING INDEX ws_queued_operation_claim_idx \(queue=\?\)/);
        assert.doesNotMatch(plan, /TEMP B-TREE FOR ORDER BY/);
        return;
      }
      const root = await analyzed(location.url, q);
      const walks = allNodesOf(root).filter(
        (n) =>
          n['Relation Name'] === 'ws_queue_entry' &&
          n['Node Type'].includes('Scan') &&
          // The claimed ids' look-up by the primary key (a Bitmap Heap Scan over the pkey's Bitmap Index Scan, or an Index Scan).
          n['Node Type'] !== 'Bitmap Heap Scan' &&
          n['Index Name'] !== 'ws_queued_operation_pkey',
      );
      const read = walks.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 0), 0);
      // The 100 it takes and the queue's earliest entry (the check that something is due).
      assert.ok(read <= 101, `the claim read ${read} entries: ${JSON.stringify(root)}`);
    });
  });
}
