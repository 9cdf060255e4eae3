// Callback deliveries (cbwsOptions.callback): the trigger of migration 20261202000400_callbacks makes one
// when an operation's outcome becomes final; executors claim due ones with a lease (as they claim
// operations: SKIP LOCKED on PostgreSQL, the write lock on SQLite), so that two executors do not send the
// same try, and record each try. A delivery whose executor died is taken again once its lease ran out.
import { nanoid } from 'nanoid';
import * as sql from './sql/callbacks.js';
import * as retention from './sql/retention.js';
import type { Database, DbTx } from '../db/client.js';
import { toDate } from '../db/values.js';
import { inBatches } from './store.js';

export type DeliveryState = 'pending' | 'sending' | 'delivered' | 'failed';

export interface DeliveryTry {
  at: string;
  /** The receiver's HTTP status, when it answered. */
  httpStatus?: number;
  /** Why the try failed without an answer (refused, network failure, timeout). */
  error?: string;
}

export interface ClaimedDelivery {
  id: string;
  operationTrackingID: string;
  url: string;
  method: string;
  outcome: string;
  /** The operation's envelope (JSON text). */
  payload: string | null;
  /** Tries so far, this one included. */
  attempts: number;
  log: DeliveryTry[];
  leaseToken: string;
}

type Row = Record<string, unknown>;

export async function claimDeliveries(db: Database, now: Date, leaseSeconds: number, limit: number): Promise<ClaimedDelivery[]> {
  const leaseToken = nanoid();
  const leaseUntil = new Date(now.getTime() + leaseSeconds * 1000);
  const rows = await db.raw.query<Row>(sql.claimDeliveries(db.dialect, leaseToken, leaseUntil, now, limit));
  return rows.map((r) => ({
    id: String(r.id),
    operationTrackingID: String(r.operation_id),
    url: String(r.url),
    method: String(r.method),
    outcome: String(r.outcome),
    payload: r.payload === null ? null : String(r.payload),
    attempts: Number(r.attempts),
    log: JSON.parse(String(r.log)) as DeliveryTry[],
    leaseToken,
  }));
}

/**
 * Records one try under the delivery's lease: delivered (a 2xx), failed (tries used up) or pending again at
 * `retryAt`. The copy of the envelope is dropped once the delivery is over.
 */
export async function recordTry(
  db: Database,
  d: ClaimedDelivery,
  tried: DeliveryTry,
  state: 'delivered' | 'failed' | 'pending',
  retryAt: Date,
  now: Date,
): Promise<boolean> {
  const over = state !== 'pending';
  const n = await db.raw.execute(sql.recordTry(d.id, d.leaseToken, state, JSON.stringify([...d.log, tried]), over ? now : retryAt, over ? now : null, over));
  return n === 1;
}

export interface DeliveryStatus {
  id: string;
  url: string;
  method: string;
  outcome: string;
  state: DeliveryState;
  attempts: number;
  tries: DeliveryTry[];
  createdAt: Date;
  /** The next try (pending), or the lease's end (sending). */
  nextAt: Date | null;
  finishedAt: Date | null;
}

/** The deliveries of one operation, oldest first. */
export async function deliveriesOf(db: DbTx, operationTrackingID: string): Promise<DeliveryStatus[]> {
  const rows = await db.query<Row>(sql.deliveriesOf(operationTrackingID));
  return rows.map((r) => {
    const state = String(r.state) as DeliveryState;
    return {
      id: String(r.id),
      url: String(r.url),
      method: String(r.method),
      outcome: String(r.outcome),
      state,
      attempts: Number(r.attempts),
      tries: JSON.parse(String(r.log)) as DeliveryTry[],
      createdAt: toDate(r.created_at),
      nextAt: state === 'pending' || state === 'sending' ? toDate(r.available_at) : null,
      finishedAt: r.finished_at === null || r.finished_at === undefined ? null : toDate(r.finished_at),
    };
  });
}

/** When the next delivery comes due (for an idle delivery loop's timer), or null. */
export async function nextDelivery(db: Database): Promise<Date | null> {
  const rows = await db.raw.query<{ at: unknown }>(sql.nextDelivery());
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : toDate(at);
}

/** Deletes deliveries that ended (delivered or failed) before `before`. */
export async function purgeDeliveries(db: DbTx, before: Date): Promise<number> {
  return inBatches((limit) => db.execute(retention.purgeDeliveries(before, limit)));
}
