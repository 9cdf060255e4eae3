// The executor's main thread's view of what its running own operations report (ctx.progress, ctx.log),
// from its workers' messages: written out a few times a second for other processes to read (see
// src/queue/live.ts for where, per database), and at hand when an entry's attempt fails (its report is
// stored with the failure, even when its worker died).
import type { Logger } from 'pino';
import type { ClaimedOperation } from '../queue/store.js';
import type { LiveReport, LiveStore } from '../queue/live.js';
import { outputOf, type ReportDelta } from './report.js';

/** How often reports that changed are written out (ms). */
export const LIVE_WRITE_EVERY_MS = 200;

interface Board {
  leaseToken: string;
  progress: number | null;
  message: string | null;
  lines: string[];
  dropped: number;
  dirty: boolean;
}

export class LiveBoard {
  private readonly boards = new Map<string, Board>();
  private readonly timer: NodeJS.Timeout;
  private writing = false;

  constructor(
    private readonly store: LiveStore | null,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), LIVE_WRITE_EVERY_MS);
    this.timer.unref();
  }

  /** The lease of each entry handed to a worker: it fences the writes. */
  private readonly leases = new Map<string, string>();

  hold(entries: ClaimedOperation[]): void {
    for (const e of entries) this.leases.set(e.operationTrackingID, e.leaseToken);
  }

  report(id: string, delta: ReportDelta): void {
    const leaseToken = this.leases.get(id);
    if (!leaseToken) return;
    let b = this.boards.get(id);
    if (!b || delta.reset) {
      b = { leaseToken, progress: null, message: null, lines: [], dropped: 0, dirty: true };
      this.boards.set(id, b);
    }
    if (delta.progress) {
      b.progress = delta.progress.fraction;
      b.message = delta.progress.message;
    }
    if (delta.line !== undefined) b.lines.push(delta.line);
    if (delta.dropped !== undefined) b.dropped = delta.dropped;
    b.dirty = true;
  }

  /** What the entry's current run reported so far (undefined: nothing). */
  of(id: string): LiveReport | undefined {
    const b = this.boards.get(id);
    return b && { progress: b.progress, message: b.message, output: outputOf(b.lines, b.dropped) };
  }

  /** The entries are settled: their final report is in their row. */
  forget(ids: string[]): void {
    const reported = ids.filter((id) => this.boards.has(id));
    for (const id of ids) {
      this.boards.delete(id);
      this.leases.delete(id);
    }
    if (reported.length > 0) this.store?.forget(reported);
  }

  private async flush(): Promise<void> {
    if (this.writing || !this.store) return;
    const rows = [...this.boards].filter(([, b]) => b.dirty);
    if (rows.length === 0) return;
    this.writing = true;
    try {
      for (const [, b] of rows) b.dirty = false;
      await this.store.write(
        rows.map(([id, b]) => ({ id, leaseToken: b.leaseToken, progress: b.progress, message: b.message, output: outputOf(b.lines, b.dropped) })),
      );
    } catch (error) {
      for (const [, b] of rows) b.dirty = true;
      this.log.debug({ err: error }, 'could not write the progress of running operations; trying again');
    } finally {
      this.writing = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.store?.close();
  }
}
