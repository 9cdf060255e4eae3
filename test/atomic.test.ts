// Database.atomic: a transaction on the driver, whose callback gets only the transaction's Queryable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, startGateway, type Gateway } from './support.js';
import * as SQL from '../src/db/sql.js';
import type { Queryable } from '../src/db/raw.js';

const insert = (tx: Queryable, name: string) =>
  tx.execute(SQL.sql`INSERT INTO ws_challenge (user_name, token, expires_at) VALUES (${name}, ${'t'}, ${new Date(Date.now() + 60_000)})`);
const present = async (q: Queryable, name: string) => (await q.query(SQL.sql`SELECT user_name FROM ws_challenge WHERE user_name = ${name}`)).length === 1;

/** A promise and the function that settles it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

for (const backend of backends) {
  describe(`Database.atomic on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw?.close());

    test('what the callback wrote is committed with its answer', async () => {
      const db = gw.rt.db;
      const answer = await db.atomic(async (tx) => {
        await insert(tx, 'atomic-commit');
        assert.equal(await present(tx, 'atomic-commit'), true);
        return 42;
      });
      assert.equal(answer, 42);
      assert.equal(await present(db.raw, 'atomic-commit'), true);
    });

    test('a callback that throws leaves nothing written, and its error is the answer', async () => {
      const db = gw.rt.db;
      await assert.rejects(
        db.atomic(async (tx) => {
          await insert(tx, 'atomic-throw');
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await present(db.raw, 'atomic-throw'), false);
    });

    test('a transaction that outlives its time is rolled back, its later statements fail, and the database serves on', async () => {
      const db = gw.rt.db;
      const late = gate();
      let lateStatement: Promise<unknown> | undefined;
      await assert.rejects(
        db.atomic(
          async (tx) => {
            await insert(tx, 'atomic-timeout');
            await late.opened;
            lateStatement = insert(tx, 'atomic-timeout-late');
            return lateStatement;
          },
          { timeoutMs: 50 },
        ),
        /outlived its time/,
      );
      late.open();
      await assert.rejects(
        until(() => lateStatement),
        /already ended/,
      );
      assert.equal(await present(db.raw, 'atomic-timeout'), false);
      assert.equal(await present(db.raw, 'atomic-timeout-late'), false);
      // The connection was given back: another transaction runs.
      await db.atomic((tx) => insert(tx, 'atomic-after-timeout'));
      assert.equal(await present(db.raw, 'atomic-after-timeout'), true);
    });

    test('a callback that keeps making statements past its time is stopped, and nothing of it is committed', async () => {
      const db = gw.rt.db;
      let statements = 0;
      let finished: Promise<unknown> | undefined;
      await assert.rejects(
        db.atomic(
          (tx) =>
            (finished = (async () => {
              await insert(tx, 'atomic-busy');
              // SQLite: statements that never wait for I/O; PostgreSQL: one still running when the time is up.
              if (!db.dialect.inProcess) await tx.query(SQL.sql`SELECT pg_sleep(0.3)`);
              else for (;;) statements += (await tx.query(SQL.sql`SELECT 1 AS one`)).length;
              await insert(tx, 'atomic-busy-after');
            })()),
          { timeoutMs: 50 },
        ),
        /outlived its time/,
      );
      await assert.rejects(finished!, /outlived its time|already ended/);
      assert.equal(await present(db.raw, 'atomic-busy'), false);
      assert.equal(await present(db.raw, 'atomic-busy-after'), false);
      if (db.dialect.inProcess) assert.ok(statements > 0);
    });

    test('a statement made beside an open transaction is not part of it', async () => {
      const db = gw.rt.db;
      const inserted = gate();
      const commit = gate();
      const transaction = db.atomic(async (tx) => {
        await insert(tx, 'atomic-beside');
        inserted.open();
        await commit.opened;
      });
      await inserted.opened;
      let seen: boolean | undefined;
      const beside = present(db.raw, 'atomic-beside').then((p) => (seen = p));
      if (db.dialect.serializesWrites) {
        // SQLite's one connection: the statement waits for the transaction to end instead of running in it.
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(seen, undefined);
        commit.open();
        await transaction;
        assert.equal(await beside, true);
      } else {
        // PostgreSQL: another connection, which does not see what is not committed.
        assert.equal(await beside, false);
        commit.open();
        await transaction;
        assert.equal(await present(db.raw, 'atomic-beside'), true);
      }
    });
  });
}

/** The promise `get` gives once it gives one (set by a callback that runs later). */
async function until<T>(get: () => Promise<T> | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const p = get();
    if (p) return p;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('never set');
}
