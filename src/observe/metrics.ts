// The Prometheus metrics of one process (prom-client), in a registry of its own per runtime: the queue's
// counts (read from the database by a source that http/metrics.ts sets, cached), the executor's runs,
// failures, retries and timeouts by operation, run and wait histograms, worker threads, web-service calls
// by operation and error code, the database pool, and Node's default process metrics. A leaf module: the
// layers that count (executor, ws, db) import it, it imports none of them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { expositionText } from './exposition.js';

/** One queue's entries by state, and when its oldest waiting (due, unclaimed) entry became due. */
export interface QueueDepth {
  queue: string;
  waiting: number;
  delayed: number;
  running: number;
  failed: number;
  /** Finished (done or cancelled), result not read yet. */
  done: number;
  oldestWaitingDueAt: Date | null;
}

export interface PoolUse {
  /** Connections open, in use, and statements waiting for one. */
  total: number;
  busy: number;
  waiting: number;
}

/** Statements that queued submits together (PostgreSQL, src/queue/gathering.ts), and the submits they carried. */
export interface GatheredSubmits {
  statements: number;
  rows: number;
}

/** Worker threads of one pool: `executor` (deferred operations) or `calls` (synchronous calls). */
export interface ThreadUse {
  pool: 'executor' | 'calls';
  busy: number;
  size: number;
}

export const QUEUE_STATES = ['waiting', 'delayed', 'running', 'failed', 'done'] as const;

