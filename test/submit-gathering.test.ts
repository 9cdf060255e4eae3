// PostgreSQL: deferred submits that come while others are on their way share one statement
// (src/queue/gathering.ts). Each still gets its own entry and its user's limits hold inside a shared
// statement, exactly as one by one (the count of each row sees the rows inserted before it). The calls below are
// made in one tick: the first two go alone (two statements under way at most), the rest wait and share one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Gathering } from '../src/queue/gathering.js';
import type { GatheredValues } from '../src/queue/sql/enqueue.js';
import { enqueueWithinQuota, submitGathering } from '../src/queue/quota.js';
import type { NewQueuedOperation } from '../src/queue/store.js';
import type { WsUser } from '../src/auth/users.js';
import { WsError } from '../src/errors.js';
import * as SQL from '../src/db/sql.js';
import { addTestUser, backends, startGateway, type Gateway } from './support.js';

const postgresql = backends.find((b) => b.name === 'postgresql');

describe('submits gathered into one statement on postgresql', { skip: postgresql ? false : 'no PostgreSQL (WSGATE_TEST_PG_URL)' }, () => {
  let gw: Gateway;

  before(async () => {
    gw = await startGateway(postgresql!, { WSGATE_QUOTA_QUEUED: '1000', WSGATE_QUOTA_QUEUED_BYTES: '3000' });
  });
  after(() => gw.close());

  const quota = () => gw.rt.services.quota;
  async function user(name: string, limits: { queued?: number } = {}): Promise<WsUser> {
    const { id } = await addTestUser(gw, name);
    if (limits.queued !== undefined) await gw.rt.db.raw.execute(SQL.sql`UPDATE ws_user SET quota_queued = ${limits.queued} WHERE id = ${id}`);
    return { id, userName: name, isAdmin: false };
  }
  const entry = (u: WsUser, tag: string): NewQueuedOperation => {
    const now = new Date();
    return { operation: 'wsgatetest_noop', params: { tag }, userId: u.id, submittedAt: now, dueAt: new Date(now.getTime() + 3_600_000) };
  };
  /** Submits them all in one tick; each one's id or its error. */
  const together = (submits: [WsUser, string][]) =>
    Promise.all(
      submits.map(([u, tag]) =>
        enqueueWithinQuota(gw.rt.db, entry(u, tag), u, quota()).then(
          (id) => ({ id }),
          (error: unknown) => ({ error: error as WsError }),
        ),
      ),
    );
  const counts = () => ({ ...submitGathering(gw.rt.db, quota())!.counts });
  const queuedOf = async (u: WsUser) =>
    (await gw.rt.db.prisma.queuedOperation.findMany({ where: { userId: u.id }, select: { id: true, params: true } })).map((r) => ({
      id: r.id,
      tag: (JSON.parse(r.params) as { tag: string }).tag,
    }));

  test('twelve submits made together take three statements, and each has its own entry', async () => {
    const u = await user('gather_many');
    const before = counts();
    const answers = await together(Array.from({ length: 12 }, (_, i) => [u, `t${i}`] as [WsUser, string]));
    const after = counts();
    assert.deepEqual({ statements: after.statements - before.statements, rows: after.rows - before.rows }, { statements: 3, rows: 12 });
    const ids = answers.map((a) => ('id' in a ? a.id : assert.fail(String(a.error))));
    assert.equal(new Set(ids).size, 12);
    const stored = await queuedOf(u);
    assert.deepEqual(stored.map((r) => `${r.id}:${r.tag}`).sort(), ids.map((id, i) => `${id}:t${i}`).sort());
  });

  test("a user's entries limit holds inside one statement: 3 of 5 queued, 2 refused with the limit", async () => {
    const other = await user('gather_other');
    const limited = await user('gather_limited', { queued: 3 });
    const before = counts();
    const answers = await together([[other, 'a'], [other, 'b'], ...Array.from({ length: 5 }, (_, i) => [limited, `l${i}`] as [WsUser, string])]);
    // The two first alone, then the limited user's five together: the limit is held inside one statement.
    const after = counts();
    assert.deepEqual({ statements: after.statements - before.statements, rows: after.rows - before.rows }, { statements: 3, rows: 7 });
    const mine = answers.slice(2);
    assert.equal(mine.filter((a) => 'id' in a).length, 3, JSON.stringify(mine));
    for (const a of mine.filter((a) => 'error' in a)) {
      assert.ok(a.error instanceof WsError);
      assert.equal(a.error.code, 'QUOTA_EXCEEDED');
      assert.match(a.error.message, /queued entries limit of 3 reached: 3 operations queued or running/);
    }
    assert.equal((await queuedOf(limited)).length, 3);
    assert.equal((await queuedOf(other)).length, 2);
  });

  test('a row refused in a shared statement does not count against the rows after it', async () => {
    const other = await user('gather_filler');
    const u = await user('gather_bytes');
    const big = 'b'.repeat(2400);
    const answers = await together([
      [other, 'x'],
      [other, 'y'],
      [u, big],
      [u, `${big}2`],
      [u, 'small'],
    ]);
    const [, , first, second, small] = answers;
    assert.ok('id' in first!, JSON.stringify(first));
    assert.ok('error' in second! && second.error.code === 'QUOTA_EXCEEDED', JSON.stringify(second));
    assert.match((second as { error: WsError }).error.message, /queued bytes limit of 3000 reached/);
    assert.ok('id' in small!, JSON.stringify(small));
    assert.deepEqual((await queuedOf(u)).map((r) => r.tag).sort(), [big, 'small']);
  });
});

