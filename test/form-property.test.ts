// Properties of the parameter decoder (src/http/form.ts), with fast-check: what URLSearchParams and PHP's
// http_build_query encode comes back whole; no input throws anything but a WsError; nothing reaches
// Object.prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseForm } from '../src/http/form.js';
import { WsError } from '../src/errors.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Any well-formed text (URLSearchParams turns lone surrogates into U+FFFD, as a browser would). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !LONE_SURROGATE.test(s));

/** A plain parameter name: PHP would read it as it is (no brackets, no leading space, not a prototype key). */
const plainName = text.filter((s) => s.length > 0 && !/[[\]]/.test(s) && !s.startsWith(' ') && !FORBIDDEN.has(s));

/** An index inside brackets: no `]`, not empty (that is `[]`), not a decimal that PHP would make a list index. */
const indexName = text.filter((s) => s.length > 0 && !s.includes(']') && !/^(?:0|-?[1-9][0-9]*)$/.test(s) && !FORBIDDEN.has(s));

type Tree = string | Tree[] | { [key: string]: Tree };

const { tree } = fc.letrec<{ tree: Tree; list: Tree[]; object: Record<string, Tree> }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, tie('list'), tie('object')),
  list: fc.array(tie('tree'), { minLength: 1, maxLength: 4 }),
  object: fc.dictionary(indexName, tie('tree'), { minKeys: 1, maxKeys: 4, noNullPrototype: true }),
}));

/** PHP's http_build_query: names and values percent-encoded, brackets too, lists with their indexes. */
function httpBuildQuery(params: Record<string, Tree>): string {
  const pairs: string[] = [];
  const walk = (name: string, value: Tree) => {
    if (typeof value === 'string') {
      pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
      return;
    }
    const entries: [string, Tree][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [k, v] of entries) walk(`${name}[${k}]`, v);
  };
  for (const [k, v] of Object.entries(params)) walk(k, v);
  return pairs.join('&');
}

/** A plain copy (the decoder's top level has no prototype), for deepEqual against plain objects. */
const plain = (o: Record<string, unknown>) => ({ ...o });

test('URLSearchParams-encoded records of strings decode to the same record', () => {
  fc.assert(
    fc.property(fc.dictionary(plainName, text, { maxKeys: 20, noNullPrototype: true }), (record) => {
      assert.deepEqual(plain(parseForm(new URLSearchParams(record).toString())), record);
    }),
    { numRuns: 500 },
  );
});

test('http_build_query-encoded nested values decode to the same values', () => {
  fc.assert(
    fc.property(fc.dictionary(plainName, tree, { maxKeys: 6, noNullPrototype: true }), (params) => {
      assert.deepEqual(plain(parseForm(httpBuildQuery(params))), params);
    }),
    { numRuns: 500 },
  );
});

/** Inputs made of the decoder's special characters and the names that could reach a prototype. */
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '[',
        ']',
        '[]',
        '&',
        '=',
        '%',
        '%5B',
        '%5D',
        '%5b',
        '+',
        ' ',
        '.',
        '__proto__',
        'constructor',
        'prototype',
        'polluted',
        '0',
        '1',
        '-1',
        'a',
        '%zz',
        '%C3',
        '%00',
      ),
      text,
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const standardPrototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

function assertNoPollution(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const proto = Object.getPrototypeOf(value);
  assert.ok(proto === null || proto === Object.prototype || proto === Array.prototype, 'a plain object, list or the prototype-less top level');
  for (const v of Object.values(value)) assertNoPollution(v);
}

test('any input decodes or throws a WsError, and nothing lands on Object.prototype', () => {
  const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('utf8'));
  fc.assert(
    fc.property(fc.oneof(bytes, hostile, fc.string({ unit: 'binary', maxLength: 200 })), (input) => {
      let decoded: Record<string, unknown> | undefined;
      try {
        decoded = parseForm(input);
      } catch (error) {
        assert.ok(error instanceof WsError, `not a WsError: ${String(error)}`);
        assert.equal(error.code, 'INVALID_PARAMETER');
      }
      assertNoPollution(decoded);
      assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), standardPrototypeKeys);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
    }),
    { numRuns: 2000 },
  );
});
