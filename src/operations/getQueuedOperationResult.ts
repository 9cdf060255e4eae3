import { NOT_QUEUED_OR_NOT_FINISHED, takeResult } from '../queue/store.js';
import { callerOf, type OperationDefinition } from './types.js';

export const getQueuedOperationResult: OperationDefinition = {
  name: 'getQueuedOperationResult',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary: 'The envelope of a deferred operation, as a JSON string, once: reading it deletes it (a failed one stays in the failed store for the operators).',
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const result = await takeResult(ctx.db, String(p.operationTrackingID), callerOf(ctx).id, ctx.services.clock.now());
    return result ?? NOT_QUEUED_OR_NOT_FINISHED;
  },
};
