// Records of the declared modules: create, retrieve, update, delete, in coreBOS's answer shape.
import type { DbTx } from '../db/client.js';
import { WsError } from '../errors.js';
import { toDate } from '../db/values.js';
import { USERS_MODULE_PREFIX, formatUserId, type WsUser } from '../auth/users.js';
import { formatWsId, parseWsId } from './ids.js';
import type { ModuleDefinition, ModuleRegistry } from './modules.js';
import type { ValidElement } from './validate.js';

export type WsRecord = Record<string, string>;

/** coreBOS's date-time format, in UTC. */
export const formatDateTime = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

interface StoredRecord {
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
  const user = await db.user.findUnique({ where: { id: ref.id }, select: { id: true } });
  if (!user) throw new WsError('REFERENCE_INVALID', `assigned_user_id ${assignedUserId}: no such user`);
  return user.id;
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

export async function createRecord(db: DbTx, module: ModuleDefinition, element: ValidElement, caller: WsUser, now: Date) {
  const ownerId = await resolveOwner(db, element.assignedUserId, caller);
  const data = JSON.stringify(element.fields);
  // The executor's busiest statement: raw, since Prisma's create costs about three times as much per call.
  const [row] = await db.$queryRaw<{ id: unknown }[]>`
    INSERT INTO ws_record (module, owner_id, data, created_at, modified_at)
    VALUES (${module.name}, ${ownerId}, ${data}, ${now}, ${now})
    RETURNING id`;
  return present(module, { id: Number(row!.id), module: module.name, ownerId, data, createdAt: now, modifiedAt: now });
}

const notFound = (module: ModuleDefinition, id: number) =>
  new WsError('RECORD_NOT_FOUND', `Record you are trying to access is not found: ${formatWsId(module.idPrefix, id)}`);

/** The record, or RECORD_NOT_FOUND. */
export async function findRecord(db: DbTx, module: ModuleDefinition, id: number): Promise<StoredRecord> {
  const row = await db.record.findUnique({ where: { id } });
  if (!row || row.module !== module.name) throw notFound(module, id);
  return row;
}

export async function retrieveRecord(db: DbTx, modules: ModuleRegistry, wsid: unknown) {
  const { module, id } = moduleOfId(modules, wsid);
  return present(module, await findRecord(db, module, id));
}

/** Replaces every field of the record (coreBOS update: fields not sent become empty). */
export async function updateRecord(db: DbTx, module: ModuleDefinition, id: number, element: ValidElement, caller: WsUser, now: Date) {
  // The owner changes only when the caller names one; one statement, so that a concurrent update's owner
  // is not overwritten with a value read before it, and a concurrent delete gives RECORD_NOT_FOUND.
  const ownerId = element.assignedUserId === undefined ? null : await resolveOwner(db, element.assignedUserId, caller);
  const data = JSON.stringify(element.fields);
  const [row] = await db.$queryRaw<{ owner_id: unknown; created_at: unknown }[]>`
    UPDATE ws_record SET data = ${data}, modified_at = ${now}, owner_id = COALESCE(${ownerId}, owner_id)
    WHERE id = ${id} AND module = ${module.name}
    RETURNING owner_id, created_at`;
  if (!row) throw notFound(module, id);
  return present(module, { id, module: module.name, ownerId: Number(row.owner_id), data, createdAt: toDate(row.created_at), modifiedAt: now });
}

export async function deleteRecord(db: DbTx, modules: ModuleRegistry, wsid: unknown) {
  const { module, id } = moduleOfId(modules, wsid);
  const deleted = await db.record.deleteMany({ where: { id, module: module.name } });
  if (deleted.count !== 1) throw notFound(module, id);
  return { status: 'successful' };
}
