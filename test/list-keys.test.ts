// Where the dialect keeps the dashboard list's keys apart from the entries (PostgreSQL, Dialect.entryKeys),
// the keys follow every entry queued, moved and deleted, and a page of the list walks their index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startGateway, type Gateway } from './support.js';
import { listOperations, PAGE_SIZE } from '../src/dashboard/queries.js';
import { page } from '../src/queue/sql/browse.js';
import * as SQL from '../src/db/sql.js';
import { allNodesOf, analyzed } from './plans.js';

const ENTRIES = 30_000;
/** Every RARE-th entry is of operation 'rare' (and done: RARE is even): 30 of them. */
const RARE = 1_000;

for (const backend of backends.filter((b) => b.name === 'postgresql')) {
  describe(`the list's keys on ${backend.name}`, () => {
    let gw: Gateway;
    const count = async (table: string) => {
      const [row] = await gw.rt.db.raw.query<{ n: unknown }>(SQL.sql`SELECT count(*) AS n FROM ${SQL.raw(table)}`);
      return Number(row!.n);
    };
    const keysMatch = async () => {
      const [row] = await gw.rt.db.raw.query<{ n: unknown }>(SQL.sql`
        SELECT count(*) AS n FROM ws_queued_operation o FULL JOIN ws_queued_operation_key k ON k.id = o.id
        WHERE k.id IS NULL OR o.id IS NULL OR (k.submitted_at, k.queue, k.operation, k.user_id) <> (o.submitted_at, o.queue, o.operation, o.user_id)`);
      return Number(row!.n);
    };

    before(async () => {
      gw = await startGateway(backend);
      assert.ok(gw.rt.db.dialect.entryKeys, 'the dialect keeps the keys apart');
      const at = Date.now() - ENTRIES * 1000;
      await gw.rt.db.raw.execute(SQL.sql`
        INSERT INTO ws_queue_entry (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue)
        SELECT 'k' || i, CASE WHEN i % ${RARE} = 0 THEN 'rare' ELSE 'create' END, '{}', 1,
               CASE WHEN i % 2 = 0 THEN 'done' ELSE 'queued' END, t, t, t, 'q' || (i % 3)
        FROM (SELECT i, to_timestamp((${at}::bigint + i * 1000) / 1000.0) AT TIME ZONE 'UTC' AS t FROM generate_series(1, ${ENTRIES}) AS s(i)) AS r`);
      await gw.rt.db.raw.execute(SQL.sql`ANALYZE`);
    });
    after(() => gw?.close());

    test('each entry queued has its key', async () => {
      assert.equal(await count('ws_queued_operation_key'), ENTRIES);
      assert.equal(await keysMatch(), 0);
    });

    test('a page by a filter walks the keys in order and reads one page of entries', async () => {
      const now = new Date();
      const { rows, next } = await listOperations(gw.rt.db, { operation: 'rare' }, now);
      assert.deepEqual(
        rows.map((r) => r.id),
        Array.from({ length: ENTRIES / RARE }, (_, i) => `k${ENTRIES - i * RARE}`),
      );
      assert.equal(next, null);
      const root = await analyzed(gw.env.DATABASE_URL!, page(gw.rt.db.dialect, { queue: 'q1' }, now, PAGE_SIZE + 1));
      const nodes = allNodesOf(root);
      const walk = nodes.filter((n) => n['Relation Name'] === 'ws_queued_operation_key');
      assert.equal(walk.length, 1, JSON.stringify(root));
      assert.match(walk[0]!['Node Type'], /^Index (Only )?Scan$/);
      assert.equal(walk[0]!['Index Name'], 'ws_queued_operation_key_queue_submitted_at_id_idx');
      assert.equal(walk[0]!['Actual Rows'], PAGE_SIZE + 1);
      assert.ok(!nodes.some((n) => n['Node Type'] === 'Sort'), JSON.stringify(root));
      const entries = nodes.filter((n) => n['Relation Name'] === 'ws_queue_entry' || n['Relation Name'] === 'ws_queue_result');
      for (const n of entries) assert.ok((n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 0) <= PAGE_SIZE + 1, JSON.stringify(n));
      const first = await listOperations(gw.rt.db, { queue: 'q1' }, now);
      assert.equal(first.rows.length, PAGE_SIZE);
      assert.ok(first.rows.every((r) => r.queue === 'q1'));
      const second = await listOperations(gw.rt.db, { queue: 'q1', before: first.next! }, now);
      assert.ok(second.rows[0]!.submittedAt < first.rows.at(-1)!.submittedAt);
    });

    test('a page by state and another filter reads about what the rarer of the two finds', async () => {
      const now = new Date();
      // 30 'rare' entries among 15,000 done ones.
      const q = page(gw.rt.db.dialect, { state: 'done', operation: 'rare' }, now, PAGE_SIZE + 1);
      const rows = await gw.rt.db.raw.query<{ id: string }>(q);
      assert.deepEqual(
        rows.map((r) => r.id),
        Array.from({ length: ENTRIES / RARE }, (_, i) => `k${ENTRIES - i * RARE}`),
      );
      const root = await analyzed(gw.env.DATABASE_URL!, q);
      const read = allNodesOf(root)
        .filter((n) => ['ws_queue_entry', 'ws_queue_result', 'ws_queued_operation_key'].includes(n['Relation Name'] ?? ''))
        .reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 0), 0);
      assert.ok(read <= 4 * (ENTRIES / RARE), `${read} rows read: ${JSON.stringify(root)}`);
      const { rows: both } = await listOperations(gw.rt.db, { state: 'done', queue: 'q1' }, now);
      assert.equal(both.length, PAGE_SIZE);
      assert.ok(both.every((r) => r.state === 'done' && r.queue === 'q1'));
      assert.ok(both.every((r, i) => i === 0 || r.submittedAt < both[i - 1]!.submittedAt));
    });

    test('the keys of deleted entries go with them, a changed column follows, TRUNCATE empties them', async () => {
      await gw.rt.db.raw.execute(SQL.sql`DELETE FROM ws_queue_entry WHERE state = 'done'`);
      assert.equal(await count('ws_queued_operation_key'), ENTRIES / 2);
      await gw.rt.db.raw.execute(SQL.sql`UPDATE ws_queue_entry SET queue = 'moved', operation = 'other' WHERE id = 'k1'`);
      assert.equal(await keysMatch(), 0);
      const moved = await listOperations(gw.rt.db, { queue: 'moved' }, new Date());
      assert.deepEqual(
        moved.rows.map((r) => r.id),
        ['k1'],
      );
      await gw.rt.db.raw.execute(SQL.sql`TRUNCATE ws_queue_entry, ws_queue_result`);
      assert.equal(await count('ws_queued_operation_key'), 0);
      assert.equal(await count('ws_queue_count'), 0);
    });
  });
}
