// Reference fields hold the web-service id of a record of one of the modules they name. An id of another
// module, or of a record that does not exist, is REFERENCE_INVALID (coreBOS's code and wording).
import type { DbTx } from '../db/client.js';
import { WsError } from '../errors.js';
import * as SQL from '../db/sql.js';
import type { WsUser } from '../auth/users.js';
import { may } from './access.js';
import { parseWsId } from './ids.js';
import type { ModuleDefinition, ModuleRegistry } from './modules.js';

export interface ReferencingValues {
  module: ModuleDefinition;
  /** Field values as validated (references already in the form NxM). */
  fields: Record<string, string>;
}

const invalid = (field: string, value: string, why: string) => new WsError('REFERENCE_INVALID', `Invalid reference specified for ${field}: ${value} ${why}`);

/**
 * For each element, the first invalid reference among its fields, or undefined. One query for all of
 * them, so that a MassCreate of a thousand records does not cost a thousand round trips. A record of a
 * module the user may not read counts as missing: otherwise references would tell which ids exist there.
 */
export async function referenceErrors(db: DbTx, modules: ModuleRegistry, elements: ReferencingValues[], user: WsUser): Promise<(WsError | undefined)[]> {
  const errors: (WsError | undefined)[] = elements.map(() => undefined);
  const wanted: { index: number; field: string; value: string; id: number; module: string }[] = [];
  for (const [index, { module, fields }] of elements.entries()) {
    for (const f of module.fields) {
      const value = fields[f.name];
      if (f.type !== 'reference' || !value) continue;
      let parsed;
      try {
        parsed = parseWsId(value, f.name);
      } catch {
        errors[index] ??= invalid(f.name, value, 'is not a record id');
        continue;
      }
      const { prefix, id } = parsed;
      const target = modules.byIdPrefix(prefix);
      if (!target || !f.references!.includes(target.name)) {
        errors[index] ??= invalid(f.name, value, `is not the id of a ${f.references!.join(' or ')} record`);
        continue;
      }
      if (!may(user, target, 'read')) {
        errors[index] ??= invalid(f.name, value, `is not an existing ${target.name} record`);
        continue;
      }
      wanted.push({ index, field: f.name, value, id, module: target.name });
    }
  }
  if (wanted.length === 0) return errors;
  const ids = [...new Set(wanted.map((w) => w.id))];
  const found = new Map<number, string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.query<{ id: unknown; module: string }>(SQL.sql`
      SELECT id, module FROM ws_record WHERE id IN (${SQL.join(ids.slice(i, i + 1000))})`);
    for (const row of rows) found.set(Number(row.id), row.module);
  }
  for (const w of wanted) {
    if (found.get(w.id) !== w.module) errors[w.index] ??= invalid(w.field, w.value, `is not an existing ${w.module} record`);
  }
  return errors;
}

export async function checkReferences(db: DbTx, modules: ModuleRegistry, element: ReferencingValues, user: WsUser): Promise<void> {
  const [error] = await referenceErrors(db, modules, [element], user);
  if (error) throw error;
}

/**
 * Checks the references an update or revise of record `id` sets, except those it leaves as they are: a
 * client that sends back what it retrieved must not fail on a reference to a record deleted since.
 */
export async function checkChangedReferences(db: DbTx, modules: ModuleRegistry, element: ReferencingValues, id: number, user: WsUser): Promise<void> {
  const { module, fields } = element;
  if (!module.fields.some((f) => f.type === 'reference' && fields[f.name])) return;
  const [row] = await db.query<{ data: string }>(SQL.sql`SELECT data FROM ws_record WHERE id = ${id} AND module = ${module.name}`);
  const stored = row ? (JSON.parse(row.data) as Record<string, string>) : {};
  const changed = Object.fromEntries(Object.entries(fields).filter(([name, value]) => stored[name] !== value));
  await checkReferences(db, modules, { module, fields: changed }, user);
}
