// The README's configuration table is the settings list of src/config.ts: every setting is in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, settings } from '../src/config.js';

test('the README documents every setting', () => {
  const readme = fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
  const rows = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  const missing = Object.values(settings).filter((s) => !rows.has(s.env)).map((s) => s.env);
  assert.deepEqual(missing, []);
});
