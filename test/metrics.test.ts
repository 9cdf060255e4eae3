// GET /metrics against a real gateway and real executor passes on both databases: after a known set of calls
// and runs (successes, a protocol error, a retry, timeouts) the scraped counters and gauges hold the expected
// values, the text parses under a strict Prometheus text-format parser, the queue gauges are cached, and
// access needs the token (401) or a loopback client (403). Also: a call's traceparent and its deferred run
// log the same trace id (a real `wsgate serve`), and `wsgate top` prints one frame (the real binary).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { backends, call, login, runCli, runPass, spawnCli, startGateway, testEnv, until, type CliResult, type Gateway, shown, tmpDir } from './support.js';
import pg from 'pg';
import { engineOf, retentionOf } from '../src/runtime.js';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import { foldQueueCounts, queueDepth, type QueueDepth } from '../src/queue/depth.js';
import { Metrics, QUEUE_STATES } from '../src/observe/metrics.js';
import { histogramText } from '../src/observe/exposition.js';
import type { Histogram } from 'prom-client';
import { claim, NOT_QUEUED_OR_NOT_FINISHED } from '../src/queue/store.js';
import { retryFailed } from '../src/queue/failed.js';
import { purgeExpired } from '../src/executor/maintenance.js';

const TOKEN = 'scrape-token-0123456789';
const defer = (extra: Record<string, unknown> = {}) => JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...extra });

// ---- A strict parser of Prometheus' text exposition format (0.0.4) ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
  counter: [''],
  gauge: [''],
  untyped: [''],
};

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  // Prometheus reads floats as Go's ParseFloat does: NaN in any case (prom-client writes `Nan` for an
  // event-loop mean with no sample yet).
  if (/^nan$/i.test(text)) return NaN;
  assert.match(text, /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `a value that is not a number: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    assert.ok(eq > i, `a label without =: ${line}`);
    const name = text.slice(i, eq);
    assert.match(name, LABEL_NAME, `a bad label name: ${line}`);
    assert.equal(text[eq + 1], '"', `a label value not quoted: ${line}`);
    let j = eq + 2;
    let value = '';
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        assert.ok(next === '\\' || next === '"' || next === 'n', `a bad escape in a label value: ${line}`);
        value += next === 'n' ? '\n' : next;
      } else value += text[j];
    }
    assert.equal(text[j], '"', `an unterminated label value: ${line}`);
    assert.ok(!(name in labels), `a label given twice: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else assert.equal(i, text.length, `labels not separated by commas: ${line}`);
  }
  return labels;
}

/** Parses the exposition text, failing on anything the format does not allow; checks histograms add up. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'the text ends with a line feed');
  const families = new Map<string, Family>();
  let current: Family | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      assert.match(name!, NAME, `a bad metric name: ${line}`);
      let f = families.get(name!);
      if (!f) families.set(name!, (f = { name: name!, type: 'untyped', help: '', samples: [] }));
      if (kind === 'TYPE') {
        assert.ok(TYPES.has(rest!), `an unknown type: ${line}`);
        assert.equal(f.samples.length, 0, `TYPE after samples: ${line}`);
        f.type = rest!;
      } else f.help = rest!;
      current = f;
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([^ ]+)(?: (-?\d+))?$/.exec(line);
    assert.ok(m, `a line that is not a sample: ${line}`);
    const [, name, labelText, valueText] = m;
    assert.ok(current, `a sample before any TYPE: ${line}`);
    const suffix = SUFFIXES[current.type]!.find((s) => name === current!.name + s);
    assert.ok(suffix !== undefined, `sample ${name} outside its family ${current.name}: ${line}`);
    current.samples.push({ name: name!, labels: parseLabels(labelText ?? '', line), value: parseValue(valueText!, line) });
  }
  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of f.samples.filter((x) => x.name.endsWith('_bucket'))) {
      const { le, ...rest } = s.labels;
      assert.ok(le !== undefined, `a bucket without le in ${f.name}`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(parseValue(buckets[i]!.labels.le!, '') > parseValue(buckets[i - 1]!.labels.le!, ''), `buckets of ${f.name} out of order`);
        assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `buckets of ${f.name} not cumulative`);
      }
      assert.equal(buckets.at(-1)!.labels.le, '+Inf', `${f.name} ends with the +Inf bucket`);
      const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
      assert.equal(count?.value, buckets.at(-1)!.value, `${f.name} ${key}: _count equals the +Inf bucket`);
    }
  }
  return families;
}

/** The value of the sample of `name` whose labels include `labels` (undefined when absent). */
function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return undefined;
}

