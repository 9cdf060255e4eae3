// A deployment's own operations (WSGATE_OPERATIONS_DIR): called synchronously (in a call worker) and
// deferred (in the executor), their parameters checked by their schema, access by role, their errors
// as protocol errors or infrastructure failures, and broken files stopping the start with their name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, loadConfig } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { addTestUser, backends, call, login, runCli, runPass, startGateway, testEnv, type Gateway, shown, tmpDir } from './support.js';

const fixtures = path.join(packageRoot, 'test', 'fixtures', 'operations');

for (const backend of backends) {
  describe(`own operations on ${backend.name}`, () => {
    let gw: Gateway;
    let admin: string;
    let user: string;
    before(async () => {
      gw = await startGateway(backend, { WSGATE_OPERATIONS_DIR: fixtures, WSGATE_CALL_TIMEOUT_SECONDS: '2' });
      admin = (await login(gw.url)).sessionName;
      const { accessKey } = await addTestUser(gw, 'plain');
      user = (await login(gw.url, 'plain', accessKey)).sessionName;
    });
    after(() => gw.close());
    const queued = () => gw.rt.db.prisma.queuedOperation.count();

    test('called synchronously: its schema fills defaults and converts text to numbers; the caller is in ctx', async () => {
      const once = await call(gw.url, { operation: 'greet', sessionName: user, name: 'Ann' });
      assert.deepEqual(once, { success: true, result: { greeting: 'Hello Ann', by: 'plain', trackingId: null }, moreinfo: null });
      const twice = await call(gw.url, { operation: 'greet', sessionName: admin, name: 'Bo', times: '2' });
      assert.equal(twice.result.greeting, 'Hello Bo, Hello Bo');
    });

    test('parameters its schema refuses are INVALID_PARAMETER naming the parameter, and nothing is queued', async () => {
      const before = await queued();
      const missing = await call(gw.url, { operation: 'greet', sessionName: user });
      assert.equal(missing.error?.code, 'INVALID_PARAMETER');
      assert.match(missing.error!.message, /name/);
      const tooMany = await call(gw.url, { operation: 'greet', sessionName: user, name: 'Ann', times: '9', cbwsOptions: '{"launchfromqueue":1}' });
      assert.equal(tooMany.error?.code, 'INVALID_PARAMETER');
      assert.match(tooMany.error!.message, /times must be <= 5/);
      assert.equal(await queued(), before);
    });

    test('deferred with cbwsOptions: the executor runs it, ctx.trackingId is the id, the result is read once', async () => {
      const submit = await call(gw.url, { operation: 'greet', sessionName: user, name: 'Cy', cbwsOptions: '{"launchfromqueue":1}' });
      const id = submit.result.operationTrackingID as string;
      await runPass(gw.rt);
      const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: user, operationTrackingID: id });
      assert.deepEqual(JSON.parse(res.result), { success: true, result: { greeting: 'Hello Cy', by: 'plain', trackingId: id }, moreinfo: null });
      const again = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: user, operationTrackingID: id });
      assert.equal(again.result, 'Operation not queued or not finished yet');
    });

    test('queued: true defers every call without cbwsOptions; access: [admin] refuses the user role at submit', async () => {
      const submit = await call(gw.url, { operation: 'audit', sessionName: admin, note: 'n1' });
      const id = submit.result.operationTrackingID as string;
      assert.ok(id, JSON.stringify(submit));
      const before = await queued();
      const denied = await call(gw.url, { operation: 'audit', sessionName: user, note: 'n2' });
      assert.equal(denied.error?.code, 'ACCESS_DENIED');
      assert.equal(await queued(), before);
      await runPass(gw.rt);
      const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: id });
      assert.deepEqual(JSON.parse(res.result).result, { noted: 'n1', trackingId: id });
    });

    test('an OperationError is a protocol error (final when deferred); an exception is INTERNAL_SERVER_ERROR, its text not answered', async () => {
      const protocol = await call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'protocol' });
      assert.deepEqual(protocol.error, { code: 'NOT_TODAY', message: 'misbehaves: not today' });
      const thrown = await call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'throw' });
      assert.equal(thrown.error?.code, 'INTERNAL_SERVER_ERROR');
      assert.doesNotMatch(thrown.error!.message, /a bug/);
      const submit = await call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'protocol', cbwsOptions: '{"launchfromqueue":1}' });
      const summary = await runPass(gw.rt, { tries: 3 });
      assert.equal(summary.retried, 0, 'a protocol error is not retried');
      const res = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: submit.result.operationTrackingID });
      assert.equal(JSON.parse(res.result).error.code, 'NOT_TODAY');
    });

    test('a handler that never returns answers TIMEOUT; calls to other operations are answered meanwhile', async () => {
      const order: string[] = [];
      const loop = call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'loop' }).then((r) => (order.push('loop'), r));
      const other = call(gw.url, { operation: 'greet', sessionName: admin, name: 'Di' }).then((r) => (order.push('greet'), r));
      const [looped, greeted] = await Promise.all([loop, other]);
      assert.deepEqual(order, ['greet', 'loop']);
      assert.equal(looped.error?.code, 'TIMEOUT');
      assert.equal(greeted.success, true);
    });
  });
}

describe('broken operation files stop the start, naming the file and the reason', () => {
  const cases: [string, string, RegExp][] = [
    ['nohandle.mjs', "export default { name: 'nohandle' };", /nohandle\.mjs: operation nohandle has no handle/],
    ['builtin.mjs', "export default { name: 'Create', handle() {} };", /builtin\.mjs: operation Create has the name of a built-in operation/],
    ['syntax.mjs', 'export default {', /syntax\.mjs: it cannot be loaded/],
    [
      'schema.mjs',
      "export default { name: 'schema', params: { type: 'object', properties: { a: { type: 'nonsense' } } }, handle() {} };",
      /schema\.mjs: params is not a valid JSON Schema/,
    ],
    ['typo.mjs', "export default { name: 'typo', handel() {} };", /typo\.mjs: unknown key "handel"/],
  ];
  for (const [file, text, message] of cases) {
    test(file, async () => {
      const dir = tmpDir('ops');
      fs.writeFileSync(path.join(dir, file), text);
      const env = testEnv(`file:${path.join(dir, 'x.db')}`, { WSGATE_OPERATIONS_DIR: dir });
      await assert.rejects(openRuntime(loadConfig(env)), message);
      const cli = await runCli(['operations'], env);
      assert.equal(cli.code, 2, shown(cli));
      assert.match(cli.stderr, message, shown(cli));
      assert.doesNotMatch(cli.stderr, /\n\s+at /, `one line, no stack\n${shown(cli)}`);
    });
  }
});
