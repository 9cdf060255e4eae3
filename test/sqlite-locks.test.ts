// SQLite shared by several processes: another process holding the write lock must neither freeze the
// gateway nor leave its connection stuck once the wait has failed.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { backends, call, login, startGateway, type Gateway, runPass } from './support.js';
import { packageRoot } from '../src/config.js';
import { isTransientDatabaseError } from '../src/db/errors.js';

/** Another process that takes the SQLite file's write lock and keeps it until told to let go. */
async function holdWriteLock(file: string) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const db = require('better-sqlite3')(process.argv[1]);
       db.exec('BEGIN IMMEDIATE');
       console.log('locked');
       process.stdin.once('data', () => { db.exec('COMMIT'); console.log('released'); process.exit(0); });`,
      file,
    ],
    { cwd: packageRoot, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  assert.equal((await lines.next()).value, 'locked');
  return {
    async release() {
      child.stdin!.write('go\n');
      assert.equal((await lines.next()).value, 'released');
      await once(child, 'exit');
    },
  };
}

const sqlite = backends.find((b) => b.name === 'sqlite')!;
const fileOf = (gw: Gateway) => gw.rt.config.databaseUrl.replace(/^file:/, '');

describe('SQLite shared with another process', () => {
  let gw: Gateway | undefined;
  let session: string;
  const start = async (busyTimeoutMs: number) => {
    gw = await startGateway(sqlite, { WSGATE_SQLITE_BUSY_TIMEOUT_MS: String(busyTimeoutMs) });
    session = (await login(gw.url)).sessionName;
    return gw;
  };
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  test('a write waiting for the lock does not hold up reads, and goes through once the lock is free', { timeout: 30_000 }, async () => {
    const gw = await start(60_000);
    const existing = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"Existing"}' });
    const lock = await holdWriteLock(fileOf(gw));
    const order: string[] = [];
    const write = call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"Waited"}' }).then((r) => {
      order.push('write');
      return r;
    });
    // better-sqlite3 waits for a lock synchronously: had the write waited inside SQLite, this process
    // could answer nothing until it gave up.
    const read = await call(gw.url, { operation: 'retrieve', sessionName: session, id: existing.result.id });
    order.push('read');
    assert.equal(read.result.lastname, 'Existing');
    await lock.release();
    const written = await write;
    assert.equal(written.success, true, JSON.stringify(written));
    assert.deepEqual(order, ['read', 'write']);
  });

  test('a transaction that could not start leaves the connection usable', { timeout: 30_000 }, async () => {
    const gw = await start(300);
    const queued = await call(gw.url, {
      operation: 'create',
      sessionName: session,
      elementType: 'Contacts',
      element: '{"lastname":"Queued"}',
      cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0 }),
    });
    const lock = await holdWriteLock(fileOf(gw));
    await assert.rejects(
      gw.rt.db.prisma.$transaction(async (tx) => tx.user.count()),
      (error) => {
        assert.match(String(error), /SocketTimeout|busy|locked/i);
        assert.ok(isTransientDatabaseError(error), 'a locked database is passing trouble: a later pass retries');
        return true;
      },
    );
    await assert.rejects(runPass(gw.rt), /SocketTimeout|busy|locked/i, 'a pass fails while the database is locked');
    await lock.release();
    assert.equal(await gw.rt.db.prisma.$transaction(async (tx) => tx.user.count()), 1, 'transactions start again');
    const summary = await runPass(gw.rt);
    assert.equal(summary.run, 1);
    const result = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: queued.result.operationTrackingID });
    assert.equal(JSON.parse(result.result).result.lastname, 'Queued');
  });

  test('a transaction whose COMMIT fails, or that times out, leaves nothing and frees the connection', { timeout: 30_000 }, async () => {
    const gw = await start(300);
    const db = gw.rt.db.prisma;
    const sessions = () => db.session.count();
    const before = await sessions();
    // A deferred foreign key fails at COMMIT, not at the INSERT.
    await assert.rejects(
      db.$transaction(async (tx) => {
        await tx.$executeRaw`PRAGMA defer_foreign_keys = ON`;
        await tx.$executeRaw`INSERT INTO ws_session (id, user_id, created_at, last_seen_at) VALUES ('orphan', 999999, 0, 0)`;
      }),
      (error) => {
        assert.match(String(error), /ForeignKey|FOREIGN KEY/i);
        assert.ok(!isTransientDatabaseError(error), 'a broken constraint is no passing trouble');
        return true;
      },
    );
    assert.equal(await sessions(), before, 'the failed commit wrote nothing');
    // A callback that outlives the transaction's timeout (a real wait: the timeout is Prisma's own timer).
    await assert.rejects(
      db.$transaction(
        async (tx) => {
          await tx.$executeRaw`INSERT INTO ws_session (id, user_id, created_at, last_seen_at) VALUES ('late', 1, 0, 0)`;
          await new Promise((r) => setTimeout(r, 400));
        },
        { timeout: 100 },
      ),
      /expired|timeout|closed/i,
    );
    assert.equal(await sessions(), before, 'the timed-out transaction was rolled back');
    assert.equal(await db.$transaction(async (tx) => tx.user.count()), 1, 'transactions start again');
    const created = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"After"}' });
    assert.equal(created.success, true, JSON.stringify(created));
  });
});
