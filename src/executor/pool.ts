// The executor's worker threads: at most `size`, started when first needed and replaced when one dies;
// idle ones beyond the last one used end after `idleMs`. Each runs one batch at a time. A watchdog stops
// (terminates) a worker whose operation outlives the timeout; the V8 heap limits (resourceLimits) stop one
// that outgrows its memory; `process.exit` in operation code ends only its thread. Every such death settles
// the batch with what the worker had reported, the entry that was running, and the reason, so that nothing
// is left "running".
import { writeLogLine } from '../thread-log.js';
import { Worker } from 'node:worker_threads';
import { workerResourceLimits } from '../worker-limits.js';
import { workerUrl } from '../worker-url.js';
import type { Logger } from 'pino';
import type { ClaimedOperation } from '../queue/store.js';
import { RUNNING_INDEX, RUNNING_PGID, RUNNING_SINCE, RUNNING_SLOTS, runEntryOf, type EntryOutcome, type FromWorker, type ToWorker } from './messages.js';
import type { WorkerData } from './worker.js';
import type { ExecutionPolicy } from '../operations/types.js';
import type { ReportDelta } from './report.js';

export interface PoolOptions {
  size: number;
  timeoutMs: number;
  memoryMb: number;
  /** How long a worker may stay idle before it ends (one idle worker is always kept); 0: never. */
  idleMs?: number;
  /** The clock idleness is measured on (epoch ms; tests move it); Date.now when absent. */
  now?: () => number;
  workerData: Omit<WorkerData, 'running' | 'timeoutMs' | 'files'>;
  log: Logger;
  /** A running entry's ctx.progress or ctx.log, as its worker sends it. */
  onReport?(id: string, delta: ReportDelta): void;
  /** The own operations' files in force: a worker loads these as it starts. */
  operationFiles?: () => string[];
}

export type Death = { reason: 'timeout' | 'memory' | 'exit' | 'crash' | 'cancelled'; detail: string };

export interface BatchReport {
  /** What the worker settled (done, protocolError, infraFailure, cancelled, lost, unfinished). */
  outcomes: EntryOutcome[];
  /** Set when the worker died before the end of the batch. */
  death?: Death;
  /** The batch entry that was running when it died, if one was. */
  runningIndex?: number;
}

interface Slot {
  worker: Worker;
  running: Float64Array;
  ready: Promise<void>;
  batch?: { entries: ClaimedOperation[]; outcomes: EntryOutcome[]; done: (r: BatchReport) => void };
  killedFor?: Death;
  /** The batch entry that was running when the kill was decided (what the worker says after it is not heard). */
  killedRunning?: number;
  dead: boolean;
  /** Started before the operations were reloaded: replaced once its batch is done. */
  stale?: boolean;
  /** When it last became idle (PoolOptions.now). */
  idleSince?: number;
  /** Entries of its batch whose cancel it was told of, and when (epoch ms). */
  cancels?: Map<string, number>;
  /** Cancels sent and not answered yet. */
  answers?: Map<string, (accepted: boolean) => void>;
}

const workerFile = () => workerUrl('executor', new URL('./worker.js', import.meta.url));

/** After its timeout, how long an own operation has to end on its aborted ctx.signal before its worker is stopped. */
export const ABORT_GRACE_MS = 500;
/**
 * After its cancel, how long a running operation has to end (on its ctx.signal, or its command killed)
 * before its worker is stopped: the batch's other entries are handed back then, so it is a little longer.
 */
