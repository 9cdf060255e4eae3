// Turns a parsed VTQL query into one parameterized SQL statement over ws_record. Every value from the
// query is a bound parameter; the only names in the SQL text are the module's declared field names.
import * as SQL from '../db/sql.js';
import { WsError } from '../errors.js';
import type { ModuleDefinition, ModuleRegistry } from '../records/modules.js';
import type { CompareOp, Condition, Query, Value } from './ast.js';
import { columnOf, moduleCondition, type Column } from './columns.js';
import type { Dialect } from '../db/dialect.js';
import { syntaxError } from './lexer.js';
import { MAX_RECORD_NUMBER } from '../records/ids.js';

import { DEFAULT_LIMITS, type Limits } from './limits.js';

export { DEFAULT_LIMITS, type Limits } from './limits.js';

export interface TranslatedQuery {
  sql: SQL.Sql;
  module: ModuleDefinition;
  /** 'count' for count(*); otherwise the fields each answered record has, in order. */
  output: 'count' | string[];
  /** Row queries: the count of all the records the query matches, whatever its limit (column count). */
  countSql?: SQL.Sql;
  /** Row queries: the limit and offset the statement applies. */
  count?: number;
  offset?: number;
  /**
   * The statement reads few rows, each cheaply: its filter is led by a field index, and no like pattern has a wildcard before its end (which costs time per
   * character of pattern and value). Such a query may run on the gateway's event loop under a short budget.
   */
  quick: boolean;
}

const NUMBER = /^[+-]?[0-9]+(\.[0-9]+)?$/;
const BOOLEANS: Record<string, number> = { '1': 1, '0': 0, true: 1, false: 0 };

const isEmptyString = (v: Value) => v.kind === 'string' && v.value === '';

function bindId(column: Column, v: Value): number {
  const m = /^(?:([0-9]+)x)?([0-9]{1,15})$/.exec(v.value);
  if (!m || Number(m[2]) > MAX_RECORD_NUMBER) {
    throw new WsError('INVALID_ID_ATTRIBUTE', `${column.name} value '${v.value}' at offset ${v.pos} is not an id such as ${column.idPrefix}x5`);
  }
  if (m[1] !== undefined && m[1] !== column.idPrefix) {
    throw new WsError('INVALID_ID_ATTRIBUTE', `${column.name} value '${v.value}' at offset ${v.pos} is not a ${column.idPrefix}x... id`);
  }
  return Number(m[2]);
}

/** Unquoted true/false compare with boolean fields only. */
function unquotedBooleanFits(column: Column, v: Value): void {
  if (v.kind === 'boolean' && column.kind !== 'boolean') {
    throw syntaxError(v.pos, `${v.value} compares with boolean fields only; ${column.name} is not one (quote it: '${v.value}')`);
  }
}

/** A query value as the parameter its column compares with. */
function bind(column: Column, v: Value): string | number {
  unquotedBooleanFits(column, v);
  switch (column.kind) {
    case 'text':
      return v.value;
    case 'id':
      return bindId(column, v);
    case 'number':
      if (!NUMBER.test(v.value)) throw syntaxError(v.pos, `${column.name} holds numbers; found '${v.value}'`);
      return Number(v.value);
    case 'boolean': {
      const b = BOOLEANS[v.value.toLowerCase()];
      if (b === undefined) throw syntaxError(v.pos, `${column.name} holds 1/0 (true/false); found '${v.value}'`);
      return b;
    }
  }
}

/**
 * The bounds [low, high) of lower(value) for the values a LIKE pattern can match, when it starts with
 * literal ASCII characters ('smi%'); undefined otherwise. Both databases lower ASCII letters only (SQLite
 * without ICU, PostgreSQL under the "C" collation), as LIKE and ILIKE fold them.
 */
export function prefixRange(pattern: string): { low: string; high: string } | undefined {
  let prefix = '';
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i]!;
    if (c === '%' || c === '_') break;
    if (c === '\\' && i + 1 < pattern.length) c = pattern[++i]!;
    if (c.charCodeAt(0) > 0x7f) return undefined;
    prefix += c;
  }
  if (prefix === '') return undefined;
  const low = prefix.toLowerCase();
  const high = low.slice(0, -1) + String.fromCharCode(low.charCodeAt(low.length - 1) + 1);
  return { low, high };
}

