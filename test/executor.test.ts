// The executor engine in this process against real databases: the worker pool (timeouts, memory, exits),
// retries and the failed store, priority and named queues, fencing, and the cron pass as a process.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backends, call, expectCli, login, runCli, runPass, shown, startGateway, until, type Gateway, tmpDir } from './support.js';
import { MAX_CLAIMS } from '../src/executor/engine.js';
import { engineOf } from '../src/runtime.js';
import { claim, completeMany, enqueueMany } from '../src/queue/store.js';
import { rescueExpiredLeases } from '../src/queue/attempts.js';
import * as SQL from '../src/db/sql.js';

const NOT_YET = 'Operation not queued or not finished yet';
const defer = (extra: Record<string, unknown> = {}) => JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...extra });
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

for (const backend of backends) {
  describe(`executor on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const relogin = async () => (session = (await login(gw.url)).sessionName);
    const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const queueCreate = (lastname: string) => queue({ operation: 'create', elementType: 'Contacts', element: JSON.stringify({ lastname }) });
    const misbehave = (how: string, marker: string, extra: Record<string, unknown> = {}) => queue({ operation: 'wsgatetest_misbehave', how, marker, ...extra });
    const result = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      assert.equal(r.success, true, JSON.stringify(r));
      return r.result === NOT_YET ? null : JSON.parse(r.result);
    };
    const status = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: session, operationTrackingID: id }, { method: 'GET' });
      assert.equal(r.success, true, JSON.stringify(r));
      return r.result;
    };
    const recordsNamed = (prefix: string) => gw.rt.db.prisma.record.findMany({ where: { data: { contains: `"lastname":"${prefix}` } } });

    before(async () => {
      gw = await startGateway(backend);
      await relogin();
    });
    after(() => gw.close());

    test('an operation that never returns is stopped at the timeout, its error stored, and its slot reused', async () => {
      const marker = path.join(tmpDir('exec'), 'm');
      const spin = await misbehave('spin', marker);
      const hang = await misbehave('hang', marker);
      const next = await queueCreate('after-timeout');
      const engine = engineOf(gw.rt, { timeoutSeconds: 0.5, concurrency: 1, claimBatch: 1 });
      try {
        const summary = await engine.drain();
        assert.deepEqual([summary.run, summary.failed], [3, 2], JSON.stringify(summary));
        assert.equal(engine.workers.max, 1);
      } finally {
        await engine.close();
      }
      for (const id of [spin, hang]) {
        const r = await result(id);
        assert.equal(r.success, false);
        assert.equal(r.error.code, 'TIMEOUT');
        assert.match(r.error.message, /did not finish within 0.5 s/);
      }
      assert.equal((await result(next)).result.lastname, 'after-timeout', 'the slot was reused for the next operation');
      assert.equal(lines(marker).length, 2, 'each ran once (tries 1)');
    });

    test('an operation that allocates past --memory or calls process.exit is failed, not lost; the pool keeps its size', async () => {
      const marker = path.join(tmpDir('exec'), 'm');
      const hog = await misbehave('allocate', marker);
      const quitter = await misbehave('exit', marker);
      const fine = [await queueCreate('mem-ok-1'), await queueCreate('mem-ok-2')];
      const engine = engineOf(gw.rt, { memoryMb: 48, concurrency: 2, claimBatch: 1, tries: 2 });
      try {
        const summary = await engine.drain();
        assert.equal(summary.run, 4, JSON.stringify(summary));
        assert.equal(summary.retried, 2, 'each failed attempt was retried once');
        assert.equal(engine.workers.max, 2);
        assert.equal(engine.workers.busy, 0);
      } finally {
        await engine.close();
      }
      const h = await status(hog);
      assert.equal(h.status, 'failed');
      assert.deepEqual(
        h.errors.map((e: { code: string }) => e.code),
        ['INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR'],
      );
      assert.match(h.errors[0].message, /ran out of memory \(limit 48 MB\)/);
      const q = await status(quitter);
      assert.equal(q.status, 'failed');
      assert.match(q.errors[1].message, /exited \(code 3\)/);
      assert.equal(lines(marker).length, 4, 'two attempts each');
      for (const id of fine) assert.equal((await result(id)).success, true);
      // Read once; the failed store keeps the entry for the operators.
      assert.equal((await result(hog)).error.code, 'INTERNAL_SERVER_ERROR');
      assert.equal(await result(hog), null);
      assert.equal((await status(hog)).status, 'failed');
    });

    test('retries with backoff, tries used up, the failed store, wsgate retry, then the result', async () => {
      const marker = path.join(tmpDir('exec'), 'm');
      const id = await misbehave('flaky', marker, { succeedAt: '3' });
      const env = { ...gw.env, WSGATE_CLOCK_OFFSET_MS: String(gw.rt.services.clock.now().getTime() - Date.now()) };
      const first = await runCli(['execute', '--tries', '2', '--backoff', '10'], env);
      assert.equal(first.code, 0, shown(first));
      assert.match(first.stdout, /done=0 errors=0 retried=1 failed=0/, shown(first));
      assert.equal((await status(id)).status, 'delayed', 'waiting for its backoff');
      // A minute earlier than the first run's clock: under load the two runs can be more than the 10 s backoff
      // apart in wall-clock time, which made "not retried before the backoff" fail on a busy CI machine.
      const before = { ...env, WSGATE_CLOCK_OFFSET_MS: String(Number(env.WSGATE_CLOCK_OFFSET_MS) - 60_000) };
      const early = await runCli(['execute', '--tries', '2', '--backoff', '10'], before);
      assert.match(early.stdout, /done=0 errors=0 retried=0 failed=0 took/, `not retried before the backoff\n${shown(early)}`);
      const later = { ...env, WSGATE_CLOCK_OFFSET_MS: String(Number(env.WSGATE_CLOCK_OFFSET_MS) + 11_000) };
      const second = await runCli(['execute', '--tries', '2', '--backoff', '10'], later);
      assert.match(second.stdout, /done=0 errors=0 retried=0 failed=1/, shown(second));
      const s = await status(id);
      assert.equal(s.status, 'failed');
      assert.deepEqual(
        s.errors.map((e: { attempt: number }) => e.attempt),
        [1, 2],
      );

      const listed = await runCli(['failed', '--json'], later);
      const failed = JSON.parse(listed.stdout) as { operationTrackingID: string }[];
      assert.ok(
        failed.some((f) => f.operationTrackingID === id),
        shown(listed),
      );
      const human = await runCli(['failed'], later);
      // Its user by name, its parameters, and each attempt's error.
      assert.match(
        human.stdout,
        new RegExp(
          `^${id}  wsgatetest_misbehave  queue=default  user=admin  failed=\\S+  attempts=2\n {4}params: \\{"how":"flaky",.*\n` +
            ` {4}attempt 1 at \\S+: INTERNAL_SERVER_ERROR: wsgatetest_misbehave: attempt 1 fails\n` +
            ` {4}attempt 2 at \\S+: INTERNAL_SERVER_ERROR: wsgatetest_misbehave: attempt 2 fails$`,
          'm',
        ),
        shown(human),
      );

      const retried = await runCli(['retry', id], later);
      assert.equal(retried.code, 0, shown(retried));
      assert.match(retried.stdout, /1 queued again/, shown(retried));
      const third = await runCli(['execute'], later);
      assert.match(third.stdout, /done=1 errors=0 retried=0 failed=0/, shown(third));
      const r = await result(id);
      assert.deepEqual(r.result, { attempts: 3 });
      assert.equal(lines(marker).length, 3);
      expectCli(await runCli(['retry', 'nosuchid'], later), 2);
    });

    test('forget, flush and prune-failed empty the failed store', async () => {
      const marker = path.join(tmpDir('exec'), 'm');
      const ids = [
        await misbehave('flaky', marker, { succeedAt: '99' }),
        await misbehave('flaky', marker, { succeedAt: '99' }),
        await misbehave('flaky', marker, { succeedAt: '99' }),
      ];
      // Under load a pass may hand entries back (a worker that could not start, a database hiccup): they run
      // again at the next pass. `forget` needs them in the failed store, so wait for that rather than assume it
      // (the flaky failure: `forget` found its entry not failed yet, answered "0 forgotten", and the assertion
      // showed only the empty stderr).
      const inFailedStore = () => gw.rt.db.prisma.queuedOperation.count({ where: { id: { in: ids }, state: 'failed' } });
      await until('the three in the failed store', async () => (await runPass(gw.rt)) && (await inFailedStore()) === 3);
      const env = { ...gw.env, WSGATE_CLOCK_OFFSET_MS: String(gw.rt.services.clock.now().getTime() - Date.now()) };
      expectCli(await runCli(['forget', ids[0]!], env), 0, /^1 forgotten$/m);
      expectCli(await runCli(['prune-failed', '--hours', '1'], env), 0, /^0 pruned$/m);
      const later = { ...env, WSGATE_CLOCK_OFFSET_MS: String(Number(env.WSGATE_CLOCK_OFFSET_MS) + 2 * 3_600_000) };
      expectCli(await runCli(['prune-failed', '--hours', '1'], later), 0, /^[1-9]\d* pruned$/m);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: { in: ids } } }), 0);
      const another = await misbehave('flaky', marker, { succeedAt: '99' });
      await until(
        'it in the failed store',
        async () => (await runPass(gw.rt)) && (await gw.rt.db.prisma.queuedOperation.count({ where: { id: another, state: 'failed' } })) === 1,
      );
      expectCli(await runCli(['flush'], env), 0, /^[1-9]\d* forgotten$/m);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { state: 'failed' } }), 0);
    });

    test('protocol errors are final results, not retried', async () => {
      const id = await queue({
        operation: 'wsgatetest_slowcreate',
        elementType: 'Contacts',
        element: '{"lastname":"final"}',
        marker: path.join(tmpDir('exec'), 'm'),
        release: '/',
        fail: '1',
      });
      const summary = await runPass(gw.rt, { tries: 3 });
      assert.deepEqual([summary.run, summary.errors, summary.failed, summary.retried], [1, 1, 0, 0]);
      assert.equal((await status(id)).status, 'done');
      assert.equal((await result(id)).error.code, 'VALIDATION_FAILED');
      assert.equal((await recordsNamed('final')).length, 0, 'its write was rolled back');
    });

    test('an operation run again after its transaction rolled back gets its parameters as queued, not as its last run left them', async () => {
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const at = new Date(Date.now() - 1_000);
      const [appended] = await enqueueMany(gw.rt.db, [
        { operation: 'wsgatetest_append', params: { items: ['queued'], item: 'ran' }, userId: admin.id, submittedAt: at, dueAt: at },
      ]);
      const refused = await misbehave('not-a-way', path.join(tmpDir('exec'), 'm'));
      // One worker, one batch, a group commit window that does not close: both run in one transaction, the
      // second's protocol error rolls it back, and the first runs again in a transaction of its own.
      const summary = await runPass(gw.rt, { concurrency: 1, groupCommitMs: 60_000 });
      assert.deepEqual([summary.run, summary.errors], [2, 1], JSON.stringify(summary));
      assert.equal((await result(refused)).error.code, 'INVALID_PARAMETER');
      assert.deepEqual((await result(appended!)).result, { items: ['queued', 'ran'] });
    });

    test('a claim is spread over the free workers: four waiting operations run at once on four workers', {
      skip: backend.name === 'sqlite' && 'SQLite lets one transaction write at a time: its workers take turns',
    }, async () => {
      const dir = tmpDir('exec');
      const marker = path.join(dir, 'started');
      const release = path.join(dir, 'release');
      for (let i = 0; i < 4; i++) {
        await queue({ operation: 'wsgatetest_slowcreate', elementType: 'Contacts', element: JSON.stringify({ lastname: `spread-${i}` }), marker, release });
      }
      const engine = engineOf(gw.rt, { concurrency: 4, claimBatch: 20 });
      try {
        const drained = engine.drain();
        // Each waits for the release file: all four can have started only if they run in four workers.
        await until('four operations running at once', async () => lines(marker).length === 4);
        fs.writeFileSync(release, '');
        assert.equal((await drained).run, 4);
      } finally {
        fs.writeFileSync(release, '');
        await engine.close();
      }
    });

    test('an operation that writes nothing holds no transaction open while it runs (PostgreSQL: one that writes does)', async () => {
      const dir = tmpDir('exec');
      const release = path.join(dir, 'release');
      const postgres = backend.name === 'postgresql';
      // The worker's connection (PostgreSQL): BEGIN goes with its transaction's first statement.
      const workerConnections = () =>
        gw.rt.db.raw.query<{ state: string; query: string }>(
          SQL.sql`SELECT state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND (state = 'idle in transaction' OR query LIKE 'SELECT pg_current_xact_id()%')`,
        );
      const engine = engineOf(gw.rt, { concurrency: 1, claimBatch: 1 });
      try {
        const waitMarker = path.join(dir, 'wait');
        const waiting = await queue({ operation: 'wsgatetest_wait', marker: waitMarker, release });
        let drained = engine.drain();
        await until('the operation runs', async () => lines(waitMarker).length === 1);
        if (postgres) {
          // Its batch's first transaction flushed the claim (its connection's last statement); nothing began.
          await until('the flush answered, no BEGIN after it', async () => (await workerConnections()).some((c) => c.state === 'idle'));
          assert.deepEqual(
            (await workerConnections()).map((c) => c.state),
            ['idle'],
          );
        }
        // No lock held by the worker: the gateway's writes go on (on SQLite a write lock held would keep this
        // submit waiting until the operation ends, which it does only once released).
        const meanwhile = await queue({ operation: 'wsgatetest_noop', tag: 'meanwhile' });
        assert.equal((await status(meanwhile)).status, 'queued');
        fs.writeFileSync(release, '');
        assert.equal((await drained).run, 2);
        assert.deepEqual((await result(waiting)).result, { waited: true });
        if (!postgres) return;

        fs.rmSync(release);
        const createMarker = path.join(dir, 'create');
        const creating = await queue({
          operation: 'wsgatetest_slowcreate',
          elementType: 'Contacts',
          element: '{"lastname":"in-transaction"}',
          marker: createMarker,
          release,
        });
        drained = engine.drain();
        await until('the create ran and waits', async () => lines(createMarker).length === 1);
        await until('its transaction is open', async () => (await workerConnections()).some((c) => c.state === 'idle in transaction'));
        fs.writeFileSync(release, '');
        assert.equal((await drained).run, 1);
        assert.equal((await result(creating)).success, true);
        assert.equal((await recordsNamed('in-transaction')).length, 1);
      } finally {
        fs.writeFileSync(release, '');
        await engine.close();
      }
    });

    test('a batch of operations that wrote nothing, one cancelled from elsewhere before its completion: it ends cancelled, the other done, run once', async () => {
      const dir = tmpDir('exec');
      const release = path.join(dir, 'release');
      const [markerA, markerB] = [path.join(dir, 'a'), path.join(dir, 'b')];
      const a = await queue({ operation: 'wsgatetest_wait', marker: markerA, release });
      const b = await queue({ operation: 'wsgatetest_wait', marker: markerB, release });
      // One batch, one transaction for both (a long group commit): their completions are one statement.
      const engine = engineOf(gw.rt, { concurrency: 1, claimBatch: 2, groupCommitMs: 600_000 });
      try {
        const drained = engine.drain();
        await until('the first to run', async () => lines(markerA).length === 1);
        // The mark another process's cancel writes; its notice has not reached this executor (it looks every second).
        await gw.rt.db.raw.execute(SQL.sql`UPDATE ws_queue_entry SET cancel_requested_at = ${gw.rt.services.clock.now()} WHERE id = ${a}`);
        fs.writeFileSync(release, '');
        const summary = await drained;
        assert.deepEqual([summary.done, summary.cancelled, summary.lost], [1, 1, 0], JSON.stringify(summary));
      } finally {
        fs.writeFileSync(release, '');
        await engine.close();
      }
      assert.equal((await status(a)).status, 'cancelled');
      assert.equal((await result(a)).error.code, 'OPERATION_CANCELLED');
      assert.deepEqual((await result(b)).result, { waited: true });
      // Their results are one statement of its own, which the mark made miss one: the other stays stored, not run again.
      assert.equal(lines(markerB).length, 1, 'the other ran once');
    });

    test('a claim of operations seen to run quickly goes to as few workers as its size needs; one not seen yet is spread', async () => {
      const engine = engineOf(gw.rt, { concurrency: 4, claimBatch: 20 });
      const threadsOf = async (ids: string[]) => new Set(await Promise.all(ids.map(async (id) => (await result(id)).result.thread as number)));
      try {
        const first: string[] = [];
        for (let i = 0; i < 4; i++) first.push(await queue({ operation: 'wsgatetest_noop', tag: `first-${i}` }));
        assert.equal((await engine.drain()).run, 4);
        assert.equal((await threadsOf(first)).size, 4, 'an operation not seen to run yet: one entry a worker');
        // Runs in warm workers, so that the first runs' start-up cost weighs little in the running average.
        for (let i = 0; i < 40; i++) await queue({ operation: 'wsgatetest_noop', tag: `warm-${i}` });
        assert.equal((await engine.drain()).run, 40);
        // Its run times are known now (well under the 20 ms group-commit window): twelve fit one worker's batch.
        const next: string[] = [];
        for (let i = 0; i < 12; i++) next.push(await queue({ operation: 'wsgatetest_noop', tag: `next-${i}` }));
        assert.equal((await engine.drain()).run, 12);
        assert.equal((await threadsOf(next)).size, 1, 'one batch, one worker');
        // More than claimBatch of them: two workers at least.
        const many: string[] = [];
        for (let i = 0; i < 30; i++) many.push(await queue({ operation: 'wsgatetest_noop', tag: `many-${i}` }));
        assert.equal((await engine.drain()).run, 30);
        assert.equal((await threadsOf(many)).size, 2, 'thirty entries at twenty a worker');
      } finally {
        await engine.close();
      }
    });

    test('priority and named queues set the order; delayed operations do not start early', async () => {
      const marker = path.join(tmpDir('exec'), 'order');
      const rec = (tag: string, options: Record<string, unknown>) => queue({ operation: 'wsgatetest_record', marker, tag }, options);
      await rec('default-500-a', {});
      await rec('default-900', { priority: 900 });
      await rec('default-500-b', { priority: '500' });
      await rec('low-queue', { queue: 'low', priority: 10_000 });
      await rec('high-100', { queue: 'high', priority: 100 });
      await rec('high-200', { queue: 'high', priority: 200 });
      const delayed = await queue({ operation: 'wsgatetest_record', marker, tag: 'delayed' }, { queuedelay: 60, priority: 99_999 });
      const summary = await runPass(gw.rt, { queues: ['high', 'default'], concurrency: 1, claimBatch: 1 });
      assert.equal(summary.run, 5);
      assert.deepEqual(lines(marker), ['high-200', 'high-100', 'default-900', 'default-500-a', 'default-500-b']);
      assert.equal((await status(delayed)).status, 'delayed');
      gw.rt.services.clock.advance(61_000);
      await relogin();
      assert.equal((await runPass(gw.rt, { queues: ['low', 'default'] })).run, 2);
      assert.deepEqual(lines(marker).slice(5).sort(), ['delayed', 'low-queue']);
    });

    test('an executor whose lease was taken over cannot finish the entry or store its result', async () => {
      const id = await queueCreate('fenced');
      const clock = gw.rt.services.clock;
      const [stale] = await claim(gw.rt.db, { queues: ['default'], now: clock.now(), leaseSeconds: 30, limit: 1 });
      assert.equal(stale!.operationTrackingID, id);
      assert.equal((await runPass(gw.rt)).run, 0, 'leased: not taken');
      clock.advance(31_000);
      await relogin();
      assert.equal(await rescueExpiredLeases(gw.rt.db, clock.now(), 3600), 1);
      const [fresh] = await claim(gw.rt.db, { queues: ['default'], now: clock.now(), leaseSeconds: 30, limit: 1 });
      assert.equal(fresh!.operationTrackingID, id);
      const staleWrite = await completeMany(gw.rt.db, stale!.leaseToken, [{ operationTrackingID: id, envelope: '{"success":false}' }], clock.now(), 60);
      assert.equal(staleWrite.size, 0, 'the stale executor wrote nothing');
      const freshWrite = await completeMany(
        gw.rt.db,
        fresh!.leaseToken,
        [{ operationTrackingID: id, envelope: '{"success":true,"result":"fresh","moreinfo":null}' }],
        clock.now(),
        60,
      );
      assert.deepEqual([...freshWrite], [id]);
      assert.equal((await result(id)).result, 'fresh');
    });

    test('an entry claimed again and again without finishing is given up into the failed store', async () => {
      const id = await queueCreate('never-finishes');
      const clock = gw.rt.services.clock;
      for (let i = 0; i < MAX_CLAIMS; i++) {
        const [claimed] = await claim(gw.rt.db, { queues: ['default'], now: clock.now(), leaseSeconds: 30, limit: 1 });
        assert.equal(claimed?.operationTrackingID, id);
        clock.advance(31_000);
        await rescueExpiredLeases(gw.rt.db, clock.now(), 3600);
      }
      await relogin();
      const summary = await runPass(gw.rt);
      assert.deepEqual([summary.run, summary.failed], [1, 1]);
      const r = await result(id);
      assert.equal(r.error.code, 'INTERNAL_SERVER_ERROR');
      assert.match(r.error.message, /given up/);
      assert.equal((await recordsNamed('never-finishes')).length, 0);
      assert.equal((await status(id)).status, 'failed');
    });

    test('20 concurrent readers of one finished result: exactly one gets it', async () => {
      const id = await queueCreate('read-once');
      await runPass(gw.rt);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id })),
      );
      const got = answers.filter((a) => a.result !== NOT_YET);
      assert.equal(got.length, 1, `${got.length} readers got the result`);
      assert.equal(JSON.parse(got[0]!.result).result.lastname, 'read-once');
    });

    test('two executor processes started at once on 500 due operations run each exactly once', async () => {
      for (let i = 0; i < 500; i++) await queueCreate(`dup-${i}`);
      const env = { ...gw.env, WSGATE_CLAIM_BATCH: '5', WSGATE_CLOCK_OFFSET_MS: String(gw.rt.services.clock.now().getTime() - Date.now()) };
      const [a, b] = await Promise.all([runCli(['execute'], env), runCli(['execute'], env)]);
      assert.equal(a.code, 0, shown(a));
      assert.equal(b.code, 0, shown(b));
      const run = (out: string) => Number(/done=(\d+)/.exec(out)?.[1]);
      assert.equal(run(a.stdout) + run(b.stdout), 500, `${a.stdout} ${b.stdout}` + '\n' + shown(a) + '\n' + shown(b));
      const records = await recordsNamed('dup-');
      assert.equal(records.length, 500, 'one record per operation: none ran twice');
      assert.equal(new Set(records.map((r) => JSON.parse(r.data).lastname)).size, 500);
    });
  });
}

