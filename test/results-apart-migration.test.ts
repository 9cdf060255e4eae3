// Migration 20261208000000_results_apart on a database that holds entries in every state: on PostgreSQL the
// done ones move into ws_queue_result with their list keys and counts, the others stay; on SQLite every entry
// stays where it was. Either way the view ws_queued_operation shows each entry as it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { backends, tmpDir } from './support.js';
import { migratePostgresDatabase, migrateSqliteFile } from '../src/db/migrate.js';
import { packageRoot } from '../src/config.js';

const MIGRATION = '20261208000000_results_apart';

/** A copy of the provider's migrations with those before `name` only. */
function migrationsBefore(provider: string, name: string): string {
  const from = path.join(packageRoot, 'prisma', provider, 'migrations');
  const to = tmpDir('migrations');
  for (const d of fs.readdirSync(from)) if (d < name) fs.cpSync(path.join(from, d), path.join(to, d), { recursive: true });
  return to;
}

const STATES = ['queued', 'queued', 'running', 'done', 'done', 'failed', 'cancelled'];
const finished = (state: string) => state === 'done' || state === 'failed' || state === 'cancelled';
/** The entries as the view must show them after the migration. */
const expected = STATES.map((state, i) => ({ id: `e${i}`, state, result: finished(state) ? `{"success":true,"result":${i}}` : null }));

/** Rows of the INSERT: `at` renders a timestamp for the database. */
const insert = (at: (ms: number) => string) =>
  `INSERT INTO ws_queued_operation (id, operation, params, user_id, state, available_at, due_at, submitted_at, queue, finished_at, result, result_expires_at, lease_token)
   VALUES ${STATES.map((state, i) => {
     const t = at(1_800_000_000_000 + i * 1000);
     const done = finished(state);
     return `('e${i}', 'create', '{}', 1, '${state}', ${t}, ${t}, ${t}, 'q${i % 2}', ${done ? t : 'NULL'}, ${done ? `'{"success":true,"result":${i}}'` : 'NULL'}, ${done ? at(1_900_000_000_000) : 'NULL'}, ${state === 'running' ? "'lease'" : 'NULL'})`;
   }).join(', ')}`;

for (const backend of backends) {
  describe(`migration ${MIGRATION} on ${backend.name}`, () => {
    test('every entry is shown by the view as it was; PostgreSQL moved the done ones with their keys and counts', async () => {
      const url = await backend.freshUrl();
      if (backend.name === 'sqlite') {
        const file = url.slice('file:'.length);
        migrateSqliteFile(file, migrationsBefore('sqlite', MIGRATION), 5000);
        const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
        const db = new Sqlite(file);
        try {
          db.exec(insert((ms) => String(ms)));
          const countsBefore = db.prepare('SELECT queue, state, sum(n) AS n FROM ws_queue_count GROUP BY 1, 2 ORDER BY 1, 2').all();
          db.close();
          assert.deepEqual(migrateSqliteFile(file, path.join(packageRoot, 'prisma', 'sqlite', 'migrations'), 5000), [MIGRATION]);
          const after = new Sqlite(file);
          try {
            assert.deepEqual(after.prepare('SELECT id, state, result FROM ws_queued_operation ORDER BY id').all(), expected);
            assert.equal((after.prepare('SELECT count(*) AS n FROM ws_queue_entry').get() as { n: number }).n, STATES.length);
            assert.equal((after.prepare('SELECT count(*) AS n FROM ws_queue_result').get() as { n: number }).n, 0);
            assert.deepEqual(after.prepare('SELECT queue, state, sum(n) AS n FROM ws_queue_count GROUP BY 1, 2 ORDER BY 1, 2').all(), countsBefore);
          } finally {
            after.close();
          }
        } finally {
          if (db.open) db.close();
        }
        return;
      }
      await migratePostgresDatabase(url, migrationsBefore('postgresql', MIGRATION));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(insert((ms) => `to_timestamp(${ms / 1000}) AT TIME ZONE 'UTC'`));
        const counts = 'SELECT queue, state, sum(n)::int AS n FROM ws_queue_count GROUP BY 1, 2 ORDER BY 1, 2';
        const countsBefore = (await client.query(counts)).rows;
        assert.deepEqual(await migratePostgresDatabase(url, path.join(packageRoot, 'prisma', 'postgresql', 'migrations')), [MIGRATION]);
        assert.deepEqual((await client.query('SELECT id, state, result FROM ws_queued_operation ORDER BY id')).rows, expected);
        const where = async (table: string) => (await client.query(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => r.id);
        assert.deepEqual(await where('ws_queue_result'), ['e3', 'e4']);
        assert.deepEqual(await where('ws_queue_entry'), ['e0', 'e1', 'e2', 'e5', 'e6']);
        assert.deepEqual(
          await where('ws_queued_operation_key'),
          expected.map((e) => e.id),
        );
        assert.deepEqual((await client.query(counts)).rows, countsBefore);
        // From now on a result read goes with its key and its count.
        await client.query("DELETE FROM ws_queue_result WHERE id = 'e3'");
        assert.deepEqual(await where('ws_queued_operation_key'), ['e0', 'e1', 'e2', 'e4', 'e5', 'e6']);
        const done = "SELECT queue, sum(n)::int AS n FROM ws_queue_count WHERE state = 'done' GROUP BY 1 HAVING sum(n) <> 0";
        assert.deepEqual((await client.query(done)).rows, [{ queue: 'q0', n: 1 }]);
        // A result moved to another queue by hand: its count and its key follow.
        await client.query("UPDATE ws_queue_result SET queue = 'moved' WHERE id = 'e4'");
        assert.deepEqual((await client.query(done)).rows, [{ queue: 'moved', n: 1 }]);
        assert.deepEqual((await client.query("SELECT queue FROM ws_queued_operation_key WHERE id = 'e4'")).rows, [{ queue: 'moved' }]);
      } finally {
        await client.end();
      }
    });
  });
}
