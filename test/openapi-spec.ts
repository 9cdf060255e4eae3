// openapi.yaml loaded once for the tests that check real answers against it: $ref resolution, schemas
// compiled in strict mode, and the check of a door's answer (/jobs, /api/v1) against its documented response.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { packageRoot } from '../src/config.js';

// ---------------------------------------------------------------------------------------------------------
// The document and its schemas

/* eslint-disable @typescript-eslint/no-explicit-any */
export const spec: any = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));

const BASE = 'https://wsgate.invalid/openapi.json';

/** Follows a local $ref (`#/components/...`) inside the document. */
export function deref(node: any): any {
  while (node && typeof node.$ref === 'string') {
    assert.ok(node.$ref.startsWith('#/'), `only local $refs are expected, got ${node.$ref}`);
    node = node.$ref
      .slice(2)
      .split('/')
      .map((p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((n: any, key: string) => {
        assert.ok(n && key in n, `unresolved $ref ${node.$ref}`);
        return n[key];
      }, spec);
  }
  return node;
}

/** A copy of a schema whose `#/components/schemas/X` references point into the schema registered below. */
export function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => {
      if (k === '$ref' && typeof v === 'string') {
        assert.ok(v.startsWith('#/components/schemas/'), `schema $ref outside components/schemas: ${v}`);
        return [k, `${BASE}#/$defs/${v.slice('#/components/schemas/'.length)}`];
      }
      return [k, rebase(v)];
    }),
  );
}

// Strict mode: an unknown keyword or a malformed schema in openapi.yaml fails the suite.
export const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema({ $id: BASE, $defs: rebase(spec.components.schemas) as object });

const compiled = new Map<string, ValidateFunction>();
export function schemaNamed(name: string): ValidateFunction {
  assert.ok(spec.components.schemas[name], `openapi.yaml has no components/schemas/${name}`);
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile({ $ref: `${BASE}#/$defs/${name}` });
    compiled.set(name, v);
  }
  return v;
}

export function assertValid(v: ValidateFunction, value: unknown, what: string) {
  if (!v(value)) {
    assert.fail(`${what} does not match openapi.yaml: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value, null, 2)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The doors (/jobs, /api/v1): an answer against the documented response of its path, method and status

const doorValidators = new Map<string, ValidateFunction>();

/**
 * Checks a door's answer: the path template and method are documented, the status has a documented
 * response (exact, then NXX), the content type is the documented one, and the body matches its schema.
 */
export function assertDoorAnswer(method: string, template: string, status: number, contentType: string, body: unknown): void {
  const item = deref(spec.paths[template]);
  assert.ok(item, `openapi.yaml documents no path ${template}`);
  const operation = item[method.toLowerCase()];
  assert.ok(operation, `openapi.yaml documents no ${method} ${template}`);
  const documented = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
  assert.ok(documented, `openapi.yaml documents no ${status} answer of ${method} ${template}`);
  const content = deref(documented).content as Record<string, { schema: unknown }>;
  const type = contentType.split(';')[0]!.trim();
  assert.ok(content?.[type], `${method} ${template} ${status}: content type ${type} is not the documented ${Object.keys(content ?? {}).join(', ')}`);
  const key = `${method} ${template} ${status} ${type}`;
  let v = doorValidators.get(key);
  if (!v) {
    v = ajv.compile(rebase(content[type]!.schema) as object);
    doorValidators.set(key, v);
  }
  assertValid(v, body, `${method} ${template} ${status}`);
}
