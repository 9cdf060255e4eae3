// ajv, required when a schema is first compiled rather than imported with the modules that use it: a worker
// thread without own operations (whose schemas it compiles as it starts) gets its modules' definitions
// checked already, and does not hold ajv's ~4 MB until it first checks a record.
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

const requireCjs = createRequire(import.meta.url);

export function newAjv(options: Options): Ajv {
  const { Ajv: AjvClass } = requireCjs('ajv') as typeof import('ajv');
  return new AjvClass(options);
}
