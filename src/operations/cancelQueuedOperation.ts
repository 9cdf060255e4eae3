import { failure } from '../envelope.js';
import { WsError } from '../errors.js';
import { cancelQueued } from '../queue/status.js';
import { ownQueuedOperation } from './getQueuedOperationStatus.js';
import { callerOf, type OperationDefinition } from './types.js';

export const cancelQueuedOperation: OperationDefinition = {
  name: 'cancelQueuedOperation',
  method: 'POST',
  prelogin: false,
  queueable: false,
  summary:
    'Cancels a deferred operation that has not started; its result becomes an OPERATION_CANCELLED error, read once with getQueuedOperationResult.',
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const id = String(p.operationTrackingID);
    const envelope = JSON.stringify(failure(new WsError('OPERATION_CANCELLED', 'The operation was cancelled before it ran')));
    const now = ctx.services.clock.now();
    if (await cancelQueued(ctx.db, id, callerOf(ctx).id, envelope, now, ctx.services.resultTtlSeconds)) {
      return { operationTrackingID: id, status: 'cancelled' };
    }
    const { state } = await ownQueuedOperation(ctx, id);
    throw new WsError('NOT_CANCELLABLE', `The operation is ${state}: only one that has not started can be cancelled`);
  },
};
