// Loading a deployment's own operations: SIGHUP reloads the folder of a running `wsgate serve` without
// dropping a request (and a folder that does not load keeps the set in force), the served openapi.yaml
// lists the own operations in force, and what `wsgate make:operation` and `make:event` write runs as it is.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { packageRoot } from '../src/config.js';
import * as wsgate from '../src/index.js';
import { backends, call, login, runCli, runPass, spawnCli, startGateway, testEnv, until, type Envelope, type Gateway, shown, expectCli } from './support.js';

/**
 * A fresh folder inside the wsgate folder (dist/ is not committed), where a file can import 'wsgate' by the
 * package's own name, as a deployment's ./operations does.
 */
function folder(): string {
  const dir = path.join(packageRoot, 'dist', 'test-folders', randomBytes(6).toString('hex'));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
after(() => fs.rmSync(path.join(packageRoot, 'dist', 'test-folders'), { recursive: true, force: true }));

const NOT_YET = 'Operation not queued or not finished yet';
const ok = (e: Envelope) => assert.equal(e.success, true, JSON.stringify(e));

/** An own operation without imports: answers `{name: value}` after `ms` milliseconds. */
const plainOperation = (name: string, value: number) => `export default {
  name: '${name}',
  params: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, default: 0 } } },
  async handle({ ms }) { await new Promise((r) => setTimeout(r, ms)); return { ${name}: ${value} }; },
};
`;

for (const backend of backends) {
  describe(`SIGHUP reloads the operations folder of wsgate serve (${backend.name})`, () => {
    const dir = folder();
    let server: ReturnType<typeof spawnCli>;
    let url: string;
    let session: string;
    let log = '';
    before(async () => {
      fs.writeFileSync(path.join(dir, 'alpha.mjs'), plainOperation('alpha', 1));
      fs.writeFileSync(path.join(dir, 'spinner.mjs'), "export default { name: 'spinner', queueable: false, handle() { for (;;); } };\n");
      const env = testEnv(await backend.freshUrl(), {
        WSGATE_OPERATIONS_DIR: dir,
        WSGATE_LOG_LEVEL: 'info',
        WSGATE_EXECUTOR_SCHEDULE: '*/10 * * * * *',
        WSGATE_CALL_WORKERS: '1',
        WSGATE_CALL_TIMEOUT_SECONDS: '3',
      });
      server = spawnCli(['serve'], env);
      server.child.stdout!.on('data', (d) => (log += d));
      url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(log)?.[1], 60_000);
      session = (await login(url)).sessionName;
    });
    after(async () => {
      server.child.kill('SIGTERM');
      const done = await server.done;
      assert.equal(done.code, 0, shown(done));
    });

    const result = async (id: string) => {
      const r = await call(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      ok(r);
      return r.result === NOT_YET ? null : JSON.parse(r.result);
    };
    const deferred = async (operation: string) => {
      const submit = await call(url, { operation, sessionName: session, cbwsOptions: '{"launchfromqueue":1}' });
      ok(submit);
      return until(`the deferred ${operation} to run`, () => result(submit.result.operationTrackingID), 60_000);
    };

    test('a good new file: added at once, no request dropped meanwhile, deferred runs see it too', async () => {
      assert.equal((await call(url, { operation: 'beta', sessionName: session })).error?.code, 'UNKNOWN_OPERATION');
      // Clients keep calling the old operation (some in flight, 30 ms each) and a built-in one throughout.
      let running = true;
      const answers: Envelope[] = [];
      const client = async () => {
        while (running) {
          answers.push(await call(url, { operation: 'alpha', sessionName: session, ms: '30' }));
          answers.push(await call(url, { operation: 'listtypes', sessionName: session }, { method: 'GET' }));
        }
      };
      const clients = [client(), client(), client()];
      await until('a few answers before the reload', async () => answers.length >= 6);
      fs.writeFileSync(path.join(dir, 'beta.mjs'), plainOperation('beta', 2));
      const mark = log.length;
      server.child.kill('SIGHUP');
      await until('the reload to be logged', async () => log.slice(mark).includes('"msg":"operations reloaded"'));
      const beta = await call(url, { operation: 'beta', sessionName: session });
      assert.deepEqual(beta.result, { beta: 2 }, JSON.stringify(beta));
      // A few more answers after the reload (on the replaced call worker), then the clients stop.
      const after = answers.length;
      await until('answers after the reload', async () => answers.length >= after + 6);
      running = false;
      await Promise.all(clients);
      for (const a of answers) ok(a);
      assert.ok(answers.some((a) => a.result?.alpha === 1));
      assert.deepEqual((await deferred('beta')).result, { beta: 2 });
    });

    test('a broken file: the set in force stays, the log names the file and why, replaced workers still start', async () => {
      fs.writeFileSync(path.join(dir, 'broken.mjs'), 'export default {\n');
      const mark = log.length;
      server.child.kill('SIGHUP');
      const line = await until('the failed reload to be logged', async () =>
        log
          .slice(mark)
          .split('\n')
          .find((l) => l.includes('operations not reloaded')),
      );
      const entry = JSON.parse(line);
      assert.equal(entry.level, 50);
      assert.match(entry.reason, /broken\.mjs: it cannot be loaded/);
      assert.deepEqual((await call(url, { operation: 'beta', sessionName: session })).result, { beta: 2 });
      // The one call worker is stopped (TIMEOUT) and replaced: its replacement loads the files in force,
      // not the broken one beside them.
      assert.equal((await call(url, { operation: 'spinner', sessionName: session })).error?.code, 'TIMEOUT');
      assert.deepEqual((await call(url, { operation: 'alpha', sessionName: session })).result, { alpha: 1 });
      assert.deepEqual((await deferred('alpha')).result, { alpha: 1 });
      assert.equal((await call(url, { operation: 'broken', sessionName: session })).error?.code, 'UNKNOWN_OPERATION');
      // Mended, the next SIGHUP loads the folder again.
      fs.writeFileSync(path.join(dir, 'broken.mjs'), plainOperation('mended', 3));
      server.child.kill('SIGHUP');
      await until('the mended file to be loaded', async () => (await call(url, { operation: 'mended', sessionName: session })).success);
    });
  });

  describe(`GET /openapi.yaml on ${backend.name}`, () => {
    let gw: Gateway;
    let bare: Gateway;
    before(async () => {
      gw = await startGateway(backend);
      bare = await startGateway(backend, { WSGATE_OPERATIONS_DIR: folder() });
    });
    after(async () => {
      await gw.close();
      await bare.close();
    });
    const served = async (g: Gateway) => {
      const res = await fetch(g.url.replace(/\/webservice\.php$/, '/openapi.yaml'));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
      return res.text();
    };

    test("lists each own operation in force: an x-operations entry and a path item with its parameters' schema", async () => {
      const spec = parse(await served(gw));
      const greet = spec['x-operations'].find((o: { name: string }) => o.name === 'greet');
      assert.equal(greet.own, true);
      assert.equal(greet.queueable, true);
      assert.deepEqual(greet.paramsSchema.required, ['name']);
      assert.deepEqual(
        greet.params.map((p: { name: string }) => p.name),
        ['name', 'times'],
      );
      const audit = spec['x-operations'].find((o: { name: string }) => o.name === 'audit');
      assert.equal(audit.queued, true);
      const item = spec.paths['/webservice.php?operation=greet'];
      assert.equal(item.post.operationId, 'greet');
      const body = item.post.requestBody.content['application/json'].schema;
      assert.deepEqual(body.required, ['operation', 'name']);
      assert.equal(body.properties.operation.const, 'greet');
      assert.deepEqual(body.properties.times, { type: 'integer', minimum: 1, maximum: 5, default: 1 });
      // The built-in operations and the rest of the shipped file are there as they ship.
      const shipped = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));
      for (const op of shipped['x-operations'])
        assert.ok(
          spec['x-operations'].some((o: { name: string }) => o.name === op.name),
          op.name,
        );
      assert.deepEqual(spec.components, shipped.components);
    });

    test('without own operations it is the shipped file', async () => {
      assert.equal(await served(bare), fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));
    });
  });

  describe(`what wsgate make:operation writes runs unchanged (${backend.name})`, () => {
    const dir = folder();
    let gw: Gateway;
    let session: string;
    before(async () => {
      const env = testEnv('file:/nonexistent/unused.db', { WSGATE_OPERATIONS_DIR: dir });
      const made = await runCli(['make:operation', 'SendWelcomeEmail'], env);
      assert.equal(made.code, 0, shown(made));
      assert.equal(made.stdout, `${path.join(dir, 'sendWelcomeEmail.mjs')}\n`, shown(made));
      const queued = await runCli(['make:operation', 'nightly-report', '--queued'], env);
      assert.equal(queued.code, 0, shown(queued));
      const job = await runCli(['make:job', 'ResizeImage'], env);
      assert.equal(job.code, 0, shown(job));
      assert.equal(job.stdout, `${path.join(dir, 'resizeImage.mjs')}\n`, shown(job));
      gw = await startGateway(backend, { WSGATE_OPERATIONS_DIR: dir });
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw?.close());

    test('an existing file is never overwritten; a built-in name is refused', async () => {
      const env = testEnv('file:/nonexistent/unused.db', { WSGATE_OPERATIONS_DIR: dir });
      const file = path.join(dir, 'sendWelcomeEmail.mjs');
      const before = fs.readFileSync(file, 'utf8');
      const again = await runCli(['make:operation', 'send_welcome_email'], env);
      assert.equal(again.code, 2, shown(again));
      assert.match(again.stderr, /sendWelcomeEmail\.mjs exists: nothing written/, shown(again));
      assert.equal(fs.readFileSync(file, 'utf8'), before);
      const builtIn = await runCli(['make:operation', 'MassCreate'], env);
      assert.equal(builtIn.code, 2, shown(builtIn));
      assert.match(builtIn.stderr, /massCreate is the name of a built-in operation/, shown(builtIn));
    });

    test('called synchronously it answers at once; deferred, its result is read once', async () => {
      const now = await call(gw.url, { operation: 'sendWelcomeEmail', sessionName: session, name: 'Ann' });
      assert.deepEqual(now, { success: true, result: { hello: 'Ann', by: 'admin', trackingId: null }, moreinfo: null });
      const submit = await call(gw.url, { operation: 'sendWelcomeEmail', sessionName: session, name: 'Bo', cbwsOptions: '{"launchfromqueue":1}' });
      const id = submit.result.operationTrackingID as string;
      assert.ok(id, JSON.stringify(submit));
      assert.equal((await runPass(gw.rt)).run, 1);
      const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      assert.deepEqual(JSON.parse(res.result), { success: true, result: { hello: 'Bo', by: 'admin', trackingId: id }, moreinfo: null });
    });

    test("--queued, and make:job (dframework's verb): every call is deferred, without cbwsOptions", async () => {
      for (const operation of ['nightlyReport', 'resizeImage']) {
        const submit = await call(gw.url, { operation, sessionName: session });
        const id = submit.result?.operationTrackingID as string;
        assert.ok(id, JSON.stringify(submit));
        await runPass(gw.rt);
        const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
        assert.deepEqual(JSON.parse(res.result).result, { hello: 'world', by: 'admin', trackingId: id });
      }
    });
  });
}

