// The session cache (src/auth/session-cache.ts) against a real gateway: a session checked once is not read
// again while nothing it depends on changed, yet logout, idle expiry and a session ended or a user disabled
// through another connection are refused: on SQLite by the checks that start 1 ms after it (its
// data_version, one read shared within an event-loop turn), on PostgreSQL once the triggers' notice
// (src/db/session-notices.ts) has arrived.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createHash } from 'node:crypto';
import type { Prisma } from '../src/db/generated/sqlite/client.js';
import { addTestUser, backends, call, login, startGateway, type Gateway } from './support.js';

/** Runs one statement through a connection of its own, as another process would. */
async function elsewhere(gw: Gateway, sql: string, values: unknown[]): Promise<void> {
  const url = gw.env.DATABASE_URL!;
  if (url.startsWith('file:')) {
    const db = new Database(url.slice('file:'.length));
    try {
      db.prepare(sql.replace(/\$\d/g, '?')).run(...values);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql, values);
  } finally {
    await client.end();
  }
}

const stored = (sessionName: string) => createHash('sha256').update(sessionName).digest('hex');

/** The change mark once it differs from `from` (PostgreSQL's notices arrive on a connection of their own). */
async function markAfter(gw: Gateway, from: number | undefined): Promise<number> {
  for (let i = 0; i < 1_000; i++) {
    const mark = await gw.rt.db.raw.changeMark!();
    if (mark !== undefined && mark !== from) return mark;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the change mark did not move');
}

for (const backend of backends) {
  describe(`session cache (${backend.name})`, () => {
    let gw: Gateway;
    let sessionReads = 0;
    before(async () => {
      gw = await startGateway(backend);
      // Counts the session checks' reads; each still goes to the database.
      const raw = gw.rt.db.raw;
      const query = raw.query.bind(raw);
      raw.query = <T>(sql: Prisma.Sql, options?: { prepared?: boolean }) => {
        if (sql.sql.includes('FROM ws_session s JOIN ws_user u')) sessionReads++;
        return query<T>(sql, options);
      };
    });
    after(() => gw.close());

    const listtypes = (sessionName: string) => call(gw.url, { operation: 'listtypes', sessionName });

    test('a session checked once is not read again while nothing it depends on changed', async () => {
      const { sessionName } = await login(gw.url);
      // PostgreSQL: no mark until the notices' connection listens (opened by the first check).
      await markAfter(gw, undefined);
      sessionReads = 0;
      for (let i = 0; i < 5; i++) assert.equal((await listtypes(sessionName)).success, true);
      assert.equal(sessionReads, 1);
      // Another gateway's call marks the session seen: on SQLite any commit elsewhere makes it read again;
      // PostgreSQL hears only of ended sessions and changed users.
      const now = gw.rt.services.clock.now();
      await elsewhere(gw, 'UPDATE ws_session SET last_seen_at = $1 WHERE id = $2', [backend.name === 'sqlite' ? now.getTime() : now, stored(sessionName)]);
      assert.equal((await listtypes(sessionName)).success, true);
      assert.equal(sessionReads, backend.name === 'sqlite' ? 2 : 1);
      // Once its last-seen time is due for a write, it is read again (another gateway may have a later one).
      gw.rt.services.clock.advance(16_000);
      assert.equal((await listtypes(sessionName)).success, true);
      assert.equal(sessionReads, backend.name === 'sqlite' ? 3 : 2);
    });

    if (backend.name === 'postgresql') {
      test('no mark while the notices connection is down: every call reads its session', async () => {
        const { sessionName } = await login(gw.url);
        const from = await markAfter(gw, undefined);
        await elsewhere(gw, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = \'LISTEN "wsgate_sessions"\'', []);
        // Lost: no mark, until the listener is back (its first retry is a second later).
        for (let i = 0; i < 1_000 && (await gw.rt.db.raw.changeMark!()) !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.equal(await gw.rt.db.raw.changeMark!(), undefined);
        sessionReads = 0;
        for (let i = 0; i < 3; i++) assert.equal((await listtypes(sessionName)).success, true);
        assert.equal(sessionReads, 3);
        assert.notEqual(await markAfter(gw, from), from);
      });
    }

    test('logout: the next call with the session is refused', async () => {
      const { sessionName } = await login(gw.url);
      assert.equal((await listtypes(sessionName)).success, true);
      assert.equal((await call(gw.url, { operation: 'logout', sessionName })).success, true);
      assert.equal((await listtypes(sessionName)).error?.code, 'INVALID_SESSIONID');
    });

    test('a session ended, or its user disabled, through another connection is refused (SQLite at once, PostgreSQL on its notice)', async () => {
      const { sessionName } = await login(gw.url);
      assert.equal((await listtypes(sessionName)).success, true);
      let mark = await gw.rt.db.raw.changeMark!();
      await elsewhere(gw, 'DELETE FROM ws_session WHERE id = $1', [stored(sessionName)]);
      if (backend.name === 'postgresql') mark = await markAfter(gw, mark);
      assert.equal((await listtypes(sessionName)).error?.code, 'INVALID_SESSIONID');

      await addTestUser(gw, `cached_${backend.name}`);
      const user = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: `cached_${backend.name}` } });
      const key = gw.rt.services.secret.decrypt(user.accessKeyEnc);
      const other = await login(gw.url, `cached_${backend.name}`, key);
      assert.equal((await listtypes(other.sessionName)).success, true);
      mark = await gw.rt.db.raw.changeMark!();
      await elsewhere(gw, 'UPDATE ws_user SET disabled_at = $1 WHERE id = $2', [backend.name === 'sqlite' ? Date.now() : new Date(), user.id]);
      if (backend.name === 'postgresql') await markAfter(gw, mark);
      assert.equal((await listtypes(other.sessionName)).error?.code, 'INVALID_SESSIONID');
    });

    test('idle expiry and the absolute lifetime hold for a session checked before', async () => {
      const idle = await login(gw.url);
      assert.equal((await listtypes(idle.sessionName)).success, true);
      gw.rt.services.clock.advance((gw.rt.config.sessionIdleSeconds + 1) * 1000);
      assert.equal((await listtypes(idle.sessionName)).error?.code, 'SESSION_LEFT_IDLE');

      const old = await login(gw.url);
      const step = (gw.rt.config.sessionIdleSeconds - 60) * 1000;
      let elapsed = 0;
      while (elapsed + step <= gw.rt.config.sessionLifetimeSeconds * 1000) {
        assert.equal((await listtypes(old.sessionName)).success, true);
        gw.rt.services.clock.advance(step);
        elapsed += step;
      }
      gw.rt.services.clock.advance(gw.rt.config.sessionLifetimeSeconds * 1000 - elapsed + 1000);
      assert.equal((await listtypes(old.sessionName)).error?.code, 'SESSION_EXPIRED');
    });
  });
}
