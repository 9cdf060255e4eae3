// Recurring operations (WSGATE_SCHEDULE_FILE): each tick is queued exactly once however many executors
// see it, as an ordinary queue entry; ticks missed while no executor ran are skipped or caught up as the
// schedule says; `wsgate schedule` edits the file through the real binary. The clock is moved, not waited for.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { openRuntime, type Runtime } from '../src/runtime.js';
import { tickerOf } from '../src/schedule/ticks.js';
import { backends, runCli, runPass, startGateway, type Gateway, shown, expectCli, tmpDir } from './support.js';

const FIVE_MINUTES = 5 * 60_000;
const HOUR = 60 * 60_000;
type Clocks = { advance(ms: number): void; now(): Date }[];

/** Moves the clocks to `seconds` after the `ticks`-th next time that is `offsetMs` past a multiple of `periodMs`. */
function toNext(clocks: Clocks, periodMs: number, offsetMs: number, seconds: number, ticks = 1) {
  const now = clocks[0]!.now().getTime();
  const next = Math.floor((now - offsetMs) / periodMs) * periodMs + offsetMs + ticks * periodMs;
  for (const c of clocks) c.advance(next - now + seconds * 1000);
}

/** Moves the clocks to `seconds` after the next five-minute tick. */
const toNextTick = (clocks: Clocks, seconds: number, ticks = 1) => toNext(clocks, FIVE_MINUTES, 0, seconds, ticks);