describe('what wsgate make:event writes', () => {
  test('is named after what it hooks, refuses a name that hooks nothing, and never overwrites', async () => {
    const dir = folder();
    const env = testEnv('file:/nonexistent/unused.db', { WSGATE_EVENTS_DIR: dir });
    for (const name of ['create.Contacts.post', 'create.Contacts.pre', 'update.queued']) {
      const made = await runCli(['make:event', name], env);
      assert.equal(made.code, 0, shown(made));
      assert.equal(made.stdout, `${path.join(dir, `${name}.mjs`)}\n`, shown(made));
    }
    expectCli(await runCli(['make:event', 'create.Contacts.post'], env), 2);
    const wrong = await runCli(['make:event', 'create.Contacts.after'], env);
    assert.equal(wrong.code, 2, shown(wrong));
    assert.match(wrong.stderr, /is no event: write OPERATION\[\.MODULE\]\.pre\|post\|queued/, shown(wrong));
  });

  // defineEvent is the events' part of the issue (own-events): until the package exports it, the scripts
  // cannot load, and this test says so rather than pass.
  test('loads, and as written changes nothing', { skip: !('defineEvent' in wsgate) && 'the package does not export defineEvent yet' }, async () => {
    const dir = folder();
    const env = testEnv('file:/nonexistent/unused.db', { WSGATE_EVENTS_DIR: dir });
    const lines: unknown[][] = [];
    const ctx = { user: { id: '19x1', userName: 'admin', isAdmin: true }, log: (...a: unknown[]) => lines.push(a) };
    const user = ctx.user;
    const events = {
      'create.Contacts.pre': { operation: 'create', module: 'Contacts', params: { elementType: 'Contacts', element: { lastname: 'A' } }, user },
      'create.Contacts.post': { operation: 'create', module: 'Contacts', params: {}, user, result: { id: '12x1' } },
      'create.queued': {
        script: 'create.queued',
        request: { operation: 'create', params: {}, user },
        response: { success: true, result: { id: '12x1' }, moreinfo: null },
        environment: { time: new Date().toISOString(), settings: {} },
      },
    };
    for (const [name, event] of Object.entries(events)) {
      expectCli(await runCli(['make:event', name], env), 0);
      const module = await import(pathToFileURL(path.join(dir, `${name}.mjs`)).href);
      assert.equal(typeof module.default, 'function', name);
      assert.equal(await module.default(event, ctx), undefined, name);
    }
    assert.equal(lines.length, 3);
  });
});
