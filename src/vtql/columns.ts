// How a VTQL field reads in SQL over ws_record, on each database (the words that differ are the Dialect's,
// src/db/dialect.ts). Declared fields live in the JSON text column `data` (every value a string, '' when empty); the system fields are columns of their own.
import * as SQL from '../db/sql.js';
import type { Dialect } from '../db/dialect.js';
import { WsError } from '../errors.js';
import { USERS_MODULE_PREFIX } from '../auth/users.js';
import type { FieldType, ModuleDefinition } from '../records/modules.js';
import type { FieldRef } from './ast.js';

/** How values of a field compare: as text, as numbers, as 0/1, or as web-service ids. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'id';

export interface Column {
  name: string;
  kind: ValueKind;
  /** For ids: the prefix a value must carry (12 in 12x5). */
  idPrefix?: string;
  /** The expression comparisons use; for numbers and booleans NULL when the value is empty. */
  typed: SQL.Sql;
  /** The value as coreBOS answers it (text), which LIKE matches. */
  text: SQL.Sql;
  /** True when the field is empty ('is null'). */
  isEmpty: SQL.Sql;
  order: SQL.Sql;
  nullable: boolean;
  /**
   * Indexed text fields: the expression their index holds, lower(text). Equality, in-lists and prefix
   * patterns also compare it, so that the database finds the rows through the index.
   */
  folded?: SQL.Sql;
}

const KIND: Record<FieldType, ValueKind> = {
  string: 'text',
  text: 'text',
  email: 'text',
  phone: 'text',
  url: 'text',
  picklist: 'text',
  date: 'text',
  datetime: 'text',
  integer: 'number',
  decimal: 'number',
  boolean: 'boolean',
  reference: 'text',
};

// Names come from the module file, whose schema allows only these; checked again since they enter SQL text.
const SAFE_NAME = /^[a-z][a-z0-9_]*$/;

const idText = (prefix: string, column: 'id' | 'owner_id') => SQL.sql`(CAST(${prefix} AS TEXT) || 'x' || CAST(${SQL.raw(column)} AS TEXT))`;

function idColumn(name: string, column: 'id' | 'owner_id', prefix: string): Column {
  const typed = SQL.raw(column);
  return { name, kind: 'id', idPrefix: prefix, typed, text: idText(prefix, column), isEmpty: SQL.sql`${typed} IS NULL`, order: typed, nullable: false };
}

function textColumn(name: string, text: SQL.Sql, order = text): Column {
  return { name, kind: 'text', typed: text, text, isEmpty: SQL.sql`${text} = ''`, order, nullable: false };
}

/** The column of a field of the module; ACCESS_DENIED (coreBOS's answer) for a field the module lacks. */
export function columnOf(module: ModuleDefinition, ref: FieldRef, dialect: Dialect): Column {
  switch (ref.name) {
    case 'id':
      return idColumn('id', 'id', module.idPrefix);
    case 'assigned_user_id':
      return idColumn('assigned_user_id', 'owner_id', USERS_MODULE_PREFIX);
    case 'createdtime':
      return textColumn('createdtime', dialect.dateTimeText('created_at'), SQL.raw('created_at'));
    case 'modifiedtime':
      return textColumn('modifiedtime', dialect.dateTimeText('modified_at'), SQL.raw('modified_at'));
  }
  const field = module.fields.find((f) => f.name === ref.name);
  if (!field) {
    throw new WsError('ACCESS_DENIED', `Permission to access ${ref.name} attribute denied: ${module.name} has no field ${ref.name} (offset ${ref.pos})`);
  }
  if (!SAFE_NAME.test(field.name)) throw new Error(`module ${module.name}: field name ${field.name} is not a plain name`);
  const kind = KIND[field.type];
  if (kind === 'text') {
    const column = textColumn(field.name, dialect.jsonText(field.name));
    return field.indexed ? { ...column, folded: SQL.sql`lower(${column.text})` } : column;
  }
  const typed = dialect.jsonCast(field.name, kind === 'number' ? 'number' : 'boolean');
  return { name: field.name, kind, typed, text: dialect.jsonText(field.name), isEmpty: SQL.sql`${typed} IS NULL`, order: typed, nullable: true };
}

/**
 * The expression an indexed field's index is built on: exactly what the statements of translate.ts
 * compare, or the database would not use it. Text: lower(text); numbers and booleans: the typed value.
 */
export function indexExpression(module: ModuleDefinition, fieldName: string, dialect: Dialect): SQL.Sql {
  const column = columnOf(module, { name: fieldName, pos: 0 }, dialect);
  return column.kind === 'text' ? SQL.sql`lower(${column.text})` : column.typed;
}

const MODULE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * `module = '<name>'` with the name written into the SQL: a partial index (one per module and field) is
 * used only when the query's condition is the index's own, literally. Module names come from the module
 * file, whose schema allows only letters, digits and _; checked again here.
 */
export function moduleCondition(module: ModuleDefinition): SQL.Sql {
  if (!MODULE_NAME.test(module.name)) throw new Error(`module name ${module.name} is not a plain name`);
  return SQL.raw(`module = '${module.name}'`);
}
