// Cancelling a running operation (README "Cancelling"), on both databases, through a real gateway and a real
// executor: an own operation stops on ctx.signal, one that ignores it loses its worker, an entry of a claimed
// batch not started yet is skipped, an exec job's process group is killed; each ends cancelled, its writes
// rolled back, never retried or run again. At the queue's level: a marked entry is never completed, retried,
// handed back or rescued as anything but cancelled. On PostgreSQL, an executor in another process hears the
// cancel through its poll of the marks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { engineOf } from '../src/runtime.js';
import { claim, completeMany } from '../src/queue/store.js';
import { handBack, recordFailedAttempt, rescueExpiredLeases } from '../src/queue/attempts.js';
import { cancelEntry } from '../src/queue/cancel.js';
import {
  addTestUser,
  backends,
  call,
  fixtureOperations,
  login,
  spawnCli,
  startGateway,
  until,
  type Gateway,
  tmpDir,
  script,
  groupAlive,
  killGroupsIn,
} from './support.js';

const NOW = '{"launchfromqueue":1,"queuedelay":0}';

for (const backend of backends) {
  describe(`cancelling running operations on ${backend.name}`, () => {
    const dir = tmpDir('cancel');
    let gw: Gateway;
    let admin: string;
    let other: string;
    before(async () => {
      const allow = path.join(dir, 'exec-allow.json');
      fs.writeFileSync(
        allow,
        JSON.stringify({ hangLong: { executable: script(dir, 'hang-long.sh', 'echo $$ > "$1"\nsleep 300 &\nsleep 300'), allowArgs: '/.*', timeout: 600 } }),
      );
      gw = await startGateway(backend, { WSGATE_OPERATIONS_DIR: fixtureOperations, WSGATE_EXEC_ALLOW: allow });
      admin = (await login(gw.url)).sessionName;
      const { accessKey } = await addTestUser(gw, 'mallory');
      other = (await login(gw.url, 'mallory', accessKey)).sessionName;
    });
    after(async () => {
      await gw.close();
      killGroupsIn(dir);
    });

    const submit = async (params: Record<string, unknown>, session = admin) => {
      const r = await call(gw.url, { sessionName: session, cbwsOptions: NOW, ...params });
      assert.ok(r.result?.operationTrackingID, JSON.stringify(r));
      return r.result.operationTrackingID as string;
    };
    const status = async (id: string) => {
      const s = await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: admin, operationTrackingID: id });
      assert.equal(s.success, true, JSON.stringify(s));
      return s.result;
    };
    const cancel = (id: string, session = admin) => call(gw.url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: id });
    const result = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: id });
      assert.equal(r.success, true, JSON.stringify(r));
      return JSON.parse(r.result);
    };
    const contactsNamed = async (lastname: string) => {
      const r = await call(gw.url, { operation: 'query', sessionName: admin, query: `select count(*) from Contacts where lastname = '${lastname}';` });
      return Number(r.result[0].count);
    };
    /** Runs a listening executor (as `serve` does) while `body` runs, then stops it and returns its summary. */
    const withExecutor = async (options: Parameters<typeof engineOf>[1], body: () => Promise<void>) => {
      const engine = engineOf(gw.rt, options);
      const listening = engine.listen();
      try {
        await body();
      } finally {
        await engine.close();
      }
      return listening;
    };

    test('a running own operation is stopped on ctx.signal and stored as cancelled; its result is OPERATION_CANCELLED, once', async () => {
      // `reporter` (a 30 s limit of its own, a gate never opened here) rather than `policy`, whose 1 s limit
      // left a slow machine one second to see it run and cancel it before its TIMEOUT.
      const gate = path.join(dir, 'never.gate');
      const id = await submit({ operation: 'reporter', gate, cbwsOptions: '{"launchfromqueue":1,"queuedelay":0,"queue":"slow"}' });
      let answer: Awaited<ReturnType<typeof cancel>> | undefined;
      const summary = await withExecutor({ queues: ['slow'], timeoutSeconds: 600 }, async () => {
        // 'running' only says it is claimed: the handler has started (and watches its signal) once it reported.
        await until('the handler to start', async () => (await status(id)).progress === 0.5, 120_000);
        answer = await cancel(id);
        await until('the operation to be cancelled', async () => (await status(id)).status === 'cancelled', 30_000);
      });
      assert.equal(answer?.success, true, JSON.stringify(answer));
      // 'cancelled' when the executor of this process stored it before the cancel's own mark was written.
      assert.ok(['cancelling', 'cancelled'].includes(answer?.result.status), JSON.stringify(answer));
      assert.equal(summary.cancelled, 1);
      assert.equal(summary.failed + summary.retried + summary.done, 0, JSON.stringify(summary));
      const s = await status(id);
      assert.deepEqual(s.errors, [], 'not a failed attempt');
      assert.ok(s.cancelrequestedtime, 'the cancel is recorded');
      // Its log is kept with the entry: the two lines it wrote before the cancel.
      assert.equal(s.output.length, 2, JSON.stringify(s.output));
      for (const line of s.output) assert.match(line, /^line [12] /);
      const r = await result(id);
      assert.equal(r.error.code, 'OPERATION_CANCELLED');
      assert.match(r.error.message, /cancelled while it ran/);
      const again = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: id });
      assert.notEqual(again.result, JSON.stringify(r), 'read once');
    });

    test('a handler that ignores its signal loses its worker; what it wrote is rolled back; the rest of its batch runs later', async () => {
      const marker = path.join(dir, 'slow.marker');
      const release = path.join(dir, 'slow.release');
      const tagged = path.join(dir, 'after.marker');
      const slow = await submit({ operation: 'wsgatetest_slowcreate', elementType: 'Contacts', element: '{"lastname":"Cancelledwrite"}', marker, release });
      const next = await submit({ operation: 'wsgatetest_record', marker: tagged, tag: 'next' });
      const summary = await withExecutor({ concurrency: 1, claimBatch: 2 }, async () => {
        await until('the record to be created', async () => fs.existsSync(marker), 120_000);
        const answer = await cancel(slow);
        assert.equal(answer.success, true, JSON.stringify(answer));
        await until(
          'the slow one to be cancelled and the next one done',
          async () => (await status(slow)).status === 'cancelled' && (await status(next)).status === 'done',
          60_000,
        );
      });
      assert.equal(summary.cancelled, 1, JSON.stringify(summary));
      assert.equal(await contactsNamed('Cancelledwrite'), 0, 'the record its run created is not kept');
      assert.equal((await result(slow)).error.code, 'OPERATION_CANCELLED');
      assert.deepEqual((await result(next)).result, { tag: 'next' });
      fs.writeFileSync(release, '');
    });

    test('an entry of a claimed batch that has not started is skipped; the one running goes on', async () => {
      const gate = path.join(dir, 'batch.gate');
      const marker = path.join(dir, 'batch.marker');
      const first = await submit({ operation: 'reporter', gate });
      const second = await submit({ operation: 'wsgatetest_record', marker, tag: 'second' });
      await withExecutor({ concurrency: 1, claimBatch: 2 }, async () => {
        await until('the first to run', async () => (await status(first)).progress === 0.5, 120_000);
        assert.equal((await status(second)).status, 'running', 'claimed in the same batch');
        const answer = await cancel(second);
        assert.equal(answer.success, true, JSON.stringify(answer));
        fs.writeFileSync(gate, '');
        await until('both to finish', async () => (await status(first)).status === 'done' && (await status(second)).status === 'cancelled', 60_000);
      });
      assert.equal(fs.existsSync(marker), false, 'the cancelled entry never ran');
      assert.deepEqual((await result(first)).result, { lines: 2 });
      assert.equal((await result(second)).error.code, 'OPERATION_CANCELLED');
    });

    test('an entry that ran but whose transaction has not committed yet is rolled back and cancelled, never done', async () => {
      const gate = path.join(dir, 'uncommitted.gate');
      const marker = path.join(dir, 'uncommitted.marker');
      const ran = await submit({ operation: 'wsgatetest_record', marker, tag: 'ran' });
      const holding = await submit({ operation: 'reporter', gate });
      // One transaction for both (a long group commit): the first one's result waits for the second's run.
      await withExecutor({ concurrency: 1, claimBatch: 2, groupCommitMs: 600_000 }, async () => {
        await until('the first to have run and the second to run', async () => fs.existsSync(marker) && (await status(holding)).progress === 0.5, 120_000);
        const answer = await cancel(ran);
        assert.equal(answer.result?.status, 'cancelling', JSON.stringify(answer));
        fs.writeFileSync(gate, '');
        await until('both to finish', async () => (await status(ran)).status === 'cancelled' && (await status(holding)).status === 'done', 60_000);
      });
      assert.equal((await result(ran)).error.code, 'OPERATION_CANCELLED');
      assert.deepEqual((await result(holding)).result, { lines: 2 });
    });

    test("a running exec job's process group is killed; the job is cancelled, not failed or retried", async () => {
      const file = path.join(dir, 'exec.pgid');
      const id = await submit({ operation: 'exec', name: 'hangLong', args: [file] });
      const summary = await withExecutor({}, async () => {
        await until('the command to start', async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '', 120_000);
        const answer = await cancel(id);
        assert.equal(answer.success, true, JSON.stringify(answer));
        await until('the job to be cancelled', async () => (await status(id)).status === 'cancelled', 30_000);
      });
      const pgid = Number(fs.readFileSync(file, 'utf8'));
      await until('the process group is gone', async () => !groupAlive(pgid));
      assert.equal(summary.cancelled, 1, JSON.stringify(summary));
      assert.deepEqual((await status(id)).errors, []);
      assert.equal((await result(id)).error.code, 'OPERATION_CANCELLED');
    });

    test('DELETE /api/v1/operations/{id} of a running operation answers 202; another user cannot cancel it; a finished one is NOT_CANCELLABLE', async () => {
      const gate = path.join(dir, 'api.gate');
      const id = await submit({ operation: 'reporter', gate });
      const foreignCancel = async () => {
        const foreign = await cancel(id, other);
        assert.equal(foreign.error?.code, 'RECORD_NOT_FOUND', JSON.stringify(foreign));
        assert.equal((await status(id)).cancelrequestedtime, null, "another user's cancel marks nothing");
      };
      // On SQLite another user's first call waits for the write lock the running batch holds (its session's
      // last-seen time): asked before it runs there.
      if (backend.name === 'sqlite') await foreignCancel();
      await withExecutor({}, async () => {
        await until('it to run', async () => (await status(id)).progress === 0.5, 120_000);
        if (backend.name === 'postgresql') await foreignCancel();
        const res = await fetch(`${gw.server.url}/api/v1/operations/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
        const body = await res.json();
        // 200 when this process's executor stored it as cancelled before the answer was made.
        assert.ok(
          res.status === 202 || (res.status === 200 && body.status === 'cancelled'),
          `${res.status} ${JSON.stringify(body)} ${JSON.stringify(await status(id))}`,
        );
        await until('it to be cancelled', async () => (await status(id)).status === 'cancelled', 30_000);
      });
      const done = await submit({ operation: 'wsgatetest_noop' });
      await withExecutor({}, async () => void (await until('it to finish', async () => (await status(done)).status === 'done', 60_000)));
      const late = await cancel(done);
      assert.equal(late.error?.code, 'NOT_CANCELLABLE', JSON.stringify(late));
      assert.deepEqual((await result(done)).success, true, 'its result stands');
    });

    test('a marked entry is never completed, retried, handed back or rescued as anything but cancelled', async () => {
      const db = gw.rt.db;
      const clock = gw.rt.services.clock;
      const ids = await Promise.all(
        [1, 2, 3, 4].map(() => submit({ operation: 'wsgatetest_noop', cbwsOptions: '{"launchfromqueue":1,"queuedelay":0,"queue":"marks"}' })),
      );
      const claimed = await claim(db, { queues: ['marks'], now: clock.now(), leaseSeconds: 60, limit: 4 });
      assert.equal(claimed.length, 4);
      const userId = claimed[0]!.userId;
      for (const id of ids) assert.equal(await cancelEntry(db.raw, id, userId, clock.now(), 3600), 'cancelling');
      const [completed, failedOne, handedBack] = ids.map((id) => claimed.find((c) => c.operationTrackingID === id)!);
      const envelope = '{"success":true,"result":{},"moreinfo":null}';
      const now = clock.now();
      assert.equal(
        (await completeMany(db, completed!.leaseToken, [{ operationTrackingID: completed!.operationTrackingID, envelope }], now, 3600)).size,
        0,
        'the completion is fenced',
      );
      assert.equal((await status(ids[0]!)).status, 'running');
      assert.equal(
        await recordFailedAttempt(db, { entry: failedOne!, error: { code: 'TIMEOUT', message: 'late' }, now, retryAt: now, envelope, resultTtlSeconds: 3600 }),
        true,
      );
      assert.equal(await handBack(db, [handedBack!], true, now, 3600), 1);
      assert.deepEqual([(await status(ids[1]!)).status, (await status(ids[2]!)).status, (await status(ids[3]!)).status], ['cancelled', 'cancelled', 'running']);
      // The leases run out (their executor died): the marked entries are cancelled, not queued again.
      assert.equal(await rescueExpiredLeases(db, new Date(now.getTime() + 120_000), 3600), 2);
      for (const id of ids) assert.equal((await status(id)).status, 'cancelled', id);
      for (const id of ids) assert.equal((await result(id)).error.code, 'OPERATION_CANCELLED');
    });

    if (backend.name === 'postgresql') {
      test('an executor in another process hears the cancel through its poll', async () => {
        const gate = path.join(dir, 'remote.gate');
        const id = await submit({ operation: 'reporter', gate, cbwsOptions: '{"launchfromqueue":1,"queuedelay":0,"queue":"remote"}' });
        const work = spawnCli(['work', '--queue', 'remote'], { ...gw.env, WSGATE_OPERATIONS_DIR: fixtureOperations });
        try {
          await until('it to run in the other process', async () => (await status(id)).status === 'running', 120_000);
          const answer = await cancel(id);
          assert.equal(answer.result?.status, 'cancelling', JSON.stringify(answer));
          await until('it to be cancelled', async () => (await status(id)).status === 'cancelled', 30_000);
        } finally {
          work.child.kill('SIGTERM');
          await work.done;
        }
        assert.equal((await result(id)).error.code, 'OPERATION_CANCELLED');
      });
    }
  });
}
