// The parsed form of a VTQL query. Positions are 0-based character offsets into the query text.

export interface FieldRef {
  name: string;
  pos: number;
}

/**
 * A literal: strings are decoded (quotes and escapes removed); numbers keep their source text; `true` and
 * `false` unquoted are booleans (value 'true' or 'false').
 */
export interface Value {
  kind: 'string' | 'number' | 'boolean';
  value: string;
  pos: number;
}

export type CompareOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type Condition =
  | { kind: 'compare'; field: FieldRef; op: CompareOp; value: Value }
  | { kind: 'like'; field: FieldRef; negated: boolean; pattern: Value }
  | { kind: 'in'; field: FieldRef; negated: boolean; values: Value[] }
  | { kind: 'null'; field: FieldRef; negated: boolean }
  | { kind: 'and' | 'or'; items: Condition[] };

export type SelectList = { kind: 'all' } | { kind: 'count' } | { kind: 'fields'; fields: FieldRef[] };

export interface OrderItem {
  field: FieldRef;
  direction: 'asc' | 'desc';
}

export interface Query {
  select: SelectList;
  module: { name: string; pos: number };
  where?: Condition;
  orderBy: OrderItem[];
  limit?: { offset: number; count: number };
}
