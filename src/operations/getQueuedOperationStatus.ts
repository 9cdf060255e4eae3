import { WsError } from '../errors.js';
import { statusOf, type QueuedOperationStatus } from '../queue/status.js';
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
    "A deferred operation's state (queued, delayed, running, done, failed, cancelled), attempts and times, and what an own operation reports (progress, output), without consuming its result.",
  params: [{ name: 'operationTrackingID', type: 'string', required: true, description: 'The id a deferred call answered' }],
  async run(ctx, p) {
    const s = await ownQueuedOperation(ctx, String(p.operationTrackingID));
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
      startedtime: iso(s.startedAt),
      finishedtime: iso(s.finishedAt),
      // An own operation's ctx.progress (0 to 1, null before any) and message, and its ctx.log lines.
      progress: s.report.progress,
      progressmessage: s.report.message,
      output: s.report.output,
    };
  },
};
