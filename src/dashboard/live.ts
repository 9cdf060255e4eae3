// The live stream (Server-Sent Events): while any dashboard page is open, one snapshot is read per second
// per process, shared by every client, and sent to each as HTML fragments; when it changed, clients are
// also told `changed`, on which their lists reload themselves (at most once a second).
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Snapshot } from './overview.js';
import { overviewLive, summaryLive } from './overview.js';

export const PULSE_MS = 1000;

/** An SSE event; each line of a multi-line payload gets its own `data:`. */
export const sseEvent = (name: string, data: string) =>
  `event: ${name}\n${data
    .split('\n')
    .map((l) => `data: ${l}`)
    .join('\n')}\n\n`;

export class LivePulse {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private last: string | null = null;
  /** When (ms, this process's time) a read last found a change. */
  private changedAt = 0;
  private lastFrames = '';
  private reading = false;

  constructor(
    private readonly read: () => Promise<Snapshot>,
    private readonly log: Logger,
  ) {}

  /**
   * A client's stream: gets the latest frames at once, then every change. `since`: when its page was
   * rendered; a change seen after that is told at once, so a page that opened during a change misses none.
   */
  add(res: ServerResponse, since: number): void {
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    if (this.lastFrames) res.write(this.lastFrames);
    if (this.changedAt >= since) res.write(sseEvent('changed', String(this.changedAt)));
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), PULSE_MS);
      void this.tick();
    }
  }

  get listeners(): number {
    return this.clients.size;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.reading) return; // a slow read is not stacked up
    this.reading = true;
    try {
      const readAt = Date.now();
      const snapshot = await this.read();
      // What changed is judged on the counts and workers, not on the "updated" time.
      const key = JSON.stringify([snapshot.queues, snapshot.minutes, snapshot.executors.map((e) => [e.id, e.busyWorkers, e.maxWorkers])]);
      const frames = sseEvent('overview', overviewLive(snapshot).text) + sseEvent('summary', summaryLive(snapshot).text);
      this.lastFrames = frames;
      const changed = this.last !== null && key !== this.last;
      if (changed) this.changedAt = readAt;
      this.last = key;
      const out = frames + (changed ? sseEvent('changed', String(snapshot.at.getTime())) : '');
      for (const res of this.clients) res.write(out);
    } catch (error) {
      this.log.warn({ err: error }, 'dashboard: the live snapshot could not be read');
    } finally {
      this.reading = false;
    }
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
