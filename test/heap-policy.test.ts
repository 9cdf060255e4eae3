// `wsgate serve` favours memory over speed (src/heap-policy.ts): set in a fresh Node process before a worker
// thread is made, as serve does, V8 gives that worker (made with the executor's limits) a smaller
// young generation. On Node.js 24 V8 sizes it the same either way, so there the case is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const policyUrl = new URL('../src/heap-policy.js', import.meta.url).href;
const limitsUrl = new URL('../src/worker-limits.js', import.meta.url).href;
const major = Number(process.versions.node.split('.')[0]);

/** The young generation (MB) of a worker thread that allocated a little, made after favourMemory(on). */
function workerYoungMb(on: boolean): number {
  const script = `
    import { Worker } from 'node:worker_threads';
    import { favourMemory } from ${JSON.stringify(policyUrl)};
    import { workerResourceLimits } from ${JSON.stringify(limitsUrl)};
    favourMemory(${on});
    const body = "const v8 = require('node:v8'); const kept = []; for (let i = 0; i < 200000; i++) kept.push({ i, text: 'entry ' + i });" +
      "require('node:worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20);";
    const worker = new Worker(body, { eval: true, execArgv: [], resourceLimits: workerResourceLimits(128) });
    worker.once('message', (mb) => { process.stdout.write(String(mb)); void worker.terminate(); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

test('a worker thread made after favourMemory(true) gets a smaller young generation than with it off', {
  skip: major >= 24 && 'Node.js 24 sizes it the same either way',
}, () => {
  const off = workerYoungMb(false);
  const on = workerYoungMb(true);
  assert.ok(off > 0 && on > 0, `${off} / ${on}`);
  assert.ok(on < off, `young generation ${on} MB with it on, ${off} MB off`);
});
