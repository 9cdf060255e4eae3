// Query strings and form bodies decoded as PHP does: `+` is a space and only valid %XX sequences are
// decoded. corebos-ws-lib puts JSON values and LIKE patterns into bodies and URLs without encoding them,
// so a lone `%` must stay a `%` rather than break the request (decodeURIComponent would throw).
import { WsError } from '../errors.js';

export function decodeComponent(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  const spaced = text.replace(/\+/g, ' ');
  try {
    // The native decoder, twenty times faster on a large encoded body, gives the same text whenever every
    // % starts a valid sequence of UTF-8; otherwise it throws and the decoding below does PHP's.
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
  }
}

/** PHP's max_input_vars: the most name=value pairs one query string or form body may hold. */
export const MAX_FORM_PAIRS = 1000;
/** PHP's max_input_nesting_level: the most bracket levels of one name (`a[b][c]` has two). */
export const MAX_FORM_NESTING = 64;

/** Names that would reach an object's prototype if a later layer assigned them carelessly. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A value being built: a string, or a PHP array (ordered keys; `next` is the index `[]` appends at, as
 * PHP's nNextFreeElement). Maps rather than objects, so that no key can touch a prototype.
 */
type Node = string | PhpArray;
interface PhpArray {
  entries: Map<string, Node>;
  next: number;
}

const newArray = (): PhpArray => ({ entries: new Map(), next: 0 });

/** Keys PHP makes integers (canonical decimals): they move the index `[]` appends at. */
const INTEGER_KEY = /^(?:0|-?[1-9][0-9]{0,17})$/;

function setIn(array: PhpArray, key: string | null, value: Node): void {
  const k = key ?? String(array.next);
  if (INTEGER_KEY.test(k) && Number(k) >= array.next) array.next = Number(k) + 1;
  array.entries.set(k, value);
}

function refuseKey(key: string): void {
  if (FORBIDDEN_KEYS.has(key)) throw new WsError('INVALID_PARAMETER', `Parameter name part "${key}" is not allowed`);
}

/**
 * Splits a decoded parameter name as PHP's php_register_variable_ex does: `base[i1][i2]...`. Leading
 * spaces of the name are dropped; an empty base drops the pair (null); a first `[` that is never closed
 * becomes `_` and the rest is part of the base; text after a `]` that does not open another `[` is
 * ignored. `[]` is an index of null (append).
 */
function splitName(name: string): { base: string; indexes: (string | null)[] } | null {
  const trimmed = name.replace(/^ +/, '');
  const open = trimmed.indexOf('[');
  if (open < 0) return trimmed ? { base: trimmed, indexes: [] } : null;
  const indexes: (string | null)[] = [];
  let base = trimmed.slice(0, open);
  let at = open;
  while (at < trimmed.length && trimmed[at] === '[') {
    const close = trimmed.indexOf(']', at + 1);
    if (close < 0) {
      // PHP: an unclosed first bracket is part of the name, read as `_`; a later one ends the name.
      if (indexes.length === 0) base = `${base}_${trimmed.slice(at + 1)}`;
      break;
    }
    const index = trimmed.slice(at + 1, close);
    indexes.push(index === '' ? null : index);
    if (indexes.length > MAX_FORM_NESTING) {
      throw new WsError('INVALID_PARAMETER', `Parameter ${base}: more than ${MAX_FORM_NESTING} levels of [] (the limit of nesting)`);
    }
    at = close + 1;
  }
  if (!base) return null;
  return { base, indexes };
}

/** A list when its keys are 0..n-1 in order (as PHP's json_encode sees it), an object otherwise. */
function toValue(node: Node): unknown {
  if (typeof node === 'string') return node;
  const keys = [...node.entries.keys()];
  if (keys.every((k, i) => k === String(i))) return [...node.entries.values()].map(toValue);
  // Object.fromEntries defines own properties (no __proto__ setter); the keys were checked anyway.
  return Object.fromEntries([...node.entries].map(([k, v]) => [k, toValue(v)]));
}

/**
 * `a=1&b=2`, read as PHP's parse_str reads it: a repeated plain name keeps its last value; bracketed names
 * build arrays: `o[k]=1&o[j]=2` is `{k:"1",j:"2"}`, `a[]=1&a[]=2` is `["1","2"]`, `a[b][c]=1` nests. A
 * later plain value replaces an array and a later bracketed name replaces a plain value, as in PHP.
 * Unlike PHP, dots and spaces inside names are kept (PHP turns them into `_`). At most MAX_FORM_PAIRS
 * pairs and MAX_FORM_NESTING levels (PHP drops the excess silently; wsgate answers INVALID_PARAMETER),
 * and no name part may be `__proto__`, `constructor` or `prototype`.
 */
export function parseForm(text: string): Record<string, unknown> {
  const root = new Map<string, Node>();
  let pairs = 0;
  for (const pair of text.split('&')) {
    if (!pair) continue;
    if (++pairs > MAX_FORM_PAIRS) {
      throw new WsError('INVALID_PARAMETER', `More than ${MAX_FORM_PAIRS} parameters in one query string or body (the limit of parameters)`);
    }
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const split = splitName(name);
    if (!split) continue;
    refuseKey(split.base);
    if (split.indexes.length === 0) {
      root.set(split.base, value);
      continue;
    }
    let parent = root.get(split.base);
    if (parent === undefined || typeof parent === 'string') {
      parent = newArray();
      root.set(split.base, parent);
    }
    let array: PhpArray = parent;
    const last = split.indexes.length - 1;
    for (let i = 0; i < last; i++) {
      const index = split.indexes[i]!;
      if (index !== null) refuseKey(index);
      const existing = index === null ? undefined : array.entries.get(index);
      if (existing !== undefined && typeof existing !== 'string') {
        array = existing;
        continue;
      }
      const child = newArray();
      setIn(array, index, child);
      array = child;
    }
    const index = split.indexes[last]!;
    if (index !== null) refuseKey(index);
    setIn(array, index, value);
  }
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of root) out[k] = toValue(v);
  return out;
}
