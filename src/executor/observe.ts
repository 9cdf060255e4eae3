// What the executor's main thread tells of each attempt, from the outcomes its workers report
// (messages.ts): the counters and histograms of the metrics, one log line carrying the trace id kept with the
// entry, and a span for the run continuing the call's trace (timed by the worker's own clock readings).
import type { Logger } from 'pino';
import type { Metrics } from '../observe/metrics.js';
import { endSpan, parseTraceparent, SpanKind, startSpan, tracedLog, tracing } from '../observe/trace.js';
import type { ClaimedOperation } from '../queue/store.js';

export interface Observers {
  log: Logger;
  metrics?: Metrics;
}

export interface AttemptEnd {
  /** done: a success stored; protocolError: a protocol error stored; retried: queued again; failed: to the failed store; cancelled: stopped at its owner's request. */
  outcome: 'done' | 'protocolError' | 'retried' | 'failed' | 'cancelled';
  code?: string;
  /** When the operation's code started (epoch ms) and how long it ran; absent when it did not run. */
  startedAt?: number;
  ms?: number;
  /** The entry has its result (not retried). */
  final: boolean;
}

/** The wait of each entry's first attempt, from its due time to now (its claim). */
export function observeWait(metrics: Metrics, batch: ClaimedOperation[], now: Date): void {
  for (const e of batch) {
    if (e.attempts !== 1) continue;
    metrics.waitSeconds.observe({ operation: e.operation, queue: e.queue }, Math.max(0, (now.getTime() - e.dueAt.getTime()) / 1000));
  }
}

export function observeOutcome(o: Observers, entry: ClaimedOperation, end: AttemptEnd): void {
  const { metrics } = o;
  const operation = entry.operation;
  if (metrics) {
    if (end.final) metrics.runs.inc({ operation });
    if (end.outcome !== 'done') metrics.failures.inc({ operation });
    if (end.outcome === 'retried') metrics.retries.inc({ operation });
    if (end.code === 'TIMEOUT') metrics.timeouts.inc({ operation });
    if (end.ms !== undefined) metrics.runSeconds.observe({ operation, queue: entry.queue }, end.ms / 1000);
  }
  // Without an SDK a span records nothing: none is made.
  if (tracing()) {
    const endedAt = end.startedAt !== undefined && end.ms !== undefined ? end.startedAt + end.ms : undefined;
    const { span } = startSpan(`run ${operation}`, parseTraceparent(entry.traceParent), {
      kind: SpanKind.CONSUMER,
      startTime: end.startedAt,
      attributes: {
        'wsgate.operation': operation,
        'wsgate.queue': entry.queue,
        'wsgate.operationTrackingID': entry.operationTrackingID,
        'wsgate.attempt': entry.attempts,
      },
    });
    endSpan(span, end.outcome === 'done' ? undefined : (end.code ?? end.outcome), endedAt);
  }
  // The run's log line: the same trace id as the submit's when the entry kept one.
  if (!o.log.isLevelEnabled('debug')) return;
  tracedLog(o.log, entry.traceParent).debug(
    {
      operation,
      operationTrackingID: entry.operationTrackingID,
      queue: entry.queue,
      outcome: end.outcome,
      code: end.code,
      ms: end.ms === undefined ? undefined : Math.round(end.ms),
    },
    'queued operation ran',
  );
}
