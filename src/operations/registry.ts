// The one list of operations: dispatch, the executor and openapi.yaml all read it.
import { create } from './create.js';
import { deleteOperation } from './delete.js';
import { describe } from './describe.js';
import { getchallenge } from './getchallenge.js';
import { getQueuedOperationResult } from './getQueuedOperationResult.js';
import { getQueuedOperationStatus } from './getQueuedOperationStatus.js';
import { cancelQueuedOperation } from './cancelQueuedOperation.js';
import { listtypes } from './listtypes.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { retrieve } from './retrieve.js';
import { testOperations } from './testing.js';
import type { OperationDefinition } from './types.js';
import { update } from './update.js';

export const operations: OperationDefinition[] = [
  getchallenge,
  login,
  logout,
  listtypes,
  describe,
  create,
  retrieve,
  update,
  deleteOperation,
  getQueuedOperationResult,
  getQueuedOperationStatus,
  cancelQueuedOperation,
];

export class OperationRegistry {
  private readonly byName = new Map<string, OperationDefinition>();

  constructor(readonly list: OperationDefinition[]) {
    for (const op of list) {
      // A deferred run happens as the user who queued it: an operation without a user cannot be queued.
      if (op.prelogin && op.queueable) throw new Error(`operation ${op.name} cannot be both prelogin and queueable`);
      this.byName.set(op.name.toLowerCase(), op);
    }
  }

  /** Operation names are case-insensitive, as in coreBOS. */
  get(name: string): OperationDefinition | undefined {
    return this.byName.get(name.toLowerCase());
  }
}

export function createRegistry(options: { testOperations: boolean }): OperationRegistry {
  return new OperationRegistry(options.testOperations ? [...operations, ...testOperations] : operations);
}
