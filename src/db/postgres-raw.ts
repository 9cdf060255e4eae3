// The driver's statements on PostgreSQL (node-postgres), prepared where they recur.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { nodePostgres } from './pg.js';
import type * as SQL from './sql.js';
import type { RawSql } from './raw.js';

// Prisma keeps PostgreSQL timestamps (without time zone) in UTC: read them as UTC, whatever the
// process's time zone, and send dates as UTC text.
const UTC_TIMESTAMP = 1114;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === UTC_TIMESTAMP
      ? (v: string) => new Date(`${v.replace(' ', 'T')}Z`)
      : nodePostgres.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** What JSON.stringify writes otherwise than an array literal reads it: control characters, lone surrogates. */
const NOT_LITERAL = /[\u0000-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A list of strings as PostgreSQL's array literal: JSON.stringify quotes a string as the literal does (a
 * backslash before `"` and `\`), natively. node-postgres escapes each element with two regular expressions
 * and joins the pieces in JS: a sixth of an executor worker's allocations in a drain (each completion's
 * envelopes). A list holding anything else goes to the driver as it is.
 */
function arrayValue(list: unknown[]): unknown {
  for (const s of list) if (typeof s !== 'string' || NOT_LITERAL.test(s)) return list;
  return `{${JSON.stringify(list).slice(1, -1)}}`;
}

const pgValue = (v: unknown) => (v instanceof Date ? v.toISOString() : Array.isArray(v) ? arrayValue(v) : v);

const statementName = (text: string) => `wsgate_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;

/**
 * Statement texts prepared at most: each connection keeps every statement it prepared until it closes, and
 * VTQL queries come in as many shapes as clients write; past this many, statements run unprepared.
 */
const MAX_PREPARED = 500;

export function postgresRaw(pool: Pick<pg.Pool, 'query'>, changeMark?: () => Promise<number | undefined>): RawSql {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name && names.size < MAX_PREPARED) names.set(text, (name = statementName(text)));
    return name;
  };
  const run = (q: SQL.Sql, prepared: boolean | string = false) => {
    const name = prepared === false ? undefined : nameOf(prepared === true ? q.text : `${q.text}\n-- ${prepared}`);
    return pool.query({ text: q.text, values: q.values.map(pgValue), types, ...(name ? { name } : {}) });
  };
  return {
    async query<T>(q: SQL.Sql, options?: { prepared?: boolean | string }) {
      return (await run(q, options?.prepared)).rows as T[];
    },
    async execute(q) {
      return (await run(q)).rowCount ?? 0;
    },
    ...(changeMark ? { changeMark } : {}),
  };
}
