// The queue's and the session's guarantees a second time, through real processes (`wsgate serve`, `wsgate
// execute`) on both databases: results belong to the user who queued them, protocol errors are final, a
// session left idle ends, LIKE escapes `%` and `_`, and (PostgreSQL) an executor whose lease was taken over
// mid-run stores nothing. The first tests of each are in-process (protocol.test.ts, executor.test.ts,
// vtql.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { backends, call, expectCli, login, runCli, shown, spawnCli, testEnv, until, tmpDir } from './support.js';

const NOT_YET = 'Operation not queued or not finished yet';
const defer = () => JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });

/** `wsgate serve` as a process; its URL once it listens, and a stop that waits for a clean exit. */
async function serve(env: Record<string, string>) {
  const server = spawnCli(['serve'], { ...env, WSGATE_LOG_LEVEL: 'info' });
  let out = '';
  server.child.stdout!.on('data', (d) => (out += d));
  const base = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1], 120_000);
  return {
    url: base,
    async stop() {
      server.child.kill('SIGTERM');
      expectCli(await server.done, 0);
    },
  };
}

for (const backend of backends) {
  describe(`guarantees through real processes (${backend.name})`, () => {
    let env: Record<string, string>;
    let gateway: Awaited<ReturnType<typeof serve>>;
    let url: string;
    let admin: string;
    let bob: string;
    const query = async (session: string, q: string) => {
      const r = await call(url, { operation: 'query', sessionName: session, query: q }, { method: 'GET' });
      assert.equal(r.success, true, JSON.stringify(r));
      return (r.result as { lastname: string }[]).map((x) => x.lastname).sort();
    };
    const queue = async (params: Record<string, unknown>) => {
      const r = await call(url, { sessionName: admin, cbwsOptions: defer(), ...params });
      assert.equal(r.success, true, JSON.stringify(r));
      return r.result.operationTrackingID as string;
    };
    const resultAs = async (session: string, id: string) =>
      (await call(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id })).result;

    before(async () => {
      env = testEnv(await backend.freshUrl(), { WSGATE_SESSION_IDLE_SECONDS: '3600' });
      const added = expectCli(await runCli(['user', 'add', 'bob'], env), 0);
      const bobKey = /access key: ([0-9a-f]{32})/.exec(added.stdout)![1]!;
      gateway = await serve(env);
      url = gateway.url;
      admin = (await login(url)).sessionName;
      bob = (await login(url, 'bob', bobKey)).sessionName;
    });
    after(() => gateway.stop());

    test('a result is read only by the user who queued it, before and after an executor process ran it', async () => {
      const id = await queue({ operation: 'create', elementType: 'Contacts', element: '{"lastname":"Owned"}' });
      assert.equal(await resultAs(bob, id), NOT_YET);
      const status = await call(url, { operation: 'getQueuedOperationStatus', sessionName: bob, operationTrackingID: id }, { method: 'GET' });
      assert.equal(status.error?.code, 'RECORD_NOT_FOUND', 'nor learns that it exists');
      expectCli(await runCli(['execute'], env), 0, /done=1 /);
      assert.equal(await resultAs(bob, id), NOT_YET, 'another user cannot read it');
      const cancel = await call(url, { operation: 'cancelQueuedOperation', sessionName: bob, operationTrackingID: id });
      assert.equal(cancel.success, false, 'nor touch it');
      assert.equal(JSON.parse(await resultAs(admin, id)).result.lastname, 'Owned', 'nor consume it');
      assert.equal(await resultAs(admin, id), NOT_YET, 'read once');
    });

    test('a protocol error is the final result: an executor with tries left does not run it again', async () => {
      const id = await queue({
        operation: 'wsgatetest_slowcreate',
        elementType: 'Contacts',
        element: '{"lastname":"Final-Process"}',
        marker: path.join(tmpDir('guarantees'), 'm'),
        release: '/',
        fail: '1',
      });
      const first = expectCli(await runCli(['execute', '--tries', '3', '--backoff', '0'], env), 0);
      assert.match(first.stdout, /done=0 errors=1 retried=0 failed=0/, shown(first));
      const again = expectCli(await runCli(['execute', '--tries', '3'], env), 0);
      assert.match(again.stdout, /done=0 errors=0 retried=0 failed=0/, shown(again));
      const s = (await call(url, { operation: 'getQueuedOperationStatus', sessionName: admin, operationTrackingID: id }, { method: 'GET' })).result;
      assert.deepEqual([s.status, s.attempts, s.errors], ['done', 1, []]);
      assert.equal(JSON.parse(await resultAs(admin, id)).error.code, 'VALIDATION_FAILED');
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname = 'Final-Process';"), [], 'its write was rolled back');
    });

    test('a session left idle ends, in a gateway process whose clock is past the idle time', async () => {
      const s = (await login(url)).sessionName;
      assert.equal((await call(url, { operation: 'listtypes', sessionName: s }, { method: 'GET' })).success, true);
      // An idle time of an hour: each step leaves minutes for a slow machine to stop and start a gateway.
      // 3,000 s after login: within the idle time.
      const later = await serve({ ...env, WSGATE_CLOCK_OFFSET_MS: String(3_000_000) });
      try {
        const laterUrl = later.url;
        assert.equal((await call(laterUrl, { operation: 'listtypes', sessionName: s }, { method: 'GET' })).success, true, 'within the idle time');
      } finally {
        await later.stop();
      }
      // 6,300 s after login, 3,300 s after its last use: alive only because that use renewed it.
      const renewed = await serve({ ...env, WSGATE_CLOCK_OFFSET_MS: String(6_300_000) });
      try {
        const renewedUrl = renewed.url;
        assert.equal((await call(renewedUrl, { operation: 'listtypes', sessionName: s }, { method: 'GET' })).success, true, 'its last use renewed it');
        const idle = await call(renewedUrl, { operation: 'listtypes', sessionName: admin }, { method: 'GET' });
        assert.equal(idle.error?.code, 'SESSION_LEFT_IDLE', JSON.stringify(idle));
      } finally {
        await renewed.stop();
      }
      admin = (await login(url)).sessionName;
    });

    test('like: \\% and \\_ match a literal % and _, nothing else', async () => {
      for (const lastname of ['100%', '1000', '100x', 'a_b', 'axb', 'a%b']) {
        const r = await call(url, { operation: 'create', sessionName: admin, elementType: 'Contacts', element: JSON.stringify({ lastname }) });
        assert.equal(r.success, true, JSON.stringify(r));
      }
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname like '100\\%';"), ['100%']);
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname like '100%';"), ['100%', '1000', '100x']);
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname like 'a\\_b';"), ['a_b']);
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname like 'a_b';"), ['a%b', 'a_b', 'axb']);
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname like '%\\%%';"), ['100%', 'a%b']);
    });

    // On SQLite a running batch holds the database's write lock until it commits, so no other executor can
    // take its lease over mid-run; the fence is tested there at the store level (executor.test.ts).
    test('an executor process whose lease was taken over mid-run stores nothing and rolls its writes back', {
      skip: backend.name !== 'postgresql',
    }, async () => {
      const dir = tmpDir('guarantees');
      const marker = path.join(dir, 'running');
      const release = path.join(dir, 'release');
      const id = await queue({ operation: 'wsgatetest_slowcreate', elementType: 'Contacts', element: '{"lastname":"Fenced-Process"}', marker, release });
      const executor = spawnCli(['execute'], env);
      await until('the operation to be running', async () => fs.existsSync(marker), 120_000);
      // Another executor takes the entry over (as after its lease ran out): a new token, a lease far ahead.
      const db = new pg.Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      try {
        const taken = await db.query(
          `UPDATE ws_queue_entry SET lease_token = 'taken-over', available_at = now() + interval '1 hour' WHERE id = $1 AND state = 'running'`,
          [id],
        );
        assert.equal(taken.rowCount, 1);
        fs.writeFileSync(release, '');
        const done = expectCli(await executor.done, 0);
        assert.match(done.stdout, /done=0 errors=0 retried=0 failed=0 lost-lease=1/, shown(done));
        const row = await db.query('SELECT state, lease_token, result FROM ws_queued_operation WHERE id = $1', [id]);
        assert.deepEqual(row.rows[0], { state: 'running', lease_token: 'taken-over', result: null }, 'the stale executor wrote nothing');
      } finally {
        await db.end();
      }
      assert.deepEqual(await query(admin, "select lastname from Contacts where lastname = 'Fenced-Process';"), [], 'its record was rolled back');
      assert.equal(await resultAs(admin, id), NOT_YET);
    });
  });
}