describe('cron entry', () => {
  test('cron/executeOperationsFromQueue runs due operations, prints a summary, exits 0', async () => {
    const gw = await startGateway(backends[0]!);
    try {
      const s = (await login(gw.url)).sessionName;
      await call(gw.url, { operation: 'create', sessionName: s, elementType: 'Contacts', element: '{"lastname":"Cron"}', cbwsOptions: defer() });
      const { spawnSync } = await import('node:child_process');
      const script = path.join(import.meta.dirname, '..', '..', 'cron', 'executeOperationsFromQueue');
      const r = spawnSync(script, [], { env: gw.env, encoding: 'utf8' });
      assert.equal(r.status, 0, shown(r));
      assert.match(r.stdout, /^executeOperationsFromQueue: done=1 errors=0 retried=0 failed=0 took=\d+ms$/m, shown(r));
    } finally {
      await gw.close();
    }
  });

  test('an executor that cannot reach its database exits non-zero', async () => {
    const r = await runCli(['execute'], {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
      WSGATE_SECRET: 'x',
      WSGATE_LOG_LEVEL: 'silent',
    });
    assert.notEqual(r.code, 0, shown(r));
    assert.match(r.stderr, /ECONNREFUSED|connect/, shown(r));
  });

  test('bad executor options are refused with a usage error', async () => {
    for (const args of [
      ['work', '--backoff', 'soon'],
      ['work', '--queue', 'a b'],
      ['execute', '--timeout', '0'],
      ['work', '--max-jobs', '1.5'],
      ['execute', '--concurrency', '0'],
      ['status', '--queue', 'a,b c'],
    ]) {
      const r = await runCli(args, { PATH: process.env.PATH ?? '' });
      assert.equal(r.code, 2, `wsgate ${args.join(' ')}\n${shown(r)}`);
      assert.match(r.stderr, /Usage: wsgate/, shown(r));
    }
  });
});
