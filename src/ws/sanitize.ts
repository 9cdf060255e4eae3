// Only declared parameters reach an operation; `encoded` ones are JSON-decoded (coreBOS "sanitized" input).
import { WsError } from '../errors.js';
import type { OperationDefinition, Params } from '../operations/types.js';

export function sanitize(op: OperationDefinition, raw: Record<string, unknown>): Params {
  const params: Params = {};
  for (const spec of op.params) {
    const value = raw[spec.name];
    if (value === undefined || value === null || value === '') {
      if (spec.required) throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} is required`);
      continue;
    }
    if (spec.type === 'encoded') {
      if (typeof value !== 'string') {
        params[spec.name] = value; // a JSON body already carries it decoded
        continue;
      }
      try {
        params[spec.name] = JSON.parse(value);
      } catch {
        throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} is not valid JSON`);
      }
    } else {
      if (typeof value === 'object') throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} must be a string`);
      params[spec.name] = String(value);
    }
  }
  return params;
}
