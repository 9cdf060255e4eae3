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
import type { OperationDefinition } from './types.js';
import { update } from './update.js';
import { revise } from './revise.js';
import { upsert } from './upsert.js';
import { massCreate } from './massCreate.js';
import { massUpdate } from './massUpdate.js';
import { massDelete } from './massDelete.js';
import { massRetrieve } from './massRetrieve.js';
import { query } from './query.js';
import { getRelatedModulesInfomation } from './getRelatedModulesInfomation.js';
import { WsError } from '../errors.js';
import { loadOwnOperations } from './own/load.js';
import { queuedEventOperation } from './own/events-queued.js';
import { httpRequest } from '../jobs/httpRequest.js';
import { exec } from '../jobs/exec.js';

export const operations: OperationDefinition[] = [
  getchallenge,
  login,
  logout,
  listtypes,
  describe,
  create,
  retrieve,
  update,
  revise,
  upsert,
  deleteOperation,
  query,
  massCreate,
  massUpdate,
  massDelete,
  massRetrieve,
  getRelatedModulesInfomation,
  getQueuedOperationResult,
  getQueuedOperationStatus,
  cancelQueuedOperation,
  httpRequest,
  exec,
];

/** coreBOS operations wsgate does not implement (README, "Operations"): asked for, they answer UNKNOWN_OPERATION. */
export const NOT_IMPLEMENTED = [
  'convertlead',
  'gendoc_convert',
  'ExecuteWorkflow',
  'ExecuteWorkflowWithContext',
  'executeBusinessAction',
  'CreateWithValidation',
  'UpdateWithValidation',
  'ReviseWithValidation',
  'retrieve_related',
  'query_related',
  'SetRelation',
  'getRelatedRecords',
  'sync',
  'extendsession',
  'loginPortal',
  'loginSession',
  'ValidateInformation',
];

const notImplemented = new Set(NOT_IMPLEMENTED.map((n) => n.toLowerCase()));

/** UNKNOWN_OPERATION for a name the registry does not hold, saying so when coreBOS has it. */
export function unknownOperation(name: string): WsError {
  if (!name) return new WsError('UNKNOWN_OPERATION', 'No operation given');
  if (notImplemented.has(name.toLowerCase())) {
    return new WsError('UNKNOWN_OPERATION', `Unknown operation requested: ${name} is a coreBOS operation wsgate does not implement`);
  }
  return new WsError('UNKNOWN_OPERATION', `Unknown operation requested: ${name}`);
}

/** What looking operations up needs: a registry, or the live one that SIGHUP replaces (live.ts). */
export type OperationLookup = Pick<OperationRegistry, 'get' | 'list'>;

export class OperationRegistry {
  private readonly byName = new Map<string, OperationDefinition>();

  /** `list`: what callers may call; `internal`: what wsgate queues itself (runnable, never listed). */
  constructor(
    readonly list: OperationDefinition[],
    internal: OperationDefinition[] = [queuedEventOperation],
  ) {
    for (const op of [...list, ...internal]) {
      // A deferred run happens as the user who queued it: an operation without a user cannot be queued.
      if (op.prelogin && op.queueable) throw new Error(`operation ${op.name} cannot be both prelogin and queueable`);
      this.byName.set(op.name.toLowerCase(), op);
    }
  }

  /** Operation names are case-insensitive, as in coreBOS. */
  get(name: string): OperationDefinition | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The files of the own operations: a worker thread loads these, the set the main thread accepted. */
  get files(): string[] {
    return this.list.flatMap((o) => (o.file ? [o.file] : []));
  }
}

/** `own`: the deployment's operations (loadRegistry loads them from WSGATE_OPERATIONS_DIR). */
export function createRegistry(options: { own?: OperationDefinition[] }): OperationRegistry {
  return new OperationRegistry([...operations, ...(options.own ?? [])]);
}

/**
 * The built-in operations and the deployment's own ones from `operationsDir` (a broken file throws);
 * `files`: only these of it; `inWorker`: a worker thread's load, of the files its main thread accepted and
 * checked.
 */
export async function loadRegistry(options: { operationsDir: string; files?: string[]; inWorker?: boolean }): Promise<OperationRegistry> {
  let registry: OperationRegistry | undefined;
  // ctx.api.call finds operations in the registry built here, own ones included.
  const own = await loadOwnOperations(
    options.operationsDir,
    operations.map((o) => o.name),
    (name) => registry?.get(name),
    { only: options.files, checked: options.inWorker },
  );
  registry = createRegistry({ own });
  return registry;
}
