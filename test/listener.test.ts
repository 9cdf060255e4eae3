// `wsgate work` listeners as real processes: killed mid-operation, stopped with SIGTERM, outliving their
// lease with a live heartbeat, woken by enqueues, and (PostgreSQL) four of them sharing 5,000 operations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backends, call, login, runCli, shown, spawnCli, startGateway, until, type Gateway, expectCli, tmpDir } from './support.js';
import { enqueueMany } from '../src/queue/store.js';

const NOT_YET = 'Operation not queued or not finished yet';
const defer = (extra: Record<string, unknown> = {}) => JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...extra });
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

for (const backend of backends) {
  describe(`wsgate work on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const result = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      return r.result === NOT_YET ? null : JSON.parse(r.result);
    };
    const stateOf = async (id: string) => (await gw.rt.db.prisma.queuedOperation.findUnique({ where: { id } }))?.state;
    const listening = (n: number) => until(`${n} listener(s) to report in`, async () => (await gw.rt.db.prisma.executor.count()) >= n);

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('SIGKILL mid-operation: another listener completes it once the lease has run out, exactly once', async () => {
      const dir = tmpDir('listen');
      const marker = path.join(dir, 'running');
      const release = path.join(dir, 'release');
      const id = await queue({ operation: 'wsgatetest_slowcreate', elementType: 'Contacts', element: '{"lastname":"killed-listener"}', marker, release });
      const env = { ...gw.env, WSGATE_LEASE_SECONDS: '30' };
      const victim = spawnCli(['work', '--sleep', '0.1'], env);
      await until('the operation to be running', async () => fs.existsSync(marker));
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      assert.equal(killed.signal, 'SIGKILL', shown(killed));
      assert.equal(await stateOf(id), 'running', 'leased, not lost');
      fs.writeFileSync(release, '');
      const early = await runCli(['work', '--stop-when-empty'], env);
      assert.match(early.stdout, /done=0 errors=0 retried=0 failed=0/, `within the lease nobody takes it: ${shown(early)}`);
      // 31 s later by the second listener's clock: its heartbeat finds the lease run out.
      const rescuer = await runCli(['work', '--stop-when-empty', '--sleep', '0.1'], { ...env, WSGATE_CLOCK_OFFSET_MS: '31000' });
      assert.equal(rescuer.code, 0, shown(rescuer));
      assert.match(rescuer.stdout, /done=1 errors=0 retried=0 failed=0/, shown(rescuer));
      assert.equal((await result(id)).result.lastname, 'killed-listener');
      assert.equal(
        await gw.rt.db.prisma.record.count({ where: { data: { contains: '"lastname":"killed-listener"' } } }),
        1,
        'the killed run left nothing behind',
      );
      assert.equal(lines(marker).length, 2);
    });

    test('an operation longer than its lease, with a live heartbeat, runs exactly once beside another listener', async () => {
      const marker = path.join(tmpDir('listen'), 'm');
      // A lease of 5 s (heartbeats every 1.7 s: a loaded machine's late one does not lose it) and an
      // operation of 12 s, more than twice the lease: on PostgreSQL only the heartbeats keep it from the
      // other listener. On SQLite the operation's transaction also holds the write lock meanwhile (so there
      // the test shows one run, not the heartbeats): the listeners' writes wait for it rather than give up
      // after the default busy timeout (10 s).
      const env = { ...gw.env, WSGATE_LEASE_SECONDS: '5', WSGATE_SQLITE_BUSY_TIMEOUT_MS: '60000' };
      const a = spawnCli(['work', '--sleep', '0.1'], env);
      const b = spawnCli(['work', '--sleep', '0.1'], env);
      try {
        await listening(2);
        const id = await queue({ operation: 'wsgatetest_record', marker, tag: 'long', ms: '12000' });
        // Read from the database, not asked of the gateway while the operation runs: on SQLite its write
        // transaction would make a call's write wait out the busy timeout (10 s, less than the operation).
        const state = await until('the long operation to finish', async () => {
          const now = await stateOf(id);
          return now === 'done' || now === 'failed' || now === 'cancelled' ? now : undefined;
        });
        assert.equal(state, 'done');
        const r = await result(id);
        assert.deepEqual(r.result, { tag: 'long' });
        assert.deepEqual(lines(marker), ['long'], 'one run, though the lease is 5 s');
      } finally {
        a.child.kill('SIGTERM');
        b.child.kill('SIGTERM');
        expectCli(await a.done, 0);
        expectCli(await b.done, 0);
      }
    });

    test('SIGTERM: the running operation finishes, the rest is handed back, exit 0, nothing lost', async () => {
      const marker = path.join(tmpDir('listen'), 'm');
      const slow = await queue({ operation: 'wsgatetest_record', marker, tag: 'slow', ms: '1500' });
      const rest: string[] = [];
      for (let i = 0; i < 5; i++) rest.push(await queue({ operation: 'wsgatetest_record', marker, tag: `rest-${i}` }, { priority: 1 }));
      const listener = spawnCli(['work', '--concurrency', '1'], { ...gw.env, WSGATE_CLAIM_BATCH: '10' });
      await until('the slow operation to start', async () => lines(marker).includes('slow'));
      listener.child.kill('SIGTERM');
      const done = await listener.done;
      assert.equal(done.code, 0, shown(done));
      assert.match(done.stdout, /done=1 errors=0 retried=0 failed=0 handed-back=5/, shown(done));
      assert.deepEqual((await result(slow)).result, { tag: 'slow' });
      for (const id of rest) {
        const e = await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id } });
        assert.deepEqual([e.state, e.attempts, e.leaseToken], ['queued', 0, null], 'handed back unstarted');
      }
      const again = await runCli(['execute'], gw.env);
      assert.match(again.stdout, /done=5 errors=0 retried=0 failed=0/, shown(again));
      for (const id of rest) assert.equal((await result(id)).success, true);
    });

    test('SIGTERM with a short grace: an operation that does not finish is stopped and handed back', async () => {
      const marker = path.join(tmpDir('listen'), 'm');
      const id = await queue({ operation: 'wsgatetest_misbehave', how: 'hang', marker });
      const listener = spawnCli(['work'], { ...gw.env, WSGATE_SHUTDOWN_GRACE_SECONDS: '0.3' });
      await until('the operation to start', async () => lines(marker).length > 0);
      listener.child.kill('SIGTERM');
      const done = await listener.done;
      assert.equal(done.code, 0, shown(done));
      assert.match(done.stdout, /handed-back=1/, shown(done));
      const e = await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id } });
      assert.deepEqual([e.state, e.failures, e.leaseToken], ['queued', 0, null]);
      await call(gw.url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: id });
    });

    test("wsgate status counts the queue and the listeners' workers", async () => {
      // The listener killed above is still counted until three of its heartbeats are missed.
      await gw.rt.db.prisma.executor.deleteMany();
      const listener = spawnCli(['work', '--concurrency', '3', '--sleep', '0.1'], gw.env);
      try {
        await listening(1);
        const before = JSON.parse((await runCli(['status', '--json'], gw.env)).stdout);
        await queue({ operation: 'create', elementType: 'Contacts', element: '{"lastname":"later"}' }, { queuedelay: 3600 });
        const r = await runCli(['status', '--json'], gw.env);
        assert.equal(r.code, 0, shown(r));
        const s = JSON.parse(r.stdout);
        assert.equal(s.delayed, before.delayed + 1);
        assert.equal(s.waiting, 0);
        assert.equal(s.executors, 1);
        assert.equal(s.max_threads, 3);
        assert.equal(s.free_threads, 3);
        expectCli(await runCli(['status'], gw.env), 0, /waiting=0 delayed=\d+ running=0 failed=\d+ done=\d+\nexecutors=1 max_threads=3 free_threads=3/);
      } finally {
        listener.child.kill('SIGTERM');
        await listener.done;
      }
      assert.equal(await gw.rt.db.prisma.executor.count(), 0, 'a stopped listener removes its row');
    });

    if (backend.name === 'postgresql') {
      test('NOTIFY wakes an idle listener at once (its poll is 10 minutes away)', async () => {
        const listener = spawnCli(['work', '--sleep', '600'], gw.env);
        try {
          await listening(1);
          // Let it go idle: its first claim found nothing.
          await new Promise((r) => setTimeout(r, 300));
          const id = await queue({ operation: 'wsgatetest_noop', tag: 'woken' });
          const r = await until('the woken listener to run it', () => result(id), 15_000);
          assert.equal(r.result.tag, 'woken');
        } finally {
          listener.child.kill('SIGTERM');
          await listener.done;
        }
      });

      test('4 listener processes on 5,000 operations: each runs exactly once', { timeout: 300_000 }, async () => {
        const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
        const now = gw.rt.services.clock.now();
        for (let i = 0; i < 5000; i += 500) {
          await enqueueMany(
            gw.rt.db,
            Array.from({ length: 500 }, (_, j) => ({
              operation: 'create',
              params: { elementType: 'Accounts', element: { accountname: `once-${i + j}` } },
              userId: admin.id,
              submittedAt: now,
              dueAt: now,
            })),
          );
        }
        const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(['work', '--stop-when-empty', '--concurrency', '4'], gw.env)));
        let total = 0;
        for (const r of runs) {
          assert.equal(r.code, 0, shown(r));
          total += Number(/done=(\d+)/.exec(r.stdout)?.[1]);
        }
        assert.equal(total, 5000);
        const dups = await gw.rt.db.prisma.$queryRaw<{ n: bigint }[]>`
          SELECT count(*) AS n FROM (SELECT data FROM ws_record WHERE data LIKE '%"accountname":"once-%' GROUP BY data HAVING count(*) > 1) d`;
        assert.equal(Number(dups[0]!.n), 0, 'no operation ran twice');
        assert.equal(await gw.rt.db.prisma.record.count({ where: { data: { contains: '"accountname":"once-' } } }), 5000, 'none was lost');
      });
    }
  });
}

describe('serve with its in-process executor', () => {
  test('an enqueue wakes the in-process executor at once (its schedule never fires)', async () => {
    const gw = await startGateway(backends[0]!, { WSGATE_EXECUTOR_SCHEDULE: '0 0 1 1 *' });
    try {
      const s = (await login(gw.url)).sessionName;
      const q = await call(gw.url, { operation: 'create', sessionName: s, elementType: 'Contacts', element: '{"lastname":"woken"}', cbwsOptions: defer() });
      const r = await until('the result', async () => {
        const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: s, operationTrackingID: q.result.operationTrackingID });
        return res.result === NOT_YET ? null : JSON.parse(res.result);
      });
      assert.equal(r.result.lastname, 'woken');
    } finally {
      await gw.close();
    }
  });
});
