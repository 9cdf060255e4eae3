// What an own operation's handler gets and how it runs (README "Your own operations"): its queue defaults and
// execution policy (queue, delay, priority; timeout, tries, backoff), ctx.api.call inside the run's
// transaction, ctx.log and ctx.progress visible while it runs and after, ctx.signal on timeout and shutdown,
// and synchronous calls that loop, exhaust their memory or exit, costing only their call worker.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/config.js';
import { engineOf } from '../src/runtime.js';
import { addTestUser, backends, call, login, runCli, runPass, startGateway, testEnv, until, type Gateway, shown, tmpDir } from './support.js';

const fixtures = path.join(packageRoot, 'test', 'fixtures', 'operations');
const NOW = '{"launchfromqueue":1,"queuedelay":0}';

for (const backend of backends) {
  describe(`own operations' context on ${backend.name}`, () => {
    let gw: Gateway;
    let admin: string;
    let user: string;
    before(async () => {
      gw = await startGateway(backend, { WSGATE_OPERATIONS_DIR: fixtures, WSGATE_CALL_TIMEOUT_SECONDS: '2', WSGATE_WORKER_MEMORY_MB: '64' });
      admin = (await login(gw.url)).sessionName;
      const { accessKey } = await addTestUser(gw, 'plain');
      user = (await login(gw.url, 'plain', accessKey)).sessionName;
    });
    after(() => gw.close());

    const status = async (id: string, session = admin) => {
      const s = await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: session, operationTrackingID: id });
      assert.equal(s.success, true, JSON.stringify(s));
      return s.result;
    };
    const submit = async (params: Record<string, unknown>, session = admin) => {
      const r = await call(gw.url, { sessionName: session, ...params });
      assert.ok(r.result?.operationTrackingID, JSON.stringify(r));
      return r.result.operationTrackingID as string;
    };
    const result = async (id: string, session = admin) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      return JSON.parse(r.result);
    };
    const contactsNamed = async (lastname: string) => {
      const r = await call(gw.url, { operation: 'query', sessionName: admin, query: `select count(*) from Contacts where lastname = '${lastname}';` });
      return Number(r.result[0].count);
    };

    test('queue, delay and priority of the definition apply to a deferred call; cbwsOptions override each', async () => {
      const own = await status(await submit({ operation: 'policy', how: 'ok', cbwsOptions: '{"launchfromqueue":1}' }));
      assert.equal(own.queue, 'slow');
      assert.equal(own.priority, 700);
      assert.equal(own.status, 'delayed');
      assert.equal(Date.parse(own.duetime) - Date.parse(own.submittedtime), 30_000);
      const given = await status(
        await submit({ operation: 'policy', how: 'ok', cbwsOptions: '{"launchfromqueue":1,"queue":"default","priority":10,"queuedelay":0}' }),
      );
      assert.equal(given.queue, 'default');
      assert.equal(given.priority, 10);
      assert.equal(given.duetime, given.submittedtime);
      // An executor of the default queue leaves the operation's own queue alone.
      const summary = await runPass(gw.rt);
      assert.equal(summary.run, 1);
      assert.equal((await status(own.operationTrackingID)).status, 'delayed');
    });

    test("an exception is retried per the operation's tries (not the executor's), its log kept, its text never answered; wsgate failed shows the log", async () => {
      const id = await submit({ operation: 'policy', how: 'fail', cbwsOptions: '{"launchfromqueue":1,"queuedelay":0,"queue":"slow"}' });
      const summary = await runPass(gw.rt, { queues: ['slow'], tries: 1 });
      assert.equal(summary.retried, 2);
      assert.equal(summary.failed, 1);
      const s = await status(id);
      assert.equal(s.status, 'failed');
      assert.deepEqual(
        s.errors.map((e: { code: string }) => e.code),
        ['INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR', 'INTERNAL_SERVER_ERROR'],
      );
      assert.deepEqual(s.output, ['attempt by admin']);
      const answer = await result(id);
      assert.equal(answer.error.code, 'INTERNAL_SERVER_ERROR');
      assert.doesNotMatch(JSON.stringify(answer) + JSON.stringify(s.errors), /infrastructure failed|at handle/);
      const cli = await runCli(['failed'], gw.env);
      assert.equal(cli.code, 0, shown(cli));
      // Under the entry's line (with its parameters and each attempt's error), the lines its last attempt logged.
      assert.match(cli.stdout, new RegExp(`${id}  policy .*\\n(    .*\\n)*    attempt by admin\\n`), shown(cli));
    });

    test("the operation's own timeout aborts ctx.signal; the attempt fails TIMEOUT, retried per its tries", async () => {
      const id = await submit({ operation: 'policy', how: 'hang', cbwsOptions: '{"launchfromqueue":1,"queuedelay":0}' });
      const summary = await runPass(gw.rt, { queues: ['slow'], tries: 1, timeoutSeconds: 60 });
      assert.equal(summary.retried, 2);
      const s = await status(id);
      assert.equal(s.status, 'failed');
      assert.deepEqual(
        s.errors.map((e: { code: string }) => e.code),
        ['TIMEOUT', 'TIMEOUT', 'TIMEOUT'],
      );
      assert.match(s.errors[0].message, /within 1 s/);
      assert.deepEqual(s.output, ['attempt by admin', 'aborted: TIMEOUT']);
    });

    test('ctx.api.call runs create and another own operation as the caller; a deferred run stores their result', async () => {
      const id = await submit({ operation: 'contacts', sessionName: user, names: '["Apiok1","Apiok2"]', cbwsOptions: NOW }, user);
      await runPass(gw.rt);
      const s = await status(id, user);
      const answer = await result(id, user);
      assert.equal(answer.success, true, JSON.stringify(answer));
      assert.equal(answer.result.ids.length, 2);
      assert.equal(answer.result.greeting, 'Hello Apiok1');
      assert.equal(await contactsNamed('Apiok1'), 1);
      assert.deepEqual(
        s.output,
        answer.result.ids.map((i: string) => `created ${i}`),
      );
    });

    test('a deferred run whose handler throws after ctx.api.call created records: nothing persists, the error is stored', async () => {
      const refused = await submit({ operation: 'contacts', names: '["Apiprot"]', fail: 'protocol', cbwsOptions: NOW });
      const crashed = await submit({ operation: 'contacts', names: '["Apicrash1","Apicrash2"]', fail: 'crash', cbwsOptions: NOW });
      const summary = await runPass(gw.rt, { tries: 1 });
      assert.equal(summary.retried, 1, 'the exception is retried once: contacts declares tries: 2');
      assert.equal(await contactsNamed('Apiprot'), 0);
      assert.equal(await contactsNamed('Apicrash1'), 0);
      assert.equal(await contactsNamed('Apicrash2'), 0);
      assert.deepEqual((await result(refused)).error, { code: 'CONTACTS_REFUSED', message: 'contacts: refused after creating them' });
      const s = await status(crashed);
      assert.equal(s.status, 'failed');
      assert.equal(s.errors.length, 2);
      assert.equal(s.output.length, 2, 'the log of the last attempt is kept, though its records were rolled back');
      assert.equal((await result(crashed)).error.code, 'INTERNAL_SERVER_ERROR');
    });

    test('ctx.api.call keeps the access rules of the operation called; synchronously each call commits on its own', async () => {
      const denied = await call(gw.url, { operation: 'contacts', sessionName: user, names: '["Apidenied"]', also: 'audit' });
      assert.equal(denied.error?.code, 'ACCESS_DENIED');
      // A synchronous call has no transaction of its own: the create before the refusal stays, as it would
      // had the client sent the two calls itself.
      assert.equal(await contactsNamed('Apidenied'), 1);
      const unknown = await call(gw.url, { operation: 'contacts', sessionName: admin, names: '["Apiunknown"]', also: 'nosuchthing' });
      assert.equal(unknown.error?.code, 'UNKNOWN_OPERATION');
      const login = await call(gw.url, { operation: 'contacts', sessionName: admin, names: '["Apilogin"]', also: 'login' });
      assert.equal(login.error?.code, 'OPERATION_NOT_SUPPORTED');
    });

    test('ctx.progress and ctx.log are answered by getQueuedOperationStatus while the operation runs, and after', async () => {
      const gate = path.join(tmpDir('gate'), 'go');
      const id = await submit({ operation: 'reporter', gate, cbwsOptions: NOW });
      const pass = runPass(gw.rt);
      try {
        const running = await until('the progress of the running operation', async () => {
          const s = await status(id);
          return s.progress === 0.5 && s;
        });
        assert.equal(running.status, 'running');
        assert.equal(running.progressmessage, 'half way');
        assert.deepEqual(running.output, ['line 1 { of: 2 }', 'line 2 { of: 2 }']);
      } finally {
        fs.writeFileSync(gate, '');
      }
      await pass;
      const done = await status(id);
      assert.equal(done.status, 'done');
      assert.equal(done.progress, 1);
      assert.equal(done.progressmessage, 'done');
      assert.deepEqual(done.output, ['line 1 { of: 2 }', 'line 2 { of: 2 }']);
      assert.deepEqual((await result(id)).result, { lines: 2 });
    });

    test('ctx.log keeps 100 lines at most, the last saying how many were dropped', async () => {
      const gate = path.join(tmpDir('gate'), 'go');
      fs.writeFileSync(gate, '');
      const id = await submit({ operation: 'reporter', gate, lines: '150', cbwsOptions: NOW });
      await runPass(gw.rt);
      const s = await status(id);
      assert.equal(s.output.length, 100);
      assert.equal(s.output[98], 'line 99 { of: 150 }');
      assert.match(s.output[99], /^… 51 more lines dropped \(ctx\.log keeps 100 lines, 16 KiB\)$/);
    });

    test('ctx.signal aborts when the executor stops: the operation is handed back, not failed', async () => {
      const gate = path.join(tmpDir('gate'), 'go');
      const id = await submit({ operation: 'reporter', gate, cbwsOptions: NOW });
      const engine = engineOf(gw.rt, { graceSeconds: 30, concurrency: 1 });
      const listening = engine.listen();
      try {
        // A condition, not a schedule: on a loaded machine a worker thread takes a while to start.
        await until('the operation to run', async () => (await status(id)).status === 'running', 120_000);
        const started = Date.now();
        await engine.stop();
        assert.ok(Date.now() - started < 30_000, 'the handler ended on the signal, not at the end of the grace period');
      } finally {
        await engine.close();
        await listening;
      }
      const s = await status(id);
      assert.equal(s.status, 'queued');
      assert.deepEqual(s.errors, []);
      fs.writeFileSync(gate, '');
      await runPass(gw.rt);
      assert.deepEqual((await result(id)).result, { lines: 2 });
    });

    test('synchronous calls that loop, exhaust their memory or exit cost only their call worker; others are answered meanwhile', async () => {
      const latencies: number[] = [];
      let looping = true;
      const loop = call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'loop' }).finally(() => (looping = false));
      let answered = 0;
      while (looping) {
        const t = performance.now();
        const r = await call(gw.url, { operation: 'getchallenge', username: 'admin' });
        latencies.push(performance.now() - t);
        if (r.success) answered++;
      }
      assert.equal((await loop).error?.code, 'TIMEOUT');
      assert.ok(answered > 0);
      latencies.sort((a, b) => a - b);
      console.log(
        `# ${backend.name}: ${latencies.length} getchallenge calls during a looping own operation: ` +
          `median ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
      );
      // The looping call's worker was stopped: its replacement starts before the next calls (a worker that is
      // still starting counts against a call's time).
      await gw.server.calls!.warm();
      const hog = call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'hog' });
      const greet = await call(gw.url, { operation: 'greet', sessionName: admin, name: 'During' });
      assert.equal(greet.success, true, JSON.stringify(greet));
      const hogged = await hog;
      // Out of memory within the call's 2 s as a rule; on a heavily loaded machine the time may run out first.
      if (hogged.error?.code !== 'TIMEOUT') {
        assert.equal(hogged.error?.code, 'INTERNAL_SERVER_ERROR');
        assert.match(hogged.error!.message, /more memory than a call worker has \(64 MB\)/);
      }
      await gw.server.calls!.warm();
      const exited = await call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'exit' });
      assert.equal(exited.error?.code, 'INTERNAL_SERVER_ERROR');
      assert.match(exited.error!.message, /call worker exited/);
      await gw.server.calls!.warm();
      const after = await call(gw.url, { operation: 'greet', sessionName: admin, name: 'After' });
      assert.equal(after.result.greeting, 'Hello After');
    });
  });
}

describe('broken queue settings stop the start, naming the file', () => {
  const cases: [string, string, RegExp][] = [
    ['queue.mjs', "export default { name: 'q', queue: 'no spaces', handle() {} };", /queue\.mjs: queue must be a queue name/],
    ['tries.mjs', "export default { name: 't', tries: 0, handle() {} };", /tries\.mjs: tries must be a whole number from 1 to 100/],
    ['backoff.mjs', "export default { name: 'b', backoff: 'soon', handle() {} };", /backoff\.mjs: backoff must be seconds/],
    ['timeout.mjs', "export default { name: 'o', timeout: -1, handle() {} };", /timeout\.mjs: timeout must be seconds/],
    ['sync.mjs', "export default { name: 's', queueable: false, tries: 2, handle() {} };", /sync\.mjs: .*the operation is not queueable/],
  ];
  for (const [file, text, message] of cases) {
    test(file, async () => {
      const dir = tmpDir('ops');
      fs.writeFileSync(path.join(dir, file), text);
      const cli = await runCli(['operations'], testEnv(`file:${path.join(dir, 'x.db')}`, { WSGATE_OPERATIONS_DIR: dir }));
      assert.equal(cli.code, 2, shown(cli));
      assert.match(cli.stderr, message, shown(cli));
    });
  }
});
