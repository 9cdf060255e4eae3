// The gateway's call workers: synchronous calls of operations whose work grows with their input (a query
// that scans, a mass operation) and own operations run here, one call per worker at a time, so that the
// event loop keeps answering everyone else. A worker starts when a call finds none free (that call waits for
// it, untimed). Calls beyond the workers wait in line (up to a bound); a call that outlives its time is
// stopped with its worker, answered TIMEOUT, and the worker replaced; so is one that outgrows the worker's
// memory or kills its thread.
//
// When every worker is busy, one more call may be sent ahead to a worker whose current call is of an
// operation that runs quickly (under WSGATE_CALL_AHEAD_MS, 2, from its recent runs): it waits in the worker's port and starts
// the moment the current one ends, without the worker going to sleep and being woken for it (that wake-up,
// both ways, cost a no-op call more than the call itself on a 2-core machine). A call sent ahead has not
// started until its turn comes; if the worker dies first, it goes back to the front of the line.
import { writeLogLine } from '../../thread-log.js';
import { Worker } from 'node:worker_threads';
import { workerResourceLimits } from '../../worker-limits.js';
import { workerUrl } from '../../worker-url.js';
import type { Logger } from 'pino';
import { failure, type Envelope } from '../../envelope.js';
import { databaseUnavailable, WsError } from '../../errors.js';
import type { Config } from '../../config.js';
import type { FromCallWorker, IsolatedCall, ToCallWorker } from './messages.js';
import type { CallWorkerData } from './worker.js';
import type { ModuleDefinition } from '../../records/modules.js';

export interface CallPoolOptions {
  size: number;
  timeoutMs: number;
  /** A call may be sent ahead behind one whose operation usually runs in less than this, as long as it has not yet (0: never). */
  aheadMs: number;
  memoryMb: number;
  /** Calls that may wait for a free worker; beyond, SERVER_BUSY at once. */
  maxWaiting: number;
  config: Config;
  clock: SharedArrayBuffer;
  /** The modules' definitions, handed to each worker as it starts. */
  modules: ModuleDefinition[];
  log: Logger;
  /** The own operations' files in force: a worker loads these as it starts. */
  operationFiles?: () => string[];
}

/**
 * A call's answer: the envelope, and (from a worker) its JSON text, which the gateway sends as it is. A
 * success from a worker carries its result in `body` only.
 */
export interface CallAnswer {
  envelope: Envelope;
  body?: string;
}

interface Pending {
  id: number;
  queuedAt: number;
  call: IsolatedCall;
  answer: (a: CallAnswer) => void;
}

interface Sent extends Pending {
  /** When it was handed to the worker, or (sent ahead) when the call before it ended: its time runs from here. */
  since: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  /** Ready: calls are sent at once rather than after `ready`. */
  started: boolean;
  /** Calls sent to it, in the order it runs them: the first runs now, the next waits in its port. */
  sent: Sent[];
  /** Stopped for outliving its time: the call it was stopped for, and that call's answer. */
  killedFor?: { id: number; envelope: Envelope };
  dead: boolean;
  /** Reloads of the operations asked of it and not done yet: it takes no call meanwhile. */
  reloading: number;
  /** Near its memory limit: it takes no more calls and is closed once those sent are answered. */
  retiring: boolean;
}

const workerFile = () => workerUrl('calls', new URL('./worker.js', import.meta.url));

/** How long a worker may take to start (open its database, load the operations) before it is stopped. */
const START_AT_MOST_MS = 30_000;

/** After a worker failed to start, how long calls are answered the same way instead of starting another. */
const START_COOLDOWN_MS = 1_000;

/** How much an operation's latest run counts in its running average (the rest is its history). */
const RECENT_WEIGHT = 0.2;

const busy = (): CallAnswer => ({ envelope: failure(new WsError('SERVER_BUSY', 'The gateway has too many calls waiting: try again shortly')) });
const waitedTooLong = (): CallAnswer => ({
  envelope: failure(new WsError('SERVER_BUSY', 'The call waited too long for a call worker and was not run: try again shortly')),
});
const stopping = (): CallAnswer => ({ envelope: failure(new WsError('SERVER_BUSY', 'The gateway is stopping')) });

export class CallPool {
  private readonly slots = new Set<Slot>();
  private readonly waiting: Pending[] = [];
  /** Per operation, the running average of its calls' time in a worker (ms). */
  private readonly runMs = new Map<string, number>();
  /** Workers closing after they were replaced (memory, a reload): close() waits for them too. */
  private readonly leaving = new Set<Worker>();
  private readonly watchdog: NodeJS.Timeout;
  private nextId = 1;
  /** When a worker last failed to start, and what its call was answered. */
  private failedStart: { at: number; answer?: Envelope } = { at: 0 };
  private closed = false;

  constructor(private readonly o: CallPoolOptions) {
    this.watchdog = setInterval(() => this.watch(), Math.max(20, Math.min(500, o.timeoutMs / 10)));
    this.watchdog.unref();
  }