/** LIKE patterns use \ as escape on both databases; a trailing lone \ stands for itself, as in MySQL. */
function likePattern(pattern: string): string {
  const trailing = /\\*$/.exec(pattern)![0].length;
  return trailing % 2 ? `${pattern}\\` : pattern;
}

const OPS: Record<CompareOp, SQL.Sql> = {
  '=': SQL.raw('='),
  '!=': SQL.raw('<>'),
  '<': SQL.raw('<'),
  '>': SQL.raw('>'),
  '<=': SQL.raw('<='),
  '>=': SQL.raw('>='),
};

/**
 * `a OR b OR c OR d` as `((a OR b) OR (c OR d))`: SQLite parses a chain into a tree as deep as it is long
 * and refuses trees deeper than 1000 (997 or-terms failed); grouped in halves, 1000 terms nest 10 deep.
 */
function balanced(items: SQL.Sql[], separator: string): SQL.Sql {
  if (items.length <= 4) return SQL.sql`(${SQL.join(items, separator)})`;
  const half = Math.ceil(items.length / 2);
  return SQL.sql`(${balanced(items.slice(0, half), separator)}${SQL.raw(separator)}${balanced(items.slice(half), separator)})`;
}

class Translator {
  /** A condition compares an indexed field's index expression. */
  indexed = false;

  constructor(
    private readonly module: ModuleDefinition,
    private readonly dialect: Dialect,
  ) {}

  column(ref: { name: string; pos: number }): Column {
    return columnOf(this.module, ref, this.dialect);
  }

  condition(c: Condition): SQL.Sql {
    switch (c.kind) {
      case 'and':
      case 'or':
        return balanced(
          c.items.map((i) => this.condition(i)),
          c.kind === 'and' ? ' AND ' : ' OR ',
        );
      case 'null': {
        const { isEmpty } = this.column(c.field);
        return c.negated ? SQL.sql`NOT (${isEmpty})` : isEmpty;
      }
      case 'like': {
        const col = this.column(c.field);
        const not = c.negated ? SQL.raw('NOT ') : SQL.empty;
        const like = SQL.sql`${col.text} ${not}${this.dialect.like} ${likePattern(c.pattern.value)} ESCAPE '\\'`;
        const range = col.folded && !c.negated ? prefixRange(c.pattern.value) : undefined;
        if (!range) return like;
        this.indexed = true;
        return SQL.sql`(${col.folded} >= ${range.low} AND ${col.folded} < ${range.high} AND ${like})`;
      }
      case 'compare':
        return this.compare(this.column(c.field), c.op, c.value);
      case 'in':
        return this.in(this.column(c.field), c.values, c.negated);
    }
  }

  private compare(col: Column, op: CompareOp, v: Value): SQL.Sql {
    // coreBOS clients write field = '' for an empty number or boolean.
    if (col.nullable && isEmptyString(v)) {
      if (op === '=') return col.isEmpty;
      if (op === '!=') return SQL.sql`NOT (${col.isEmpty})`;
    }
    if (col.folded && op === '=') {
      unquotedBooleanFits(col, v);
      this.indexed = true;
      return SQL.sql`(${col.folded} = lower(${v.value}) AND ${col.typed} = ${v.value})`;
    }
    return SQL.sql`${col.typed} ${OPS[op]} ${bind(col, v)}`;
  }

  private in(col: Column, values: Value[], negated: boolean): SQL.Sql {
    const empty = col.nullable && values.some(isEmptyString);
    const rest = col.nullable ? values.filter((v) => !isEmptyString(v)) : values;
    const parts: SQL.Sql[] = [];
    // Built only when some value is left: `in ('')` on a field that can be empty has none (Prisma cannot join []).
    const list = () => SQL.sql`${col.typed} IN (${SQL.join(rest.map((v) => bind(col, v)))})`;
    if (rest.length && col.folded && !negated) {
      for (const v of rest) unquotedBooleanFits(col, v);
      this.indexed = true;
      parts.push(SQL.sql`(${col.folded} IN (${SQL.join(rest.map((v) => SQL.sql`lower(${v.value})`))}) AND ${list()})`);
    } else if (rest.length) parts.push(list());
    if (empty) parts.push(col.isEmpty);
    const any = SQL.join(parts, ' OR ');
    return negated ? SQL.sql`NOT (${any})` : SQL.sql`(${any})`;
  }

