// The main thread's young generation held at a cap (src/young-generation.ts): each case runs in a fresh
// Node process (this runner's own young generation has long grown), allocating objects that survive a few
// scavenges (what makes V8 grow the young generation), with the hold's check called between rounds instead
// of on its timer. A round allocates ~1 MB, so between two checks the young generation can double once past
// what the check allowed (the hold lets it grow while twice its size fits the cap): held at N MB, at most 2N.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const moduleUrl = new URL('../src/young-generation.js', import.meta.url).href;

/** The young generation's size (MB) after the allocation, in a fresh process: held at `capMb`, or not held. */
function grownTo(capMb: number | null, releaseHalfway = false): number {
  const script = `
    import { holdYoungGeneration, youngGenerationMb } from ${JSON.stringify(moduleUrl)};
    let check = () => {};
    const release = ${capMb === null ? 'null' : `holdYoungGeneration(${capMb}, (c) => { check = c; return () => { check = () => {}; }; })`};
    const kept = [];
    for (let round = 0; round < 200; round++) {
      if (${releaseHalfway} && round === 100) release();
      for (let i = 0; i < 20000; i++) {
        kept.push({ round, i, text: 'entry ' + i });
        if (kept.length > 40000) kept.splice(0, 20000);
      }
      check();
    }
    process.stdout.write(String(youngGenerationMb()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test('unheld, V8 grows the young generation past 8 MB under surviving allocations', () => {
  // The case the hold is for; were V8 to stop growing it on its own, the next test would prove nothing.
  assert.ok(grownTo(null) > 8, 'V8 grew it');
});

test('held at 4 MB (or 2), the young generation stays within one doubling of it under the same allocations', () => {
  assert.ok(grownTo(4) <= 8);
  assert.ok(grownTo(2) <= 4);
});

test('released, it grows again as unheld', () => {
  assert.ok(grownTo(2, true) > 8);
});
