// Checks an element (the field values a client sends) against its module with ajv, and normalizes the
// values to the strings coreBOS answers with.
import type { Ajv, ValidateFunction } from 'ajv';
import { newAjv } from '../ajv.js';
import { WsError } from '../errors.js';
import { SYSTEM_FIELDS, type FieldDefinition, type ModuleDefinition } from './modules.js';

// The schemas are made here from module definitions already checked (modules.ts): not checked again
// against the meta-schema, whose compilation would cost each thread more than the modules' own schemas.
let ajv: Ajv | undefined;

const orEmpty = (schema: object) => ({ anyOf: [{ const: '' }, schema] });
const numeric = (pattern: string, number: object) => ({
  anyOf: [number, { type: 'string', pattern }, { const: '' }],
});

/**
 * Numbers are kept exactly: integers within ±(2^53-1), JavaScript's exact integers (beyond, a value such as
 * 123456789012345678901234567890 was stored as 1.2345678901234568e+29); decimals finite and below 10^15 in
 * magnitude, as their text form allows (15 digits before the point). A JSON number is checked by the schema,
 * a text one (forms) by its pattern and by integerRangeProblems.
 */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER;
const DECIMAL_BOUND = 1e15;

function fieldSchema(f: FieldDefinition): object {
  switch (f.type) {
    case 'string':
      return { type: 'string', maxLength: f.maxlength ?? 255 };
    case 'text':
    case 'url':
      return { type: 'string', maxLength: f.maxlength ?? 65535 };
    case 'email':
      return orEmpty({ type: 'string', maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' });
    case 'phone':
      return { type: 'string', maxLength: 40, pattern: '^[0-9+()./ x-]*$' };
    case 'integer':
      return numeric('^-?[0-9]{1,16}$', { type: 'integer', minimum: -MAX_INTEGER, maximum: MAX_INTEGER });
    case 'decimal':
      return numeric('^-?[0-9]{1,15}(\\.[0-9]{1,8})?$', { type: 'number', exclusiveMinimum: -DECIMAL_BOUND, exclusiveMaximum: DECIMAL_BOUND });
    case 'boolean':
      return { enum: [true, false, 0, 1, '0', '1', ''] };
    case 'date':
      return orEmpty({ type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' });
    case 'datetime':
      return orEmpty({ type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?$' });
    case 'picklist':
      return { enum: ['', ...(f.values ?? [])] };
    case 'reference':
      // The referenced record's existence is checked against the database (records/references.ts).
      return orEmpty({ type: 'string', pattern: '^[1-9][0-9]*x[1-9][0-9]{0,14}$' });
  }
}

const validators = new WeakMap<ModuleDefinition, ValidateFunction>();

function validatorFor(module: ModuleDefinition): ValidateFunction {
  let v = validators.get(module);
  if (!v) {
    ajv ??= newAjv({ allErrors: true, validateSchema: false });
    v = ajv.compile({
      type: 'object',
      properties: Object.fromEntries(module.fields.map((f) => [f.name, fieldSchema(f)])),
    });
    validators.set(module, v);
  }
  return v;
}

function normalize(f: FieldDefinition, value: unknown): string {
  if (f.type === 'boolean') return value === true || value === 1 || value === '1' ? '1' : '0';
  return String(value);
}

export interface ValidElement {
  /** Every declared field of the module, as a string ('' when not given). */
  fields: Record<string, string>;
  /** assigned_user_id as sent, when sent. */
  assignedUserId?: string;
  /** id as sent, when sent (update). */
  id?: unknown;
}

export function asElement(value: unknown, what = 'element'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WsError('INVALID_PARAMETER', `${what} must be a JSON object of field values`);
  }
  return value as Record<string, unknown>;
}

/**
 * Checks the fields an element sets: unknown fields, mandatory fields left empty, then types. A whole
 * record (create, update) also fails on a mandatory field it does not set; a partial one (revise) only on
 * one it empties.
 */
function checkFields(module: ModuleDefinition, element: Record<string, unknown>, whole: boolean): Record<string, string> {
  const values: Record<string, unknown> = {};
  const known = new Set(module.fields.map((f) => f.name));
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(element)) {
    if ((SYSTEM_FIELDS as readonly string[]).includes(name)) continue;
    if (!known.has(name)) unknown.push(name);
    else values[name] = value ?? '';
  }
  if (unknown.length) {
    throw new WsError('VALIDATION_FAILED', `${module.name} has no field ${unknown.join(', ')}`);
  }
  const missing = module.fields.filter(
    (f) => f.mandatory && (whole || f.name in values) && (values[f.name] === undefined || String(values[f.name]).trim() === ''),
  );
  if (missing.length) {
    throw new WsError('MANDATORY_FIELDS_MISSING', `Mandatory fields not set: ${missing.map((f) => f.name).join(', ')}`);
  }
  const validate = validatorFor(module);
  const problems = validate(values)
    ? integerRangeProblems(module, values)
    : validate.errors!.filter((e) => e.keyword !== 'anyOf' && e.instancePath).map((e) => `${e.instancePath.slice(1)} ${e.message}`);
  if (problems.length) {
    throw new WsError('VALIDATION_FAILED', `Invalid values: ${[...new Set(problems)].join('; ')}`);
  }
  const set = module.fields.filter((f) => whole || f.name in values);
  return Object.fromEntries(set.map((f) => [f.name, values[f.name] === undefined ? '' : normalize(f, values[f.name])]));
}

/** Integer fields given as text of 16 digits (the pattern lets them through) beyond ±(2^53-1). */
function integerRangeProblems(module: ModuleDefinition, values: Record<string, unknown>): string[] {
  return module.fields
    .filter((f) => f.type === 'integer' && typeof values[f.name] === 'string' && Math.abs(Number(values[f.name])) > MAX_INTEGER)
    .map((f) => `${f.name} must be >= ${-MAX_INTEGER} and <= ${MAX_INTEGER}`);
}

function assignedOf(element: Record<string, unknown>): string | undefined {
  const assigned = element.assigned_user_id;
  return assigned === undefined || assigned === null || assigned === '' ? undefined : String(assigned);
}

/** Validates a whole record's values (create, update): every declared field, '' when not given. */
export function validateElement(module: ModuleDefinition, raw: unknown): ValidElement {
  const element = asElement(raw);
  return { fields: checkFields(module, element, true), assignedUserId: assignedOf(element), id: element.id };
}

/** Validates a partial record (revise): `fields` holds only the fields the element sets. */
export function validatePartialElement(module: ModuleDefinition, raw: unknown): ValidElement {
  const element = asElement(raw);
  return { fields: checkFields(module, element, false), assignedUserId: assignedOf(element), id: element.id };
}