  /** Calls handed to the pool so far. */
  received = 0;
  /** Calls sent ahead to a busy worker so far (see the top of this file). */
  sentAhead = 0;

  /** Workers running a call now, and calls waiting for one. */
  get load(): { busy: number; waiting: number; size: number } {
    let busy = 0;
    let ahead = 0;
    for (const s of this.slots) {
      if (s.sent.length > 0) busy++;
      ahead += Math.max(0, s.sent.length - 1);
    }
    return { busy, waiting: this.waiting.length + ahead, size: this.o.size };
  }

  /** Starts every worker and waits until they are ready (the server does not: a worker starts with the first call that needs one). */
  async warm(): Promise<void> {
    while (this.slots.size < this.o.size) this.spawn();
    await Promise.all([...this.slots].map((s) => s.ready.catch(() => undefined)));
  }

  /**
   * After a reload of the operations: every worker loads the new set (the files the main thread accepted)
   * and takes no call until it has; a busy one finishes its call on the set it had. Calls meanwhile wait.
   */
  reload(): void {
    if (this.closed) return;
    const files = this.o.operationFiles?.() ?? [];
    // An operation of the new set may share a name and not a pace with the old one.
    this.runMs.clear();
    for (const s of this.slots) {
      if (s.dead) continue;
      s.reloading++;
      s.worker.postMessage({ type: 'reload', files } satisfies ToCallWorker);
    }
  }

