// Records of the declared modules: create, retrieve, update, delete, in coreBOS's answer shape.
import type { DbTx } from '../db/client.js';
import { WsError } from '../errors.js';
import { toDate } from '../db/values.js';
import { USERS_MODULE_PREFIX, formatUserId, type WsUser } from '../auth/users.js';
import { formatWsId, parseWsId } from './ids.js';
import type { ModuleDefinition, ModuleRegistry } from './modules.js';
import type { ValidElement } from './validate.js';
import { checkChangedReferences, checkReferences, referenceErrors } from './references.js';
import * as SQL from '../db/sql.js';
import type { Dialect } from '../db/dialect.js';

export type WsRecord = Record<string, string>;

let lastTime = NaN;
let lastText = '';

/** coreBOS's date-time format, in UTC. Remembers the last one: a MassCreate's records share their time. */
export function formatDateTime(d: Date): string {
  if (d.getTime() !== lastTime) {
    lastTime = d.getTime();
    lastText = d.toISOString().slice(0, 19).replace('T', ' ');
  }
  return lastText;
}

export interface StoredRecord {
  id: number;
  module: string;
  ownerId: number;
  data: string;
  createdAt: Date;
  modifiedAt: Date;
}

function present(module: ModuleDefinition, row: StoredRecord): WsRecord {
  const data = JSON.parse(row.data) as Record<string, string>;
  const out: WsRecord = {};
  for (const f of module.fields) out[f.name] = data[f.name] ?? '';
  out.assigned_user_id = formatUserId(row.ownerId);
  out.createdtime = formatDateTime(row.createdAt);
  out.modifiedtime = formatDateTime(row.modifiedAt);
  out.id = formatWsId(module.idPrefix, row.id);
  return out;
}

/** The owner named by assigned_user_id (a user id such as 19x1), or the caller when none is given. */
export async function resolveOwner(db: DbTx, assignedUserId: string | undefined, caller: WsUser): Promise<number> {
  if (assignedUserId === undefined) return caller.id;
  const ref = parseWsId(assignedUserId, 'assigned_user_id');
  if (ref.prefix !== USERS_MODULE_PREFIX) {
    throw new WsError('REFERENCE_INVALID', `assigned_user_id ${assignedUserId} is not a user id (19x...)`);
  }
  if (ref.id === caller.id) return caller.id;
  const [user] = await db.query<{ id: unknown }>(SQL.sql`SELECT id FROM ws_user WHERE id = ${ref.id}`);
  if (!user) throw new WsError('REFERENCE_INVALID', `assigned_user_id ${assignedUserId}: no such user`);
  return Number(user.id);
}

export function moduleOf(modules: ModuleRegistry, elementType: unknown): ModuleDefinition {
  const module = typeof elementType === 'string' ? modules.get(elementType) : undefined;
  if (!module) throw new WsError('INVALID_MODULE', `Module ${String(elementType)} does not exist`);
  return module;
}

export function moduleOfId(modules: ModuleRegistry, wsid: unknown): { module: ModuleDefinition; id: number } {
  const { prefix, id } = parseWsId(wsid);
  const module = modules.byIdPrefix(prefix);
  if (!module) throw new WsError('INVALID_MODULE', `Id ${String(wsid)}: no module has id prefix ${prefix}`);
  return { module, id };
}

export async function createRecord(db: DbTx, modules: ModuleRegistry, module: ModuleDefinition, element: ValidElement, caller: WsUser, now: Date) {
  await checkReferences(db, modules, { module, fields: element.fields }, caller);
  const ownerId = await resolveOwner(db, element.assignedUserId, caller);
  const data = JSON.stringify(element.fields);
  // The executor's busiest statement: raw, since Prisma's create costs about three times as much per call;
  // prepared, as PostgreSQL would otherwise parse and plan it at every create.
  const [row] = await db.query<{ id: unknown }>(
    SQL.sql`
    INSERT INTO ws_record (module, owner_id, data, created_at, modified_at)
    VALUES (${module.name}, ${ownerId}, ${data}, ${now}, ${now})
    RETURNING id`,
    { prepared: true },
  );
  return present(module, { id: Number(row!.id), module: module.name, ownerId, data, createdAt: now, modifiedAt: now });
}

