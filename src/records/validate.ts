// Checks an element (the field values a client sends) against its module with ajv, and normalizes the
// values to the strings coreBOS answers with.
import { Ajv, type ValidateFunction } from 'ajv';
import { WsError } from '../errors.js';
import { SYSTEM_FIELDS, type FieldDefinition, type ModuleDefinition } from './modules.js';

const ajv = new Ajv({ allErrors: true });

const orEmpty = (schema: object) => ({ anyOf: [{ const: '' }, schema] });
const numeric = (pattern: string, type: 'integer' | 'number') => ({
  anyOf: [{ type }, { type: 'string', pattern }, { const: '' }],
});

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
      return numeric('^-?[0-9]{1,15}$', 'integer');
    case 'decimal':
      return numeric('^-?[0-9]{1,15}(\\.[0-9]{1,8})?$', 'number');
    case 'boolean':
      return { enum: [true, false, 0, 1, '0', '1', ''] };
    case 'date':
      return orEmpty({ type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' });
    case 'datetime':
      return orEmpty({ type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?$' });
    case 'picklist':
      return { enum: ['', ...(f.values ?? [])] };
  }
}

const validators = new WeakMap<ModuleDefinition, ValidateFunction>();

function validatorFor(module: ModuleDefinition): ValidateFunction {
  let v = validators.get(module);
  if (!v) {
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

/** Validates a whole record's values (create, update): unknown fields, mandatory fields, then types. */
export function validateElement(module: ModuleDefinition, raw: unknown): ValidElement {
  const element = asElement(raw);
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
  const missing = module.fields.filter((f) => f.mandatory && (values[f.name] === undefined || String(values[f.name]).trim() === ''));
  if (missing.length) {
    throw new WsError('MANDATORY_FIELDS_MISSING', `Mandatory fields not set: ${missing.map((f) => f.name).join(', ')}`);
  }
  const validate = validatorFor(module);
  if (!validate(values)) {
    const problems = validate.errors!
      .filter((e) => e.keyword !== 'anyOf' && e.instancePath)
      .map((e) => `${e.instancePath.slice(1)} ${e.message}`);
    throw new WsError('VALIDATION_FAILED', `Invalid values: ${[...new Set(problems)].join('; ')}`);
  }
  const fields = Object.fromEntries(module.fields.map((f) => [f.name, values[f.name] === undefined ? '' : normalize(f, values[f.name])]));
  const assigned = element.assigned_user_id;
  return {
    fields,
    assignedUserId: assigned === undefined || assigned === null || assigned === '' ? undefined : String(assigned),
    id: element.id,
  };
}
