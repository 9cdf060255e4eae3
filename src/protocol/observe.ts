// A dispatcher that observes each call: a span continuing the call's traceparent (the trace a deferred
// entry keeps), the call counted by operation and error code, and its time in a histogram.
import type { OperationLookup } from '../operations/registry.js';
import type { Metrics } from '../observe/metrics.js';
import { endSpan, formatTraceparent, parseTraceparent, SpanKind, startSpan, withSpanContext } from '../observe/trace.js';
import type { Dispatcher } from './dispatch.js';

export function observedDispatcher(inner: Dispatcher, metrics: Metrics, registry: OperationLookup): Dispatcher {
  return {
    async dispatch(call) {
      const started = performance.now();
      const { span, spanContext } = startSpan('webservice', parseTraceparent(call.traceparent), { kind: SpanKind.SERVER });
      let answered: Awaited<ReturnType<Dispatcher['dispatch']>> | undefined;
      try {
        // The call goes on with this span's context as its traceparent: a deferred entry keeps it.
        answered = await withSpanContext(spanContext, () => inner.dispatch({ ...call, traceparent: formatTraceparent(spanContext) }));
        return answered;
      } finally {
        // Only names of the registry become label values (a caller cannot grow the series without bound).
        const operation = answered?.operation && registry.get(answered.operation) ? answered.operation : 'unknown';
        const code = !answered ? 'INTERNAL_SERVER_ERROR' : answered.envelope.success ? 'OK' : answered.envelope.error.code;
        metrics.calls.inc({ operation, code });
        metrics.callSeconds.observe({ operation }, (performance.now() - started) / 1000);
        span.updateName(`webservice ${operation}`);
        span.setAttribute('wsgate.operation', operation);
        span.setAttribute('wsgate.code', code);
        endSpan(span, code === 'OK' ? undefined : code);
      }
    },
  };
}
