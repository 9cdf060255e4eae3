// The executor's claim pacing (src/executor/pacing.ts), on a clock the test moves: when a claim waits for
// more entries to come, and when it never does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClaimPacing, GATHER_TARGET, PACED_RATE } from '../src/executor/pacing.js';

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
