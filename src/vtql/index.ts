// VTQL, coreBOS's query language: parse, translate to SQL over ws_record, shape the rows.
//   const q = compileQuery(text, modules, 'sqlite');
//   const records = toRecords(q, await raw.query(q.sql));
import type { ModuleRegistry } from '../records/modules.js';
import { parseQuery } from './parser.js';
import { DEFAULT_LIMITS, translate, type Limits, type TranslatedQuery } from './translate.js';
import type { Dialect } from '../db/dialect.js';

export { parseQuery } from './parser.js';
export { MAX_DEPTH, MAX_ORDER_TERMS, MAX_PATTERN_WILDCARDS } from './limits.js';
export { DEFAULT_LIMITS, translate, type Limits, type TranslatedQuery } from './translate.js';
export { toRecords, type VtqlRecord } from './rows.js';

export function compileQuery(text: string, modules: ModuleRegistry, dialect: Dialect, limits: Limits = DEFAULT_LIMITS): TranslatedQuery {
  return translate(parseQuery(text, limits), modules, dialect, limits);
}