  /** The rows `c` selects can be found through a field index: an index predicate leads every branch. */
  driven(c: Condition): boolean {
    switch (c.kind) {
      case 'and':
        return c.items.some((i) => this.driven(i));
      case 'or':
        return c.items.every((i) => this.driven(i));
      case 'compare':
        return c.op === '=' && !!this.column(c.field).folded && !isEmptyString(c.value);
      case 'in':
        return !c.negated && !!this.column(c.field).folded && c.values.some((v) => !isEmptyString(v));
      case 'like':
        return !c.negated && !!this.column(c.field).folded && prefixRange(c.pattern.value) !== undefined;
      case 'null':
        return false;
    }
  }

  /** Every like pattern of `c` is a literal or a prefix ('smi%'): no wildcard before the end. */
  cheap(c: Condition): boolean {
    if (c.kind === 'and' || c.kind === 'or') return c.items.every((i) => this.cheap(i));
    if (c.kind !== 'like') return true;
    return /^[^%_]*%*$/.test(c.pattern.value.replace(/\\./g, ''));
  }

  orderBy(q: Query): SQL.Sql {
    const items = q.orderBy.map(({ field, direction }) => {
      const col = this.column(field);
      const dir = direction === 'desc' ? 'DESC' : 'ASC';
      // MySQL's order (what coreBOS answers): empty values first ascending, last descending.
      const nulls = col.nullable ? (direction === 'desc' ? ' NULLS LAST' : ' NULLS FIRST') : '';
      return SQL.sql`${col.order} ${SQL.raw(dir + nulls)}`;
    });
    // Ties broken by id, so that both databases answer the same order and pages do not overlap; after a
    // field index, by an id no index provides (the dialect's unindexedOrder), so the field index wins.
    const byId = `${this.indexed ? this.dialect.unindexedOrder('id') : 'id'} ASC`;
    if (!q.orderBy.some((o) => o.field.name === 'id')) items.push(SQL.raw(byId));
    return SQL.join(items, ', ');
  }
}

function outputFields(q: Query, module: ModuleDefinition, t: Translator): 'count' | string[] {
  if (q.select.kind === 'count') return 'count';
  if (q.select.kind === 'all') return [...module.fields.map((f) => f.name), 'assigned_user_id', 'createdtime', 'modifiedtime', 'id'];
  const names = [...new Set(q.select.fields.map((f) => t.column(f).name))];
  // coreBOS always answers the id, last when not asked for.
  return names.includes('id') ? names : [...names, 'id'];
}

/**
 * The statement for a parsed query. Row queries answer columns id, owner_id, createdtime, modifiedtime and
 * data, for toRecords; count(*) answers one row with column count, whatever its order by and limit, as
 * countSql does for a row query.
 * Unknown module: INVALID_MODULE; unknown field: ACCESS_DENIED; a value of the wrong type:
 * QUERY_SYNTAX_ERROR, or INVALID_ID_ATTRIBUTE for ids.
 */
export function translate(q: Query, modules: ModuleRegistry, dialect: Dialect, limits: Limits = DEFAULT_LIMITS): TranslatedQuery {
  // coreBOS finds the module with a MySQL lookup, so any case works (its documentation writes `from contacts`).
  const module = modules.find(q.module.name);
  if (!module) throw new WsError('INVALID_MODULE', `Module ${q.module.name} does not exist`);
  const t = new Translator(module, dialect);
  const output = outputFields(q, module, t);
  const live = dialect.live;
  const where = q.where ? SQL.sql`${live} AND ${t.condition(q.where)}` : live;
  const orderBy = t.orderBy(q);
  const countSql = SQL.sql`SELECT COUNT(*) AS count FROM ws_record WHERE ${moduleCondition(module)}${where}`;
  const quick = q.where !== undefined && t.driven(q.where) && t.cheap(q.where);
  if (output === 'count') return { module, output, sql: countSql, quick };
  const created = columnOf(module, { name: 'createdtime', pos: 0 }, dialect).text;
  const modified = columnOf(module, { name: 'modifiedtime', pos: 0 }, dialect).text;
  const count = Math.min(q.limit?.count ?? limits.defaultLimit, limits.maxLimit);
  const offset = q.limit?.offset ?? 0;
  const sql = SQL.sql`SELECT id, owner_id, ${created} AS createdtime, ${modified} AS modifiedtime, data
    FROM ws_record WHERE ${moduleCondition(module)}${where}
    ORDER BY ${orderBy} LIMIT ${count} OFFSET ${offset}`;
  return { module, output, sql, countSql, count, offset, quick };
}