const notFound = (module: ModuleDefinition, id: number) =>
  new WsError('RECORD_NOT_FOUND', `Record you are trying to access is not found: ${formatWsId(module.idPrefix, id)}`);

type StoredRow = { owner_id: unknown; data: string; created_at: unknown; modified_at: unknown };

const storedOf = (module: ModuleDefinition, id: number, row: StoredRow): StoredRecord => ({
  id,
  module: module.name,
  ownerId: Number(row.owner_id),
  data: row.data,
  createdAt: toDate(row.created_at),
  modifiedAt: toDate(row.modified_at),
});

/** The record, or RECORD_NOT_FOUND. */
export async function findRecord(db: DbTx, module: ModuleDefinition, id: number): Promise<StoredRecord> {
  const [row] = await db.query<StoredRow>(SQL.sql`SELECT owner_id, data, created_at, modified_at FROM ws_record WHERE id = ${id} AND module = ${module.name}`, {
    prepared: true,
  });
  if (!row) throw notFound(module, id);
  return storedOf(module, id, row);
}

export const presentRecord = present;

/** The records of `module` among `ids` that exist, by id (1,000 ids a statement). */
export async function findRecords(db: DbTx, module: ModuleDefinition, ids: number[]): Promise<Map<number, StoredRecord>> {
  const found = new Map<number, StoredRecord>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.query<StoredRow & { id: unknown }>(SQL.sql`
      SELECT id, owner_id, data, created_at, modified_at FROM ws_record WHERE module = ${module.name} AND id IN (${SQL.join(ids.slice(i, i + 1000))})`);
    for (const r of rows) found.set(Number(r.id), storedOf(module, Number(r.id), r));
  }
  return found;
}

/** Replaces every field of the record (coreBOS update: fields not sent become empty). */
export async function updateRecord(db: DbTx, modules: ModuleRegistry, module: ModuleDefinition, id: number, element: ValidElement, caller: WsUser, now: Date) {
  await checkChangedReferences(db, modules, { module, fields: element.fields }, id, caller);
  // The owner changes only when the caller names one; one statement, so that a concurrent update's owner
  // is not overwritten with a value read before it, and a concurrent delete gives RECORD_NOT_FOUND.
  const ownerId = element.assignedUserId === undefined ? null : await resolveOwner(db, element.assignedUserId, caller);
  const data = JSON.stringify(element.fields);
  const [row] = await db.query<{ owner_id: unknown; created_at: unknown }>(SQL.sql`
    UPDATE ws_record SET data = ${data}, modified_at = ${now}, owner_id = COALESCE(${ownerId}, owner_id)
    WHERE id = ${id} AND module = ${module.name}
    RETURNING owner_id, created_at`);
  if (!row) throw notFound(module, id);
  return present(module, { id, module: module.name, ownerId: Number(row.owner_id), data, createdAt: toDate(row.created_at), modifiedAt: now });
}

/** Sets only the fields the element gives (coreBOS revise); the others keep their values. */
export async function reviseRecord(
  db: DbTx,
  dialect: Dialect,
  modules: ModuleRegistry,
  module: ModuleDefinition,
  id: number,
  element: ValidElement,
  caller: WsUser,
  now: Date,
) {
  await checkChangedReferences(db, modules, { module, fields: element.fields }, id, caller);
  const ownerId = element.assignedUserId === undefined ? null : await resolveOwner(db, element.assignedUserId, caller);
  // Merged by the database in the one statement, so that a concurrent revise of other fields is kept.
  const [row] = await db.query<{ owner_id: unknown; created_at: unknown; data: string }>(SQL.sql`
    UPDATE ws_record SET data = ${dialect.mergeJson('data', JSON.stringify(element.fields))}, modified_at = ${now},
      owner_id = COALESCE(${ownerId}, owner_id)
    WHERE id = ${id} AND module = ${module.name}
    RETURNING owner_id, created_at, data`);
  if (!row) throw notFound(module, id);
  return present(module, { id, module: module.name, ownerId: Number(row.owner_id), data: row.data, createdAt: toDate(row.created_at), modifiedAt: now });
}

