// A deferred run's ctx.log, ctx.progress and ctx.signal, in the executor's worker: the report is kept
// (capped) to be stored with the entry's result, and each change is sent at once to the main thread, which
// makes it visible while the run goes on (src/queue/live.ts). The signal is aborted at the operation's
// timeout (the watchdog stops the thread a moment later if the handler does not return), when its owner
// cancels it, and when the executor stops (wind-down).
import { WsError } from '../errors.js';
import { CANCELLED_WHILE_RUNNING } from '../queue/cancel.js';
import type { RunHooks } from '../operations/types.js';
import type { LiveReport } from '../queue/live.js';

/** Log lines kept per run, and their bytes (UTF-8) in all; beyond, lines are counted and dropped. */
export const MAX_OUTPUT_LINES = 100;
export const MAX_OUTPUT_BYTES = 16 * 1024;

/** What a run reports since its last message: a new progress, a new line, or how many lines were dropped. */
export interface ReportDelta {
  /** The first delta of a run: what an earlier run of the entry reported is dropped. */
  reset?: boolean;
  progress?: { fraction: number; message: string | null };
  line?: string;
  dropped?: number;
}

/** The lines kept, and a last one saying how many were dropped. */
export const outputOf = (lines: string[], dropped: number) =>
  dropped > 0
    ? [...lines, `… ${dropped} more line${dropped > 1 ? 's' : ''} dropped (ctx.log keeps ${MAX_OUTPUT_LINES} lines, ${MAX_OUTPUT_BYTES / 1024} KiB)`]
    : lines;

/** The handler stopped because its executor is stopping: the entry is handed back, not failed. */
export class StoppedForShutdown extends Error {
  constructor() {
    super('the executor is stopping');
  }
}

export class RunReport implements LiveReport {
  progress: number | null = null;
  message: string | null = null;
  private readonly lines: string[] = [];
  private bytes = 0;
  private dropped = 0;
  /**
   * ctx.signal and its timer are made when the handler first reads it (most never do: an AbortController and
   * a timer per run were a tenth of a no-op run's time in a worker's CPU profile). Until then an abort is
   * kept as its reason, and the run's timeout is told by the clock.
   */
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reason: unknown = undefined;
  private readonly deadline: number;
  private sent = false;
  private ended = false;
  private readonly send: (delta: ReportDelta) => void;

  constructor(
    send: (delta: ReportDelta) => void,
    readonly timeoutMs: number,
  ) {
    this.send = (delta) => {
      send(this.sent ? delta : { ...delta, reset: true });
      this.sent = true;
    };
    this.deadline = performance.now() + timeoutMs;
  }

  get output(): string[] {
    return outputOf(this.lines, this.dropped);
  }

  get reported(): boolean {
    return this.progress !== null || this.lines.length > 0;
  }

  readonly hooks: RunHooks = (() => {
    const report = this;
    return {
      log: (line: string) => {
        const size = Buffer.byteLength(line) + 1;
        // Room is left for the last line, which says how many were dropped.
        if (report.dropped > 0 || report.lines.length >= MAX_OUTPUT_LINES - 1 || report.bytes + size > MAX_OUTPUT_BYTES - 100) {
          report.dropped++;
          report.send({ dropped: report.dropped });
          return;
        }
        report.lines.push(line);
        report.bytes += size;
        report.send({ line });
      },
      progress: (fraction: number, message: string | null) => {
        report.progress = fraction;
        report.message = message;
        report.send({ progress: { fraction, message } });
      },
      get signal() {
        return report.signal();
      },
    };
  })();

  abort(why: 'timeout' | 'shutdown' | 'cancelled'): void {
    if (!this.aborted()) this.setReason(why);
  }

  /** What the run threw, as the executor sees it: after an abort, the reason for it rather than the abort error. */
  outcome(thrown: unknown): unknown {
    return this.aborted() ? this.reason : thrown;
  }

  end(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Aborted, or past its time (then aborted for it now). */
  private aborted(): boolean {
    if (this.reason === undefined && performance.now() >= this.deadline) this.setReason('timeout');
    return this.reason !== undefined;
  }

  private setReason(why: 'timeout' | 'shutdown' | 'cancelled'): void {
    this.reason =
      why === 'timeout'
        ? new WsError('TIMEOUT', `The operation did not finish within ${this.timeoutMs / 1000} s`)
        : why === 'cancelled'
          ? new WsError('OPERATION_CANCELLED', CANCELLED_WHILE_RUNNING)
          : new StoppedForShutdown();
    this.controller?.abort(this.reason);
  }

  private signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted()) this.controller.abort(this.reason);
      else if (!this.ended) {
        // The timer aborts only once the deadline has passed (aborted() reads the clock). setTimeout takes at
        // most 2^31 - 1 ms (~24.8 days): a longer timeout is then told by the clock alone.
        const left = Math.ceil(this.deadline - performance.now()) + 1;
        this.timer = setTimeout(() => this.aborted(), Math.min(left, 2 ** 31 - 1));
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }
}
