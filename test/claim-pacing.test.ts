// The executor's claim pacing (src/executor/pacing.ts), on a clock the test moves: when a claim waits for
// more entries to come, and when it never does; and a real engine that consults it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimPacing, GATHER_TARGET, PACED_RATE } from '../src/executor/pacing.js';
import type { PassSummary } from '../src/executor/engine.js';
import { engineOf } from '../src/runtime.js';
import { enqueueMany } from '../src/queue/store.js';
import { backends, startGateway, type Gateway } from './support.js';

function paced(gatherMs = 50) {
  let now = 1_000;
  const pacing = new ClaimPacing(gatherMs, () => now);
  return {
    pacing,
    at: (ms: number) => (now = ms),
    /** Claims `count` entries every `everyMs`, `times` times, each emptying the queue (or filling the claim). */
    stream(count: number, everyMs: number, times: number, full = false) {
      for (let i = 0; i < times; i++) {
        now += everyMs;
        pacing.claimed(count, full);
      }
    },
    get now() {
      return now;
    },
  };
}

test('a stream slower than the paced rate never waits: a listener claims each entry as it comes', () => {
  const p = paced();
  // 200 entries a second, one a claim (the latency bench's rate), two of them 0.5 ms apart every 10 ms: two
  // claims a millisecond apart are not a fast stream.
  for (let i = 0; i < 100; i++) {
    p.stream(1, 9.5, 1);
    p.stream(1, 0.5, 1);
    assert.equal(p.pacing.waitMs(), 0);
  }
  assert.ok(Math.abs(p.pacing.entriesPerSecond - 200) < 10, String(p.pacing.entriesPerSecond));
});

test('a fast stream the executor keeps up with: the next claim waits until a batch may have come', () => {
  const p = paced(50);
  // 2,000 entries a second, 4 a claim every 2 ms.
  p.stream(4, 2, 100);
  assert.ok(Math.abs(p.pacing.entriesPerSecond - 2_000) < 50, String(p.pacing.entriesPerSecond));
  const window = (GATHER_TARGET * 1000) / p.pacing.entriesPerSecond;
  assert.ok(window > 9 && window < 11, String(window));
  assert.ok(Math.abs(p.pacing.waitMs() - window) < 0.01, `waits ${p.pacing.waitMs()} ms, ${window} expected`);
  p.at(p.now + 4);
  assert.ok(Math.abs(p.pacing.waitMs() - (window - 4)) < 0.01, 'time since the last claim counts toward the wait');
  p.at(p.now + window);
  assert.equal(p.pacing.waitMs(), 0);
});

test('the wait is at most the gather setting, and none when it is 0', () => {
  const p = paced(5);
  p.stream(3, 5, 40); // 600 a second: 33 ms to gather the target, 5 allowed
  assert.ok(p.pacing.entriesPerSecond >= PACED_RATE);
  assert.ok(p.pacing.waitMs() <= 5 && p.pacing.waitMs() > 4.9, String(p.pacing.waitMs()));
  const off = paced(0);
  off.stream(10, 1, 200);
  assert.equal(off.pacing.waitMs(), 0);
});

test('a claim that filled its limit is followed at once: the executor is behind', () => {
  const p = paced();
  p.stream(4, 2, 100);
  assert.ok(p.pacing.waitMs() > 0);
  p.stream(80, 2, 1, true);
  assert.equal(p.pacing.waitMs(), 0);
});

test('after a pause, the rate starts again: the first entry of a new stream is not held', () => {
  const p = paced(50);
  p.stream(4, 2, 100);
  p.at(p.now + 3_000);
  assert.equal(p.pacing.waitMs(), 0, 'the wait counts from the last claim');
  p.pacing.claimed(1, false);
  assert.ok(p.pacing.entriesPerSecond < PACED_RATE, String(p.pacing.entriesPerSecond));
  assert.equal(p.pacing.waitMs(), 0);
});

// The engine consults its pacing before every round of claims and tells it what each round found.
class RecordingPacing extends ClaimPacing {
  readonly events: { what: 'wait' | 'claimed'; at: number; entries?: number; full?: boolean; waited?: number }[] = [];
  constructor(private readonly waits: number[]) {
    super(50);
  }
  override claimed(count: number, full: boolean): void {
    this.events.push({ what: 'claimed', at: performance.now(), entries: count, full });
    super.claimed(count, full);
  }
  override waitMs(): number {
    const waited = this.waits.shift() ?? 0;
    this.events.push({ what: 'wait', at: performance.now(), waited });
    return waited;
  }
}

for (const backend of backends) {
  describe(`an engine's claims and its pacing on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw?.close());

    test('each round of claims asks the pacing first, waits as long as it says, and reports what it found', async () => {
      const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
      const at = new Date(Date.now() - 1000);
      await enqueueMany(
        gw.rt.db,
        Array.from({ length: 12 }, () => ({ operation: 'wsgatetest_noop', params: {}, userId: admin.id, submittedAt: at, dueAt: at })),
      );
      // The second round is told to wait 40 ms.
      const pacing = new RecordingPacing([0, 40]);
      const engine = engineOf(gw.rt, { concurrency: 1, claimBatch: 5 }, { pacing });
      let summary: PassSummary;
      try {
        summary = await engine.drain();
      } finally {
        await engine.close();
      }
      assert.equal(summary.done, 12);
      const claims = pacing.events.filter((e) => e.what === 'claimed' && e.entries! > 0).map((e) => [e.entries, e.full]);
      // One worker, five a claim: two full claims, then the last two (fewer than asked: the queue is empty).
      assert.deepEqual(claims, [
        [5, true],
        [5, true],
        [2, false],
      ]);
      pacing.events.forEach((e, i) => {
        if (e.what === 'claimed') assert.equal(pacing.events[i - 1]?.what, 'wait', `claim round ${i} not preceded by the pacing's wait`);
      });
      // The round told to wait claimed no sooner than 40 ms later (a timer may fire up to a millisecond early).
      const told = pacing.events.findIndex((e) => e.what === 'wait' && e.waited === 40);
      assert.ok(told > 0);
      const waited = pacing.events[told + 1]!.at - pacing.events[told]!.at;
      assert.ok(waited >= 38, `the claim came ${waited.toFixed(1)} ms after the pacing asked for 40`);
    });
  });
}
