// ajv, required when a schema is first compiled rather than imported with the modules that use it: a worker
// thread whose operations validate nothing (the executor's workers get their modules' definitions checked
// already, and compile an operation's schema when it first runs) does not hold its ~4 MB.
import { createRequire } from 'node:module';
import type { Ajv, Options } from 'ajv';

const requireCjs = createRequire(import.meta.url);

export function newAjv(options: Options): Ajv {
  const { Ajv: AjvClass } = requireCjs('ajv') as typeof import('ajv');
  return new AjvClass(options);
}
