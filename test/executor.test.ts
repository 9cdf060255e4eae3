// The executor against real databases and real processes: overlapping passes, a pass killed mid-operation,
// concurrent readers of one result, a stale lease that must not write.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backends, call, login, runCli, spawnCli, startGateway, until, type Gateway } from './support.js';
import { MAX_ATTEMPTS, runPass } from '../src/executor/pass.js';
import { executorOf } from '../src/runtime.js';
import { claim, complete } from '../src/queue/store.js';
import { scheduleExecutor } from '../src/executor/schedule.js';

const NOT_YET = 'Operation not queued or not finished yet';
const defer = JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });

for (const backend of backends) {
  describe(`executor on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const queueCreate = async (lastname: string) => {
      const res = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: JSON.stringify({ lastname }), cbwsOptions: defer });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const recordsNamed = (prefix: string) => gw.rt.db.prisma.record.findMany({ where: { data: { contains: `"lastname":"${prefix}` } } });
    const parseSummary = (stdout: string) => {
      const m = /executeOperationsFromQueue: run=(\d+) failed=(\d+).* took=\d+ms/.exec(stdout);
      assert.ok(m, `summary line missing in ${JSON.stringify(stdout)}`);
      return { run: Number(m[1]), failed: Number(m[2]) };
    };

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('two executor processes started at once on 500 due operations run each exactly once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 500; i++) ids.push(await queueCreate(`dup-${i}`));
      const env = { ...gw.env, WSGATE_CLAIM_BATCH: '5' };
      const [a, b] = await Promise.all([runCli(['execute'], env), runCli(['execute'], env)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      const sa = parseSummary(a.stdout);
      const sb = parseSummary(b.stdout);
      assert.equal(sa.run + sb.run, 500, `passes ran ${sa.run} + ${sb.run}`);
      assert.ok(sa.run > 0 && sb.run > 0, `both passes took part (${sa.run} + ${sb.run})`);
      assert.equal(sa.failed + sb.failed, 0);
      const records = await recordsNamed('dup-');
      assert.equal(records.length, 500, 'one record per operation: none ran twice');
      assert.equal(new Set(records.map((r) => JSON.parse(r.data).lastname)).size, 500);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: { in: ids }, state: 'done' } }), 500);
    });

    test('a pass killed with SIGKILL mid-operation: after the lease a new pass completes it, once', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-kill-'));
      const marker = path.join(dir, 'running');
      const release = path.join(dir, 'release');
      const slow = await call(gw.url, {
        operation: 'wsgatetest_slowcreate',
        sessionName: session,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname: 'killed-once' }),
        marker,
        release,
        cbwsOptions: defer,
      });
      assert.equal(slow.success, true, JSON.stringify(slow));
      const others = [await queueCreate('after-kill-1'), await queueCreate('after-kill-2')];
      const env = { ...gw.env, WSGATE_CLAIM_BATCH: '1', WSGATE_LEASE_SECONDS: '60' };
      const victim = spawnCli(['execute'], env);
      await until('the operation to be running', async () => fs.existsSync(marker));
      victim.child.kill('SIGKILL');
      const killed = await victim.done;
      assert.equal(killed.signal, 'SIGKILL');

      const id = slow.result.operationTrackingID;
      const entry = await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id } });
      assert.equal(entry.state, 'running', 'the killed pass left it leased, not lost');
      assert.equal((await recordsNamed('killed-once')).length, 0, 'its half-done write was rolled back');

      fs.writeFileSync(release, '');
      const early = parseSummary((await runCli(['execute'], env)).stdout);
      assert.equal(early.run, 2, 'a pass within the lease runs the others but leaves the leased one alone');
      assert.equal((await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id } })).state, 'running');

      const later = await runCli(['execute'], { ...env, WSGATE_CLOCK_OFFSET_MS: String(61_000) });
      assert.equal(later.code, 0, later.stderr);
      assert.equal(parseSummary(later.stdout).run, 1);
      const result = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      const inner = JSON.parse(result.result);
      assert.equal(inner.success, true);
      assert.equal(inner.result.lastname, 'killed-once');
      assert.equal((await recordsNamed('killed-once')).length, 1, 'exactly one record: no double run');
      for (const other of others) {
        const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: other });
        assert.equal(JSON.parse(r.result).success, true);
      }
    });

    test('the process time zone does not move due times', async () => {
      const later = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"tz-later"}', cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 3600 }) });
      await queueCreate('tz-now');
      for (const TZ of ['Pacific/Kiritimati', 'America/Anchorage']) {
        const r = await runCli(['execute'], { ...gw.env, TZ });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(parseSummary(r.stdout).run, TZ === 'Pacific/Kiritimati' ? 1 : 0, `${TZ}: ${r.stdout}`);
      }
      const state = await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id: later.result.operationTrackingID } });
      assert.equal(state.state, 'queued', 'an hour-delayed operation waits, whatever the zone');
      const r = await runCli(['execute'], { ...gw.env, TZ: 'Asia/Kolkata', WSGATE_CLOCK_OFFSET_MS: String(3_601_000) });
      assert.equal(parseSummary(r.stdout).run, 1);
      session = (await login(gw.url)).sessionName; // that pass's clock, an hour ahead, ended idle sessions
    });

    test('20 concurrent readers of one finished result: exactly one gets it', async () => {
      const id = await queueCreate('read-once');
      await runPass(executorOf(gw.rt));
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id })),
      );
      const got = answers.filter((a) => a.result !== NOT_YET);
      assert.equal(got.length, 1, `${got.length} readers got the result`);
      assert.equal(JSON.parse(got[0]!.result).result.lastname, 'read-once');
      assert.ok(answers.every((a) => a.success === true));
    });

    test('an executor whose lease was taken over cannot store a result', async () => {
      const id = await queueCreate('fenced');
      const ex = executorOf(gw.rt);
      const clock = gw.rt.services.clock;
      const [stale] = await claim(gw.rt.db, { now: clock.now(), leaseSeconds: 30, limit: 1 });
      assert.equal(stale!.operationTrackingID, id);
      assert.equal((await runPass(ex)).run, 0, 'leased: not taken');
      clock.advance(31_000);
      assert.equal((await runPass(ex)).run, 1, 'lease expired: taken over and finished');
      const wrote = await complete(gw.rt.db.prisma, {
        operationTrackingID: id,
        leaseToken: stale!.leaseToken,
        envelope: '{"success":false}',
        now: clock.now(),
        resultTtlSeconds: 60,
      });
      assert.equal(wrote, false);
      const result = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: (await login(gw.url)).sessionName, operationTrackingID: id });
      assert.equal(JSON.parse(result.result).result.lastname, 'fenced');
      session = (await login(gw.url)).sessionName;
    });

    test('an operation claimed again and again without finishing is given up with an error envelope', async () => {
      const id = await queueCreate('never-finishes');
      const clock = gw.rt.services.clock;
      // Five executors that claimed it and died (their leases ran out).
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const [claimed] = await claim(gw.rt.db, { now: clock.now(), leaseSeconds: 30, limit: 1 });
        assert.equal(claimed?.operationTrackingID, id);
        clock.advance(31_000);
      }
      const summary = await runPass(executorOf(gw.rt));
      assert.deepEqual([summary.run, summary.failed], [1, 1]);
      session = (await login(gw.url)).sessionName;
      const result = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      const inner = JSON.parse(result.result);
      assert.equal(inner.error.code, 'INTERNAL_SERVER_ERROR');
      assert.match(inner.error.message, /given up/);
      assert.equal((await recordsNamed('never-finishes')).length, 0);
    });

    test('an entry that waited in its batch past its lease and was taken over is not run again', { skip: backend.name !== 'postgresql' && 'SQLite lets no other executor claim while one runs', timeout: 60_000 }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-batch-'));
      const slowMarker = path.join(dir, 'slow');
      const secondMarker = path.join(dir, 'second');
      const release = path.join(dir, 'release');
      const released = path.join(dir, 'released');
      fs.writeFileSync(released, '');
      const slowcreate = (lastname: string, marker: string, release: string) =>
        call(gw.url, { operation: 'wsgatetest_slowcreate', sessionName: session, elementType: 'Contacts', element: JSON.stringify({ lastname }), marker, release, cbwsOptions: defer });
      const first = await slowcreate('batch-first', slowMarker, release);
      const second = await slowcreate('batch-second', secondMarker, released);
      assert.ok(first.success && second.success);
      // Earlier tests moved the gateway's clock; the executors keep to it.
      const offset = gw.rt.services.clock.now().getTime() - Date.now();
      const env = { ...gw.env, WSGATE_CLAIM_BATCH: '2', WSGATE_LEASE_SECONDS: '30', WSGATE_CLOCK_OFFSET_MS: String(offset) };
      // A claims both and holds the first past the lease.
      const a = spawnCli(['execute'], env);
      // Whatever fails below, A must not be left waiting for the release file.
      after(() => fs.writeFileSync(release, ''));
      await until('the first operation to be running', async () => fs.existsSync(slowMarker));
      // B, 31 s later by its clock: the first is locked by A's transaction and skipped; the second is taken.
      const b = await runCli(['execute'], { ...env, WSGATE_CLOCK_OFFSET_MS: String(offset + 31_000) });
      assert.equal(b.code, 0, b.stderr);
      assert.equal(parseSummary(b.stdout).run, 1, b.stdout);
      fs.writeFileSync(release, '');
      const done = await a.done;
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /run=1 failed=0 lost-lease=1/);
      assert.equal(fs.readFileSync(slowMarker, 'utf8').trim().split('\n').length, 1, 'the first ran once');
      assert.equal(fs.readFileSync(secondMarker, 'utf8').trim().split('\n').length, 1, 'the second ran once, by B');
      assert.equal((await recordsNamed('batch-')).length, 2);
    });

    test('the in-process schedule never runs two passes at once', async () => {
      const ids = [await queueCreate('sched-1'), await queueCreate('sched-2')];
      const scheduled = scheduleExecutor(executorOf(gw.rt), '0 0 1 1 *');
      const first = scheduled.tick();
      assert.equal(scheduled.tick(), first, 'a tick during a run joins it');
      await first;
      await scheduled.stop();
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: { in: ids }, state: 'done' } }), 2);
      assert.equal((await recordsNamed('sched-')).length, 2);
    });
  });
}

