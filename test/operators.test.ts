// What an operator meets, through the real `wsgate` binary and `npm start` (issue 15's frictions): one-line
// errors with the right exit codes, the version, settings shown as written, the executor's summary in clear
// words, one log line per operation run, the failed store as text, unserved queues, the next attempt's
// time, and a supervisor's SIGTERM reaching the server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/config.js';
import { backends, call, expectCli, login, runCli, shown, spawnCli, startGateway, testEnv, until, type Gateway, tmpDir } from './support.js';

const defer = (extra: Record<string, unknown> = {}) => JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...extra });
const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at /m, `no stack trace: ${text}`);
const oneLine = (text: string) => assert.equal(text.trim().split('\n').length, 1, `one line: ${text}`);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

describe('wsgate as an operator meets it', () => {
  test('SIGTERM to `npm start` stops the server it started: no process left, the port free', async () => {
    const env = { ...testEnv('unused'), WSGATE_LOG_LEVEL: 'info', HOME: tmpDir('home') };
    delete (env as Record<string, string>).DATABASE_URL;
    // --ignore-scripts: not the prestart build (dist is built already, and other test files use it).
    const npm = spawn('npm', ['start', '--ignore-scripts'], { cwd: packageRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    npm.stdout!.on('data', (d) => (out += d));
    npm.stderr!.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => npm.on('exit', resolve));
    // npm runs the server as its child: found by its parent pid, to stop it whatever happens.
    const children = () =>
      spawnSync('pgrep', ['-P', String(npm.pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
    let serverPid = 0;
    try {
      const line = await until('the server to listen', async () => out.split('\n').find((l) => l.includes('"wsgate serving"')), 120_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}; npm printed: ${out}`);
        },
      );
      const { url, pid } = JSON.parse(line) as { url: string; pid: number };
      serverPid = pid;
      assert.deepEqual(children(), [pid], 'the server is the child of npm');
      const port = Number(new URL(url).port);
      assert.equal((await call(url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' })).success, true);
      npm.kill('SIGTERM');
      await exited;
      await until('the server to stop', async () => !alive(pid), 60_000);
      assert.equal(await portFree(port), true, 'the port is free');
    } finally {
      for (const pid of serverPid ? [serverPid] : children()) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (npm.exitCode === null) npm.kill('SIGKILL');
    }
  });

  test('mistakes: one line, exit code 2, no stack trace; --json gives them as JSON', async () => {
    const env = testEnv(await backends[0]!.freshUrl());
    const shortKey = await runCli(['user', 'add', 'dave', '--access-key', 'short'], env);
    assert.equal(shortKey.code, 2, shown(shortKey));
    assert.match(shortKey.stderr, /^wsgate user add: an access key needs at least 16 characters/, shown(shortKey));
    noStack(shortKey.stderr);

    const badSetting = await runCli(['config'], { ...env, WSGATE_MAX_WORKERS: 'abc' });
    assert.equal(badSetting.code, 2, shown(badSetting));
    assert.match(badSetting.stderr, /WSGATE_MAX_WORKERS/, shown(badSetting));
    oneLine(badSetting.stderr);
    noStack(badSetting.stderr);

    const bogus = await runCli(['bogus'], env);
    assert.equal(bogus.code, 2, shown(bogus));
    assert.match(bogus.stderr, /^wsgate: unknown verb "bogus"/, shown(bogus));
    const bogusUser = await runCli(['user', 'frob', 'x'], env);
    assert.equal(bogusUser.code, 2, shown(bogusUser));
    assert.match(bogusUser.stderr, /unknown verb "user frob"/, shown(bogusUser));

    const asJson = await runCli(['status', '--json', '--queue', 'a b'], env);
    assert.equal(asJson.code, 2, shown(asJson));
    assert.deepEqual(Object.keys(JSON.parse(asJson.stdout).error), ['code', 'message'], shown(asJson));
    assert.equal(JSON.parse(asJson.stdout).error.code, 'usage', shown(asJson));
    const settingJson = await runCli(['failed', '--json'], { ...env, WSGATE_MAX_WORKERS: 'abc' });
    assert.equal(settingJson.code, 2, shown(settingJson));
    assert.equal(JSON.parse(settingJson.stdout).error.code, 'setting', shown(settingJson));

    const version = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version as string;
    for (const args of [['--version'], ['version']]) expectCli(await runCli(args, env), 0, new RegExp(`^wsgate ${version.replace(/\./g, '\\.')}\n$`));
  });

  test('config shows WSGATE_BACKOFF as written', async () => {
    for (const backoff of ['10', '10,60,300', 'exponential:5']) {
      const r = expectCli(await runCli(['config'], testEnv('file::memory:', { WSGATE_BACKOFF: backoff })), 0);
      assert.match(r.stdout, new RegExp(`^WSGATE_BACKOFF=${backoff}$`, 'm'), shown(r));
    }
  });

  test('a command that cannot finish (an operation file whose top-level await never settles) says so; it never ends silently', async () => {
    // Node 20 ends such a process with exit code 13 and prints nothing: a test asserting its output then
    // reported only "printed nothing".
    const dir = tmpDir('operators');
    fs.writeFileSync(path.join(dir, 'stuck.mjs'), 'await new Promise(() => {});\nexport default {};\n');
    const r = await runCli(['status'], testEnv(`file:${path.join(dir, 'x.db')}`, { WSGATE_OPERATIONS_DIR: dir }));
    assert.equal(r.code, 13, shown(r));
    assert.match(r.stderr, /^wsgate: stopped before the command finished \(exit code 13\)/m, shown(r));
  });

  test('a database that cannot be opened: one line saying which and why, exit code 1', async () => {
    const refused = await runCli(['status'], testEnv('postgresql://wsgate:pw-not-shown@127.0.0.1:1/none'));
    assert.equal(refused.code, 1, shown(refused));
    assert.match(refused.stderr, /^wsgate status: cannot open the database postgresql:\/\/wsgate:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/, shown(refused));
    oneLine(refused.stderr);
    assert.doesNotMatch(refused.stderr, /pw-not-shown/, shown(refused));
    const pgUrl = process.env.WSGATE_TEST_PG_URL;
    if (pgUrl) {
      const url = new URL(pgUrl);
      url.username = 'no_such_role_wsgate';
      const noRole = await runCli(['status', '--json'], testEnv(url.toString()));
      assert.equal(noRole.code, 1, shown(noRole));
      const { error } = JSON.parse(noRole.stdout);
      assert.equal(error.code, 'database');
      assert.match(error.message, /role "no_such_role_wsgate" does not exist/);
    }
  });
});

for (const backend of backends) {
  describe(`the executor and the failed store as an operator sees them (${backend.name})`, () => {
    const withGateway = async (fn: (gw: Gateway, session: string, env: Record<string, string>) => Promise<void>) => {
      const ops = tmpDir('operators');
      // An own operation whose parameters hold a secret, failing for an infrastructure reason.
      fs.writeFileSync(
        path.join(ops, 'charge.mjs'),
        `export default {
          name: 'charge', summary: 'Charges a card (fails: the payment provider is down).',
          params: { type: 'object', properties: { amount: { type: 'integer' }, apiToken: { type: 'string' } }, required: ['amount'] },
          async handle() { throw new Error('payment provider unreachable'); },
        };\n`,
      );
      // Beside it, the suite's wsgatetest_misbehave, importing wsgate by its path (the folder is outside the package).
      const fixture = fs.readFileSync(path.join(packageRoot, 'test', 'fixtures', 'operations', 'wsgatetest_misbehave.mjs'), 'utf8');
      fs.writeFileSync(
        path.join(ops, 'wsgatetest_misbehave.mjs'),
        fixture.replace("from 'wsgate'", `from '${pathToFileURL(path.join(packageRoot, 'dist', 'src', 'index.js')).href}'`),
      );
      const gw = await startGateway(backend, { WSGATE_OPERATIONS_DIR: ops });
      try {
        const env = { ...gw.env, WSGATE_CLOCK_OFFSET_MS: String(gw.rt.services.clock.now().getTime() - Date.now()) };
        await fn(gw, (await login(gw.url)).sessionName, env);
      } finally {
        await gw.close();
      }
    };

    test('the summary counts done, errors, retried and failed apart; one log line per run, without parameters', () =>
      withGateway(async (gw, session, env) => {
        const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
          const r = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
          assert.equal(r.success, true, JSON.stringify(r));
          return r.result.operationTrackingID as string;
        };
        const ok = await queue({ operation: 'create', elementType: 'Contacts', element: '{"lastname":"Secret-Lastname-1"}' });
        const c = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"Gone"}' });
        const error = await queue({ operation: 'update', element: JSON.stringify({ id: c.result.id, lastname: 'Secret-Lastname-2' }) });
        await call(gw.url, { operation: 'delete', sessionName: session, id: c.result.id });
        const failed = await queue({ operation: 'charge', amount: 5, apiToken: 'tok-very-secret' });
        const retried = await queue(
          { operation: 'wsgatetest_misbehave', how: 'flaky', marker: path.join(tmpDir('operators'), 'm'), succeedAt: '9' },
          { queue: 'default' },
        );

        // One due operation per run of each kind, tries 2 for the flaky one, 1 for the rest.
        const pass = expectCli(await runCli(['execute', '--tries', '1'], { ...env, WSGATE_LOG_LEVEL: 'info' }), 0);
        assert.match(pass.stdout, /^executeOperationsFromQueue: done=1 errors=1 retried=0 failed=2 took=\d+ms$/m, shown(pass));
        const logged = pass.stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const runs = logged.filter((l) => typeof l.outcome === 'string');
        assert.equal(runs.length, 4, shown(pass));
        const byId = new Map(runs.map((l) => [l.operationTrackingID, l]));
        assert.deepEqual(
          [ok, error, failed, retried].map((id) => byId.get(id)?.outcome),
          ['done', 'error', 'failed', 'failed'],
        );
        for (const l of runs) {
          assert.equal(l.level, 30, 'at info');
          assert.equal(l.user, 'admin');
          assert.equal(l.queue, 'default');
          assert.equal(l.attempt, 1);
          assert.equal(typeof l.ms, 'number');
          assert.equal(typeof l.operation, 'string');
        }
        assert.equal(byId.get(error)!.error, 'RECORD_NOT_FOUND');
        for (const secret of ['Secret-Lastname', 'tok-very-secret']) assert.ok(!pass.stdout.includes(secret), `the log holds ${secret}` + '\n' + shown(pass));

        // `failed` counts the failed store only: what `wsgate failed` lists.
        const listed = JSON.parse(expectCli(await runCli(['failed', '--json'], env), 0).stdout) as { operationTrackingID: string }[];
        assert.deepEqual(listed.map((f) => f.operationTrackingID).sort(), [failed, retried].sort());
        const text = expectCli(await runCli(['failed'], env), 0).stdout;
        assert.match(text, new RegExp(`^${failed}  charge  queue=default  user=admin  failed=\\S+  attempts=1$`, 'm'), text);
        assert.match(text, /^ {4}params: \{"amount":"5","apiToken":"\*\*\*"\}$/m, text);
        assert.match(text, /^ {4}attempt 1 at \S+: INTERNAL_SERVER_ERROR: /m, text);
        assert.ok(!text.includes('tok-very-secret'), 'secrets are masked');
        assert.match(text, /^2 failed$/m);

        // A retry: `retried` counts it, each attempt's error is listed, and `work` has no cron prefix.
        expectCli(await runCli(['retry', retried], env), 0, /^1 queued again/);
        const work = expectCli(await runCli(['work', '--stop-when-empty', '--tries', '3', '--backoff', '600'], env), 0);
        assert.match(work.stdout, /^work: done=0 errors=0 retried=1 failed=0 took=\d+ms$/m, shown(work));
        assert.doesNotMatch(work.stdout, /executeOperationsFromQueue/, shown(work));

        const unknown = await runCli(['retry', 'nonexistent123'], env);
        assert.equal(unknown.code, 2, shown(unknown));
        assert.match(unknown.stdout, /^0 queued again$/m, shown(unknown));
        assert.match(unknown.stderr, /nonexistent123: no such entry in the failed store/, shown(unknown));
        const notFailed = await runCli(['forget', ok, failed], env);
        assert.equal(notFailed.code, 2, shown(notFailed));
        assert.match(notFailed.stdout, /^1 forgotten$/m, shown(notFailed));
        assert.match(notFailed.stderr, new RegExp(`${ok}: no such entry in the failed store`), shown(notFailed));
        assert.doesNotMatch(notFailed.stderr, new RegExp(failed), shown(notFailed));
        // One tracking ID in 64 starts with "-": it is an ID, not an unknown option.
        const dashed = await runCli(['forget', '-Uk3abcdefghijklmnopq'], env);
        assert.equal(dashed.code, 2, shown(dashed));
        assert.match(dashed.stderr, /-Uk3abcdefghijklmnopq: no such entry in the failed store/, shown(dashed));
      }));

    test("a retry waiting for its backoff shows the next attempt's time; a queue nobody serves is warned about", () =>
      withGateway(async (gw, session, env) => {
        const status = async (id: string) =>
          (await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: session, operationTrackingID: id }, { method: 'GET' })).result;
        const r = await call(gw.url, {
          operation: 'wsgatetest_misbehave',
          sessionName: session,
          how: 'flaky',
          marker: path.join(tmpDir('operators'), 'm'),
          succeedAt: '2',
          cbwsOptions: defer(),
        });
        const id = r.result.operationTrackingID as string;
        expectCli(await runCli(['execute', '--tries', '2', '--backoff', '600'], env), 0, /retried=1/);
        const s = await status(id);
        assert.equal(s.status, 'delayed');
        const failedAt = Date.parse(s.errors[0].at);
        assert.equal(Date.parse(s.nextattempttime), failedAt + 600_000, JSON.stringify(s));
        assert.ok(Date.parse(s.duetime) < Date.parse(s.nextattempttime), 'duetime stays the one asked for');

        // Nothing serves "high": the status says so, and so does `wsgate status`, until an executor serves it.
        const high = await call(gw.url, {
          operation: 'create',
          sessionName: session,
          elementType: 'Contacts',
          element: '{"lastname":"High"}',
          cbwsOptions: defer({ queue: 'high', queuedelay: 3600 }),
        });
        const highId = high.result.operationTrackingID as string;
        assert.match((await status(highId)).warning, /No executor .* serves the queue "high"/);
        const warned = expectCli(await runCli(['status'], env), 0);
        assert.match(warned.stdout, /^warning: 1 queued in queue "high", which no live executor serves/m, shown(warned));
        assert.equal(JSON.parse(expectCli(await runCli(['status', '--json'], env), 0).stdout).unserved.high, 1);
        const worker = spawnCli(['work', '--queue', 'high', '--sleep', '1'], { ...env, WSGATE_LOG_LEVEL: 'info' });
        try {
          await until('the listener to report in', async () => (await status(highId)).warning === null, 120_000);
          assert.doesNotMatch(expectCli(await runCli(['status'], env), 0).stdout, /"high"/);
        } finally {
          worker.child.kill('SIGTERM');
          expectCli(await worker.done, 0);
        }
      }));
  });
}
