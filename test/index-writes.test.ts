// What a claim and a completion write to the entries' indexes on PostgreSQL (migrations
// 20261207000000_partial_queue_indexes, 20261208000000_results_apart): a claim does not stay on its page, so
// the claimed version of an entry goes into every index whose condition it meets; a completion moves the
// entry into the results' table, adding nothing to the entries' indexes. The indexes that serve only some
// entries hold only those, and each statement that reads them still walks them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { backends, runPass, startGateway, type Gateway } from './support.js';
import { enqueueMany } from '../src/queue/store.js';
import { usageOf } from '../src/queue/sql/quota.js';
import { purgeExpiredDone, purgeExpiredResults } from '../src/queue/sql/retention.js';
import { rescueExpiredLeases } from '../src/queue/sql/lease.js';
import { countFilter, live, queueCounts } from '../src/queue/sql/status.js';
import { page } from '../src/queue/sql/browse.js';
import { PAGE_SIZE } from '../src/dashboard/queries.js';
import * as SQL from '../src/db/sql.js';
import { allNodesOf, analyzed } from './plans.js';

/** Few enough that each index fits one leaf page: nothing splits, so nothing is pruned while it is counted. */
const ENTRIES = 40;

for (const backend of backends.filter((b) => b.name === 'postgresql')) {
  describe(`the entries' index writes on ${backend.name}`, () => {
    let gw: Gateway;
    let client: pg.Client;
    let superuser = false;
    /** Heap pointers in the index's leaf pages (pageinspect): one per version of an entry the index holds. */
    const pointers = async (index: string) => {
      const { rows } = await client.query<{ n: string | null }>(
        `SELECT sum(CASE WHEN i.tids IS NOT NULL THEN cardinality(i.tids) ELSE 1 END) AS n
         FROM generate_series(1, (pg_relation_size($1::text::regclass) / current_setting('block_size')::int)::int - 1) AS b,
              LATERAL bt_page_stats($1::text, b) AS s, LATERAL bt_page_items($1::text, b) AS i
         WHERE s.type = 'l' AND i.htid IS NOT NULL`,
        [index],
      );
      return Number(rows[0]!.n ?? 0);
    };

    before(async () => {
      gw = await startGateway(backend);
      client = new pg.Client({ connectionString: gw.env.DATABASE_URL });
      await client.connect();
      // pageinspect needs a superuser (CI's server: the user postgres); the plans' tests below do not.
      const { rows } = await client.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
      superuser = rows[0]!.su;
      if (superuser) await client.query('CREATE EXTENSION IF NOT EXISTS pageinspect');
      // No vacuum may remove the old versions while they are counted.
      await client.query('ALTER TABLE ws_queue_entry SET (autovacuum_enabled = false)');
      await client.query('ALTER TABLE ws_queue_result SET (autovacuum_enabled = false)');
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const at = new Date(Date.now() - 1000);
      await enqueueMany(
        gw.rt.db,
        Array.from({ length: ENTRIES }, (_, i) => ({ operation: 'wsgatetest_noop', params: { tag: String(i) }, userId: admin.id, submittedAt: at, dueAt: at })),
      );
      const summary = await runPass(gw.rt, { concurrency: 1 });
      assert.equal(summary.run, ENTRIES);
    });
    after(async () => {
      await client?.end();
      await gw?.close();
    });

    test("a completion moves each entry into the results, with its list key, its count and its minute's run", async () => {
      const { rows } = await client.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM ws_queue_entry) AS entries,
                (SELECT count(*) FROM ws_queue_result WHERE state = 'done' AND result LIKE '{"success":true%' AND params = '{}') AS results,
                (SELECT count(*) FROM ws_queued_operation_key k JOIN ws_queue_result r ON r.id = k.id) AS keys,
                (SELECT COALESCE(sum(n), 0) FROM ws_queue_count WHERE state = 'done') AS done,
                (SELECT COALESCE(sum(n), 0) FROM ws_queue_count WHERE state <> 'done') AS others,
                (SELECT COALESCE(sum(runs), 0) FROM ws_queue_minute) AS runs`,
      );
      assert.deepEqual(rows[0], { entries: '0', results: String(ENTRIES), keys: String(ENTRIES), done: String(ENTRIES), others: '0', runs: String(ENTRIES) });
    });

    test('each entry was written twice to the entries (queued, claimed) and once to the results (completed)', async (t) => {
      if (!superuser) return t.skip('pageinspect needs a superuser');
      assert.equal(await pointers('ws_queued_operation_pkey'), 2 * ENTRIES);
      assert.equal(await pointers('ws_queue_result_pkey'), ENTRIES);
    });

    test('only queued and running versions go into the due and quota indexes, the results alone into an expiry index, none without a context into the context index', async (t) => {
      if (!superuser) return t.skip('pageinspect needs a superuser');
      assert.equal(await pointers('ws_queued_operation_state_queue_available_at_idx'), 2 * ENTRIES);
      assert.equal(await pointers('ws_queued_operation_user_id_state_params_bytes_idx'), 2 * ENTRIES);
      assert.equal(await pointers('ws_queued_operation_result_expires_at_idx'), 0);
      assert.equal(await pointers('ws_queue_result_result_expires_at_idx'), ENTRIES);
      assert.equal(await pointers('ws_queued_operation_context_idx'), 0);
      assert.equal(await pointers('ws_queue_result_context_idx'), 0);
    });

    test("the dashboard's list by state holds no running version: a page of running entries reads them from an index of the queued and running entries", async () => {
      if (superuser) assert.equal(await pointers('ws_queued_operation_state_submitted_at_id_idx'), ENTRIES);
      const root = await analyzed(gw.env.DATABASE_URL!, page(gw.rt.db.dialect, { state: 'running' }, new Date(), PAGE_SIZE + 1), [
        'SET LOCAL enable_seqscan = off',
      ]);
      // Either index of the queued and running entries alone (the planner picks by its costs; a bitmap scan
      // names its index in its child), never one of all, nor the table.
      const nodes = allNodesOf(root);
      assert.ok(!nodes.some((n) => n['Node Type'] === 'Seq Scan'), JSON.stringify(root));
      const used = nodes.flatMap((n) => (n['Index Name']?.startsWith('ws_queued_operation') ? [n['Index Name']] : []));
      assert.ok(used.length > 0, JSON.stringify(root));
      for (const index of used) {
        assert.ok(
          ['ws_queued_operation_state_queue_available_at_idx', 'ws_queued_operation_user_id_state_params_bytes_idx'].includes(index),
          JSON.stringify(root),
        );
      }
    });

    test('the statements that read those indexes still walk them', async () => {
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const now = new Date();
      const reads: [SQL.Sql, string][] = [
        // The quotas' count (PostgreSQL: inside wsgate_queue_usage(), whose statement is the one to hold).
        [
          SQL.sql`SELECT count(*), COALESCE(sum(params_bytes), 0) FROM ws_queue_entry WHERE user_id = ${admin.id} AND state IN ('queued', 'running')`,
          'ws_queued_operation_user_id_state_params_bytes_idx',
        ],
        [purgeExpiredResults(now, 100), 'ws_queued_operation_result_expires_at_idx'],
        [purgeExpiredDone(now, 100), 'ws_queue_result_result_expires_at_idx'],
        [rescueExpiredLeases(gw.rt.db.dialect, now, 60), 'ws_queued_operation_state_queue_available_at_idx'],
        [queueCounts(now, countFilter(undefined, 'a context', undefined), true), 'ws_queued_operation_context_idx'],
        [queueCounts(now, countFilter(undefined, 'a context', undefined), true), 'ws_queue_result_context_idx'],
        // GET /jobs/status of a user, of an administrator; `wsgate status` (its finished ones from ws_queue_count).
        [queueCounts(now, [...countFilter(undefined, undefined, admin.id), live()], false), 'ws_queued_operation_user_id_state_params_bytes_idx'],
        [queueCounts(now, [live()], false), 'ws_queued_operation_state_queue_available_at_idx'],
      ];
      const source = await client.query<{ src: string }>("SELECT prosrc AS src FROM pg_proc WHERE proname = 'wsgate_queue_usage'");
      assert.match(source.rows[0]!.src, /o\.user_id = p_user_id AND o\.state IN \('queued', 'running'\)/);
      assert.ok((await gw.rt.db.raw.query(usageOf(gw.rt.db.dialect, admin.id))).length === 1);
      const { rows: indexes } = await client.query<{ name: string }>(
        "SELECT indexname AS name FROM pg_indexes WHERE tablename IN ('ws_queue_entry', 'ws_queue_result') AND indexname NOT IN ('ws_queued_operation_pkey', 'ws_queue_result_pkey')",
      );
      for (const [q, index] of reads) {
        // The index alone beside the primary key, sequential scans priced out (in a transaction rolled back):
        // it is taken if and only if its condition covers the statement's.
        const others = indexes.filter((i) => i.name !== index).map((i) => `DROP INDEX ${i.name}`);
        const root = await analyzed(gw.env.DATABASE_URL!, q, ['SET LOCAL enable_seqscan = off', ...others]);
        const used = allNodesOf(root).map((n) => n['Index Name']);
        assert.ok(used.includes(index), `${q.text}: ${JSON.stringify(root)}`);
      }
    });
  });
}
