// Property tests of the VTQL parser (fast-check): any text either parses or is refused with a WsError of a
// known code, never another exception; queries built from the grammar parse into the tree they were built
// from (there is no printer: the generator writes the text and the expected tree together).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WsError } from '../src/errors.js';
import { ModuleRegistry } from '../src/records/modules.js';
import { compileQuery, parseQuery } from '../src/vtql/index.js';
import { postgresql, sqlite } from '../src/db/dialect.js';
import type { Condition, OrderItem, Query, SelectList, Value } from '../src/vtql/ast.js';

const modules = new ModuleRegistry([
  {
    name: 'Contacts',
    label: 'Contacts',
    singular: 'Contact',
    idPrefix: '12',
    labelFields: ['lastname'],
    fields: [
      { name: 'firstname', type: 'string', label: 'First Name' },
      { name: 'lastname', type: 'string', label: 'Last Name', mandatory: true, indexed: true },
      { name: 'age', type: 'integer', label: 'Age' },
      { name: 'score', type: 'decimal', label: 'Score' },
      { name: 'donotcall', type: 'boolean', label: 'Do Not Call' },
      { name: 'account_id', type: 'reference', label: 'Account', references: ['Accounts'] },
    ],
  },
  {
    name: 'Accounts',
    label: 'Accounts',
    singular: 'Account',
    idPrefix: '11',
    labelFields: ['accountname'],
    fields: [{ name: 'accountname', type: 'string', label: 'Name' }],
  },
]);

const PARSE_CODES = ['QUERY_SYNTAX_ERROR'];
// translate adds: unknown module, a field the module lacks (coreBOS answers ACCESS_DENIED), a bad id.
const COMPILE_CODES = [...PARSE_CODES, 'INVALID_MODULE', 'ACCESS_DENIED', 'INVALID_ID_ATTRIBUTE'];

function refusedOrParsed(run: () => unknown, codes: string[]): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof WsError)) throw error;
    assert.ok(codes.includes(error.code), `unexpected code ${error.code}: ${error.message}`);
  }
}

const vocabulary = [
  'select',
  'SELECT',
  'from',
  'where',
  'and',
  'OR',
  'or',
  'not',
  'like',
  'in',
  'is',
  'null',
  'order',
  'by',
  'asc',
  'desc',
  'limit',
  'count',
  '(',
  ')',
  '*',
  ',',
  ';',
  '=',
  '!=',
  '<>',
  '<',
  '>',
  '<=',
  '>=',
  'Contacts',
  'contacts',
  'Accounts',
  'Nope',
  'firstname',
  'lastname',
  'age',
  'score',
  'donotcall',
  'account_id',
  'id',
  'nosuchfield',
  "'x'",
  "'a''b'",
  "'\\'",
  "'",
  '12x5',
  '11x3',
  '5',
  '-3',
  '1.5',
  '99999999999999999999',
  '1x',
  '.',
  '"',
  '%',
  '\\',
  '`',
  '#',
  '--',
  '/*',
];

/** Text made of VTQL's own words, so that the parser gets far into the grammar. */
const tokenSoup = fc
  .array(fc.tuple(fc.constantFrom(...vocabulary), fc.constantFrom(' ', '', '\n', '\t ')), { maxLength: 40 })
  .map((parts) => parts.map(([t, s]) => t + s).join(''));

