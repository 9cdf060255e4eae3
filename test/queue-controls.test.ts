// Queue controls through the real `wsgate queue` binary and real executors: a paused queue is not
// claimed by any executor; a running cap holds across two executors claiming at once; a rate limit lets
// only so many start per window (the clock is moved to the next window).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { openRuntime, type Runtime } from '../src/runtime.js';
import { claim } from '../src/queue/store.js';
import { readControls } from '../src/queue/controls.js';
import { backends, call, login, runCli, runPass, startGateway, type Gateway, shown } from './support.js';

for (const backend of backends) {
  describe(`queue controls on ${backend.name}`, () => {
    let gw: Gateway;
    let other: Runtime;
    let session: string;
    before(async () => {
      gw = await startGateway(backend);
      other = await openRuntime(loadConfig(gw.env));
      session = (await login(gw.url)).sessionName;
    });
    after(async () => {
      await other.close();
      await gw.close();
    });

    const submit = async (queue: string, lastname: string) => {
      const res = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname }),
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, queue }),
      });
      assert.ok(res.success, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const states = async (queue: string) =>
      (await gw.rt.db.prisma.queuedOperation.findMany({ where: { queue }, select: { state: true } })).map((r) => r.state).sort();
    const cli = async (args: string[]) => {
      const res = await runCli(['queue', ...args], gw.env);
      assert.equal(res.code, 0, `wsgate queue ${args.join(' ')}\n${shown(res)}`);
      return res.stdout;
    };

    test('a paused queue is not claimed by any executor; resumed, it runs; other queues run meanwhile', async () => {
      assert.match(await cli(['pause', 'reports']), /Queue reports paused/);
      for (const n of ['P1', 'P2', 'P3']) await submit('reports', n);
      await submit('default', 'Unpaused');
      await Promise.all([runPass(gw.rt, { queues: ['reports', 'default'] }), runPass(other, { queues: ['reports', 'default'] })]);
      assert.deepEqual(await states('reports'), ['queued', 'queued', 'queued']);
      assert.ok((await states('default')).every((s) => s === 'done'));
      const listed = JSON.parse(await cli(['list', '--json'])) as { queue: string; paused: boolean; waiting: number }[];
      assert.deepEqual(
        listed.filter((q) => q.queue === 'reports').map((q) => [q.paused, q.waiting]),
        [[true, 3]],
      );
      await cli(['resume', 'reports']);
      await runPass(gw.rt, { queues: ['reports'] });
      assert.deepEqual(await states('reports'), ['done', 'done', 'done']);
    });

    test('--running caps the running entries of a queue across executors claiming at once', async () => {
      await cli(['limit', 'capped', '--running', '2']);
      for (let i = 0; i < 6; i++) await submit('capped', `C${i}`);
      const controls = await readControls(gw.rt.db);
      const now = gw.rt.services.clock.now();
      // Two executors' claims at the same moment, each asking for everything: together they get two.
      const [a, b] = await Promise.all([
        claim(gw.rt.db, { queues: ['capped'], now, leaseSeconds: 1, limit: 10, controls }),
        claim(other.db, { queues: ['capped'], now, leaseSeconds: 1, limit: 10, controls }),
      ]);
      assert.equal(a.length + b.length, 2, `claimed ${a.length} + ${b.length}`);
      assert.equal((await states('capped')).filter((s) => s === 'running').length, 2);
      const again = await claim(gw.rt.db, { queues: ['capped'], now, leaseSeconds: 1, limit: 10, controls });
      assert.equal(again.length, 0, 'no slot is free while two run');
    });

    test('a pass over a queue capped at one running runs all of its due entries, one at a time', async () => {
      await cli(['limit', 'single', '--running', '1']);
      for (let i = 0; i < 4; i++) await submit('single', `S${i}`);
      const summary = await runPass(gw.rt, { queues: ['single'], concurrency: 2 });
      assert.equal(summary.run, 4, JSON.stringify(summary));
      assert.deepEqual(await states('single'), ['done', 'done', 'done', 'done']);
    });

    test('--starts N --per S lets N start per window; the next window starts the rest', async () => {
      await cli(['limit', 'rated', '--starts', '3', '--per', '60']);
      for (let i = 0; i < 5; i++) await submit('rated', `R${i}`);
      await runPass(gw.rt, { queues: ['rated'] });
      assert.deepEqual(await states('rated'), ['done', 'done', 'done', 'queued', 'queued']);
      await runPass(gw.rt, { queues: ['rated'] });
      assert.equal((await states('rated')).filter((s) => s === 'done').length, 3, 'same window: nothing more starts');
      gw.rt.services.clock.advance(61_000);
      await runPass(gw.rt, { queues: ['rated'] });
      assert.deepEqual(await states('rated'), ['done', 'done', 'done', 'done', 'done']);
      assert.match(await cli(['limit', 'rated', '--starts', 'none']), /Queue rated: no limits/);
    });

    test('mistakes are one line with exit code 2', async () => {
      const noPer = await runCli(['queue', 'limit', 'x', '--starts', '5'], gw.env);
      assert.equal(noPer.code, 2, shown(noPer));
      assert.match(noPer.stderr, /--starts N needs --per SECONDS/, shown(noPer));
      const badName = await runCli(['queue', 'pause', 'no spaces'], gw.env);
      assert.equal(badName.code, 2, shown(badName));
      assert.match(badName.stderr, /is not a queue name/, shown(badName));
      const zero = await runCli(['queue', 'limit', 'x', '--running', '0'], gw.env);
      assert.equal(zero.code, 2, shown(zero));
      assert.match(zero.stderr, /--running must be a whole number from 1, or none/, shown(zero));
    });
  });
}
