// README's configuration tables are the settings list of src/config.ts, as `npm run docs:settings` writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, settings } from '../src/config.js';
import { sections, withSettingsTables } from '../src/settings/readme.js';

const readme = () => fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8');

test('the README documents every setting', () => {
  const rows = new Set([...readme().matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  const missing = Object.values(settings)
    .filter((s) => !rows.has(s.env))
    .map((s) => s.env);
  assert.deepEqual(missing, []);
});

test("the README's settings and flags tables are the ones the list writes (else: npm run docs:settings)", () => {
  const text = readme();
  for (const { name, start, end } of sections) {
    const part = (t: string) => t.slice(t.indexOf(start), t.indexOf(end));
    assert.ok(text.includes(start) && text.includes(end), `README has the markers of the ${name}`);
    assert.equal(part(text), part(withSettingsTables(text)), `README.md's ${name} is out of date: run npm run docs:settings`);
  }
});

test('a row of the README that the list has not is noticed', () => {
  for (const [row, changed] of [
    ['| `WSGATE_MAX_WORKERS` | `4` |', '| `WSGATE_MAX_WORKERS` | `8` |'],
    ['| `--concurrency N` | `WSGATE_MAX_WORKERS` (`4`) |', '| `--concurrency N` | `WSGATE_MAX_WORKERS` (`8`) |'],
  ]) {
    const stale = readme().replace(row as string, changed as string);
    assert.notEqual(stale, readme(), `README has the row ${row}`);
    assert.notEqual(withSettingsTables(stale), stale);
  }
});