describe('Gathering', () => {
  const row = (id: string, userId = 1, paramsBytes = 10): GatheredValues => ({
    id,
    operation: 'op',
    params: '{}',
    paramsBytes,
    userId,
    dueAt: new Date(0),
    submittedAt: new Date(0),
    queue: 'default',
    priority: 500,
    context: null,
    callback: null,
    traceParent: null,
    delaySeconds: 0,
  });

  test('statements carry at most `rows` rows, one under way at a time when `inFlight` is 1', async () => {
    const sizes: number[] = [];
    const g = new Gathering(
      async (rows) => {
        sizes.push(rows.length);
        return new Set(rows.map((r) => r.id));
      },
      { inFlight: 1, rows: 100 },
    );
    const outcomes = await Promise.all(Array.from({ length: 250 }, (_, i) => g.add(row(`r${i}`))));
    assert.deepEqual(sizes, [1, 100, 100, 49]);
    assert.ok(outcomes.every((o) => o === 'queued'));
  });

  test("a statement's rows go in their users' order (one order of the users' locks)", async () => {
    let seen: { id: string; userId: number }[] = [];
    const g = new Gathering(
      async (rows) => {
        seen = rows.map(({ id, userId }) => ({ id, userId }));
        return new Set();
      },
      { inFlight: 1, rows: 100 },
    );
    void g.add(row('first'));
    const answers = await Promise.all([g.add(row('a1', 7, 100)), g.add(row('b1', 3, 5)), g.add(row('a2', 7, 200)), g.add(row('a3', 7, 1))]);
    assert.deepEqual(answers, ['again', 'again', 'again', 'again'], 'what a statement did not queue is tried alone');
    assert.deepEqual(seen, [
      { id: 'b1', userId: 3 },
      { id: 'a1', userId: 7 },
      { id: 'a2', userId: 7 },
      { id: 'a3', userId: 7 },
    ]);
  });

  test('a failed statement of several rows sends each to be tried alone; a failed statement of one row fails its submit', async () => {
    const g = new Gathering(
      async () => {
        throw new Error('connection lost');
      },
      { inFlight: 1, rows: 100 },
    );
    const alone = g.add(row('alone'));
    const shared = [g.add(row('s1')), g.add(row('s2'))];
    await assert.rejects(alone, /connection lost/);
    assert.deepEqual(await Promise.all(shared), ['again', 'again']);
  });
});