describe('VTQL parser: properties', () => {
  test('any text parses or is QUERY_SYNTAX_ERROR; compiled, only the known codes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), tokenSoup), (text) => {
        refusedOrParsed(() => parseQuery(text), PARSE_CODES);
        refusedOrParsed(() => compileQuery(text, modules, sqlite), COMPILE_CODES);
        refusedOrParsed(() => compileQuery(text, modules, postgresql), COMPILE_CODES);
      }),
      { numRuns: 2000 },
    );
  });

  test('queries of words: any select ... from ... ; with word soup in between', () => {
    fc.assert(
      fc.property(tokenSoup, tokenSoup, (a, b) => {
        const text = `select ${a} from Contacts ${b};`;
        refusedOrParsed(() => compileQuery(text, modules, sqlite), COMPILE_CODES);
      }),
      { numRuns: 1000 },
    );
  });

  test('well-formed queries parse into the tree they were written from', () => {
    fc.assert(
      fc.property(wellFormed, ({ text, tree }) => {
        assert.deepEqual(withoutPositions(parseQuery(text)), tree, text);
        // Translation may refuse a value of the wrong type for its field, with a known code only.
        refusedOrParsed(() => compileQuery(text, modules, postgresql), COMPILE_CODES);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- the generator of well-formed queries: text and tree together ----

type Tree<T> = T extends { pos: number } ? Omit<{ [K in keyof T]: Tree<T[K]> }, 'pos'> : T extends object ? { [K in keyof T]: Tree<T[K]> } : T;
interface Written<T> {
  text: string;
  tree: Tree<T>;
}

function withoutPositions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutPositions);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== 'pos')
      .map(([k, x]) => [k, withoutPositions(x)]),
  );
}

const space = fc.constantFrom(' ', '  ', '\n', '\t', ' \r\n ');
/** A keyword in any case. */
const keyword = (word: string) =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) => [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
const fieldName = fc.constantFrom('firstname', 'lastname', 'age', 'score', 'donotcall', 'account_id', 'id', 'x_1');

// Strings of up to 10 characters: a like pattern never holds more than 10 % (the wildcard limit).
const stringValue: fc.Arbitrary<Written<Value>> = fc.string({ maxLength: 10 }).map((s) => ({
  text: `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`,
  tree: { kind: 'string', value: s },
}));
const numberText = fc
  .tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{1,12}$/), fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }))
  .map(([sign, int, frac]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}`);
const numberValue: fc.Arbitrary<Written<Value>> = numberText.map((n) => ({ text: n, tree: { kind: 'number', value: n } }));
// A bare web-service id is read as the string it is.
const idValue: fc.Arbitrary<Written<Value>> = fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 99999 })).map(([p, n]) => ({
  text: `${p}x${n}`,
  tree: { kind: 'string', value: `${p}x${n}` },
}));
const value = fc.oneof(stringValue, numberValue, idValue);

const compare: fc.Arbitrary<Written<Condition>> = fc
  .tuple(fieldName, space, fc.constantFrom('=', '!=', '<>', '<', '>', '<=', '>='), space, value)
  .map(([f, s1, op, s2, v]) => ({
    text: `${f}${s1}${op}${s2}${v.text}`,
    tree: { kind: 'compare', field: { name: f }, op: op === '<>' ? '!=' : op, value: v.tree } as Tree<Condition>,
  }));
const like: fc.Arbitrary<Written<Condition>> = fc
  .tuple(fieldName, fc.boolean(), keyword('not'), keyword('like'), stringValue)
  .map(([f, negated, not, kw, v]) => ({
    text: `${f} ${negated ? `${not} ` : ''}${kw} ${v.text}`,
    tree: { kind: 'like', field: { name: f }, negated, pattern: v.tree } as Tree<Condition>,
  }));
const inList: fc.Arbitrary<Written<Condition>> = fc
  .tuple(fieldName, fc.boolean(), keyword('in'), fc.array(value, { minLength: 1, maxLength: 5 }), space)
  .map(([f, negated, kw, values, s]) => ({
    text: `${f} ${negated ? 'not ' : ''}${kw}${s}(${values.map((v) => v.text).join(`,${s}`)})`,
    tree: { kind: 'in', field: { name: f }, negated, values: values.map((v) => v.tree) } as Tree<Condition>,
  }));
const isNull: fc.Arbitrary<Written<Condition>> = fc.tuple(fieldName, fc.boolean(), keyword('is'), keyword('null')).map(([f, negated, is, nul]) => ({
  text: `${f} ${is} ${negated ? 'NOT ' : ''}${nul}`,
  tree: { kind: 'null', field: { name: f }, negated } as Tree<Condition>,
}));

const condition: fc.Arbitrary<Written<Condition>> = fc.letrec<{ cond: Written<Condition> }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    compare,
    like,
    inList,
    isNull,
    fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('cond'), { minLength: 2, maxLength: 4 })).map(([kind, items]) => ({
      // Composite items are written in parentheses, which keeps them one item (an or inside an or too).
      text: items.map((i) => (i.tree.kind === 'and' || i.tree.kind === 'or' ? `(${i.text})` : i.text)).join(` ${kind} `),
      tree: { kind, items: items.map((i) => i.tree) } as Tree<Condition>,
    })),
  ),
})).cond;

const selectList: fc.Arbitrary<Written<SelectList>> = fc.oneof(
  fc.constant({ text: '*', tree: { kind: 'all' } as Tree<SelectList> }),
  keyword('count').map((c) => ({ text: `${c}(*)`, tree: { kind: 'count' } as Tree<SelectList> })),
  fc.array(fieldName, { minLength: 1, maxLength: 4 }).map((fields) => ({
    text: fields.join(', '),
    tree: { kind: 'fields', fields: fields.map((name) => ({ name })) } as Tree<SelectList>,
  })),
);

const orderItem: fc.Arbitrary<Written<OrderItem>> = fc.tuple(fieldName, fc.constantFrom('', ' asc', ' desc', ' DESC')).map(([f, d]) => ({
  text: `${f}${d}`,
  tree: { field: { name: f }, direction: d.trim().toLowerCase() === 'desc' ? 'desc' : 'asc' } as Tree<OrderItem>,
}));

const wellFormed: fc.Arbitrary<Written<Query>> = fc
  .record({
    select: selectList,
    module: fc.constantFrom('Contacts', 'contacts', 'Accounts', 'Nope'),
    where: fc.option(condition, { nil: undefined }),
    orderBy: fc.array(orderItem, { maxLength: 3 }),
    limit: fc.option(fc.tuple(fc.option(fc.nat(1_000_000), { nil: undefined }), fc.nat(1000)), { nil: undefined }),
    sep: space,
    kw: fc.tuple(keyword('select'), keyword('from'), keyword('where'), keyword('order'), keyword('by'), keyword('limit')),
  })
  .map(({ select, module, where, orderBy, limit, sep, kw: [sel, from, wh, order, by, lim] }) => {
    let text = `${sel} ${select.text}${sep}${from} ${module}`;
    const tree: Tree<Query> = { select: select.tree, module: { name: module }, orderBy: orderBy.map((o) => o.tree) };
    if (where) {
      text += ` ${wh} ${where.text}`;
      tree.where = where.tree;
    }
    if (orderBy.length) text += ` ${order} ${by} ${orderBy.map((o) => o.text).join(',')}`;
    if (limit) {
      const [offset, count] = limit;
      text += ` ${lim} ${offset === undefined ? '' : `${offset},`}${count}`;
      tree.limit = { offset: offset ?? 0, count };
    }
    return { text: `${text}${sep};`, tree };
  });
