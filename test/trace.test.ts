// Spans where an OpenTelemetry SDK is registered (src/observe/trace.ts loads @opentelemetry/api only then):
// a call's span continues the caller's traceparent, its deferred entry keeps the span's own context, the
// run's span (made by the executor's main thread) is that span's child, and statements are spans whose
// text has no values. A recording tracer provider of this file stands in for an SDK; each test file runs in
// a process of its own, so no other file sees it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trace, type Attributes, type Context, type Span, type SpanContext, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { backends, call, login, runPass, startGateway } from './support.js';
import { startSpan } from '../src/observe/trace.js';
import * as SQL from '../src/db/sql.js';

interface Recorded {
  name: string;
  kind?: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Attributes;
  status?: { code: number; message?: string };
  ended: boolean;
}

let next = 1;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

class RecordingSpan implements Span {
  constructor(
    readonly record: Recorded,
    private readonly context: SpanContext,
  ) {}
  spanContext() {
    return this.context;
  }
  setAttribute(key: string, value: Attributes[string]) {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes) {
    Object.assign(this.record.attributes, attributes);
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
  setStatus(status: { code: number; message?: string }) {
    this.record.status = status;
    return this;
  }
  updateName(name: string) {
    this.record.name = name;
    return this;
  }
  end() {
    this.record.ended = true;
  }
  isRecording() {
    return true;
  }
  recordException() {}
}

const spans: Recorded[] = [];
const tracer: Tracer = {
  startSpan(name: string, options: SpanOptions = {}, ctx?: Context): Span {
    const parent = ctx ? trace.getSpanContext(ctx) : undefined;
    const id = next++;
    const context: SpanContext = { traceId: parent?.traceId ?? hex(id, 32), spanId: hex(id, 16), traceFlags: 1 };
    const record: Recorded = {
      name,
      kind: options.kind,
      traceId: context.traceId,
      spanId: context.spanId,
      parentSpanId: parent?.spanId,
      attributes: { ...options.attributes },
      ended: false,
    };
    spans.push(record);
    return new RecordingSpan(record, context);
  },
  startActiveSpan() {
    throw new Error('not used by wsgate');
  },
};
const provider: TracerProvider = { getTracer: () => tracer };

describe('traces without an SDK', () => {
  // A worker thread without an SDK does not load the API at all: test/worker-imports.test.ts.
  test('a span continues its parent as the API does', () => {
    const parent: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true };
    const traced = startSpan('webservice', parent);
    assert.deepEqual(traced.spanContext, parent);
    assert.equal(traced.span.isRecording(), false);
    traced.span.updateName('webservice x').setAttribute('a', 1).setStatus({ code: 2 }).end();
    const fresh = startSpan('webservice', null).spanContext;
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.match(fresh.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(fresh.traceId, startSpan('webservice', null).spanContext.traceId, 'a new trace each time');
  });
});

for (const backend of backends) {
  describe(`traces with an SDK on ${backend.name}`, () => {
    before(() => assert.equal(trace.setGlobalTracerProvider(provider), true));
    after(() => trace.disable());

    test("a call's span continues the traceparent, its entry keeps the span, and the run's span is its child", async () => {
      const gw = await startGateway(backend, { WSGATE_CALL_WORKERS: '0' });
      try {
        const { sessionName } = await login(gw.url);
        spans.length = 0;
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const queued = await call(
          gw.url,
          { operation: 'wsgatetest_noop', sessionName, tag: 'secret-value-4711', cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0 }) },
          { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
        );
        assert.equal(queued.success, true, JSON.stringify(queued));
        const id = queued.result.operationTrackingID as string;
        const served = spans.find((s) => s.name === 'webservice wsgatetest_noop');
        assert.ok(served, JSON.stringify(spans.map((s) => s.name)));
        assert.equal(served.kind, 1, 'SERVER');
        assert.equal(served.traceId, traceId);
        assert.equal(served.parentSpanId, '00f067aa0ba902b7');
        assert.equal(served.attributes['wsgate.code'], 'OK');
        assert.equal(served.ended, true);
        const rows = await gw.rt.db.raw.query<{ trace_parent: string }>(SQL.sql`SELECT trace_parent FROM ws_queued_operation WHERE id = ${id}`);
        assert.equal(rows[0]?.trace_parent, `00-${traceId}-${served.spanId}-01`, "the entry keeps the call's own span");

        const statements = spans.filter((s) => s.name.startsWith('db '));
        assert.ok(statements.length > 0, 'statements are spans');
        for (const s of statements) {
          assert.equal(s.attributes['db.system'], backend.name);
          assert.doesNotMatch(String(s.attributes['db.statement']), /secret-value-4711/, 'no values in a statement span');
        }

        assert.equal((await runPass(gw.rt, { concurrency: 1 })).run, 1);
        const ran = spans.find((s) => s.name === 'run wsgatetest_noop');
        assert.ok(ran, JSON.stringify(spans.map((s) => s.name)));
        assert.equal(ran.kind, 4, 'CONSUMER');
        assert.equal(ran.traceId, traceId);
        assert.equal(ran.parentSpanId, served.spanId);
        assert.equal(ran.attributes['wsgate.operationTrackingID'], id);
        assert.equal(ran.status, undefined, 'a run that succeeded');
        assert.equal(ran.ended, true);

        const before = spans.length;
        const failed = await call(gw.url, { operation: 'wsgatetest_noop' });
        assert.equal(failed.error?.code, 'AUTHENTICATION_REQUIRED');
        const refused = spans.slice(before).find((s) => s.name.startsWith('webservice'));
        assert.ok(refused, JSON.stringify(spans.slice(before).map((s) => s.name)));
        assert.deepEqual(refused.status, { code: 2, message: 'AUTHENTICATION_REQUIRED' }, 'an error code marks the span failed');
        assert.equal(refused.attributes['wsgate.code'], 'AUTHENTICATION_REQUIRED');
      } finally {
        await gw.close();
      }
    });
  });
}
