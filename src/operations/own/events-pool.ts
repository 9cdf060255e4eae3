// Worker threads for pre and post scripts, started when a script first runs (a thread without scripts
// starts none). A script that outlives WSGATE_EVENT_TIMEOUT_MS is stopped with its worker (an endless loop
// included) and its call answered TIMEOUT; one that outgrows the worker's memory or kills its thread is
// answered INTERNAL_SERVER_ERROR. Either way the worker is replaced and the owner keeps serving.
import { Worker } from 'node:worker_threads';
import { WsError } from '../../errors.js';
import { workerResourceLimits } from '../../worker-limits.js';
import { workerUrl } from '../../worker-url.js';

export interface EventJob {
  /** The file's name (for messages) and the URL it is imported from. */
  script: string;
  url: string;
  event: unknown;
}

export type FromEventWorker =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; protocol: { code: string; message: string } }
  | { id: number; ok: false; failed: string };

type Outcome = { ok: true; value: unknown } | { ok: false; error: WsError; detail?: string };

interface Job {
  id: number;
  job: EventJob;
  queuedAt: number;
  done: (o: Outcome) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current?: Job & { since: number };
  stopped?: Outcome;
}

export interface EventPoolOptions {
  size: number;
  timeoutMs: number;
  memoryMb: number;
  logLevel: string;
}

const workerFile = () => workerUrl('events', new URL('./events-worker.js', import.meta.url));
const WAITING_AT_MOST = 1_000;

export class EventPool {
  private readonly slots = new Set<Slot>();
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly o: EventPoolOptions) {}

  /** Runs the script; a protocol error, a failure or a timeout comes back as `error`. */
  run(job: EventJob): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: new WsError('SERVER_BUSY', 'The gateway is stopping') });
    if (this.waiting.length >= WAITING_AT_MOST) {
      return Promise.resolve({ ok: false, error: new WsError('SERVER_BUSY', 'Too many event scripts are waiting for a worker: try again shortly') });
    }
    this.watchdog ??= setInterval(() => this.watch(), Math.max(10, Math.min(250, this.o.timeoutMs / 10))).unref();
    return new Promise<Outcome>((done) => {
      this.waiting.push({ id: this.nextId++, job, queuedAt: Date.now(), done });
      this.next();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const j of this.waiting.splice(0)) j.done({ ok: false, error: new WsError('SERVER_BUSY', 'The gateway is stopping') });
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
  }

  private next(): void {
    while (this.waiting.length > 0) {
      let slot = [...this.slots].find((s) => !s.current && !s.stopped);
      if (!slot) {
        if (this.slots.size >= this.o.size) return;
        slot = this.spawn();
      }
      const job = this.waiting.shift()!;
      slot.current = { ...job, since: Date.now() };
      slot.worker.ref();
      if (slot.ready) slot.worker.postMessage({ id: job.id, job: job.job });
    }
  }

  private finish(slot: Slot, outcome: Outcome): void {
    const current = slot.current;
    slot.current = undefined;
    slot.worker.unref();
    current?.done(outcome);
  }

  private spawn(): Slot {
    const worker = new Worker(workerFile(), { workerData: { logLevel: this.o.logLevel }, resourceLimits: workerResourceLimits(this.o.memoryMb) });
    const slot: Slot = { worker, ready: false };
    this.slots.add(slot);
    worker.on('message', (m: FromEventWorker) => {
      if ('ready' in m) {
        slot.ready = true;
        if (slot.current) {
          slot.current.since = Date.now();
          worker.postMessage({ id: slot.current.id, job: slot.current.job });
        }
        return;
      }
      if (slot.current?.id !== m.id) return;
      if (m.ok) this.finish(slot, { ok: true, value: m.value });
      else if ('protocol' in m) this.finish(slot, { ok: false, error: new WsError(m.protocol.code as never, m.protocol.message) });
      else this.finish(slot, { ok: false, error: failed(slot.current.job.script), detail: m.failed });
      this.next();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const script = slot.current?.job.script ?? 'an event script';
      slot.stopped ??=
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? {
              ok: false,
              error: new WsError(
                'INTERNAL_SERVER_ERROR',
                `Event script ${script} needed more memory than its worker has (${this.o.memoryMb} MB) and was stopped`,
              ),
            }
          : { ok: false, error: failed(script), detail: error.stack };
    });
    worker.on('exit', () => {
      this.slots.delete(slot);
      if (slot.current) this.finish(slot, slot.stopped ?? { ok: false, error: failed(slot.current.job.script), detail: 'its worker exited' });
      if (!this.closed) this.next();
    });
    worker.unref();
    return slot;
  }

  private watch(): void {
    const now = Date.now();
    const limit = this.o.timeoutMs;
    while (this.waiting.length > 0 && now - this.waiting[0]!.queuedAt > limit) {
      const j = this.waiting.shift()!;
      j.done({ ok: false, error: new WsError('TIMEOUT', `Event script ${j.job.script} waited more than ${limit} ms for an event worker and was not run`) });
    }
    for (const s of this.slots) {
      if (s.current && s.ready && !s.stopped && now - s.current.since > limit) {
        s.stopped = {
          ok: false,
          error: new WsError('TIMEOUT', `Event script ${s.current.job.script} did not finish within ${limit} ms (WSGATE_EVENT_TIMEOUT_MS) and was stopped`),
        };
        void s.worker.terminate();
      }
    }
  }
}

const failed = (script: string) => new WsError('INTERNAL_SERVER_ERROR', `Internal server error: event script ${script} failed`);
