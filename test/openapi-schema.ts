// A schema of openapi.yaml's components, for tests that check stored results and status answers against it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packageRoot } from '../src/config.js';

const BASE = 'https://wsgate.invalid/openapi.json';
const spec: any = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));

function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? `${BASE}#/$defs/${v.slice('#/components/schemas/'.length)}` : rebase(v),
    ]),
  );
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema({ $id: BASE, $defs: rebase(spec.components.schemas) as object });

/** Fails unless `value` matches components/schemas/`name` of openapi.yaml. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const v = ajv.getSchema(`${BASE}#/$defs/${name}`) ?? ajv.compile({ $ref: `${BASE}#/$defs/${name}` });
  if (!v(value)) assert.fail(`${name} does not match openapi.yaml: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value, null, 2)}`);
}
