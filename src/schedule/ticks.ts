// The times a cron expression names, between two instants, in its time zone. node-cron answers whether
// an instant matches (its own parser, time zones included); the walk steps a minute at a time (a second
// for six-field expressions) and is bounded, so a schedule left alone for months costs a bounded scan.
import { cron } from '../cron.js';

/** How far back missed ticks are looked for, and how far ahead the next one. */
export const SCAN_WINDOW_MS = 31 * 24 * 3600 * 1000;

export interface Ticker {
  /** Up to `limit` ticks in (after, upTo], newest first; only the last SCAN_WINDOW_MS before upTo are looked at. */
  between(after: Date, upTo: Date, limit: number): Date[];
  /** The first tick after `from` within SCAN_WINDOW_MS, or null. */
  next(from: Date): Date | null;
}

export function tickerOf(expression: string, timezone: string): Ticker {
  const task = cron().createTask(expression, () => undefined, { timezone });
  const stepMs = expression.trim().split(/\s+/).length === 6 ? 1_000 : 60_000;
  const floor = (ms: number) => Math.floor(ms / stepMs) * stepMs;
  return {
    between(after, upTo, limit) {
      const out: Date[] = [];
      const stop = Math.max(after.getTime(), upTo.getTime() - SCAN_WINDOW_MS);
      for (let t = floor(upTo.getTime()); t > stop && out.length < limit; t -= stepMs) {
        const at = new Date(t);
        if (task.match(at)) out.push(at);
      }
      return out;
    },
    next(from) {
      const end = from.getTime() + SCAN_WINDOW_MS;
      for (let t = floor(from.getTime()) + stepMs; t <= end; t += stepMs) {
        const at = new Date(t);
        if (task.match(at)) return at;
      }
      return null;
    },
  };
}