describe('cron entry', () => {
  test('cron/executeOperationsFromQueue runs due operations, prints a summary, exits 0', async () => {
    const gw = await startGateway(backends[0]!);
    try {
      const s = (await login(gw.url)).sessionName;
      await call(gw.url, { operation: 'create', sessionName: s, elementType: 'Contacts', element: '{"lastname":"Cron"}', cbwsOptions: defer });
      const { spawnSync } = await import('node:child_process');
      const script = path.join(import.meta.dirname, '..', '..', 'cron', 'executeOperationsFromQueue');
      const r = spawnSync(script, [], { env: gw.env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^executeOperationsFromQueue: run=1 failed=0 took=\d+ms$/m);
    } finally {
      await gw.close();
    }
  });

  test('an executor that cannot reach its database exits non-zero', async () => {
    const r = await runCli(['execute'], { PATH: process.env.PATH ?? '', DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', WSGATE_SECRET: 'x', WSGATE_LOG_LEVEL: 'silent' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ECONNREFUSED|connect/);
  });
});

describe('serve with its in-process executor', () => {
  for (const backend of backends) {
    test(`a request made while an operation's transaction is open is not part of it (${backend.name})`, async () => {
      // A schedule that never fires by itself: the test ticks it.
      const gw = await startGateway(backend, { WSGATE_EXECUTOR_SCHEDULE: '0 0 1 1 *' });
      try {
        const s = (await login(gw.url)).sessionName;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-serve-'));
        const marker = path.join(dir, 'running');
        const release = path.join(dir, 'release');
        // The queued operation creates a record, waits, then fails: its transaction rolls back.
        const q = await call(gw.url, {
          operation: 'wsgatetest_slowcreate', sessionName: s, elementType: 'Contacts',
          element: '{"lastname":"RolledBack"}', marker, release, fail: '1', cbwsOptions: defer,
        });
        assert.equal(q.success, true, JSON.stringify(q));
        const pass = gw.server.executor!.tick();
        await until('the operation to be running', async () => fs.existsSync(marker));
        const during = call(gw.url, { operation: 'create', sessionName: s, elementType: 'Contacts', element: '{"lastname":"During"}' });
        // Give the request time to reach the database while the transaction is open (not a schedule).
        await new Promise((r) => setTimeout(r, 200));
        fs.writeFileSync(release, '');
        const res = await during;
        assert.equal(res.success, true, JSON.stringify(res));
        await pass;
        const result = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: s, operationTrackingID: q.result.operationTrackingID });
        assert.equal(JSON.parse(result.result).error.code, 'VALIDATION_FAILED');
        const named = async (lastname: string) => gw.rt.db.prisma.record.count({ where: { data: { contains: `"lastname":"${lastname}"` } } });
        assert.equal(await named('RolledBack'), 0, 'the failed operation left nothing');
        assert.equal(await named('During'), 1, 'the request made meanwhile was not rolled back with it');
        const retrieved = await call(gw.url, { operation: 'retrieve', sessionName: s, id: res.result.id });
        assert.equal(retrieved.result.lastname, 'During');
      } finally {
        await gw.close();
      }
    });
  }
});
