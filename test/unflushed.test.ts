// The executor's claims commit without waiting for the disk (PostgreSQL: a connection of their own with
// synchronous_commit off, src/queue/sql/claim.ts says why that is safe); every other statement waits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startGateway, type Gateway } from './support.js';
import { claim, enqueueMany } from '../src/queue/store.js';
import * as SQL from '../src/db/sql.js';
import type { RawSql } from '../src/db/raw.js';
import { openDatabase } from '../src/db/client.js';
import { packageRoot } from '../src/config.js';
import path from 'node:path';

for (const backend of backends.filter((b) => b.name === 'postgresql')) {
  describe(`claims without waiting for the disk on ${backend.name}`, () => {
    let gw: Gateway;
    const setting = async (raw: RawSql) => (await raw.query<{ synchronous_commit: string }>(SQL.sql`SHOW synchronous_commit`))[0]!.synchronous_commit;

    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw?.close());

    test('the claims’ connection does not wait for the disk at commit; the others do', async () => {
      assert.equal(await setting(gw.rt.db.unflushed), 'off');
      // The others keep the server's own setting ('on' unless its operator chose otherwise).
      const [server] = await gw.rt.db.raw.query<{ v: string }>(SQL.sql`SELECT reset_val AS v FROM pg_settings WHERE name = 'synchronous_commit'`);
      assert.equal(await setting(gw.rt.db.raw), server!.v);
      const committed = await gw.rt.db.atomic(async (tx) => (await tx.query<{ synchronous_commit: string }>(SQL.sql`SHOW synchronous_commit`))[0]);
      assert.equal(committed?.synchronous_commit, server!.v);
    });

    test('a DATABASE_URL with options of its own keeps them, and the claims still do not wait', async () => {
      const url = new URL(gw.env.DATABASE_URL!);
      url.searchParams.set('options', '-c work_mem=7MB');
      const db = await openDatabase(url.toString(), {
        migrationsDir: path.join(packageRoot, 'prisma'),
        sqliteBusyTimeoutMs: 1000,
        migrate: false,
        models: false,
      });
      try {
        assert.equal(await setting(db.unflushed), 'off');
        const [mem] = await db.unflushed.query<{ work_mem: string }>(SQL.sql`SHOW work_mem`);
        assert.equal(mem?.work_mem, '7MB');
      } finally {
        await db.close();
      }
    });

    test('a claim runs on that connection, and what it claimed is seen at once by every other', async () => {
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const at = new Date(Date.now() - 1000);
      const [id] = await enqueueMany(gw.rt.db, [{ operation: 'wsgatetest_noop', params: {}, userId: admin.id, submittedAt: at, dueAt: at }]);
      const db = gw.rt.db;
      const statements: string[] = [];
      const spied: RawSql = {
        ...db.unflushed,
        query: (q, options) => {
          statements.push(q.text);
          return db.unflushed.query(q, options);
        },
      };
      const claimed = await claim({ ...db, unflushed: spied }, { queues: ['default'], now: new Date(), leaseSeconds: 30, limit: 10 });
      assert.deepEqual(
        claimed.map((c) => c.operationTrackingID),
        [id],
      );
      // The claim, and the read of the table's size that its prepared plan goes by (src/queue/plan-class.ts).
      const claims = statements.filter((s) => /UPDATE ws_queue_entry\s+SET state = 'running'/.test(s));
      assert.equal(claims.length, 1, statements.join('\n'));
      assert.ok(
        statements.every((s) => claims.includes(s) || /pg_relation_size/.test(s)),
        statements.join('\n'),
      );
      const [row] = await db.raw.query<{ state: string }>(SQL.sql`SELECT state FROM ws_queued_operation WHERE id = ${id!}`);
      assert.equal(row?.state, 'running');
    });
  });
}