  run(call: IsolatedCall): Promise<CallAnswer> {
    this.received++;
    if (this.closed) return Promise.resolve(stopping());
    if (this.waiting.length >= this.o.maxWaiting) return Promise.resolve(busy());
    return new Promise<CallAnswer>((answer) => {
      this.waiting.push({ id: this.nextId++, queuedAt: Date.now(), call, answer });
      this.next();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    for (const p of this.waiting.splice(0)) p.answer(stopping());
    await Promise.all(
      [...this.slots].map(async (s) => {
        if (s.dead) return;
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        if (s.sent.length > 0) void s.worker.terminate();
        else s.worker.postMessage({ type: 'close' } satisfies ToCallWorker);
        const timer = setTimeout(() => void s.worker.terminate(), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await Promise.all([...this.leaving].map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }

  /** Closes a worker between calls: it ends its database client and exits. */
  private retire(slot: Slot): void {
    this.slots.delete(slot);
    this.leaving.add(slot.worker);
    slot.worker.postMessage({ type: 'close' } satisfies ToCallWorker);
    setTimeout(() => void slot.worker.terminate(), 5_000).unref();
  }

  private next(): void {
    while (this.waiting.length > 0) {
      let slot = this.free();
      if (!slot && this.slots.size < this.o.size) {
        if (Date.now() - this.failedStart.at < START_COOLDOWN_MS) {
          // A worker just failed to start: answer as it did, rather than start one per waiting call.
          const { answer } = this.failedStart;
          for (const p of this.waiting.splice(0)) p.answer({ envelope: answer! });
          return;
        }
        slot = this.spawn();
      }
      if (!slot) {
        slot = this.ahead();
        if (!slot) return;
        this.sentAhead++;
      }
      const sent: Sent = { ...this.waiting.shift()!, since: Date.now() };
      slot.sent.push(sent);
      if (slot.started) this.post(slot, sent);
      else {
        const s = slot;
        s.ready.then(
          () => {
            sent.since = Date.now();
            this.post(s, sent);
          },
          () => undefined,
        ); // a worker that dies starting answers the call as it exits
      }
    }
  }

  private post(slot: Slot, sent: Sent): void {
    slot.worker.postMessage({ type: 'call', id: sent.id, call: sent.call } satisfies ToCallWorker);
  }

  private takes(s: Slot): boolean {
    return !s.dead && !s.killedFor && !s.retiring && s.reloading === 0 && !this.closed;
  }

  /** A worker with no call (the first found: the same few stay warm). */
  private free(): Slot | undefined {
    for (const s of this.slots) if (s.sent.length === 0 && this.takes(s)) return s;
    return undefined;
  }

  /** A started worker running one quick call and holding none ahead of it, which has run for less than aheadMs. */
  private ahead(): Slot | undefined {
    if (this.o.aheadMs <= 0) return undefined;
    const now = Date.now();
    for (const s of this.slots) {
      if (!s.started || s.sent.length !== 1 || !this.takes(s)) continue;
      const current = s.sent[0]!;
      const typical = this.runMs.get(current.call.operation);
      if (typical !== undefined && typical < this.o.aheadMs && now - current.since < this.o.aheadMs) return s;
    }
    return undefined;
  }

  private ran(operation: string, ms: number): void {
    const before = this.runMs.get(operation);
    this.runMs.set(operation, before === undefined ? ms : before + RECENT_WEIGHT * (ms - before));
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), {
      workerData: { config: this.o.config, clock: this.o.clock, modules: this.o.modules, files: this.o.operationFiles?.() } satisfies CallWorkerData,
      resourceLimits: workerResourceLimits(this.o.memoryMb),
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => ((readyResolve = resolve), (readyReject = reject)));
    ready.catch(() => undefined);
    const slot: Slot = { worker, ready, started: false, sent: [], dead: false, reloading: 0, retiring: false };
    this.slots.add(slot);
    let crash: Envelope | undefined;
    worker.on('message', (m: FromCallWorker) => {
      if (m.type === 'log') writeLogLine(this.o.log, m.line);
      else if (m.type === 'ready') {
        slot.started = true;
        readyResolve();
      } else if (m.type === 'answer') {
        const current = slot.sent[0];
        if (current?.id === m.id) {
          slot.sent.shift();
          const now = Date.now();
          this.ran(current.call.operation, now - current.since);
          if (slot.sent[0]) slot.sent[0].since = now;
          current.answer({
            envelope: m.error ? { success: false, error: m.error, moreinfo: null } : { success: true, result: undefined, moreinfo: null },
            body: m.body,
          });
        }
        // A worker near its memory limit is replaced between calls rather than killed in the middle of one.
        if (m.heapUsedMb > this.o.memoryMb * 0.8) slot.retiring = true;
        if (slot.retiring && slot.sent.length === 0 && !slot.dead) this.retire(slot);
        this.next();
      } else if (m.type === 'reloaded') {
        slot.reloading--;
        if (slot.reloading === 0) this.next();
      } else if (m.type === 'fatal') {
        crash = m.unavailable
          ? failure(databaseUnavailable(m.unavailable))
          : failure(new WsError('INTERNAL_SERVER_ERROR', 'Internal server error: the call worker could not start'));
        // Once per cooldown: while the database is away, calls are answered without a worker each (next()).
        if (Date.now() - this.failedStart.at > START_COOLDOWN_MS) {
          if (m.unavailable) this.o.log.warn({ reason: m.unavailable }, 'call worker cannot start: database unavailable');
          else this.o.log.error({ detail: m.message }, 'call worker failed to start');
        }
        this.failedStart = { at: Date.now(), answer: crash };
        void worker.terminate();
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      crash =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? failure(new WsError('INTERNAL_SERVER_ERROR', `The call needed more memory than a call worker has (${this.o.memoryMb} MB) and was stopped`))
          : failure(new WsError('INTERNAL_SERVER_ERROR', 'Internal server error: the call worker crashed'));
      if (error.code !== 'ERR_WORKER_OUT_OF_MEMORY') this.o.log.error({ err: error }, 'call worker crashed');
    });
    worker.on('exit', () => {
      slot.dead = true;
      this.leaving.delete(worker);
      this.slots.delete(slot);
      readyReject(new Error('call worker exited'));
      const [current, ...notStarted] = slot.sent.splice(0);
      const exited = failure(new WsError('INTERNAL_SERVER_ERROR', 'Internal server error: the call worker exited'));
      // The call it was stopped for may have answered meanwhile: the one after it then ran, and exited with it.
      const killed = slot.killedFor && current?.id === slot.killedFor.id ? slot.killedFor.envelope : undefined;
      current?.answer({ envelope: killed ?? crash ?? exited });
      // A call sent ahead had not started (a worker runs its calls one after the other). Behind a call that
      // outlived its time it waited as long as a call may run, and is answered so, not run, as a call waiting
      // in the line would have been; behind a call that died, it goes back to the front of the line.
      if (this.closed) for (const p of notStarted) p.answer(stopping());
      else if (slot.killedFor) for (const p of notStarted) p.answer(waitedTooLong());
      else {
        this.waiting.unshift(...notStarted.map(({ since: _, ...p }) => p));
        this.next();
      }
    });
    return slot;
  }

  private watch(): void {
    const now = Date.now();
    // A call that waited as long as a call may run is answered now: its client has likely given up, and
    // running it later (a MassCreate after the client retried it) would do the work twice.
    while (this.waiting.length > 0 && now - this.waiting[0]!.queuedAt > this.o.timeoutMs) {
      this.waiting.shift()!.answer(waitedTooLong());
    }
    for (const s of this.slots) {
      // A call handed to a worker still starting is timed from when it is sent (a start that never ends is
      // stopped after a longer while): a slow start is not the call's time.
      const limit = s.started ? this.o.timeoutMs : this.o.timeoutMs + START_AT_MOST_MS;
      const current = s.sent[0];
      if (current && !s.killedFor && now - current.since > limit) {
        s.killedFor = {
          id: current.id,
          envelope: failure(
            new WsError('TIMEOUT', `The call did not finish within ${this.o.timeoutMs / 1000} s and was stopped; what it had not committed was rolled back`),
          ),
        };
        this.o.log.warn({ operation: current.call.operation, ms: now - current.since }, 'call stopped: it outlived its time');
        this.ran(current.call.operation, now - current.since);
        void s.worker.terminate();
      }
    }
  }
}