export interface NewRecord {
  module: ModuleDefinition;
  element: ValidElement;
}

/** Records per INSERT (one JSON parameter each). */
const INSERT_CHUNK = 1000;

/**
 * Creates many records with a few multi-row INSERTs. Each element ends as its record, or as the error
 * that kept it from being created (an invalid reference or owner); the others are created regardless.
 */
export async function createRecords(
  db: DbTx,
  dialect: Dialect,
  modules: ModuleRegistry,
  items: NewRecord[],
  caller: WsUser,
  now: Date,
): Promise<(WsRecord | WsError)[]> {
  const outcomes: (WsRecord | WsError | undefined)[] = await referenceErrors(
    db,
    modules,
    items.map((i) => ({ module: i.module, fields: i.element.fields })),
    caller,
  );
  const owners = new Map<string | undefined, number | WsError>();
  const rows: { index: number; module: ModuleDefinition; ownerId: number; data: string }[] = [];
  for (const [index, item] of items.entries()) {
    if (outcomes[index]) continue;
    const key = item.element.assignedUserId;
    if (!owners.has(key)) {
      owners.set(key, await resolveOwner(db, key, caller).catch((e: unknown) => (e instanceof WsError ? e : Promise.reject(e))));
    }
    const owner = owners.get(key)!;
    if (owner instanceof WsError) outcomes[index] = owner;
    else rows.push({ index, module: item.module, ownerId: owner, data: JSON.stringify(item.element.fields) });
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    // The rows travel as one JSON parameter: one statement text whatever the chunk's size, within every
    // database's limit on bound values.
    const json = JSON.stringify(chunk.map((r) => ({ module: r.module.name, owner_id: r.ownerId, data: r.data })));
    const inserted = await db.query<{ id: unknown }>(SQL.sql`
      INSERT INTO ws_record (module, owner_id, data, created_at, modified_at)
      SELECT v.module, v.owner_id, v.data, ${now}, ${now} FROM ${dialect.jsonRows(json, { module: 'text', owner_id: 'integer', data: 'text' }, 'ord')} ORDER BY v.ord
      RETURNING id`);
    // Both databases number the rows of one INSERT in the order it receives them (SQLite's rowids, a
    // PostgreSQL sequence read row by row), here ORDER BY ord; RETURNING's own order is not promised.
    const ids = inserted.map((r) => Number(r.id)).sort((a, b) => a - b);
    if (ids.length !== chunk.length) throw new Error(`INSERT of ${chunk.length} records returned ${ids.length} ids`);
    for (const [k, r] of chunk.entries()) {
      outcomes[r.index] = present(r.module, { id: ids[k]!, module: r.module.name, ownerId: r.ownerId, data: r.data, createdAt: now, modifiedAt: now });
    }
  }
  return outcomes as (WsRecord | WsError)[];
}

export async function deleteRecord(db: DbTx, module: ModuleDefinition, id: number) {
  const deleted = await db.execute(SQL.sql`DELETE FROM ws_record WHERE id = ${id} AND module = ${module.name}`);
  if (deleted !== 1) throw notFound(module, id);
  return { status: 'successful' };
}

/** Deletes records of one module; answers the ids that were there (and are gone now). */
export async function deleteRecords(db: DbTx, module: ModuleDefinition, ids: number[]): Promise<Set<number>> {
  const gone = new Set<number>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db.query<{ id: unknown }>(SQL.sql`
      DELETE FROM ws_record WHERE module = ${module.name} AND id IN (${SQL.join(ids.slice(i, i + 1000))}) RETURNING id`);
    for (const r of rows) gone.add(Number(r.id));
  }
  return gone;
}
