// Idle executor worker threads end after WSGATE_WORKER_IDLE_SECONDS (the clock moved, not waited for), all
// but the last one used; they start again when there is work for them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engineOf } from '../src/runtime.js';
import { NOT_QUEUED_OR_NOT_FINISHED } from '../src/queue/store.js';
import { backends, call, login, startGateway, until, type Gateway } from './support.js';

const sqlite = backends.find((b) => b.name === 'sqlite')!;

describe('idle executor workers', () => {
  let gw: Gateway;
  let admin: string;
  before(async () => {
    gw = await startGateway(sqlite);
    admin = (await login(gw.url)).sessionName;
  });
  after(() => gw?.close());

  test('idle workers beyond the last used end once idle long enough, and the listener serves on', async () => {
    const engine = engineOf(gw.rt, { concurrency: 3, idleWorkerSeconds: 60, sleepSeconds: 1 });
    const listening = engine.listen();
    try {
      await until('every worker', async () => engine.workers.started === 3);
      gw.rt.services.clock.advance(50_000);
      // Not idle long enough yet: the pool's watchdog (every 250 ms) leaves them.
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(engine.workers.started, 3);
      gw.rt.services.clock.advance(11_000);
      await until('two idle workers ended', async () => engine.workers.started === 1);
      // One is kept, however long it stays idle.
      gw.rt.services.clock.advance(3_600_000);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(engine.workers.started, 1);

      // Sessions left idle that long have ended too.
      admin = (await login(gw.url)).sessionName;
      const submitted = await call(gw.url, {
        operation: 'create',
        sessionName: admin,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname: 'Idle' }),
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0 }),
      });
      assert.equal(submitted.success, true, JSON.stringify(submitted));
      const id = submitted.result.operationTrackingID as string;
      const result = await until('the deferred create ran', async () => {
        const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: id });
        assert.equal(r.success, true, JSON.stringify(r));
        return r.result === NOT_QUEUED_OR_NOT_FINISHED ? null : (JSON.parse(r.result as string) as { success: boolean });
      });
      assert.equal(result.success, true, JSON.stringify(result));
    } finally {
      await engine.close();
      await listening;
    }
  });

  test('with WSGATE_WORKER_IDLE_SECONDS=0 idle workers never end', async () => {
    const engine = engineOf(gw.rt, { concurrency: 2, idleWorkerSeconds: 0, sleepSeconds: 1 });
    const listening = engine.listen();
    try {
      await engine.warm();
      assert.equal(engine.workers.started, 2);
      gw.rt.services.clock.advance(86_400_000);
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(engine.workers.started, 2);
    } finally {
      await engine.close();
      await listening;
    }
  });
});