export const CANCEL_GRACE_MS = 1_000;

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  /** Workers closing after they were replaced (memory, a reload): close() and terminate() wait for them. */
  private readonly leaving = new Set<Worker>();
  private readonly watchdog: NodeJS.Timeout;
  /**
   * The timeout, tries and backoff that operations declare (own operations), as the workers loaded them
   * from the registry: looked up when an entry runs, so an entry queued before its operation's file changed
   * runs under the new settings.
   */
  private policies: Record<string, ExecutionPolicy> = {};

  constructor(private readonly o: PoolOptions) {
    // Every 250 ms at most: an operation may declare a shorter timeout than the executor's.
    this.watchdog = setInterval(() => this.watch(), Math.max(20, Math.min(250, o.timeoutMs / 4)));
    this.watchdog.unref();
  }

  get size(): number {
    return this.o.size;
  }

  /** What the operation declares of its own timeout, tries and backoff (empty for built-in operations). */
  policyOf(operation: string): ExecutionPolicy {
    return this.policies[operation.toLowerCase()] ?? {};
  }

  private timeoutMsOf(entry: ClaimedOperation | undefined): number {
    const own = entry ? this.policyOf(entry.operation).timeoutSeconds : undefined;
    return own === undefined ? this.o.timeoutMs : own * 1000;
  }

  /** Worker threads started and not ending. */
  get started(): number {
    return this.slots.size;
  }

  /** Workers running a batch now. */
  get busy(): number {
    let n = 0;
    for (const s of this.slots) if (s.batch) n++;
    return n;
  }

  /** Slots that can take a batch (started or not). */
  get free(): number {
    return this.o.size - this.busy;
  }

  /**
   * Runs a batch on a free worker (starting one when needed); resolves when the batch is settled, by the
   * worker or by its death. Call only when `free` > 0.
   */
  async run(entries: ClaimedOperation[]): Promise<BatchReport> {
    const slot = this.idle.pop() ?? this.spawn();
    const report = new Promise<BatchReport>((done) => (slot.batch = { entries, outcomes: [], done }));
    try {
      await slot.ready;
      slot.worker.postMessage({ type: 'run', batch: entries.map(runEntryOf) } satisfies ToWorker);
    } catch {
      // The worker died while starting: its exit settled the batch.
    }
    return report;
  }

  /** Starts every worker not started yet and waits until they are ready (a listener does, at its start). */
  async warm(): Promise<void> {
    while (this.slots.size < this.o.size) this.makeIdle(this.spawn());
    await Promise.all([...this.slots].map((s) => s.ready.catch(() => undefined)));
  }

  private makeIdle(slot: Slot): void {
    slot.idleSince = this.now();
    this.idle.push(slot);
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /**
   * Ends the workers idle for idleMs, but the last one used (the next to be taken, LIFO): under a light
   * load one warm worker takes every batch, and the others' memory goes back to the system (until work
   * starts them again).
   */
  private endIdle(): void {
    if (!this.o.idleMs) return;
    const now = this.now();
    for (const s of this.idle.slice(0, -1)) {
      if (now - (s.idleSince ?? now) < this.o.idleMs) continue;
      this.idle.splice(this.idle.indexOf(s), 1);
      this.retire(s);
    }
  }

  /**
   * After a reload of the operations: every worker is replaced by a fresh one (started when next needed),
   * which loads the new set. Idle workers go now; a busy one finishes its batch on the set it has, then goes.
   */
  recycle(): void {
    for (const s of this.slots) s.stale = true;
    for (const s of this.idle.splice(0)) this.retire(s);
  }

  /**
   * Tells the worker whose batch holds this entry that its owner cancelled it. True once the worker took
   * it (it stops or skips the entry, which ends as cancelled; one that does not stop within CANCEL_GRACE_MS
   * is stopped); false when no batch here holds it, its worker is being stopped, or its outcome is being
   * committed already.
   */
  async cancel(operationTrackingID: string): Promise<boolean> {
    for (const s of this.slots) {
      if (s.dead || s.killedFor || !s.batch?.entries.some((e) => e.operationTrackingID === operationTrackingID)) continue;
      const answered = new Promise<boolean>((resolve) => (s.answers ??= new Map()).set(operationTrackingID, resolve));
      s.worker.postMessage({ type: 'cancel', id: operationTrackingID } satisfies ToWorker);
      const accepted = await answered;
      if (accepted && !s.dead) (s.cancels ??= new Map()).set(operationTrackingID, Date.now());
      return accepted;
    }
    return false;
  }

  /** Asks every worker to finish the operation it runs and hand back the rest of its batch. */
  windDown(): void {
    for (const s of this.slots) if (!s.dead) s.worker.postMessage({ type: 'wind-down' } satisfies ToWorker);
  }

  /** Stops every worker now; batches still running are settled as deaths for `why`. */
  async terminate(why: string): Promise<void> {
    clearInterval(this.watchdog);
    await Promise.all([...this.slots].map((s) => this.kill(s, { reason: 'exit', detail: why })));
    await this.left();
  }

  /** Closes idle workers cleanly (their database clients too); call when no batch runs. */
  async close(): Promise<void> {
    clearInterval(this.watchdog);
    await Promise.all(
      [...this.slots].map(async (s) => {
        if (s.dead) return;
        const closed = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        s.worker.postMessage({ type: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => void s.worker.terminate(), 5_000);
        await closed;
        clearTimeout(timer);
      }),
    );
    await this.left();
  }

  private left(): Promise<unknown> {
    return Promise.all([...this.leaving].map((w) => new Promise((resolve) => w.once('exit', resolve))));
  }

  private spawn(): Slot {
    const running = new Float64Array(new SharedArrayBuffer(8 * RUNNING_SLOTS));
    const worker = new Worker(workerFile(), {
      workerData: { ...this.o.workerData, timeoutMs: this.o.timeoutMs, running: running.buffer, files: this.o.operationFiles?.() } satisfies WorkerData,
      resourceLimits: workerResourceLimits(this.o.memoryMb),
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((resolve, reject) => ((readyResolve = resolve), (readyReject = reject)));
    ready.catch(() => undefined);
    const slot: Slot = { worker, running, ready, dead: false };
    this.slots.add(slot);
    let crash: Death | undefined;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.policies = m.policies;
        readyResolve();
      }
      // Once a kill is decided, the worker's death settles its batch: what it reports while it is being
      // stopped (a command killed with it, say) is not heard.
      else if (slot.killedFor && (m.type === 'outcomes' || m.type === 'batch-done')) return;
      else if (m.type === 'cancel-answer') {
        slot.answers?.get(m.id)?.(m.accepted);
        slot.answers?.delete(m.id);
      } else if (m.type === 'report') this.o.onReport?.(m.id, m.delta);
      else if (m.type === 'log') writeLogLine(this.o.log, m.line);
      else if (m.type === 'outcomes') slot.batch?.outcomes.push(...m.outcomes);
      else if (m.type === 'batch-done') {
        const b = slot.batch;
        slot.batch = undefined;
        slot.cancels = undefined;
        // A worker near its memory limit is replaced between batches rather than killed in the middle of one.
        if (m.heapUsedMb > this.o.memoryMb * 0.8 || slot.stale) this.retire(slot);
        else this.makeIdle(slot);
        b?.done({ outcomes: b.outcomes });
      } else if (m.type === 'fatal') {
        crash = { reason: 'crash', detail: m.message.split('\n')[0]! };
        this.o.log.error({ detail: m.message }, 'executor worker failed');
        void worker.terminate();
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      crash =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { reason: 'memory', detail: `its worker ran out of memory (limit ${this.o.memoryMb} MB)` }
          : { reason: 'crash', detail: `its worker crashed: ${error.message}` };
    });
    worker.on('exit', (code) => {
      killProcessGroup(slot);
      for (const answer of slot.answers?.values() ?? []) answer(false);
      slot.answers = undefined;
      slot.dead = true;
      this.leaving.delete(worker);
      this.slots.delete(slot);
      const at = this.idle.indexOf(slot);
      if (at >= 0) this.idle.splice(at, 1);
      const death = slot.killedFor ?? crash ?? { reason: 'exit' as const, detail: `its worker exited (code ${code})` };
      readyReject(new Error(death.detail));
      const b = slot.batch;
      slot.batch = undefined;
      if (b) b.done({ outcomes: b.outcomes, death, runningIndex: slot.killedRunning ?? runningIndexOf(slot) });
    });
    return slot;
  }

  private retire(slot: Slot) {
    this.slots.delete(slot);
    this.leaving.add(slot.worker);
    slot.worker.postMessage({ type: 'close' } satisfies ToWorker);
    setTimeout(() => void slot.worker.terminate(), 5_000).unref();
  }

  private async kill(slot: Slot, why: Death) {
    if (slot.dead) return;
    if (!slot.killedFor) {
      slot.killedFor = why;
      slot.killedRunning = runningIndexOf(slot);
    }
    await endProcessGroup(slot);
    const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
    await slot.worker.terminate();
    await exited;
    // A command the worker started after the look above (its pid stored as the worker was being stopped).
    killProcessGroup(slot);
  }

  private watch() {
    this.endIdle();
    const now = Date.now();
    for (const s of this.slots) {
      const since = s.running[RUNNING_SINCE]!;
      if (!s.batch || since <= 0) continue;
      const entry = s.batch.entries[s.running[RUNNING_INDEX]!];
      const cancelledAt = entry && s.cancels?.get(entry.operationTrackingID);
      if (cancelledAt && now - cancelledAt > CANCEL_GRACE_MS) {
        void this.kill(s, { reason: 'cancelled', detail: 'The operation was cancelled and did not stop on its signal; its worker was stopped' });
        continue;
      }
      const limit = this.timeoutMsOf(entry);
      // At the limit the worker aborts the run's ctx.signal; a handler that does not end soon after is stopped.
      if (now - since > limit + ABORT_GRACE_MS) {
        void this.kill(s, { reason: 'timeout', detail: `The operation did not finish within ${limit / 1000} s; its worker was stopped` });
      }
    }
  }
}

function runningIndexOf(slot: Slot): number | undefined {
  const since = slot.running[RUNNING_SINCE]!;
  const index = slot.running[RUNNING_INDEX]!;
  return since > 0 && index >= 0 ? index : undefined;
}

/** A worker stopped while its operation ran a command (exec): the command's whole process group goes too. */
function killProcessGroup(slot: Slot): boolean {
  const pgid = slot.running[RUNNING_PGID]!;
  if (!(pgid > 0)) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already.
  }
  return true;
}

/** How long a worker about to be stopped gets to collect its killed command's exit. */
const REAP_WAIT_MS = 2_000;

/**
 * Kills the group, then lets the worker see its command exit before the worker is stopped: only the
 * worker's event loop collects the command's exit status, and one stopped first would leave a zombie.
 */
async function endProcessGroup(slot: Slot): Promise<void> {
  // A command being started (exec stores -1 before spawn): its group is known once spawn returns.
  const starting = Date.now() + REAP_WAIT_MS;
  while (slot.running[RUNNING_PGID] === -1 && Date.now() < starting) await new Promise((r) => setTimeout(r, 5));
  if (!killProcessGroup(slot)) return;
  const until = Date.now() + REAP_WAIT_MS;
  while (slot.running[RUNNING_PGID]! > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
