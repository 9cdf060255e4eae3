// Reference fields hold the web-service id of a record of one of the modules they name. An id of another
// module, or of a record that does not exist, is REFERENCE_INVALID (coreBOS's code and wording).
import type { DbTx } from '../db/client.js';
import { WsError } from '../errors.js';
import { Prisma } from '../db/generated/sqlite/client.js';
import { parseWsId } from './ids.js';
import type { ModuleDefinition, ModuleRegistry } from './modules.js';

export interface ReferencingValues {
  module: ModuleDefinition;
  /** Field values as validated (references already in the form NxM). */
  fields: Record<string, string>;
}

const invalid = (field: string, value: string, why: string) =>
  new WsError('REFERENCE_INVALID', `Invalid reference specified for ${field}: ${value} ${why}`);

/**
 * For each element, the first invalid reference among its fields, or undefined. One query for all of
 * them, so that a MassCreate of a thousand records does not cost a thousand round trips.
 */
export async function referenceErrors(db: DbTx, modules: ModuleRegistry, elements: ReferencingValues[]): Promise<(WsError | undefined)[]> {
  const errors: (WsError | undefined)[] = elements.map(() => undefined);
  const wanted: { index: number; field: string; value: string; id: number; module: string }[] = [];
  for (const [index, { module, fields }] of elements.entries()) {
    for (const f of module.fields) {
      const value = fields[f.name];
      if (f.type !== 'reference' || !value) continue;
      const { prefix, id } = parseWsId(value, f.name);
      const target = modules.byIdPrefix(prefix);
      if (!target || !f.references!.includes(target.name)) {
        errors[index] ??= invalid(f.name, value, `is not the id of a ${f.references!.join(' or ')} record`);
        continue;
      }
      wanted.push({ index, field: f.name, value, id, module: target.name });
    }
  }
  if (wanted.length === 0) return errors;
  const ids = [...new Set(wanted.map((w) => w.id))];
  const found = new Map<number, string>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.$queryRaw<{ id: unknown; module: string }[]>`
      SELECT id, module FROM ws_record WHERE id IN (${Prisma.join(ids.slice(i, i + 1000))})`;
    for (const row of rows) found.set(Number(row.id), row.module);
  }
  for (const w of wanted) {
    if (found.get(w.id) !== w.module) errors[w.index] ??= invalid(w.field, w.value, `is not an existing ${w.module} record`);
  }
  return errors;
}

export async function checkReferences(db: DbTx, modules: ModuleRegistry, element: ReferencingValues): Promise<void> {
  const [error] = await referenceErrors(db, modules, [element]);
  if (error) throw error;
}
