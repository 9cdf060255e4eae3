// Where a worker thread starts: its bundle in dist/workers (scripts/bundle-workers.mjs, `npm run build`),
// which loads a few chunks instead of ~100 modules and so holds ~2 MB less per thread, or the unbundled
// file when there is no bundle or it is stale (a file it was built from changed since: `tsc` alone).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export type WorkerKind = 'executor' | 'calls' | 'events';

const bundleDir = new URL('../workers/', import.meta.url);

export interface Manifest {
  entries: Record<WorkerKind, string>;
  /** The files the bundle was built from, relative to its folder. */
  inputs: string[];
}

/** The bundle in `dir` when every file it was built from is as old as its manifest at most; else null. */
export function freshBundle(dir: URL): Manifest | null {
  try {
    const file = fileURLToPath(new URL('manifest.json', dir));
    const builtAt = fs.statSync(file).mtimeMs;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
    const fresh = manifest.inputs.every((input) => fs.statSync(fileURLToPath(new URL(input, dir))).mtimeMs <= builtAt);
    return fresh ? manifest : null;
  } catch {
    // No bundle, or an input is gone.
    return null;
  }
}

let bundled: Manifest | null | undefined;

/** The URL a worker of this kind starts from: its bundle when fresh, else `unbundled`. */
export function workerUrl(kind: WorkerKind, unbundled: URL): URL {
  if (bundled === undefined) bundled = freshBundle(bundleDir);
  const entry = bundled?.entries[kind];
  return entry ? new URL(entry, bundleDir) : unbundled;
}
