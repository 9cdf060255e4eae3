// What one user may queue: entries not finished yet (queued or running), the bytes of their parameters,
// the longest queuedelay, and (for users who are not administrators) the highest priority. The settings
// (WSGATE_QUOTA_*, WSGATE_PRIORITY_CEILING) hold for everyone; a user's own limits (ws_user.quota_*, set
// with `wsgate user quota`) replace them for that user.
//
// The check and the insert are one statement, `INSERT ... SELECT ... WHERE <within quota>` (store.ts's
// enqueueGuarded), whose condition counts and sums the user's unfinished entries from the index
// (user_id, state, params_bytes) without reading them (so its cost grows with the user's entries, which the
// limit bounds: about 1 ms at 10,000 on SQLite). Concurrent submits cannot overshoot together, on one
// gateway or several (./sql/quota.ts's queueUsage):
// - SQLite: an INSERT takes the database's write lock before it reads (as the claim does), so the count
//   sees every entry committed before it, from this process or any other.
// - PostgreSQL: a statement reads a snapshot taken as it starts, so two concurrent ones would each miss the
//   other's entry. The count is a function that first takes a per-user advisory lock (held until the
//   statement's transaction commits) and then counts on a fresh snapshot: the same user's submits take
//   turns for the length of one statement; other users' do not wait. No transaction of its own is needed,
//   and inside an idempotent call's transaction the lock holds until that commits.
// A refused submit queues nothing and is answered with the limit it hit: QUOTA_EXCEEDED for the entries and
// bytes, INVALID_PARAMETER for queuedelay and priority (they are the caller's parameters).
import type { WsUser } from '../auth/users.js';
import type { Database, DbTx } from '../db/client.js';
import type { QueueNotices } from '../db/queue-notices.js';
import type { Dialect } from '../db/dialect.js';
import type * as SQL from '../db/sql.js';
import * as sql from './sql/quota.js';
import * as retention from './sql/retention.js';
import { WsError } from '../errors.js';
import { MAX_QUOTA } from '../config.js';
import { DEFAULT_PRIORITY, enqueueGuarded, inBatches, valuesOf, wake, type NewQueuedOperation } from './store.js';
import { gathered, insertGatheredWhere } from './sql/enqueue.js';
import { Gathering } from './gathering.js';
import { trackingId } from './tracking-id.js';

export interface QuotaSettings {
  /** Entries a user may have queued or running. */
  queued: number;
  /** Bytes of parameters (JSON, UTF-8) those entries may hold together. */
  queuedBytes: number;
  /** The longest queuedelay (s). */
  maxDelaySeconds: number;
  /** The highest priority a user who is not an administrator may ask. */
  priorityCeiling: number;
}

const delayOf = (entry: NewQueuedOperation) => Math.round((entry.dueAt.getTime() - entry.submittedAt.getTime()) / 1000);

/**
 * The condition under which `entry` fits the user's quotas, for an entry of `paramsBytes` bytes. A user whose
 * entry and byte limits are both unlimited (MAX_QUOTA, e.g. a trusted service account or the benchmark's
 * admin) is not counted at all: no count, no per-user lock (CASE evaluates its branches lazily).
 */
const withinQuota = (dialect: Dialect, entry: NewQueuedOperation, quota: QuotaSettings) => (paramsBytes: number) =>
  sql.withinQuota(dialect, entry.userId, delayOf(entry), paramsBytes, quota, MAX_QUOTA);

function checkPriority(entry: NewQueuedOperation, user: WsUser, quota: QuotaSettings): void {
  const priority = entry.priority ?? DEFAULT_PRIORITY;
  if (!user.isAdmin && priority > quota.priorityCeiling) {
    throw new WsError(
      'INVALID_PARAMETER',
      `cbwsOptions: priority ${priority} is above the priority ceiling of ${quota.priorityCeiling} (WSGATE_PRIORITY_CEILING): only administrators may ask for more`,
    );
  }
}

type Run = (sql: SQL.Sql) => Promise<unknown[]>;

export interface QuotaUsage {
  /** The user's entries queued or running, and the bytes of their parameters. */
  queued: number;
  queuedBytes: number;
  /** The limits in force for the user: its own, or the settings'. */
  limits: { queued: number; queuedBytes: number; maxDelaySeconds: number };
  /** The user's own limits (null: the setting's). */
  overrides: { queued: number | null; queuedBytes: number | null; maxDelaySeconds: number | null };
}

async function usageOf(run: Run, dialect: Dialect, userId: number, quota: QuotaSettings): Promise<QuotaUsage | null> {
  const [row] = (await run(sql.usageOf(dialect, userId))) as {
    quota_queued: unknown;
    quota_queued_bytes: unknown;
    quota_max_delay_seconds: unknown;
    n: unknown;
    b: unknown;
  }[];
  if (!row) return null;
  const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const overrides = { queued: orNull(row.quota_queued), queuedBytes: orNull(row.quota_queued_bytes), maxDelaySeconds: orNull(row.quota_max_delay_seconds) };
  return {
    queued: Number(row.n),
    queuedBytes: Number(row.b),
    limits: {
      queued: overrides.queued ?? quota.queued,
      queuedBytes: overrides.queuedBytes ?? quota.queuedBytes,
      maxDelaySeconds: overrides.maxDelaySeconds ?? quota.maxDelaySeconds,
    },
    overrides,
  };
}

