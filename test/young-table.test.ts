// The executor's statements on a queue table PostgreSQL has not analyzed yet (a new database, the first minute
// of load), and beside a worker's transaction that holds entries: the completion reaches its entries by the
// primary key, the claim and the completion are prepared again as the table doubles (a plan settled while the
// table was nearly empty scanned it whole as it grew), and the heartbeat passes over the entries another
// transaction holds rather than waiting for them (it deadlocked with a worker's completion).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import pg from 'pg';
import { backends, startGateway, type Gateway } from './support.js';
import { completeEntries } from '../src/queue/sql/complete.js';
import { renewLeases, rescueExpiredLeases } from '../src/queue/sql/lease.js';
import { claim, completeMany } from '../src/queue/store.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { packageRoot } from '../src/config.js';
import * as SQL from '../src/db/sql.js';
import { allNodesOf, analyzed, sqlitePlan } from './plans.js';
import { parseDatabaseUrl } from '../src/db/url.js';

const DONE = 5_000;
const RUNNING = 10;
const LEASE = 'young';

for (const backend of backends) {
  describe(`the executor's statements on a young queue table on ${backend.name}`, () => {
    let gw: Gateway;
    const ids = Array.from({ length: RUNNING }, (_, i) => `run-${i}`);
    const completion = (dialect = gw.rt.db.dialect) =>
      completeEntries(
        dialect,
        LEASE,
        ids,
        ids.map(() => '{"success":true,"result":1}'),
        new Date(),
        new Date(Date.now() + 60_000),
      );

    before(async () => {
      gw = await startGateway(backend);
      const postgres = !gw.rt.db.dialect.inProcess;
      // Never analyzed while the test runs: what a new database's first minute looks like.
      if (postgres) await gw.rt.db.raw.execute(SQL.sql`ALTER TABLE ws_queue_entry SET (autovacuum_enabled = false)`);
      const series = postgres
        ? SQL.sql`SELECT i FROM generate_series(1, ${DONE}) AS s(i)`
        : SQL.sql`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${DONE}) SELECT i FROM s`;
      const at = new Date();
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, result)
        SELECT 'done-' || i, 'create', '{}', 1, 'done', ${at}, ${at}, ${at}, 'default', ${'{"success":true,"result":"' + 'x'.repeat(200) + '"}'} FROM (${series}) AS r`);
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, lease_token)
        VALUES ${SQL.join(ids.map((id) => SQL.sql`(${id}, 'create', '{}', 1, 'running', ${new Date(Date.now() + 60_000)}, ${at}, ${at}, 'default', ${LEASE})`))}`);
    });
    after(() => gw?.close());

    test('a completion looks its entries up by the primary key before the table has statistics, and reads each result once', async () => {
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const plan = sqlitePlan(location.file, completion());
        assert.ok(!plan.some((d) => /^SCAN ws_queue_entry\b/.test(d)), `the completion scans the entries:\n${plan.join('\n')}`);
        return;
      }
      const rows = await gw.rt.db.raw.query<{ reltuples: number }>(SQL.sql`SELECT reltuples FROM pg_class WHERE relname = 'ws_queue_entry'`);
      assert.ok(Number(rows[0]!.reltuples) <= 0, `the table was analyzed: ${JSON.stringify(rows)}`);
      const root = await analyzed(location.url, completion());
      const reads = allNodesOf(root).filter((n) => n['Relation Name'] === 'ws_queue_entry' && n['Node Type'].includes('Scan'));
      assert.ok(reads.length > 0, JSON.stringify(root));
      assert.ok(!reads.some((n) => n['Node Type'] === 'Seq Scan'), `the completion scans the entries: ${JSON.stringify(root)}`);
      // Each result read once: joined as a set, the results were read again for every entry (a nested loop).
      const again = allNodesOf(root).filter((n) => Number(n['Actual Loops']) > 1);
      assert.deepEqual(again, [], `the completion reads something once per entry: ${JSON.stringify(root)}`);
      assert.equal(root['Actual Rows'], RUNNING);
    });

    test('claims and completions are prepared again once the table has doubled', { skip: backend.name === 'sqlite' && 'PostgreSQL only' }, async () => {
      // One connection, so that pg_prepared_statements is the one the statements ran on.
      const db: Database = await openDatabase(gw.env.DATABASE_URL!, {
        migrationsDir: path.join(packageRoot, 'prisma'),
        sqliteBusyTimeoutMs: 5_000,
        migrate: false,
        poolSize: 1,
        models: false,
      });
      try {
        const now = new Date();
        // Past the statements after which the table's size is read again (plan-class.ts).
        const runs = async () => {
          for (let i = 0; i < 70; i++) {
            await claim(db, { queues: ['nothing-here'], now, leaseSeconds: 60, limit: 5 });
            await completeMany(db, LEASE, [{ operationTrackingID: `missing-${i}`, envelope: '{"success":true,"result":1}' }], now, 60);
          }
        };
        const prepared = async () =>
          (await Promise.all([db.raw, db.unflushed].map((q) => q.query<{ statement: string }>(SQL.sql`SELECT statement FROM pg_prepared_statements`))))
            .flat()
            .map((r) => r.statement);
        const count = (kept: string[], re: RegExp) => kept.filter((s) => re.test(s)).length;
        await runs();
        const before = await prepared();
        assert.equal(count(before, /SET state = 'running'/), 1, before.join('\n---\n'));
        assert.equal(count(before, /SET state = 'done'|INSERT INTO ws_queue_result/), 1, before.join('\n---\n'));
        await db.raw.execute(SQL.sql`
          INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, result)
          SELECT 'more-' || i, 'create', '{}', 1, 'done', ${now}, ${now}, ${now}, 'default', ${'x'.repeat(500)} FROM generate_series(1, ${DONE * 4}) AS s(i)`);
        await runs();
        const after = await prepared();
        assert.equal(count(after, /SET state = 'running'/), 2, after.join('\n---\n'));
        assert.equal(count(after, /SET state = 'done'|INSERT INTO ws_queue_result/), 2, after.join('\n---\n'));
      } finally {
        await db.close();
      }
    });

    test('the heartbeat passes over the entries another transaction holds', { skip: backend.name === 'sqlite' && 'PostgreSQL only' }, async () => {
      const holder = new pg.Client({ connectionString: gw.env.DATABASE_URL });
      const beat = new pg.Client({ connectionString: gw.env.DATABASE_URL });
      await holder.connect();
      await beat.connect();
      try {
        // Without SKIP LOCKED the heartbeat's statements wait for the holder: the lock timeout fails them.
        await beat.query("SET lock_timeout = '3s'");
        await holder.query('BEGIN');
        await holder.query("UPDATE ws_queue_entry SET progress = 0.5 WHERE id = 'run-0'");
        const run = (q: SQL.Sql) =>
          beat.query(
            q.text,
            q.values.map((v) => (v instanceof Date ? v.toISOString() : v)),
          );
        const renewed = await run(renewLeases(gw.rt.db.dialect, [LEASE], new Date(Date.now() + 120_000)));
        assert.equal(renewed.rowCount, RUNNING - 1);
        // Every lease but the held entry's ran out a minute from now: the rescue takes them and passes over it.
        await beat.query('BEGIN');
        const rescued = await run(rescueExpiredLeases(gw.rt.db.dialect, new Date(Date.now() + 600_000), 60));
        await beat.query('ROLLBACK');
        assert.equal(rescued.rowCount, RUNNING - 1);
        await holder.query('ROLLBACK');
        const all = await run(renewLeases(gw.rt.db.dialect, [LEASE], new Date(Date.now() + 120_000)));
        assert.equal(all.rowCount, RUNNING);
      } finally {
        await holder.end();
        await beat.end();
      }
    });
  });
}
