import { WsError } from '../errors.js';
import { statusOf, type QueuedOperationStatus } from '../queue/status.js';
import { liveQueues, LIVE_WINDOW_MAX_MS } from '../queue/executors.js';
import { callerOf, type OperationContext, type OperationDefinition } from './types.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The caller's own deferred operation, or RECORD_NOT_FOUND (as for an unknown id: others' ids are not revealed). */
export async function ownQueuedOperation(ctx: OperationContext, operationTrackingID: string): Promise<QueuedOperationStatus> {
  const status = await statusOf(ctx.db, operationTrackingID, callerOf(ctx).id, ctx.services.clock.now());
  if (!status) throw new WsError('RECORD_NOT_FOUND', `No deferred operation ${operationTrackingID} of this user`);
  return status;
}

export const getQueuedOperationStatus: OperationDefinition = {
  name: 'getQueuedOperationStatus',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary:
    "A deferred operation's state (queued, delayed, running, done, failed, cancelled), attempts and times, without consuming its result.",
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const s = await ownQueuedOperation(ctx, String(p.operationTrackingID));
    const now = ctx.services.clock.now();
    const waiting = s.state === 'queued' || s.state === 'delayed';
    const served = !waiting || (await liveQueues(ctx.db, new Date(now.getTime() - LIVE_WINDOW_MAX_MS))).has(s.queue);
    return {
      operationTrackingID: s.operationTrackingID,
      operation: s.operation,
      status: s.state,
      queue: s.queue,
      priority: s.priority,
      attempts: s.attempts,
      errors: s.errors,
      submittedtime: iso(s.submittedAt),
      duetime: iso(s.dueAt),
      nextattempttime: iso(s.nextAttemptAt),
      startedtime: iso(s.startedAt),
      finishedtime: iso(s.finishedAt),
      warning: served
        ? null
        : `No executor seen in the last ${LIVE_WINDOW_MAX_MS / 1000} seconds serves the queue "${s.queue}": the operation waits until one does (wsgate work --queue ${s.queue}, or WSGATE_QUEUES)`,
    };
  },
};
