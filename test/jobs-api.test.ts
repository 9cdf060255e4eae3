// The Queue Server's API (/jobs) on both databases, through a real gateway and the real `wsgate` binary:
// API tokens made, listed and revoked by `wsgate token`; /jobs/status and /jobs/status/:id shapes, owners
// and context; `wsgate status --context`; `wsgate run ID` exactly once, even beside an executor; /jobs/add's
// bad input refused naming the field with nothing queued; and /jobs/add end to end with httpRequest once
// that operation is registered (built on another branch: the test is skipped until then).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import { claim } from '../src/queue/store.js';
import { operations } from '../src/operations/registry.js';
import { engineOf } from '../src/runtime.js';
import { addTestUser, backends, call, login, runCli, runPass, startGateway, until, type Gateway, shown, expectCli, tmpDir } from './support.js';
import { assertProblem, door, type DoorRequest } from './doors-client.js';

const httpRequestRegistered = operations.some((o) => o.name === 'httpRequest');

for (const backend of backends) {
  describe(`the Queue Server's API on ${backend.name}`, () => {
    let gw: Gateway;
    let base: string;
    let admin: string; // admin's session name
    let bob: string; // bob's API token, made with `wsgate token add`
    let bobTokenId: string;
    const tmp = tmpDir('jobs');

    const req = (method: string, p: string, r: DoorRequest) => door(base, method, p, r);
    const jobsStatus = (bearer: string, query = '') => req('GET', `/jobs/status${query}`, { template: '/jobs/status', bearer });
    const job = (bearer: string, id: string) => req('GET', `/jobs/status/${encodeURIComponent(id)}`, { template: '/jobs/status/{id}', bearer });
    const add = (bearer: string, json: unknown) => req('POST', '/jobs/add', { template: '/jobs/add', bearer, json });
    const queuedRows = async () => Number((await gw.rt.db.raw.query<{ n: unknown }>(Prisma.sql`SELECT count(*) AS n FROM ws_queued_operation`))[0]!.n);
    /** A deferred call through the protocol, with cbwsOptions extra. */
    const defer = async (session: string, operation: string, params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { operation, sessionName: session, ...params, cbwsOptions: { launchfromqueue: 1, ...options } }, { json: true });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const submit202 = async (bearer: string, operation: string, json: unknown) => {
      const a = await req('POST', `/api/v1/operations/${operation}`, { template: '/api/v1/operations/{target}', bearer, json });
      assert.equal(a.status, 202, JSON.stringify(a.body));
      return a.body.operationTrackingID as string;
    };

    before(async () => {
      gw = await startGateway(backend, { WSGATE_BODY_LIMIT: '4kb', WSGATE_HTTP_ALLOW: '127.0.0.1', WSGATE_CALLBACK_SECRET: 'jobs-api-test-secret' });
      base = gw.server.url;
      admin = (await login(gw.url)).sessionName;
      await addTestUser(gw, 'bob');
    });
    after(() => gw.close());

    test('wsgate token add prints a token once; list shows ids, never tokens; an unknown user is refused', async () => {
      const made = await runCli(['token', 'add', 'bob'], gw.env);
      assert.equal(made.code, 0, shown(made));
      const [token, idLine] = made.stdout.trim().split('\n');
      assert.match(token!, /^wsg_[A-Za-z0-9_-]{43}$/);
      bob = token!;
      bobTokenId = /^id=(\S+)/.exec(idLine!)![1]!;
      const stored = await gw.rt.db.raw.query<{ token_hash: string }>(Prisma.sql`SELECT token_hash FROM ws_api_token`);
      assert.equal(stored.length, 1);
      assert.ok(!stored[0]!.token_hash.includes(bob) && /^[0-9a-f]{64}$/.test(stored[0]!.token_hash), 'only a hash is stored');
      const list = await runCli(['token', 'list', 'bob', '--json'], gw.env);
      assert.equal(list.code, 0, shown(list));
      const listed = JSON.parse(list.stdout);
      assert.deepEqual(
        listed.map((t: { id: string }) => t.id),
        [bobTokenId],
      );
      assert.match(bobTokenId, /^[0-9a-f]{12}$/);
      assert.ok(!list.stdout.includes(bob), shown(list));
      const unknown = await runCli(['token', 'add', 'nosuchuser'], gw.env);
      assert.equal(unknown.code, 2, shown(unknown));
      assert.match(unknown.stderr, /no user nosuchuser/, shown(unknown));
      expectCli(await runCli(['token', 'drop', 'bob'], gw.env), 2);
    });

    test('tokens: missing, wrong, then revoked by id (401); a second revoke is refused', async () => {
      assertProblem(await req('GET', '/jobs/status', { template: '/jobs/status' }), 401, 'AUTHENTICATION_REQUIRED', 'Authorization');
      assertProblem(await req('POST', '/jobs/add', { template: '/jobs/add', json: {} }), 401, 'AUTHENTICATION_REQUIRED');
      assertProblem(await jobsStatus(`${bob}x`), 401, 'INVALID_AUTH_TOKEN');
      assert.equal((await jobsStatus(bob)).status, 200);
      const extra = await runCli(['token', 'add', 'bob'], gw.env);
      const [second, secondIdLine] = extra.stdout.split('\n');
      const secondId = /^id=(\S+)/.exec(secondIdLine!)![1]!;
      assert.equal((await jobsStatus(second!)).status, 200);
      const revoked = await runCli(['token', 'revoke', secondId], gw.env);
      assert.equal(revoked.code, 0, shown(revoked));
      assertProblem(await jobsStatus(second!), 401, 'INVALID_AUTH_TOKEN');
      assert.equal((await jobsStatus(bob)).status, 200, 'the other token still works');
      // By the token itself too: it is revoked already.
      const again = await runCli(['token', 'revoke', second!], gw.env);
      assert.equal(again.code, 2, shown(again));
      const list = JSON.parse((await runCli(['token', 'list', 'bob', '--json'], gw.env)).stdout) as { id: string; revokedAt: string | null }[];
      assert.equal(list.length, 2);
      assert.equal(list.find((t) => t.id === bobTokenId)!.revokedAt, null);
      assert.ok(list.find((t) => t.id !== bobTokenId)!.revokedAt);
    });

    test('/jobs/status counts (an administrator the whole queue, a user its own; by context) and wsgate status --context', async () => {
      await defer(admin, 'create', { elementType: 'Contacts', element: { lastname: 'A1' } }, { context: 'appA' });
      await defer(admin, 'create', { elementType: 'Contacts', element: { lastname: 'A2' } }, { context: 'appB' });
      await submit202(bob, 'create', { elementType: 'Contacts', element: { lastname: 'B1' }, cbwsOptions: { context: 'appA' } });
      const all = await jobsStatus(admin);
      assert.deepEqual(all.body, { status: 200, data: { waiting: 3, working: 0, max_threads: 0, free_threads: 0 } });
      assert.equal((await jobsStatus(admin, '?context=appA')).body.data.waiting, 2);
      assert.equal((await jobsStatus(bob)).body.data.waiting, 1);
      assert.equal((await jobsStatus(bob, '?context=appB')).body.data.waiting, 0);
      assertProblem(await jobsStatus(bob, `?context=${'x'.repeat(300)}`), 400, 'INVALID_PARAMETER', 'context');
      const cli = await runCli(['status', '--context', 'appA', '--json'], gw.env);
      assert.equal(cli.code, 0, shown(cli));
      assert.equal(JSON.parse(cli.stdout).waiting, 2, shown(cli));
      // A running executor's threads count.
      const engine = engineOf(gw.rt, { concurrency: 2 });
      const listening = engine.listen();
      try {
        const seen = await until('the executor reports in and runs the jobs', async () => {
          const s = (await jobsStatus(admin)).body.data;
          return s.max_threads === 2 && s.waiting === 0 && s.working === 0 && s.free_threads === 2 && s;
        });
        assert.deepEqual(seen, { waiting: 0, working: 0, max_threads: 2, free_threads: 2 });
      } finally {
        await engine.stop();
        await listening;
        await engine.close();
      }
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_entry`);
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_result`);
    });

    test('/jobs/status/:id: state, context and output (not consumed), to its owner only; 410 once the result was read', async () => {
      const id = await submit202(bob, 'create', { elementType: 'Contacts', element: { lastname: 'Job' }, cbwsOptions: { context: 'crm' } });
      const queued = await job(bob, id);
      assert.equal(queued.status, 200);
      assert.equal(queued.body.status, 200);
      assert.equal(queued.body.data.id, id);
      assert.equal(queued.body.data.status, 'queued');
      assert.equal(queued.body.data.context, 'crm');
      assert.equal(queued.body.data.output, null);
      assertProblem(await job(admin, id), 404, 'RECORD_NOT_FOUND');
      await runPass(gw.rt);
      for (let i = 0; i < 2; i++) {
        const done = await job(bob, id);
        assert.equal(done.body.data.status, 'done');
        assert.equal(done.body.data.output.success, true);
        assert.equal(done.body.data.output.result.lastname, 'Job');
        assert.ok(done.body.data.finishedtime);
      }
      const read = await req('GET', `/api/v1/operations/${id}/result`, { template: '/api/v1/operations/{id}/result', bearer: bob });
      assert.equal(read.body.lastname, 'Job');
      assertProblem(await job(bob, id), 410, 'RESULT_ALREADY_READ');
      assertProblem(await job(bob, 'no-such-job'), 404, 'RECORD_NOT_FOUND');
    });

    test('/jobs/add bad input: 4xx naming the field, nothing queued', async () => {
      const before = await queuedRows();
      const http = { type: 'http', url: 'http://127.0.0.1:9/x' };
      const cases: [unknown, number, string, string][] = [
        [{}, 400, 'INVALID_PARAMETER', 'command'],
        [{ command: 'curl x' }, 400, 'INVALID_PARAMETER', 'command'],
        [{ command: { url: 'http://x' } }, 400, 'INVALID_PARAMETER', 'command.type'],
        [{ command: { type: 'ftp' } }, 400, 'INVALID_PARAMETER', 'command.type'],
        [{ command: { type: 'constructor' } }, 400, 'INVALID_PARAMETER', 'command.type'],
        [{ command: { ...http, body: 'x' } }, 400, 'INVALID_PARAMETER', 'command.body'],
        [{ command: { type: 'exec', cmd: 'rm -rf /' } }, 400, 'INVALID_PARAMETER', 'command.cmd'],
        [{ command: http, priority: 'high' }, 400, 'INVALID_PARAMETER', 'priority'],
        [{ command: http, priority: 1.5 }, 400, 'INVALID_PARAMETER', 'priority'],
        [{ command: http, context: 5 }, 400, 'INVALID_PARAMETER', 'context'],
        [{ command: http, callback_done: 5 }, 400, 'INVALID_PARAMETER', 'callback_done'],
        [{ command: http, callback_done: { type: 'exec', cmd: 'x' } }, 400, 'INVALID_PARAMETER', 'callback_done.type'],
        [{ command: http, callback_done: { type: 'http' } }, 400, 'INVALID_PARAMETER', 'callback_done.url'],
        [{ command: http, callback_done: { type: 'http', url: 'http://x', secret: 1 } }, 400, 'INVALID_PARAMETER', 'callback_done.secret'],
        [{ command: http, queue: 'high' }, 400, 'INVALID_PARAMETER', 'queue'],
        // Checked by the deferred call's cbwsOptions (./protocol/cbwsOptions.ts), named as the job's member.
        [{ command: http, callback_done: 'ftp://x' }, 400, 'INVALID_PARAMETER', 'callback_done.url'],
        [{ command: http, callback_done: { type: 'http', url: 'http://x', method: 'GET' } }, 400, 'INVALID_PARAMETER', 'callback_done.method'],
      ];
      for (const [body, status, code, field] of cases) assertProblem(await add(bob, body), status, code, field);
      const raw = (text: string) =>
        req('POST', '/jobs/add', { template: '/jobs/add', bearer: bob, raw: text, headers: { 'content-type': 'application/json' } });
      assertProblem(await raw('{"command": '), 400, 'INVALID_PARAMETER', 'body');
      assertProblem(await raw('"a job"'), 400, 'INVALID_PARAMETER', 'body');
      assertProblem(await raw(JSON.stringify({ command: { ...http, params: { a: 'x'.repeat(5000) } } })), 413, 'INVALID_PARAMETER', 'body');
      if (!httpRequestRegistered) {
        // The command's operation is built elsewhere: until it is registered, a clear refusal.
        assertProblem(await add(bob, { command: http }), 422, 'OPERATION_NOT_SUPPORTED', 'command.type');
      }
      assert.equal(await queuedRows(), before, 'nothing was queued');
    });

    test('wsgate run ID runs a queued job now, prints its envelope, and never runs it twice', async () => {
      const marker = path.join(tmp, 'run.log');
      const id = await submit202(bob, 'wsgatetest_record', { marker, tag: 'ran', cbwsOptions: { queuedelay: 3600 } });
      const ran = await runCli(['run', '--', id], gw.env);
      assert.equal(ran.code, 0, shown(ran));
      const envelope = JSON.parse(ran.stdout);
      assert.equal(envelope.success, true);
      assert.equal(fs.readFileSync(marker, 'utf8'), 'ran\n');
      const again = await runCli(['run', '--', id], gw.env);
      assert.equal(again.code, 2, shown(again));
      assert.match(again.stderr, /is done: only a queued one can be run/, shown(again));
      assert.equal(fs.readFileSync(marker, 'utf8'), 'ran\n');
      // Its owner still reads the result, once.
      const result = await req('GET', `/api/v1/operations/${id}/result`, { template: '/api/v1/operations/{id}/result', bearer: bob });
      assert.equal(result.status, 200);
      const unknown = await runCli(['run', '--', 'no-such-id'], gw.env);
      assert.equal(unknown.code, 2, shown(unknown));
      assert.match(unknown.stderr, /no queued operation no-such-id/, shown(unknown));
    });

    test('wsgate run ID beside an executor: a job the executor holds is refused; racing one, it runs once', async () => {
      const marker = path.join(tmp, 'race.log');
      const held = await submit202(bob, 'wsgatetest_record', { marker, tag: 'held' });
      const claimed = await claim(gw.rt.db, { queues: ['default'], now: gw.rt.services.clock.now(), leaseSeconds: 30, limit: 1 });
      assert.deepEqual(
        claimed.map((c) => c.operationTrackingID),
        [held],
      );
      const refused = await runCli(['run', '--', held], gw.env);
      assert.equal(refused.code, 2, shown(refused));
      assert.match(refused.stderr, /is running/, shown(refused));
      assert.equal(fs.existsSync(marker), false);
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_entry`);
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_result`);

      const raced = await submit202(bob, 'wsgatetest_record', { marker, tag: 'raced' });
      const [cli, pass] = await Promise.all([runCli(['run', '--', raced], gw.env), runPass(gw.rt)]);
      assert.equal(fs.readFileSync(marker, 'utf8'), 'raced\n', 'the job ran exactly once');
      assert.equal((cli.code === 0 ? 1 : 0) + pass.run, 1, `run exit ${cli.code} (${cli.stderr}), executor ran ${pass.run}` + '\n' + shown(cli));
      if (cli.code !== 0) assert.match(cli.stderr, /is (running|done)/, shown(cli));
    });

    test('/jobs/add end to end: an http job, __JOBID__ replaced, /jobs/status/:id with its output, the callback', {
      skip: httpRequestRegistered ? false : 'the httpRequest operation is not registered on this branch (jobs-kinds builds it)',
    }, async () => {
      const hits: { url: string; body: string }[] = [];
      const receiver = http.createServer((q, s) => {
        let body = '';
        q.on('data', (d) => (body += d));
        q.on('end', () => {
          hits.push({ url: q.url ?? '', body });
          s.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      const port = (receiver.address() as AddressInfo).port;
      const engine = engineOf(gw.rt);
      const listening = engine.listen();
      try {
        const added = await add(bob, {
          priority: 450,
          context: 'hooks',
          command: { type: 'http', url: `http://127.0.0.1:${port}/hook?job=__JOBID__`, method: 'POST', params: { a: '1' } },
          callback_done: { type: 'http', url: `http://127.0.0.1:${port}/done`, method: 'POST' },
        });
        assert.equal(added.status, 200, JSON.stringify(added.body));
        const id = added.body.data.id as string;
        const done = await until('the job is done', async () => {
          const j = await job(bob, id);
          return j.body.data.status === 'done' && j;
        });
        assert.equal(done.body.data.context, 'hooks');
        assert.equal(done.body.data.priority, 450);
        assert.equal(done.body.data.output.success, true);
        assert.equal(done.body.data.output.result.status, 200, 'the stored result is the answer of the test server');
        assert.ok(
          hits.some((h) => h.url === `/hook?job=${id}`),
          JSON.stringify(hits),
        );
        const callback = await until('the callback', async () => hits.find((h) => h.url === '/done'));
        assert.equal(JSON.parse(callback.body).operationTrackingID, id);
      } finally {
        await engine.stop();
        await listening;
        await engine.close();
        await new Promise((r) => receiver.close(r));
      }
    });
  });
}
