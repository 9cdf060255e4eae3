// SQLite's gateway connection: the writes of one turn of the event loop share one commit (each in its own
// savepoint), and another connection's write lock never freezes the event loop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { backends, startGateway, type Gateway } from './support.js';
import * as SQL from '../src/db/sql.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

const insert = (gw: Gateway, name: string) =>
  gw.rt.db.raw.execute(SQL.sql`INSERT INTO ws_challenge (user_name, token, expires_at) VALUES (${name}, ${'t'}, ${new Date(Date.now() + 60_000)})`);
const names = async (gw: Gateway, prefix: string) =>
  (
    (await gw.rt.db.raw.query(SQL.sql`SELECT user_name FROM ws_challenge WHERE user_name LIKE ${`${prefix}%`} ORDER BY user_name`)) as { user_name: string }[]
  ).map((r) => r.user_name);
const fileOf = (gw: Gateway) => gw.env.DATABASE_URL.replace(/^file:/, '');

/**
 * Pages written to the WAL by what `write` does, as another connection sees the file: it first checkpoints and
 * empties the WAL, so that its size afterwards is its header and one frame per page a commit wrote.
 */
async function walFramesOf(gw: Gateway, write: () => Promise<unknown>): Promise<number> {
  const file = fileOf(gw);
  const other = new BetterSqlite3(file);
  try {
    const [checkpoint] = other.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    assert.equal(checkpoint.busy, 0);
    await write();
    const pageSize = other.pragma('page_size', { simple: true }) as number;
    return Math.round((fs.statSync(`${file}-wal`).size - 32) / (24 + pageSize));
  } finally {
    other.close();
  }
}

describe('SQLite group commit on the gateway connection', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway(sqlite, { WSGATE_SQLITE_BUSY_TIMEOUT_MS: '3000' });
  });
  after(() => gw?.close());

  test('the writes of one turn commit together, and each answers as its own statement would', async () => {
    let changes: number[] = [];
    const grouped = await walFramesOf(gw, async () => {
      changes = await Promise.all(Array.from({ length: 10 }, (_, i) => insert(gw, `group-${i}`)));
    });
    assert.deepEqual(changes, Array(10).fill(1));
    assert.equal((await names(gw, 'group-')).length, 10);
    // The same ten writes one after the other: ten commits, each writing the pages it changed.
    const apart = await walFramesOf(gw, async () => {
      for (let i = 0; i < 10; i++) await insert(gw, `apart-${i}`);
    });
    assert.ok(apart >= 10, `ten commits write at least ten pages (${apart})`);
    assert.ok(grouped * 3 <= apart, `one commit for the group: ${grouped} pages written, against ${apart} one by one`);
  });

  test('a write of the group that fails is undone alone: the others commit', async () => {
    await insert(gw, 'dup-taken');
    const results = await Promise.allSettled([insert(gw, 'dup-a'), insert(gw, 'dup-taken'), insert(gw, 'dup-b')]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    assert.equal(results[2].status, 'fulfilled');
    assert.deepEqual(await names(gw, 'dup-'), ['dup-a', 'dup-b', 'dup-taken']);
  });

  test("another connection's write lock does not freeze the event loop: the writes wait for it, then commit", async () => {
    // SQLite itself never waits on this connection (it would, synchronously, for its busy_timeout).
    assert.deepEqual(await gw.rt.db.raw.query(SQL.sql`PRAGMA busy_timeout`), [{ timeout: 0 }]);
    const other = new BetterSqlite3(fileOf(gw));
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const writes = Promise.all([insert(gw, 'locked-a'), insert(gw, 'locked-b')]);
      // Writes refused by the lock are retried on timers: the loop turns meanwhile (with SQLite's own wait,
      // better-sqlite3 would block it for the whole busy timeout).
      while (ticks < 10) await new Promise((r) => setTimeout(r, 5));
      // The reads of the gateway go on beside the lock (WAL).
      assert.deepEqual(await names(gw, 'locked-'), []);
      other.prepare('COMMIT').run();
      assert.deepEqual(await writes, [1, 1]);
      clearInterval(ticker);
      assert.deepEqual(await names(gw, 'locked-'), ['locked-a', 'locked-b']);
    } finally {
      if (other.inTransaction) other.prepare('ROLLBACK').run();
      other.close();
    }
  });

  test('writes that never get the lock fail with SQLITE_BUSY after the busy timeout, and nothing of them is written', async () => {
    const other = new BetterSqlite3(fileOf(gw));
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      const started = Date.now();
      const results = await Promise.allSettled([insert(gw, 'busy-a'), insert(gw, 'busy-b')]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.match(String((r as PromiseRejectedResult).reason), /database is locked|SQLITE_BUSY/);
      }
      assert.ok(Date.now() - started >= 3000, 'not before WSGATE_SQLITE_BUSY_TIMEOUT_MS');
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    assert.deepEqual(await names(gw, 'busy-'), []);
    // The connection serves on.
    assert.equal(await insert(gw, 'busy-after'), 1);
  });
});
