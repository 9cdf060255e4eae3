// README's configuration tables are the settings list of src/config.ts, as `npm run docs:settings` writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, settings } from '../src/config.js';
import { END, START, withSettingsTables } from '../src/settings/readme.js';

const readme = () => fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8');

test('the README documents every setting', () => {
  const rows = new Set([...readme().matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  const missing = Object.values(settings)
    .filter((s) => !rows.has(s.env))
    .map((s) => s.env);
  assert.deepEqual(missing, []);
});

test("the README's settings tables are the ones the list writes (else: npm run docs:settings)", () => {
  const text = readme();
  const tables = (t: string) => t.slice(t.indexOf(START), t.indexOf(END));
  assert.equal(tables(text), tables(withSettingsTables(text)), 'README.md is out of date: run npm run docs:settings');
});

test('a row of the README that the list has not is noticed', () => {
  const stale = readme().replace('| `WSGATE_MAX_WORKERS` | `4` |', '| `WSGATE_MAX_WORKERS` | `8` |');
  assert.notEqual(stale, readme(), 'the row to change is in README');
  assert.notEqual(withSettingsTables(stale), stale);
});
