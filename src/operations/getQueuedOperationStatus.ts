import { WsError } from '../errors.js';
import { statusOf, type QueuedOperationStatus } from '../queue/status.js';
import { deliveriesOf } from '../queue/callbacks.js';
import { liveQueues, LIVE_WINDOW_MAX_MS } from '../queue/executors.js';
import { callerOf, type OperationContext, type OperationDefinition } from './types.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The caller's own deferred operation, or RECORD_NOT_FOUND (as for an unknown id: others' ids are not revealed). */
export async function ownQueuedOperation(ctx: OperationContext, operationTrackingID: string): Promise<QueuedOperationStatus> {
  const status = await statusOf(ctx.db, operationTrackingID, callerOf(ctx).id, ctx.services.clock.now(), ctx.services.liveReports);
  if (!status) throw new WsError('RECORD_NOT_FOUND', `No deferred operation ${operationTrackingID} of this user`);
  return status;
}

export const getQueuedOperationStatus: OperationDefinition = {
  name: 'getQueuedOperationStatus',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary:
    "A deferred operation's state (queued, delayed, running, done, failed, cancelled), attempts and times, what an own operation reports (progress, output), and its callback's deliveries, without consuming its result.",
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const s = await ownQueuedOperation(ctx, String(p.operationTrackingID));
    const deliveries = await deliveriesOf(ctx.db, s.operationTrackingID);
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
      // Set while a running operation is being stopped after cancelQueuedOperation (it ends as cancelled).
      cancelrequestedtime: iso(s.cancelRequestedAt),
      callback: s.callback,
      // One per final outcome (a retried failed entry reports again), each with its tries.
      callbackdeliveries: deliveries.map((d) => ({
        idempotencyKey: d.id,
        outcome: d.outcome,
        status: d.state,
        attempts: d.attempts,
        tries: d.tries,
        nexttime: iso(d.nextAt),
        finishedtime: iso(d.finishedAt),
      })),
      // An own operation's ctx.progress (0 to 1, null before any) and message, and its ctx.log lines.
      progress: s.report.progress,
      progressmessage: s.report.message,
      output: s.report.output,
      warning: served
        ? null
        : `No executor seen in the last ${LIVE_WINDOW_MAX_MS / 1000} seconds serves the queue "${s.queue}": the operation waits until one does (wsgate work --queue ${s.queue}, or WSGATE_QUEUES)`,
    };
  },
};