async function scrape(base: string, token: string | null = TOKEN) {
  const res = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { res, text: await res.text() };
}

for (const backend of backends) {
  describe(`metrics on ${backend.name}`, () => {
    let gw: Gateway;
    let base: string;
    let session: string;
    const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };

    before(async () => {
      // A long cache: within a test the queue gauges are read once, whatever else happens.
      gw = await startGateway(backend, { WSGATE_METRICS_TOKEN: TOKEN, WSGATE_METRICS_CACHE_SECONDS: '3600' });
      base = gw.server.url;
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('after successes, a protocol error, a retry and timeouts, the counters and gauges hold the expected values', async () => {
      const marker = path.join(tmpDir('metrics'), 'm');
      await queue({ operation: 'wsgatetest_noop', tag: 'a' });
      await queue({ operation: 'wsgatetest_noop', tag: 'b' });
      await queue({ operation: 'wsgatetest_misbehave', how: 'bogus', marker }); // INVALID_PARAMETER: answered, final
      await queue({ operation: 'wsgatetest_misbehave', how: 'flaky', marker: `${marker}-flaky`, succeedAt: '2' }); // fails once, retried, succeeds
      await queue({ operation: 'wsgatetest_misbehave', how: 'hang', marker }); // times out twice: to the failed store
      await queue({ operation: 'wsgatetest_noop', tag: 'later' }, { queuedelay: 3600 }); // delayed
      await queue({ operation: 'wsgatetest_noop', tag: 'other' }, { queue: 'other' }); // waiting: no executor serves it
      const unknown = await call(gw.url, { operation: 'nosuchoperation', sessionName: session });
      assert.equal(unknown.error?.code, 'UNKNOWN_OPERATION');

      const summary = await runPass(gw.rt, { tries: 2, timeoutSeconds: 0.5, concurrency: 2 });
      // A protocol error is an `error` (its result stored), the timeout retried into the failed store a `failed`.
      assert.deepEqual([summary.run, summary.errors, summary.failed, summary.retried], [5, 1, 1, 2], JSON.stringify(summary));
      gw.rt.services.clock.advance(120_000); // the waiting entry of `other` has waited two minutes

      const { res, text } = await scrape(base);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      const m = parseExposition(text);

      const op = (operation: string) => ({ operation });
      assert.equal(sampleValue(m, 'wsgate_operation_runs_total', op('wsgatetest_noop')), 2);
      assert.equal(sampleValue(m, 'wsgate_operation_runs_total', op('wsgatetest_misbehave')), 3);
      assert.equal(sampleValue(m, 'wsgate_operation_failures_total', op('wsgatetest_misbehave')), 4, 'bogus, flaky once, hang twice');
      assert.equal(sampleValue(m, 'wsgate_operation_failures_total', op('wsgatetest_noop')), undefined);
      assert.equal(sampleValue(m, 'wsgate_operation_retries_total', op('wsgatetest_misbehave')), 2, 'flaky once, hang once');
      assert.equal(sampleValue(m, 'wsgate_operation_timeouts_total', op('wsgatetest_misbehave')), 2);
      assert.equal(sampleValue(m, 'wsgate_operation_run_seconds_count', { operation: 'wsgatetest_noop', queue: 'default' }), 2);
      assert.equal(sampleValue(m, 'wsgate_operation_run_seconds_count', { operation: 'wsgatetest_misbehave', queue: 'default' }), 5, 'every attempt that ran');
      assert.ok(
        sampleValue(m, 'wsgate_operation_run_seconds_sum', { operation: 'wsgatetest_misbehave', queue: 'default' })! >= 1,
        'the two timeouts took 0.5 s each',
      );
      assert.ok(sampleValue(m, 'wsgate_operation_wait_seconds_count', { operation: 'wsgatetest_noop', queue: 'default' })! >= 2);

      const entries = (queueName: string, state: string) => sampleValue(m, 'wsgate_queue_entries', { queue: queueName, state });
      assert.deepEqual(
        ['waiting', 'delayed', 'running', 'failed', 'done'].map((s) => entries('default', s)),
        [0, 1, 0, 1, 4],
        'default: the delayed noop; hang in the failed store; two noops, bogus and flaky done and unread',
      );
      assert.equal(entries('other', 'waiting'), 1);
      const oldest = sampleValue(m, 'wsgate_queue_oldest_waiting_seconds', { queue: 'other' })!;
      assert.ok(oldest >= 120 && oldest < 600, `oldest waiting ${oldest}`);
      assert.equal(sampleValue(m, 'wsgate_queue_oldest_waiting_seconds', { queue: 'default' }), 0);

      assert.equal(sampleValue(m, 'wsgate_http_calls_total', { operation: 'wsgatetest_noop', code: 'OK' }), 4);
      assert.equal(sampleValue(m, 'wsgate_http_calls_total', { operation: 'wsgatetest_misbehave', code: 'OK' }), 3);
      assert.equal(sampleValue(m, 'wsgate_http_calls_total', { operation: 'unknown', code: 'UNKNOWN_OPERATION' }), 1);
      assert.equal(sampleValue(m, 'wsgate_http_calls_total', { operation: 'login', code: 'OK' }), 1);
      assert.equal(sampleValue(m, 'wsgate_http_call_seconds_count', { operation: 'wsgatetest_noop' }), 4);
      assert.equal(sampleValue(m, 'wsgate_worker_threads', { pool: 'calls', state: 'free' }), gw.rt.config.callWorkers);
      assert.ok(sampleValue(m, 'wsgate_db_pool_connections', { state: 'idle' })! >= 0);
      assert.ok(sampleValue(m, 'process_cpu_user_seconds_total')! > 0, "the process's default metrics");
      assert.ok(sampleValue(m, 'nodejs_eventloop_lag_seconds') !== undefined);

      // Runs per queue and minute, for `wsgate top` and the dashboard (ws_queue_minute, kept by triggers): the
      // five entries' final runs, two of them ending in an error (the protocol error, the failed-store entry);
      // attempts that were retried are not counted there.
      const minutes = await gw.rt.db.prisma.queueMinute.findMany({ where: { queue: 'default' } });
      assert.deepEqual([minutes.reduce((n, r) => n + r.runs, 0), minutes.reduce((n, r) => n + r.failures, 0)], [5, 2]);
    });

    test('the queue gauges are read from the database at most once per cache period', async () => {
      const before = sampleValue(parseExposition((await scrape(base)).text), 'wsgate_queue_entries', { queue: 'other', state: 'waiting' });
      await queue({ operation: 'wsgatetest_noop', tag: 'other-2' }, { queue: 'other' });
      const m = parseExposition((await scrape(base)).text);
      assert.equal(sampleValue(m, 'wsgate_queue_entries', { queue: 'other', state: 'waiting' }), before, 'the cached reading');
      assert.equal(sampleValue(m, 'wsgate_http_calls_total', { operation: 'wsgatetest_noop', code: 'OK' }), 5, 'counters are live');
    });

    test('submits queued together: the statements and the submits they carried (PostgreSQL; none on SQLite)', async () => {
      const gathered = (m: ReturnType<typeof parseExposition>) => [
        sampleValue(m, 'wsgate_submit_statements_total')!,
        sampleValue(m, 'wsgate_submit_gathered_total')!,
      ];
      const [statements, rows] = gathered(parseExposition((await scrape(base)).text));
      await Promise.all(
        Array.from({ length: 6 }, (_, i) => queue({ operation: 'wsgatetest_noop', tag: `gathered-${i}` }, { queue: 'gathered', queuedelay: 3600 })),
      );
      const [statementsAfter, rowsAfter] = gathered(parseExposition((await scrape(base)).text));
      if (backend.name === 'postgresql') {
        assert.equal(rowsAfter - rows, 6, 'every deferred submit goes through the gathering');
        assert.ok(statementsAfter - statements >= 1 && statementsAfter - statements <= 6, `${statementsAfter - statements} statements`);
      } else {
        assert.deepEqual([statementsAfter, rowsAfter], [0, 0]);
      }
    });

    test('without the token, or with another, /metrics answers 401 in the envelope', async () => {
      for (const token of [null, 'wrong-token']) {
        const { res, text } = await scrape(base, token);
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate')!, /^Bearer/);
        const body = JSON.parse(text);
        assert.equal(body.success, false);
        assert.equal(body.error.code, 'AUTHENTICATION_REQUIRED');
        assert.doesNotMatch(text, /wsgate_/);
      }
      const basic = await fetch(`${base}/metrics`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
      assert.equal(basic.status, 401);
      assert.equal((await fetch(`${base}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
    });

    test('`wsgate top` prints one frame when stdout is not a terminal (the real binary)', async () => {
      // A listening executor in this process reports in: top lists it with its free workers.
      const engine = engineOf(gw.rt, { concurrency: 3, queues: ['nothing-here'] });
      const listening = engine.listen();
      try {
        await until('the executor to report in', async () => (await gw.rt.db.prisma.executor.count({ where: { id: engine.id } })) === 1, 60_000);
        // The child's clock where this process's moved one is (two minutes ahead).
        const offset = gw.rt.services.clock.now().getTime() - Date.now();
        const r: CliResult = await runCli(['top'], { ...gw.env, WSGATE_CLOCK_OFFSET_MS: String(offset) });
        assert.equal(r.code, 0, shown(r));
        const lines = r.stdout.trimEnd().split('\n');
        assert.match(lines[0]!, /^wsgate top {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}(sqlite|postgresql) {2}workers busy 0 free 3/);
        const row = (name: string) =>
          lines
            .find((l) => l.startsWith(`${name} `))
            ?.trim()
            .split(/\s+/);
        assert.deepEqual(row('default')?.slice(1, 6), ['0', '1', '0', '1', '4'], shown(r));
        assert.deepEqual(row('other')?.slice(1, 3), ['2', '0'], shown(r));
        assert.match(row('other')![6]!, /^\d+s$|^\d+m$/, 'the oldest waiting age');
        const executor = lines.find((l) => l.startsWith(engine.id.slice(0, 8)));
        assert.ok(executor, shown(r));
        assert.deepEqual(executor.trim().split(/\s+/).slice(2, 6), [String(process.pid), 'nothing-here', '0', '3']);
        assert.doesNotMatch(r.stdout, /\x1b\[/, 'no terminal codes in a pipe' + '\n' + shown(r));
      } finally {
        await engine.stop();
        await listening;
        await engine.close();
      }
    });
  });

  describe(`queue gauges against the entries table on ${backend.name}`, () => {
    // The gauges read trigger-kept counts (ws_queue_count), not the entries: after every kind of change an
    // entry goes through, they must equal a COUNT(*) of ws_queued_operation, exactly.
    let gw: Gateway;
    let session: string;
    const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const ws = (operation: string, operationTrackingID: string) => call(gw.url, { operation, sessionName: session, operationTrackingID });

    /** Per queue, what COUNT(*) over the entries says at `now`. */
    async function truth(now: Date): Promise<QueueDepth[]> {
      const ops = gw.rt.db.prisma.queuedOperation;
      const queues = (await ops.findMany({ distinct: ['queue'], select: { queue: true } })).map((r) => r.queue).sort((a, b) => a.localeCompare(b));
      return Promise.all(
        queues.map(async (q) => ({
          queue: q,
          waiting: await ops.count({ where: { queue: q, state: 'queued', availableAt: { lte: now } } }),
          delayed: await ops.count({ where: { queue: q, state: 'queued', availableAt: { gt: now } } }),
          running: await ops.count({ where: { queue: q, state: 'running' } }),
          failed: await ops.count({ where: { queue: q, state: 'failed' } }),
          done: await ops.count({ where: { queue: q, state: { in: ['done', 'cancelled'] } } }),
          oldestWaitingDueAt:
            (
              await ops.findFirst({
                where: { queue: q, state: 'queued', availableAt: { lte: now } },
                orderBy: { availableAt: 'asc' },
                select: { availableAt: true },
              })
            )?.availableAt ?? null,
        })),
      );
    }

    /** The counts table, the statement and a real scrape all agree with the entries table. */
    async function agrees(step: string): Promise<QueueDepth[]> {
      const now = gw.rt.services.clock.now();
      const expected = await truth(now);
      const counted = await gw.rt.db.prisma.queuedOperation.groupBy({ by: ['queue', 'state'], _count: { _all: true } });
      const kept = await gw.rt.db.raw.query<{ queue: string; state: string; n: unknown }>(
        Prisma.sql`SELECT queue, state, sum(n) AS n FROM ws_queue_count GROUP BY queue, state`,
      );
      const key = (q: string, s: string) => `${q}/${s}`;
      assert.deepEqual(
        new Map(kept.filter((r) => Number(r.n) !== 0).map((r) => [key(r.queue, r.state), Number(r.n)])),
        new Map(counted.map((r) => [key(r.queue, r.state), r._count._all])),
        `${step}: ws_queue_count against COUNT(*) per queue and state`,
      );
      assert.deepEqual(await queueDepth(gw.rt.db, now), expected, `${step}: the statement against COUNT(*)`);

      const before = gw.rt.services.clock.now().getTime();
      const m = parseExposition((await scrape(gw.server.url)).text);
      const after = gw.rt.services.clock.now().getTime();
      for (const q of expected) {
        for (const state of QUEUE_STATES)
          assert.equal(sampleValue(m, 'wsgate_queue_entries', { queue: q.queue, state }), q[state], `${step}: ${q.queue} ${state} scraped`);
        const oldest = sampleValue(m, 'wsgate_queue_oldest_waiting_seconds', { queue: q.queue })!;
        if (!q.oldestWaitingDueAt) assert.equal(oldest, 0, `${step}: ${q.queue} has none waiting`);
        else {
          const due = q.oldestWaitingDueAt.getTime();
          assert.ok(oldest >= (before - due) / 1000 && oldest <= (after - due) / 1000, `${step}: ${q.queue} oldest waiting ${oldest} s`);
        }
      }
      for (const s of m.get('wsgate_queue_entries')!.samples) {
        if (!expected.some((q) => q.queue === s.labels.queue)) assert.equal(s.value, 0, `${step}: ${s.labels.queue} has no entries`);
      }
      return expected;
    }

    before(async () => {
      gw = await startGateway(backend, { WSGATE_METRICS_TOKEN: TOKEN, WSGATE_METRICS_CACHE_SECONDS: '0', WSGATE_TRIES: '2' });
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('after submits, runs, failures, retries, cancels, reads of results and pruning, the gauges equal COUNT(*) of the entries', async () => {
      const marker = path.join(tmpDir('metrics'), 'm');
      await agrees('empty');
      const done = [await queue({ operation: 'wsgatetest_noop', tag: 'a' }), await queue({ operation: 'wsgatetest_noop', tag: 'b' })];
      await queue({ operation: 'wsgatetest_noop', tag: 'c' });
      await queue({ operation: 'wsgatetest_misbehave', how: 'bogus', marker });
      await queue({ operation: 'wsgatetest_misbehave', how: 'flaky', marker: `${marker}-flaky`, succeedAt: '2' });
      const hang = await queue({ operation: 'wsgatetest_misbehave', how: 'hang', marker });
      const later = await queue({ operation: 'wsgatetest_noop', tag: 'later' }, { queuedelay: 3600 });
      await queue({ operation: 'wsgatetest_noop', tag: 'later-2' }, { queuedelay: 7200 });
      const others = [
        await queue({ operation: 'wsgatetest_noop', tag: 'o1' }, { queue: 'other' }),
        await queue({ operation: 'wsgatetest_noop', tag: 'o2' }, { queue: 'other' }),
      ];
      await queue({ operation: 'wsgatetest_noop', tag: 'o3' }, { queue: 'other', queuedelay: 600 });
      let q = await agrees('submitted');
      assert.deepEqual(
        q.map((x) => [x.queue, x.waiting, x.delayed]),
        [
          ['default', 6, 2],
          ['other', 2, 1],
        ],
      );

      // A claim: two of `other` running.
      const claimed = await claim(gw.rt.db, { queues: ['other'], now: gw.rt.services.clock.now(), leaseSeconds: 60, limit: 5 });
      assert.equal(claimed.length, 2);
      q = await agrees('claimed');
      assert.equal(q.find((x) => x.queue === 'other')!.running, 2);

      // Runs: successes, a protocol error, a retry, and two timeouts into the failed store.
      const summary = await runPass(gw.rt, { tries: 2, timeoutSeconds: 0.5, concurrency: 2 });
      assert.deepEqual([summary.run, summary.failed, summary.retried], [6, 1, 2], JSON.stringify(summary));
      q = await agrees('ran');
      assert.deepEqual(
        q.find((x) => x.queue === 'default'),
        { queue: 'default', waiting: 0, delayed: 2, running: 0, failed: 1, done: 5, oldestWaitingDueAt: null },
      );

      // Reads of results: done ones are deleted, the failed one stays in the failed store, marked read.
      for (const id of [...done, hang]) assert.notEqual((await ws('getQueuedOperationResult', id)).result, NOT_QUEUED_OR_NOT_FINISHED);
      await agrees('results read');

      // A cancel (done, unread), then its result read (deleted).
      assert.equal((await ws('cancelQueuedOperation', later)).success, true);
      await agrees('cancelled');
      assert.notEqual((await ws('getQueuedOperationResult', later)).result, NOT_QUEUED_OR_NOT_FINISHED);
      await agrees('cancelled result read');

      // The failed entry retried from the failed store (queued, waiting), run again into it.
      assert.deepEqual(await retryFailed(gw.rt.db, null, gw.rt.services.clock.now()), [hang]);
      q = await agrees('retried');
      assert.equal(q.find((x) => x.queue === 'default')!.waiting, 1);
      await runPass(gw.rt, { tries: 1, timeoutSeconds: 0.5, concurrency: 2 });
      await agrees('failed again');

      // A queue moved by hand (an UPDATE of queue alone) moves its count.
      assert.equal(await gw.rt.db.raw.execute(Prisma.sql`UPDATE ws_queue_entry SET queue = 'moved' WHERE id = ${others[0]}`), 1);
      await agrees('moved');

      // Time passes: delayed entries come due (oldest waiting ages), and housekeeping prunes the failed store
      // and the results nobody read.
      gw.rt.services.clock.advance(3 * 3600_000);
      q = await agrees('three hours on');
      assert.equal(q.find((x) => x.queue === 'default')!.delayed, 0);
      gw.rt.services.clock.advance((Math.max(gw.rt.config.failedRetentionHours * 3600, gw.rt.config.resultTtlSeconds) + 60) * 1000);
      const purged = await purgeExpired(gw.rt.db, gw.rt.services.clock.now(), retentionOf(gw.rt));
      assert.ok(purged.failed >= 1 && purged.results >= 1, JSON.stringify(purged));
      q = await agrees('pruned');
      assert.equal(q.find((x) => x.queue === 'default')!.failed, 0);

      if (backend.name === 'postgresql') {
        // A connection that changes counts and goes away: its row is summed while it lasts, folded after.
        const client = new pg.Client({ connectionString: gw.env.DATABASE_URL });
        await client.connect();
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const pid = rows[0]!.pid;
        const moved = await client.query(`UPDATE ws_queue_entry SET state = 'queued', available_at = (now() AT TIME ZONE 'UTC') WHERE id = $1`, [others[1]]);
        assert.equal(moved.rowCount, 1);
        await client.end();
        await agrees('a connection gone');
        await until(
          'the connection to end',
          async () => Number((await gw.rt.db.raw.query<{ n: unknown }>(Prisma.sql`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ${pid}`))[0]!.n) === 0,
        );
        assert.ok((await foldQueueCounts(gw.rt.db)) >= 1);
        const left = await gw.rt.db.raw.query(Prisma.sql`SELECT 1 FROM ws_queue_count WHERE slot = ${pid}`);
        assert.equal(left.length, 0, 'its rows folded into slot 0');
        await agrees('folded');
      }
    });
  });

  describe(`trace ids on ${backend.name}`, () => {
    test('a call with a traceparent and its deferred run log the same trace id; a call without one gets its own', async () => {
      const env = testEnv(await backend.freshUrl(), {
        WSGATE_LOG_LEVEL: 'debug',
        WSGATE_EXECUTOR_SCHEDULE: '* * * * * *',
        WSGATE_MAX_WORKERS: '1',
        WSGATE_CALL_WORKERS: '0',
      });
      const served = spawnCli(['serve'], env);
      let out = '';
      served.child.stdout!.on('data', (d) => (out += d));
      try {
        const url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1], 60_000);
        const { sessionName } = await login(url);
        const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
        const traced = await call(
          url,
          { operation: 'wsgatetest_noop', sessionName, tag: 't', cbwsOptions: defer() },
          { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } },
        );
        const plain = await call(url, { operation: 'wsgatetest_noop', sessionName, tag: 'p', cbwsOptions: defer() });
        const ids = [traced.result.operationTrackingID as string, plain.result.operationTrackingID as string];
        type Line = { msg: string; traceId?: string; operationTrackingID?: string; outcome?: string };
        const logged = () =>
          out
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Line);
        const linesOf = (id: string) => logged().filter((l) => l.operationTrackingID === id);
        await until('both runs logged', async () => ids.every((id) => linesOf(id).some((l) => l.msg === 'queued operation ran')), 60_000);
        for (const id of ids) {
          const submit = linesOf(id).find((l) => l.msg === 'operation queued');
          const run = linesOf(id).find((l) => l.msg === 'queued operation ran');
          assert.ok(submit?.traceId && run?.traceId, JSON.stringify(linesOf(id)));
          assert.match(submit.traceId, /^[0-9a-f]{32}$/);
          assert.equal(run.traceId, submit.traceId, "the run continues the submit's trace");
          assert.equal(run.outcome, 'done');
        }
        assert.equal(linesOf(ids[0]!)[0]!.traceId, traceId, "the caller's trace id");
        assert.notEqual(linesOf(ids[1]!)[0]!.traceId, traceId);
        // A malformed traceparent starts a new trace rather than failing the call.
        const bad = await call(
          url,
          { operation: 'wsgatetest_noop', sessionName, cbwsOptions: defer() },
          { headers: { traceparent: '00-zz-00f067aa0ba902b7-01' } },
        );
        assert.equal(bad.success, true);
      } finally {
        served.child.kill('SIGTERM');
        await served.done;
      }
    });
  });
}

describe('metrics access without a token', () => {
  test('loopback clients get the metrics; a client from another address 403', async (t) => {
    const gw = await startGateway(backends[0]!, { WSGATE_HOST: '0.0.0.0' });
    try {
      const port = new URL(gw.server.url).port;
      const local = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(local.status, 200);
      assert.match(await local.text(), /^# HELP /m);
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (!external) return t.skip('no non-loopback address on this host');
      const res = await fetch(`http://${external}:${port}/metrics`);
      assert.equal(res.status, 403);
      assert.equal((await res.json()).error.code, 'ACCESS_DENIED');
      // Health answers anyone (load balancers).
      assert.equal((await fetch(`http://${external}:${port}/healthz`)).status, 200);
    } finally {
      await gw.close();
    }
  });
});

describe('the exposition', () => {
  test("histograms are written line for line as prom-client's registry writes them, labels escaped", async () => {
    const metrics = new Metrics();
    for (const [operation, queue] of [
      ['create', 'default'],
      ['odd "name"\\with\nnewline', 'q,1'],
      ['retrieve', 'high'],
    ] as const) {
      for (const seconds of [0.0001, 0.02, 3, 4000, 1e9]) metrics.runSeconds.observe({ operation, queue }, seconds);
    }
    metrics.callSeconds.observe({ operation: 'query' }, 0.004);
    const histograms = {
      wsgate_operation_run_seconds: metrics.runSeconds,
      wsgate_operation_wait_seconds: metrics.waitSeconds,
      wsgate_http_call_seconds: metrics.callSeconds,
    };
    for (const [name, h] of Object.entries(histograms)) {
      const mine = await histogramText(h as Histogram);
      assert.ok(mine !== null, "prom-client's histogram internals are there");
      assert.equal(mine, await metrics.registry.getSingleMetricAsString(name));
    }
    const families = parseExposition(await metrics.text());
    assert.equal(sampleValue(families, 'wsgate_operation_run_seconds_count', { operation: 'odd "name"\\with\nnewline', queue: 'q,1' }), 5);
    assert.equal(sampleValue(families, 'wsgate_operation_run_seconds_bucket', { operation: 'create', queue: 'default', le: '0.025' }), 2);
  });
});