/** Seconds: operations from a few ms to the 60 s default timeout and beyond. */
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
const CALL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class Metrics {
  readonly registry = new Registry();
  /** Queue-wide counts, read at most once per `cacheMs` (set by whoever can read the database). */
  private depthSource: (() => Promise<QueueDepth[]>) | null = null;
  private depth: { at: number; value: Promise<QueueDepth[]>; settled: boolean } | null = null;
  private cacheMs = 10_000;
  private clockNow: () => number = Date.now;
  private readonly poolSources = new Set<() => PoolUse | null>();
  private readonly threadSources = new Set<() => ThreadUse>();
  private readonly gatheringSources = new Set<() => GatheredSubmits | null>();

  readonly runs: Counter<'operation'>;
  readonly failures: Counter<'operation'>;
  readonly retries: Counter<'operation'>;
  readonly timeouts: Counter<'operation'>;
  readonly runSeconds: Histogram<'operation' | 'queue'>;
  readonly waitSeconds: Histogram<'operation' | 'queue'>;
  readonly calls: Counter<'operation' | 'code'>;
  readonly callSeconds: Histogram<'operation'>;
  readonly queueReadFailures: Counter;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.runs = new Counter({
      name: 'wsgate_operation_runs_total',
      help: 'Deferred operations run to a stored result (a success or an error), by operation',
      labelNames: ['operation'],
      registers,
    });
    this.failures = new Counter({
      name: 'wsgate_operation_failures_total',
      help: 'Attempts of deferred operations that ended in an error (a protocol error answered, or an infrastructure failure, retried or not), by operation',
      labelNames: ['operation'],
      registers,
    });
    this.retries = new Counter({
      name: 'wsgate_operation_retries_total',
      help: 'Failed attempts queued again for a retry (WSGATE_TRIES), by operation',
      labelNames: ['operation'],
      registers,
    });
    this.timeouts = new Counter({
      name: 'wsgate_operation_timeouts_total',
      help: 'Attempts stopped because they ran past WSGATE_TIMEOUT_SECONDS, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.runSeconds = new Histogram({
      name: 'wsgate_operation_run_seconds',
      help: 'How long an attempt of a deferred operation ran in its worker thread',
      labelNames: ['operation', 'queue'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.waitSeconds = new Histogram({
      name: 'wsgate_operation_wait_seconds',
      help: 'From its due time to the claim that started it, for the first attempt of a deferred operation',
      labelNames: ['operation', 'queue'],
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.calls = new Counter({
      name: 'wsgate_http_calls_total',
      help: 'Web-service calls answered, by operation (`unknown` when it named none known) and error code (`OK` for a success)',
      labelNames: ['operation', 'code'],
      registers,
    });
    this.callSeconds = new Histogram({
      name: 'wsgate_http_call_seconds',
      help: 'Time from a parsed request to its answer, by operation',
      labelNames: ['operation'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.queueReadFailures = new Counter({
      name: 'wsgate_queue_read_failures_total',
      help: 'Scrapes whose read of the queue counts failed (the queue gauges are then left out)',
      registers,
    });
    const self = this;
    new Gauge({
      name: 'wsgate_queue_entries',
      help: 'Entries of each queue by state: waiting (due), delayed, running, failed (the failed store), done (result not read yet)',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const q of (await self.queueDepth()) ?? []) for (const s of QUEUE_STATES) this.set({ queue: q.queue, state: s }, q[s]);
      },
    });
    new Gauge({
      name: 'wsgate_queue_oldest_waiting_seconds',
      help: 'Seconds since the oldest waiting entry of each queue became due (0 when none waits)',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const now = self.clockNow();
        for (const q of (await self.queueDepth()) ?? []) {
          this.set({ queue: q.queue }, q.oldestWaitingDueAt ? Math.max(0, (now - q.oldestWaitingDueAt.getTime()) / 1000) : 0);
        }
      },
    });
    new Gauge({
      name: 'wsgate_worker_threads',
      help: 'Worker threads of this process by pool (executor, calls) and state (busy, free)',
      labelNames: ['pool', 'state'],
      registers,
      collect() {
        this.reset();
        const sum = new Map<string, { busy: number; size: number }>();
        for (const source of self.threadSources) {
          const t = source();
          const s = sum.get(t.pool) ?? { busy: 0, size: 0 };
          sum.set(t.pool, { busy: s.busy + t.busy, size: s.size + t.size });
        }
        for (const [pool, t] of sum) {
          this.set({ pool, state: 'busy' }, t.busy);
          this.set({ pool, state: 'free' }, t.size - t.busy);
        }
      },
    });
    new Gauge({
      name: 'wsgate_db_pool_connections',
      help: "Database connections of this process's main pool by state (busy, idle), and statements waiting for one (waiting)",
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        let total = 0;
        let busy = 0;
        let waiting = 0;
        for (const source of self.poolSources) {
          const p = source();
          if (!p) continue;
          total += p.total;
          busy += p.busy;
          waiting += p.waiting;
        }
        this.set({ state: 'busy' }, busy);
        this.set({ state: 'idle' }, total - busy);
        this.set({ state: 'waiting' }, waiting);
      },
    });
    new Counter({
      name: 'wsgate_submit_statements_total',
      help: 'PostgreSQL: statements that queued deferred submits which came while others were on their way, together',
      registers,
      collect() {
        this.reset();
        this.inc(self.gathered().statements);
      },
    });
    new Counter({
      name: 'wsgate_submit_gathered_total',
      help: 'PostgreSQL: the deferred submits those statements carried (over wsgate_submit_statements_total: submits per statement)',
      registers,
      collect() {
        this.reset();
        this.inc(self.gathered().rows);
      },
    });
  }

  private gathered(): GatheredSubmits {
    const sum = { statements: 0, rows: 0 };
    for (const source of this.gatheringSources) {
      const g = source();
      sum.statements += g?.statements ?? 0;
      sum.rows += g?.rows ?? 0;
    }
    return sum;
  }

  /** Where the queue-wide counts come from, how long a reading is kept (ms), and the clock they are aged by. */
  readQueuesFrom(source: () => Promise<QueueDepth[]>, cacheMs: number, now: () => number): void {
    this.depthSource = source;
    this.cacheMs = cacheMs;
    this.clockNow = now;
  }

  /** Adds a source of thread counts (an executor's or the call pool's); returns its removal. */
  countThreads(source: () => ThreadUse): () => void {
    this.threadSources.add(source);
    return () => this.threadSources.delete(source);
  }

  /** Adds a source of gathered submits' counts (the submit path's gathering, where there is one); returns its removal. */
  countGathering(source: () => GatheredSubmits | null): () => void {
    this.gatheringSources.add(source);
    return () => this.gatheringSources.delete(source);
  }

  countPool(source: () => PoolUse | null): () => void {
    this.poolSources.add(source);
    return () => this.poolSources.delete(source);
  }

  /**
   * The queue counts, from the database at most once per cache period (concurrent scrapes share one read);
   * null when the read failed (counted; the gauges are then left out of this scrape).
   */
  async queueDepth(): Promise<QueueDepth[] | null> {
    if (!this.depthSource) return null;
    const now = performance.now();
    // A read in flight is shared (both queue gauges of one scrape, concurrent scrapes), whatever the period.
    if (!this.depth || (this.depth.settled && now - this.depth.at >= this.cacheMs)) {
      const value = this.depthSource();
      const depth = { at: now, value, settled: false };
      this.depth = depth;
      value.then(
        () => (depth.settled = true),
        () => {
          // A failed read is not kept: the next scrape tries again.
          this.queueReadFailures.inc();
          if (this.depth === depth) this.depth = null;
        },
      );
    }
    try {
      return await this.depth.value;
    } catch {
      return null;
    }
  }

  /** The exposition text (Prometheus' text format 0.0.4), as prom-client's registry writes it (exposition.ts). */
  text(): Promise<string> {
    return expositionText(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
