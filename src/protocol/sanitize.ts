// Only declared parameters reach an operation; `encoded` ones are JSON-decoded (coreBOS "sanitized" input)
// and may nest at most MAX_JSON_DEPTH deep.
import { WsError } from '../errors.js';
import type { OperationDefinition, Params } from '../operations/types.js';

/**
 * The deepest JSON a parameter may hold (objects and lists within each other). A MassCreate element is 3
 * deep; JSON nested 10,000 deep answered INTERNAL_SERVER_ERROR from the code that walks it.
 */
export const MAX_JSON_DEPTH = 32;

/**
 * The nesting depth of a decoded JSON value, without recursion (a scalar is 0, [] or {} is 1); `Infinity` when
 * a string or key in it holds a NUL character, which PostgreSQL's jsonb refuses (a record holding one would
 * fail every query that reads its fields).
 */
export function jsonDepth(value: unknown, stopAt = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) return Infinity;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > stopAt) return deepest;
    for (const [key, child] of Object.entries(v)) {
      if (key.includes('\0')) return Infinity;
      if (typeof child === 'string' || (typeof child === 'object' && child !== null)) stack.push([child, here]);
    }
  }
  return deepest;
}

function checkDepth(op: OperationDefinition, name: string, value: unknown): unknown {
  const depth = jsonDepth(value, MAX_JSON_DEPTH);
  if (depth === Infinity) throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${name} contains a NUL character`);
  if (depth > MAX_JSON_DEPTH) {
    throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${name} nests JSON deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

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
        params[spec.name] = checkDepth(op, spec.name, value); // a JSON body already carries it decoded
        continue;
      }
      let decoded: unknown;
      try {
        decoded = JSON.parse(value);
      } catch {
        throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} is not valid JSON`);
      }
      params[spec.name] = checkDepth(op, spec.name, decoded);
    } else {
      if (typeof value === 'object') throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} must be a string`);
      const text = String(value);
      // No name, id, key or query holds one, and PostgreSQL's text cannot store it.
      if (text.includes('\0')) throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} contains a NUL character`);
      params[spec.name] = text;
    }
  }
  return params;
}