for (const backend of backends) {
  describe(`recurring operations on ${backend.name}`, () => {
    let gw: Gateway;
    let other: Runtime;
    const dir = tmpDir('schedules');
    const file = path.join(dir, 'schedule.json');
    // A finished entry keeps no parameters: the records its runs created tell the schedules apart.
    const entriesOf = async (lastname: string) => {
      await runPass(gw.rt);
      const records = await gw.rt.db.prisma.record.findMany({ where: { data: { contains: `"${lastname}"` } }, orderBy: { createdAt: 'asc' } });
      return records;
    };
    const createEntries = () => gw.rt.db.prisma.queuedOperation.findMany({ where: { operation: 'create' }, orderBy: { dueAt: 'asc' } });

    before(async () => {
      fs.writeFileSync(
        file,
        JSON.stringify({
          schedules: [
            { name: 'every5', cron: '*/5 * * * *', operation: 'create', params: { elementType: 'Contacts', element: { lastname: 'Every5' } }, user: 'admin' },
            {
              name: 'catchup',
              cron: '*/5 * * * *',
              operation: 'create',
              params: { elementType: 'Contacts', element: { lastname: 'Catchup' } },
              user: 'admin',
              missed: 'catch-up',
              catchUpLimit: 6,
            },
            // Hourly at minute 7 (never on a five-minute tick), another operation: apart from the two above.
            { name: 'late', cron: '7 * * * *', operation: 'wsgatetest_noop', params: { tag: 'late' }, user: 'admin' },
          ],
        }),
      );
      gw = await startGateway(backend, { WSGATE_SCHEDULE_FILE: file });
      other = await openRuntime(loadConfig(gw.env));
    });
    after(async () => {
      await other.close();
      await gw.close();
    });

    test('a schedule starts when first seen; each tick is one entry, run as its user, even with two executors at once', async () => {
      // A minute past a tick: the wall clock's own progress until the jump below cannot add a tick of its own.
      toNextTick([gw.rt.services.clock, other.services.clock], 60);
      await runPass(gw.rt);
      assert.equal((await entriesOf('Every5')).length, 0, 'nothing before its first tick');
      toNextTick([gw.rt.services.clock, other.services.clock], 20);
      const [a, b] = await Promise.all([runPass(gw.rt), runPass(other)]);
      const entries = await entriesOf('Every5');
      assert.equal(entries.length, 1, `one entry for the tick, not one per executor (${JSON.stringify([a, b])})`);
      const queued = await createEntries();
      assert.equal(queued.length, 2, 'one per schedule of create');
      assert.ok(
        queued.every((e) => e.state === 'done' && e.dueAt.getTime() % FIVE_MINUTES === 0),
        'run, and due at the tick itself',
      );
      assert.equal(entries[0]!.ownerId, 1, "as the schedule's user (admin)");
      // A pass within the same five minutes queues nothing more.
      gw.rt.services.clock.advance(60_000);
      await runPass(gw.rt);
      assert.equal((await entriesOf('Every5')).length, 1);
    });

    test('missed ticks: "skip" queues only the tick within its grace, "catch-up" each missed one up to its limit', async () => {
      const before = { every5: (await entriesOf('Every5')).length, catchup: (await entriesOf('Catchup')).length };
      // Ten ticks pass with no executor; the pass comes 30 s after the last.
      toNextTick([gw.rt.services.clock, other.services.clock], 30, 10);
      await runPass(gw.rt);
      assert.equal((await entriesOf('Every5')).length, before.every5 + 1);
      const caught = await entriesOf('Catchup');
      assert.equal(caught.length, before.catchup + 6, 'the newest six of the ten missed ticks');
      const dues = (await createEntries()).slice(-7).map((e) => e.dueAt.getTime());
      assert.equal(new Set(dues).size, 6, 'the last tick has two entries (one per schedule), the five before one each');
      const distinct = [...new Set(dues)];
      assert.ok(
        distinct.every((d, i) => i === 0 || d - distinct[i - 1]! === FIVE_MINUTES),
        'one entry per tick, five minutes apart',
      );

      // "skip": an hourly tick found ten minutes late (beyond the 300 s grace) is not queued; one found in time is.
      const lateEntries = () => gw.rt.db.prisma.queuedOperation.count({ where: { operation: 'wsgatetest_noop' } });
      await runPass(gw.rt);
      const lateBefore = await lateEntries();
      toNext([gw.rt.services.clock, other.services.clock], HOUR, 7 * 60_000, 600);
      await runPass(gw.rt);
      assert.equal(await lateEntries(), lateBefore, 'ten minutes late: skipped');
      toNext([gw.rt.services.clock, other.services.clock], HOUR, 7 * 60_000, 20);
      await runPass(gw.rt);
      assert.equal(await lateEntries(), lateBefore + 1, 'twenty seconds late: queued');
    });

    test('the ticker reads the expression in its time zone', () => {
      const madrid = tickerOf('0 3 * * *', 'Europe/Madrid');
      const next = madrid.next(new Date('2026-12-01T00:00:00Z'))!;
      assert.equal(next.toISOString(), '2026-12-01T02:00:00.000Z', '03:00 in Madrid (UTC+1 in winter)');
      const summer = madrid.next(new Date('2026-07-01T00:00:00Z'))!;
      assert.equal(summer.toISOString(), '2026-07-01T01:00:00.000Z', '03:00 in Madrid (UTC+2 in summer)');
      assert.deepEqual(
        tickerOf('*/20 * * * * *', 'UTC')
          .between(new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:01:00Z'), 10)
          .map((d) => d.toISOString()),
        ['2026-12-01T00:01:00.000Z', '2026-12-01T00:00:40.000Z', '2026-12-01T00:00:20.000Z'],
      );
    });

    test('wsgate schedule add, list and remove through the binary; mistakes are one line, exit code 2', async () => {
      const env = { ...gw.env, WSGATE_SCHEDULE_FILE: path.join(dir, 'cli.json') };
      const bad = await runCli(['schedule', 'add', 'x', '--cron', 'every day', '--operation', 'create', '--user', 'admin'], env);
      assert.equal(bad.code, 2, shown(bad));
      assert.match(bad.stderr, /cron "every day" is not a cron expression/, shown(bad));
      assert.doesNotMatch(bad.stderr, /\n\s+at /, `no stack trace\n${shown(bad)}`);
      const unknown = await runCli(['schedule', 'add', 'x', '--cron', '0 * * * *', '--operation', 'nosuch', '--user', 'admin'], env);
      assert.equal(unknown.code, 2, shown(unknown));
      assert.match(unknown.stderr, /operation nosuch is not registered/, shown(unknown));
      const noUser = await runCli(['schedule', 'add', 'x', '--cron', '0 * * * *', '--operation', 'create', '--user', 'ghost'], env);
      assert.match(noUser.stderr, /user ghost does not exist/, shown(noUser));
      const badParams = await runCli(
        ['schedule', 'add', 'x', '--cron', '0 * * * *', '--operation', 'create', '--user', 'admin', '--params', '{"elementType":"Contacts"}'],
        env,
      );
      assert.equal(badParams.code, 2, shown(badParams));
      assert.match(badParams.stderr, /element is required/, shown(badParams));

      const added = await runCli(
        [
          'schedule',
          'add',
          'hourly',
          '--cron',
          '0 * * * *',
          '--operation',
          'create',
          '--user',
          'admin',
          '--timezone',
          'Europe/Madrid',
          '--params',
          '{"elementType":"Contacts","element":{"lastname":"Hourly"}}',
        ],
        env,
      );
      assert.equal(added.code, 0, shown(added));
      const again = await runCli(['schedule', 'add', 'hourly', '--cron', '0 * * * *', '--operation', 'create', '--user', 'admin'], env);
      assert.match(again.stderr, /exists already/, shown(again));
      const listed = await runCli(['schedule', 'list', '--json'], env);
      assert.equal(listed.code, 0, shown(listed));
      const rows = JSON.parse(listed.stdout) as { name: string; timezone: string; operation: string; nextTick: string }[];
      assert.deepEqual(
        rows.map((r) => [r.name, r.timezone, r.operation]),
        [['hourly', 'Europe/Madrid', 'create']],
      );
      assert.equal(new Date(rows[0]!.nextTick).getUTCMinutes(), 0);
      expectCli(await runCli(['schedule', 'remove', 'hourly'], env), 0);
      const gone = await runCli(['schedule', 'remove', 'hourly'], env);
      assert.equal(gone.code, 2, shown(gone));
      assert.match(gone.stderr, /no schedule named hourly/, shown(gone));
    });

    test('a broken schedule file stops the start with one line naming the schedule and the field', async () => {
      const broken = path.join(dir, 'broken.json');
      fs.writeFileSync(broken, JSON.stringify({ schedules: [{ name: 'b', cron: '0 * * * *', operation: 'create', user: 'admin', missed: 'sometimes' }] }));
      const res = await runCli(['execute'], { ...gw.env, WSGATE_SCHEDULE_FILE: broken });
      assert.equal(res.code, 2, shown(res));
      assert.match(res.stderr, /schedule b: missed must be "skip" or "catch-up"/, shown(res));
      assert.equal(res.stderr.trim().split('\n').length, 1, shown(res));
    });
  });
}
