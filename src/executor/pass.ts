// One executor pass: claim due operations with a lease, run each through the same operation code as a
// synchronous call, as the user who queued it, and store its envelope. An operation's writes and the
// statement that stores its result commit in one transaction, so a pass killed mid-operation leaves
// nothing half-done: after the lease, a later pass runs it again from the start. The lease is claimed
// for a batch but renewed, fenced by its token, as each entry starts: an entry that waited in its batch
// past the lease and was taken over by another executor is skipped, not run twice.
import type { Logger } from 'pino';
import { findUser, type WsUser } from '../auth/users.js';
import type { Database, DbTx } from '../db/client.js';
import { isTransientDatabaseError } from '../db/errors.js';
import { WsError } from '../errors.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { Services } from '../operations/types.js';
import { claim, complete, renewLease, type ClaimedOperation } from '../queue/store.js';
import { envelopeOfError, success } from '../envelope.js';

export interface ExecutorOptions {
  leaseSeconds: number;
  /** How long an operation's transaction may wait to start (on SQLite, for another process's write lock). */
  transactionMaxWaitMs: number;
  claimBatch: number;
  resultTtlSeconds: number;
}

export interface Executor {
  db: Database;
  registry: OperationRegistry;
  services: Services;
  log: Logger;
  options: ExecutorOptions;
}

export interface PassSummary {
  /** Operations run to a stored result (success or error). */
  run: number;
  /** Of those, the ones whose stored envelope is an error. */
  failed: number;
  /** Operations whose lease was taken over before they finished: their result was not stored by this pass. */
  lost: number;
  tookMs: number;
}

class LeaseLost extends Error {}

type Outcome = 'succeeded' | 'failed' | 'lost';

/** Users looked up during one pass: a batch is usually one user's operations. */
type UserCache = Map<number, Promise<WsUser | null>>;

/**
 * Claims of one entry after which it is given up: an operation whose runs keep ending without a result (its
 * executor dies, or the database fails around it) gets an error envelope instead of blocking every pass.
 */
export const MAX_ATTEMPTS = 5;

/** Prisma's error for a transaction that outlived its timeout (the operation's lease). */
const isTransactionTimeout = (error: unknown) => (error as { code?: unknown } | null)?.code === 'P2028';

async function userOf(ex: Executor, users: UserCache, userId: number): Promise<WsUser | null> {
  let lookup = users.get(userId);
  if (!lookup) {
    users.set(userId, (lookup = findUser(ex.db.prisma, userId)));
    lookup.catch(() => users.delete(userId));
  }
  return lookup;
}

/**
 * Runs one claimed entry. What the operation throws becomes its stored error envelope. What the database
 * throws around it (a transaction that cannot start or commit, a lost connection, a lock or serialization
 * conflict) is not the operation's fault: it is rethrown, the pass fails, and the entry's lease runs out so
 * that a later pass runs it again, up to MAX_ATTEMPTS claims.
 */
async function runOne(ex: Executor, entry: ClaimedOperation, users: UserCache): Promise<Outcome> {
  const { db, registry, services, options } = ex;
  const finish = (tx: DbTx, envelope: string) =>
    complete(tx, {
      operationTrackingID: entry.operationTrackingID,
      leaseToken: entry.leaseToken,
      envelope,
      now: services.clock.now(),
      resultTtlSeconds: options.resultTtlSeconds,
    });
  const storeError = async (error: unknown): Promise<Outcome> => {
    if (!(error instanceof WsError)) {
      ex.log.error({ err: error, operation: entry.operation, operationTrackingID: entry.operationTrackingID }, 'queued operation failed unexpectedly');
    }
    // The operation's own writes, if any, were rolled back with its transaction; store why it failed.
    return (await finish(db.prisma, JSON.stringify(envelopeOfError(error)))) ? 'failed' : 'lost';
  };

  if (entry.attempts > MAX_ATTEMPTS) {
    return storeError(new WsError('INTERNAL_SERVER_ERROR', `The operation was started ${MAX_ATTEMPTS} times without finishing; it is given up`));
  }
  const op = registry.get(entry.operation);
  if (!op || !op.queueable) {
    return storeError(new WsError('UNKNOWN_OPERATION', `Operation ${entry.operation} cannot be run from the queue by this executor`));
  }
  // Looked up before the transaction opens: on SQLite a query on the client, not the transaction, made
  // inside it would wait for it to end (a deadlock until its timeout).
  const user = await userOf(ex, users, entry.userId);
  if (!user) return storeError(new WsError('ACCESS_DENIED', 'The user who queued this operation no longer exists'));

  const at: { phase: 'starting' | 'running' | 'committing' } = { phase: 'starting' };
  try {
    await db.prisma.$transaction(
      async (tx) => {
        const lease = { operationTrackingID: entry.operationTrackingID, leaseToken: entry.leaseToken, leaseSeconds: options.leaseSeconds };
        if (!(await renewLease(tx, { ...lease, now: services.clock.now() }))) throw new LeaseLost();
        at.phase = 'running';
        const result = await op.run({ db: tx, user, services }, entry.params);
        if (!(await finish(tx, JSON.stringify(success(result))))) throw new LeaseLost();
        at.phase = 'committing';
      },
      { timeout: options.leaseSeconds * 1000, maxWait: options.transactionMaxWaitMs },
    );
    return 'succeeded';
  } catch (error) {
    if (error instanceof LeaseLost) return 'lost';
    if (at.phase !== 'starting' && isTransactionTimeout(error)) {
      return storeError(new WsError('INTERNAL_SERVER_ERROR', `The operation did not finish within its lease (${options.leaseSeconds} s)`));
    }
    // The database failing under the operation is not the operation's answer: a later pass runs it again.
    if (at.phase === 'running' && !isTransientDatabaseError(error)) return storeError(error);
    throw error;
  }
}

/** Runs every due operation, then returns. Throws only when the infrastructure (the database) fails. */
export async function runPass(ex: Executor): Promise<PassSummary> {
  const started = performance.now();
  const summary: PassSummary = { run: 0, failed: 0, lost: 0, tookMs: 0 };
  const users: UserCache = new Map();
  for (;;) {
    const batch = await claim(ex.db, {
      now: ex.services.clock.now(),
      leaseSeconds: ex.options.leaseSeconds,
      limit: ex.options.claimBatch,
    });
    if (batch.length === 0) break;
    for (const entry of batch) {
      const outcome = await runOne(ex, entry, users);
      if (outcome === 'lost') summary.lost++;
      else {
        summary.run++;
        if (outcome === 'failed') summary.failed++;
      }
    }
  }
  summary.tookMs = Math.round(performance.now() - started);
  return summary;
}

export const formatSummary = (s: PassSummary) =>
  `executeOperationsFromQueue: run=${s.run} failed=${s.failed}${s.lost ? ` lost-lease=${s.lost}` : ''} took=${s.tookMs}ms`;
