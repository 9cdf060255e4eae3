// Access rules: per module, the roles that may read, create, update and delete its records (the module
// file's `access`; an action it does not list is open to every role). A user's role is admin or user.
import type { WsUser } from '../auth/users.js';
import { WsError } from '../errors.js';
import type { Action, ModuleDefinition, Role } from './modules.js';

export const roleOf = (user: WsUser): Role => (user.isAdmin ? 'admin' : 'user');

export function may(user: WsUser, module: ModuleDefinition, action: Action): boolean {
  const roles = module.access?.[action];
  return !roles || roles.includes(roleOf(user));
}

/** ACCESS_DENIED, with coreBOS's wording, unless the user's role may do `action` on the module. */
export function assertMay(user: WsUser, module: ModuleDefinition, action: Action): void {
  if (!may(user, module, action)) {
    throw new WsError('ACCESS_DENIED', `Permission to perform the operation is denied: role ${roleOf(user)} may not ${action} ${module.name} records`);
  }
}

/**
 * A record as an answer to the caller may show it (create, update, revise, upsert, and each element of
 * MassCreate and MassUpdate, deferred or not): whole when the caller's role may read the module, otherwise
 * only its id and times, so that a role allowed to write but not to read learns nothing else of it.
 */
export function answerFor(user: WsUser, module: ModuleDefinition, record: Record<string, string>): Record<string, string> {
  if (may(user, module, 'read')) return record;
  return { id: record.id!, createdtime: record.createdtime!, modifiedtime: record.modifiedtime! };
}
