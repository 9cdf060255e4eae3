// Indexes for the fields the module file marks `indexed`: one partial expression index per module and
// field, on the expression the query statements compare (columns.ts), so that a filter on such a field
// reads the matching records only instead of every record of the module. `wsgate serve` creates them when
// it starts and drops those of fields no longer marked (or changed). A plain CREATE INDEX: on PostgreSQL it
// holds writes to ws_record while it builds (CONCURRENTLY would not, but leaves an invalid index behind when
// interrupted, which IF NOT EXISTS would then take for done).
import { createHash } from 'node:crypto';
import * as SQL from '../db/sql.js';
import type { RawSql } from '../db/raw.js';
import type { ModuleRegistry } from '../records/modules.js';
import { indexExpression, moduleCondition } from './columns.js';
import type { Dialect } from '../db/dialect.js';

export interface FieldIndex {
  name: string;
  sql: string;
}

const PREFIX = 'wsx_';

/** The indexes the modules want, named after what they are built on (a change of expression renames them). */
export function wantedIndexes(modules: ModuleRegistry, dialect: Dialect): FieldIndex[] {
  const out: FieldIndex[] = [];
  for (const module of modules.modules) {
    for (const field of module.fields.filter((f) => f.indexed)) {
      const expression = indexExpression(module, field.name, dialect);
      const where = moduleCondition(module);
      // The module leads although the index is partial: SQLite, without statistics, prefers the index that
      // serves more of the WHERE clause's terms, and module = '...' is one of them.
      const body = `ON ws_record (module, (${expression.sql})) WHERE ${where.sql}`;
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
      // PostgreSQL names are at most 63 bytes.
      const name = `${PREFIX}${module.name.toLowerCase().slice(0, 20)}_${field.name.slice(0, 20)}_${hash}`;
      out.push({ name, sql: `CREATE INDEX IF NOT EXISTS ${name} ${body}` });
    }
  }
  return out;
}

/** PostgreSQL: another process created the same index at the same moment. */
const isRace = (error: unknown) => ['23505', '42P07'].includes(String((error as { code?: unknown }).code));

/** Creates the wanted indexes that are missing and drops wsgate's other field indexes; returns what it did. */
export async function syncFieldIndexes(raw: RawSql, modules: ModuleRegistry, dialect: Dialect): Promise<{ created: string[]; dropped: string[] }> {
  const wanted = wantedIndexes(modules, dialect);
  const have = new Set((await raw.query<{ name: string }>(dialect.fieldIndexes)).map((r) => r.name));
  const created: string[] = [];
  for (const index of wanted.filter((w) => !have.has(w.name))) {
    try {
      // Building an index over a large table may take longer than a request's statement may: no limit for it.
      await raw.execute(SQL.raw(dialect.untimed(index.sql)));
      created.push(index.name);
    } catch (error) {
      if (!isRace(error)) throw error;
    }
  }
  const keep = new Set(wanted.map((w) => w.name));
  const dropped = [...have].filter((name) => !keep.has(name));
  for (const name of dropped) {
    await raw.execute(SQL.raw(dialect.untimed(`DROP INDEX IF EXISTS ${name}`)));
  }
  return { created, dropped };
}
