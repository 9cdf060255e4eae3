#!/usr/bin/env node
// Bundles the module graphs of the three kinds of worker thread (executor, call, event script) into
// dist/workers/, run by `npm run build` after tsc. Node's ESM loader keeps ~30 KB per loaded module in
// every thread that loads it; a worker's graph is ~100 of our small files, so each worker thread held ~2
// MB more for them than bundled (BENCHMARKS.md, twelfth stop). Bundled, a worker loads a handful of chunks.
// - npm packages stay external (node_modules is shared, and native ones cannot be bundled); dynamic
//   imports stay lazy (splitting: they become chunks loaded when first needed).
// - The modules that own operations and event scripts import through the package (`wsgate`: index.js and
//   what it imports, errors.js among them) stay external too: a WsError they throw must be the class the
//   worker's code checks with instanceof.
// - Each bundled file's `import.meta.url` is rewritten to its own file's URL, relative to the bundle, so
//   that paths it resolves (the package root, createRequire, worker files) are the same as unbundled.
// dist/workers/manifest.json lists the bundle's inputs: src/worker-url.ts starts a worker from its bundle
// only when no input is newer than the manifest (a `tsc` alone leaves the bundle stale: the unbundled
// files are used then).
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(fileURLToPath(import.meta.url), '..', '..');
const src = path.join(root, 'dist', 'src');
const outdir = path.join(root, 'dist', 'workers');
const ENTRIES = {
  executor: 'executor/worker.js',
  calls: 'protocol/calls/worker.js',
  events: 'operations/own/events-worker.js',
};

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('bundle-workers: esbuild is not installed; worker threads will load the unbundled files');
  await fs.rm(outdir, { recursive: true, force: true });
  process.exit(0);
}

const posix = (p) => p.split(path.sep).join('/');
const fromOutdir = (file) => {
  const rel = posix(path.relative(outdir, file));
  return rel.startsWith('.') ? rel : `./${rel}`;
};

/** Every file of ours that index.js imports, directly or not. */
async function packageGraph() {
  const { metafile } = await esbuild.build({
    entryPoints: [path.join(src, 'index.js')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  return new Set(Object.keys(metafile.inputs).map((f) => path.resolve(root, f)));
}

const shared = await packageGraph();

const wsgateWorkers = {
  name: 'wsgate-workers',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      if (shared.has(file)) return { path: fromOutdir(file), external: true };
      return undefined;
    });
    build.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await fs.readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const own = `new URL(${JSON.stringify(fromOutdir(args.path))}, import.meta.url).href`;
      const contents = text.replaceAll('import.meta.url', own);
      const left = /import\.meta\.(?!url\b)\w+/.exec(contents.replaceAll('import.meta.url', ''));
      if (left) throw new Error(`${args.path}: ${left[0]} cannot be bundled (only import.meta.url is rewritten)`);
      return { contents, loader: 'js' };
    });
  },
};

await fs.rm(outdir, { recursive: true, force: true });
const { metafile } = await esbuild.build({
  entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, path.join(src, file)])),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir,
  metafile: true,
  plugins: [wsgateWorkers],
  logLevel: 'warning',
});
const inputs = Object.keys(metafile.inputs).map((f) => fromOutdir(path.resolve(root, f)));
const entries = Object.fromEntries(Object.keys(ENTRIES).map((name) => [name, `./${name}.js`]));
await fs.writeFile(path.join(outdir, 'manifest.json'), `${JSON.stringify({ entries, inputs }, null, 1)}\n`);
console.log(`bundle-workers: ${Object.keys(metafile.outputs).length} files in dist/workers from ${inputs.length} modules`);
