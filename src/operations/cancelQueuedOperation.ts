import { WsError } from '../errors.js';
import { cancelEntry } from '../queue/cancel.js';
import { ownQueuedOperation } from './getQueuedOperationStatus.js';
import { callerOf, type OperationDefinition } from './types.js';

export const cancelQueuedOperation: OperationDefinition = {
  name: 'cancelQueuedOperation',
  method: 'POST',
  prelogin: false,
  queueable: false,
  summary:
    'Cancels a deferred operation: one not started is cancelled at once (status cancelled); a running one is stopped by its executor (status cancelling: its ctx.signal fires, a command is killed, its database writes are rolled back). Either way its result becomes an OPERATION_CANCELLED error, read once with getQueuedOperationResult.',
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const id = String(p.operationTrackingID);
    const outcome = await cancelEntry(ctx.db, id, callerOf(ctx).id, ctx.services.clock.now(), ctx.services.resultTtlSeconds);
    if (outcome) return { operationTrackingID: id, status: outcome };
    const { state } = await ownQueuedOperation(ctx, id);
    throw new WsError('NOT_CANCELLABLE', `The operation is ${state}: only one that has not finished can be cancelled`);
  },
};
