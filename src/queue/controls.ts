// Queue controls, shared by every executor through ws_queue: a paused queue is not claimed; `max_running`
// caps its running entries across all executors; `max_starts` per `per_seconds` caps how many start in a
// fixed window (BullMQ's limiter, Laravel's rate limiting). Executors read the controls at most once a
// second (a pause or a new limit holds within a second). A limited queue is claimed in a transaction that
// first serializes the claims of that queue (PostgreSQL: an advisory lock; SQLite: the write lock, taken
// by the transaction's first statement), so that the count of running entries and the window's starts
// that decide the claim's size are those every other claim committed: no executor overshoots.
import type { Database } from '../db/client.js';
import { claimDue, type ClaimParams } from './sql/claim.js';
import * as sql from './sql/controls.js';
import { toDate } from '../db/values.js';

export interface QueueControl {
  name: string;
  pausedAt: Date | null;
  maxRunning: number | null;
  maxStarts: number | null;
  perSeconds: number | null;
}

export const isLimited = (c: QueueControl) => c.maxRunning !== null || c.maxStarts !== null;

export async function readControls(db: Database): Promise<Map<string, QueueControl>> {
  const rows = await db.raw.query<{ name: string; paused_at: unknown; max_running: unknown; max_starts: unknown; per_seconds: unknown }>(sql.readControls());
  const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return new Map(
    rows.map((r) => [
      r.name,
      {
        name: r.name,
        pausedAt: r.paused_at === null || r.paused_at === undefined ? null : toDate(r.paused_at),
        maxRunning: orNull(r.max_running),
        maxStarts: orNull(r.max_starts),
        perSeconds: orNull(r.per_seconds),
      },
    ]),
  );
}

/** The controls as of at most `everyMs` ago: one small SELECT a second per executor, not one per claim. */
export class ControlsCache {
  private value: Map<string, QueueControl> = new Map();
  private readAt = -Infinity;

  constructor(
    private readonly db: Database,
    private readonly everyMs = 1_000,
  ) {}

  async current(): Promise<ReadonlyMap<string, QueueControl>> {
    if (performance.now() - this.readAt >= this.everyMs) {
      this.value = await readControls(this.db);
      this.readAt = performance.now();
    }
    return this.value;
  }
}

async function upsertControl(db: Database, name: string, data: Partial<Omit<QueueControl, 'name'>>, now: Date): Promise<void> {
  await db.raw.execute(sql.upsertControl(name, data, now));
}

export const pauseQueue = (db: Database, name: string, now: Date) => upsertControl(db, name, { pausedAt: now }, now);
export const resumeQueue = (db: Database, name: string, now: Date) => upsertControl(db, name, { pausedAt: null }, now);

export interface Limits {
  /** null: no cap. */
  maxRunning?: number | null;
  /** Both or neither; null: no rate limit. */
  maxStarts?: number | null;
  perSeconds?: number | null;
}

export const setLimits = (db: Database, name: string, limits: Limits, now: Date) => upsertControl(db, name, limits, now);

/**
 * Claims up to `p.limit` due entries of a limited queue, fewer when its caps say so (in one transaction,
 * see above). Returns the claimed rows as the dialect's claim returns them.
 */
export async function claimLimited<Row>(db: Database, p: ClaimParams): Promise<Row[]> {
  return db.atomic(async (tx) => {
    const lock = db.dialect.lockKey(`wsgate-queue:${p.queue}`);
    if (lock) await tx.query(lock);
    else await tx.execute(sql.touchQueue(p.queue));
    const [c] = await tx.query<Record<string, unknown>>(sql.limitsOf(p.queue));
    if (c?.paused_at) return [];
    let allowed = p.limit;
    if (c && c.max_running !== null) {
      const [r] = await tx.query<{ n: unknown }>(sql.runningIn(p.queue));
      allowed = Math.min(allowed, Number(c.max_running) - Number(r!.n));
    }
    const rated = c && c.max_starts !== null && c.per_seconds !== null;
    let windowStart = c?.window_start ? toDate(c.window_start) : null;
    let starts = Number(c?.window_starts ?? 0);
    if (rated) {
      if (!windowStart || p.now.getTime() - windowStart.getTime() >= Number(c.per_seconds) * 1000) {
        windowStart = p.now;
        starts = 0;
      }
      allowed = Math.min(allowed, Number(c.max_starts) - starts);
    }
    if (allowed <= 0) return [];
    const rows = await tx.query<Row>(claimDue(db.dialect, { ...p, limit: allowed }));
    if (rated) {
      await tx.execute(sql.countStarts(p.queue, windowStart, starts + rows.length));
    }
    return rows;
  });
}
