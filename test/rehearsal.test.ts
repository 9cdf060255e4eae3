// A worker rehearses its batch's statements before it reports ready (src/executor/rehearsal.ts): it writes
// nothing, and on PostgreSQL it leaves its connection with the completion prepared.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { backends, startGateway, type Gateway } from './support.js';
import { claim, enqueueMany } from '../src/queue/store.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { packageRoot } from '../src/config.js';
import { rehearse } from '../src/executor/rehearsal.js';
import * as SQL from '../src/db/sql.js';

for (const backend of backends) {
  describe(`a worker's rehearsal on ${backend.name}`, () => {
    let gw: Gateway;
    let db: Database;
    const entries = async () =>
      await gw.rt.db.raw.query<{ id: string; state: string; lease_token: string | null; result: string | null }>(
        SQL.sql`SELECT id, state, lease_token, result FROM ws_queued_operation ORDER BY id`,
      );

    before(async () => {
      gw = await startGateway(backend);
      // As an executor's worker opens its database.
      db = await openDatabase(gw.env.DATABASE_URL!, {
        migrationsDir: path.join(packageRoot, 'prisma'),
        sqliteBusyTimeoutMs: 1000,
        migrate: false,
        poolSize: 2,
        dedicated: true,
        models: false,
      });
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const at = new Date(Date.now() - 1000);
      await enqueueMany(gw.rt.db, [
        { operation: 'wsgatetest_noop', params: {}, userId: admin.id, submittedAt: at, dueAt: at },
        { operation: 'wsgatetest_noop', params: {}, userId: admin.id, submittedAt: at, dueAt: at },
      ]);
      assert.equal((await claim(gw.rt.db, { queues: ['default'], now: new Date(), leaseSeconds: 30, limit: 10 })).length, 2);
    });
    after(async () => {
      await db?.close();
      await gw?.close();
    });

    const preparedCompletions = async () =>
      (await db.raw.query<{ statement: string }>(SQL.sql`SELECT statement FROM pg_prepared_statements`)).filter((r) =>
        /SET state = 'done'|INSERT INTO ws_queue_result/.test(r.statement),
      ).length;

    test('it writes nothing: running entries keep their leases, no result is stored', async () => {
      const before = await entries();
      // PostgreSQL: the pool holds one connection, which the rehearsal's transaction takes, and leaves prepared.
      if (backend.name === 'postgresql') assert.equal(await preparedCompletions(), 0);
      await rehearse(db, new Date());
      if (backend.name === 'postgresql') assert.equal(await preparedCompletions(), 1);
      assert.deepEqual(await entries(), before);
      assert.ok(before.every((e) => e.state === 'running' && e.lease_token && e.result === null));
    });

    test('its transaction is rolled back: an entry it would complete stays running', async () => {
      const [first] = await entries();
      // No id nor lease token is ever this (both are nanoids): made so here to see the rollback.
      await gw.rt.db.raw.execute(SQL.sql`UPDATE ws_queue_entry SET id = 'rehearsal', lease_token = 'rehearsal' WHERE id = ${first!.id}`);
      const before = await entries();
      await assert.rejects(rehearse(db, new Date()), /a rehearsal completed an entry/);
      assert.deepEqual(await entries(), before);
      assert.equal(before.find((e) => e.id === 'rehearsal')?.state, 'running');
    });
  });
}
