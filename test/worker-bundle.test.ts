// Worker threads start from the bundle that `npm run build` writes to dist/workers (scripts/bundle-workers.mjs)
// when it is fresh, and from the unbundled files when it is stale or absent (src/worker-url.ts). The
// suite's other tests run their workers from the bundle: this checks that they do, and when they would not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundle, workerUrl, type WorkerKind } from '../src/worker-url.js';

const bundleDir = new URL('../workers/', import.meta.url);

function tempBundle(): { dir: URL; input: string; manifest: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-bundle-'));
  fs.mkdirSync(path.join(root, 'src'));
  fs.mkdirSync(path.join(root, 'workers'));
  const input = path.join(root, 'src', 'batch.js');
  fs.writeFileSync(input, 'export {};\n');
  const manifest = path.join(root, 'workers', 'manifest.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({ entries: { executor: './executor.js', calls: './calls.js', events: './events.js' }, inputs: ['../src/batch.js'] }),
  );
  // The manifest is written after its inputs, as the build does.
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(input, past, past);
  return { dir: pathToFileURL(path.join(root, 'workers') + path.sep), input, manifest };
}

test('a bundle is used while no file it was built from is newer than its manifest', (t) => {
  const b = tempBundle();
  t.after(() => fs.rmSync(path.dirname(fileURLToPath(b.dir)), { recursive: true, force: true }));
  assert.equal(freshBundle(b.dir)?.entries.executor, './executor.js');

  // A `tsc` alone rewrote an input: stale.
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(b.input, later, later);
  assert.equal(freshBundle(b.dir), null);

  // Built again: fresh.
  fs.utimesSync(b.manifest, later, later);
  assert.notEqual(freshBundle(b.dir), null);

  // An input gone, or no manifest: not used.
  fs.rmSync(b.input);
  assert.equal(freshBundle(b.dir), null);
  fs.rmSync(b.manifest);
  assert.equal(freshBundle(b.dir), null);
});

test('the build bundled every kind of worker, and they start from the bundle', () => {
  const unbundled = new URL('file:///unbundled.js');
  for (const kind of ['executor', 'calls', 'events'] satisfies WorkerKind[]) {
    const url = workerUrl(kind, unbundled);
    assert.equal(url.href, new URL(`${kind}.js`, bundleDir).href, `${kind}: not started from its bundle (is dist/workers stale?)`);
    assert.ok(fs.existsSync(url), `${kind}: ${url.href} missing`);
  }
});

test("the bundle's files resolve paths from their own module's place, and share the package's errors with own operations", () => {
  const dir = fileURLToPath(bundleDir);
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    // import.meta.url only inside `new URL("<the bundled module's own file>", import.meta.url)`.
    const bare = text.replace(/new URL\("\.\.\/src\/[^"]+\.js", import\.meta\.url\)/g, '');
    assert.doesNotMatch(bare, /import\.meta/, `${file}: an import.meta not rewritten to its module's own file`);
    // The classes own operations get from 'wsgate' (errors.js) are imported, not copied.
    assert.doesNotMatch(text, /class WsError\b/, `${file}: a copy of WsError`);
  }
});
