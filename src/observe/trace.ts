// Traces: a call's W3C `traceparent` (https://www.w3.org/TR/trace-context/) is continued by the spans
// wsgate makes (@opentelemetry/api: no-ops unless the deployer registers an SDK), kept with a deferred
// entry, and continued again when it runs; logs of both carry its trace id (`traceId`). Without an SDK and
// without a traceparent on the call, wsgate still gives the call a trace id of its own, so that its submit
// and its run can be found together in the logs. A leaf module, like metrics.ts.
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type { Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';

/** The API's values of the span kinds and statuses wsgate uses (numbers, as its enums are). */
export const SpanKind = { SERVER: 1, CLIENT: 2, CONSUMER: 4 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];
export const SpanStatusCode = { ERROR: 2 } as const;
const TRACE_FLAGS_NONE = 0;

// Where the API keeps what an SDK registered (its global-utils: one key per major version): until
// something is there, every span would be a no-op, and the API itself is not loaded. Each thread is an
// isolate of its own, so an executor's or call's worker thread without an SDK does not hold its 53
// modules (~3 MB a thread, BENCHMARKS.md).
const API_KEY = Symbol.for('opentelemetry.js.api.1');
const requireCjs = createRequire(import.meta.url);
let loaded: typeof Api | undefined;
function api(): typeof Api | undefined {
  if (loaded) return loaded;
  if ((globalThis as Record<symbol, unknown>)[API_KEY] === undefined) return undefined;
  return (loaded = requireCjs('@opentelemetry/api') as typeof Api);
}

/** An SDK is registered: spans are recorded. */
export const tracing = (): boolean => api() !== undefined;

/** A span that records nothing, where no SDK is registered (as the API's own non-recording span). */
class NoopSpan implements Span {
  spanContext(): SpanContext {
    return { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TRACE_FLAGS_NONE };
  }
  setAttribute() {
    return this;
  }
  setAttributes() {
    return this;
  }
  addEvent() {
    return this;
  }
  addLink() {
    return this;
  }
  addLinks() {
    return this;
  }
  setStatus() {
    return this;
  }
  updateName() {
    return this;
  }
  end() {}
  isRecording() {
    return false;
  }
  recordException() {}
}
const NOOP_SPAN = new NoopSpan();

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The trace context of a traceparent header, or null when it is missing or malformed (then a new trace starts). */
export function parseTraceparent(header: string | undefined | null): SpanContext | null {
  if (!header || header.length > 512) return null;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m;
  // Version ff is invalid; version 00 has nothing after the flags; all-zero ids are invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return null;
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16), isRemote: true };
}

export const formatTraceparent = (c: SpanContext) => `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`;

const tracerOf = (otel: typeof Api): Tracer => otel.trace.getTracer('wsgate');

/**
 * Random ids from a pool filled 4 KiB at a time: each call's span needs 24 random bytes, and a call to
 * OpenSSL per id cost more than the rest of the span (the profile in BENCHMARKS.md, issue 13).
 */
const pool = Buffer.alloc(4096);
let used = pool.length;
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}

/**
 * Starts a span as a child of `parent` (a remote context from a traceparent, or none), and returns it with
 * the context its children and its stored traceparent use: the span's own when an SDK records it; without
 * an SDK the parent's (as the API's no-op tracer answers) or, without a parent, a new trace id and span id
 * made here, so a trace id always exists.
 */
export function startSpan(
  name: string,
  parent: SpanContext | null,
  options: { kind?: SpanKind; startTime?: number; attributes?: Record<string, string | number> } = {},
): { span: Span; spanContext: SpanContext } {
  const otel = api();
  if (otel) {
    const { context, trace } = otel;
    const parentContext = parent ? trace.setSpanContext(context.active(), parent) : context.active();
    const span = tracerOf(otel).startSpan(name, { kind: options.kind, startTime: options.startTime, attributes: options.attributes }, parentContext);
    const own = span.spanContext();
    if (trace.isSpanContextValid(own)) return { span, spanContext: own };
    return { span, spanContext: madeHere(parent) };
  }
  // As the API's no-op tracer does: the parent's context continues as it is.
  return { span: NOOP_SPAN, spanContext: parent ?? madeHere(null) };
}

/** A span context of the parent's trace (or a new one) with a new span id, where no SDK records the span. */
const madeHere = (parent: SpanContext | null): SpanContext => ({
  traceId: parent?.traceId ?? randomHex(16),
  spanId: randomHex(8),
  traceFlags: parent?.traceFlags ?? TRACE_FLAGS_NONE,
});

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: string, endTime?: number): void {
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end(endTime);
}

/**
 * Runs `fn` with `spanContext` as the active span, so that spans made meanwhile (database statements) are
 * its children. Only where the deployer registered an SDK's context manager; otherwise it just runs `fn`.
 */
export function withSpanContext<T>(spanContext: SpanContext, fn: () => Promise<T>): Promise<T> {
  const otel = api();
  return otel ? otel.context.with(otel.trace.setSpanContext(otel.context.active(), spanContext), fn) : fn();
}

/** `log` with the trace id of `traceparent` (pino child field `traceId`), or `log` itself without one. */
export function tracedLog(log: Logger, traceparent: string | null | undefined): Logger {
  const spanContext = parseTraceparent(traceparent);
  return spanContext ? log.child({ traceId: spanContext.traceId }) : log;
}

/** Runs `fn` in a span named `name` under the active context (a database statement, say). */
export async function inSpan<T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>): Promise<T> {
  const otel = api();
  if (!otel) return fn();
  const span = tracerOf(otel).startSpan(name, { kind: SpanKind.CLIENT, attributes });
  try {
    return await fn();
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
    throw error;
  } finally {
    span.end();
  }
}
