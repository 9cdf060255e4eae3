// node-postgres, loaded without Node's fetch. As it loads, pg asks whether it runs on Cloudflare Workers;
// where `navigator` is not defined (Node 20) it does so by constructing a `Response`, and the first touch of
// that global loads undici, Node's fetch, into the thread: ~3 MB of every thread that opens PostgreSQL
// (BENCHMARKS.md, twelfth stop). While pg loads, `Response` is hidden: pg finds it is not on Cloudflare, as
// it would have, and the global is put back as it was (still lazy: loaded by whoever first uses it).
// Every use of pg's values goes through `nodePostgres` (its types may be imported from 'pg' directly).
import { createRequire } from 'node:module';
import type Pg from 'pg';

const requireCjs = createRequire(import.meta.url);

function load(): typeof Pg {
  // Node 21 on: pg answers from navigator. (There, reading Response's descriptor would load undici.)
  if (typeof navigator !== 'undefined') return requireCjs('pg') as typeof Pg;
  const response = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if (!response?.configurable) return requireCjs('pg') as typeof Pg;
  delete (globalThis as { Response?: unknown }).Response;
  try {
    return requireCjs('pg') as typeof Pg;
  } finally {
    Object.defineProperty(globalThis, 'Response', response);
  }
}

export const nodePostgres = load();
