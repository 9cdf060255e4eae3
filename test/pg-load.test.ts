// node-postgres is loaded without Node's fetch (src/db/pg.ts): on Node 20 pg would construct a Response as
// it loads, which loads undici into every thread that opens PostgreSQL. Each case runs in a fresh process,
// where nothing else has touched fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const pgModule = new URL('../src/db/pg.js', import.meta.url).href;

function run(script: string): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const undiciLoaded = "process.moduleLoadList.some((m) => m.includes('undici'))";

test('loading node-postgres does not load fetch, and leaves Response as it was: loaded when first used', () => {
  const out = JSON.parse(
    run(`
      const { nodePostgres } = await import(${JSON.stringify(pgModule)});
      const loadedByPg = ${undiciLoaded};
      const body = await new Response('still there').text();
      process.stdout.write(JSON.stringify({ loadedByPg, body, pool: typeof nodePostgres.Pool, loadedByUse: ${undiciLoaded} }));
    `),
  );
  assert.deepEqual(out, { loadedByPg: false, body: 'still there', pool: 'function', loadedByUse: true });
});

test('the control: node-postgres loaded as is loads fetch on Node.js without navigator', () => {
  const out = run(`
    await import('pg');
    process.stdout.write(JSON.stringify({ navigator: typeof navigator !== 'undefined', undici: ${undiciLoaded} }));
  `);
  const { navigator, undici } = JSON.parse(out) as { navigator: boolean; undici: boolean };
  // Where navigator exists (Node 21 on), pg answers from it and never touches Response.
  assert.equal(undici, !navigator);
});