/** Why the guard refused `entry` (read after the refusal: by then the counts may have moved a little). */
async function refusal(run: Run, dialect: Dialect, entry: NewQueuedOperation, paramsBytes: number, quota: QuotaSettings): Promise<WsError> {
  const usage = await usageOf(run, dialect, entry.userId, quota);
  if (!usage) return new WsError('ACCESS_DENIED', 'The user no longer exists');
  const { limits } = usage;
  const delay = delayOf(entry);
  if (delay > limits.maxDelaySeconds) {
    return new WsError(
      'INVALID_PARAMETER',
      `cbwsOptions: queuedelay ${delay} is beyond the limit of ${limits.maxDelaySeconds} seconds (WSGATE_QUOTA_MAX_DELAY_SECONDS, or the user's own)`,
    );
  }
  if (usage.queuedBytes + paramsBytes > limits.queuedBytes && usage.queued < limits.queued) {
    return new WsError(
      'QUOTA_EXCEEDED',
      `queued bytes limit of ${limits.queuedBytes} reached: ${usage.queuedBytes} bytes of parameters queued or running, this operation's are ${paramsBytes} (WSGATE_QUOTA_QUEUED_BYTES, or the user's own)`,
    );
  }
  return new WsError(
    'QUOTA_EXCEEDED',
    `queued entries limit of ${limits.queued} reached: ${usage.queued} operations queued or running (WSGATE_QUOTA_QUEUED, or the user's own); wait for them to run, or cancel some`,
  );
}

/**
 * Queues `entry` within its user's quotas and returns its operationTrackingID, or throws the limit it hit.
 * On PostgreSQL, submits that come together share a statement (./gathering.ts); what that does not queue is
 * queued alone, as on SQLite, where concurrent writes share a commit already (src/db/sqlite-connection.ts).
 */
export async function enqueueWithinQuota(db: Database, entry: NewQueuedOperation, user: WsUser, quota: QuotaSettings): Promise<string> {
  checkPriority(entry, user, quota);
  const gathering = submitGathering(db, quota);
  let id: string | undefined;
  if (gathering) {
    const row = { ...valuesOf(trackingId(), entry), delaySeconds: delayOf(entry) };
    if ((await gathering.add(row)) === 'queued') {
      wake(entry, db.queueNotices);
      return row.id;
    }
    id = row.id;
  }
  // Prepared: PostgreSQL plans the guarded INSERT once per connection instead of on every submit.
  const done = await enqueueChecked((sql) => db.raw.query(sql, { prepared: true }), db.dialect, entry, quota, db.queueNotices, id);
  done.announce();
  return done.operationTrackingID;
}

const gatherings = new WeakMap<Database, WeakMap<QuotaSettings, Gathering>>();

/** The gathering of `db`'s submits under `quota`: PostgreSQL's (whose statements autocommit), none on SQLite. */
export function submitGathering(db: Database, quota: QuotaSettings): Gathering | undefined {
  if (!db.queueNotices) return undefined;
  let byQuota = gatherings.get(db);
  if (!byQuota) gatherings.set(db, (byQuota = new WeakMap()));
  let gathering = byQuota.get(quota);
  if (!gathering) {
    const guard = sql.withinQuota(db.dialect, gathered.userId, gathered.delaySeconds, gathered.paramsBytes, quota, MAX_QUOTA);
    gathering = new Gathering(async (rows) => {
      const queued = await db.raw.query<{ id: string }>(insertGatheredWhere(rows, guard), { prepared: true });
      return new Set(queued.map((r) => r.id));
    });
    byQuota.set(quota, gathering);
  }
  return gathering;
}

/**
 * The same inside the caller's transaction (an idempotent call): the entry commits with it; `announce`
 * wakes this process's executor once it has.
 */
export function enqueueInWithinQuota(tx: DbTx, dialect: Dialect, entry: NewQueuedOperation, user: WsUser, quota: QuotaSettings) {
  checkPriority(entry, user, quota);
  return enqueueChecked((sql) => tx.query<unknown>(sql), dialect, entry, quota);
}

/** Queues `entry` if within its quotas (its priority checked by the caller), or throws the limit it hit. */
async function enqueueChecked(run: Run, dialect: Dialect, entry: NewQueuedOperation, quota: QuotaSettings, notices?: QueueNotices, id?: string) {
  const done = await enqueueGuarded(run, dialect, entry, withinQuota(dialect, entry, quota), notices, id);
  if (!done.queued) throw await refusal(run, dialect, entry, done.paramsBytes, quota);
  return done;
}

/** A user's queue usage and limits (`wsgate user quota`); null for an unknown user id. */
export const quotaUsage = (db: Database, userId: number, quota: QuotaSettings) => usageOf((sql) => db.raw.query(sql), db.dialect, userId, quota);

/** Deletes a user's queued entries (not running ones), of one queue or all; returns how many. */
export async function purgeQueued(db: Database, userId: number, queue?: string): Promise<number> {
  return inBatches((limit) => db.raw.execute(retention.purgeQueued(userId, queue, limit)));
}
