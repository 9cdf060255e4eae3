// One executor pass: claim due operations with a lease, run each through the same operation code as a
// synchronous call, as the user who queued it, and store its envelope. An operation's writes and the
// statement that stores its result commit in one transaction, so a pass killed mid-operation leaves
// nothing half-done: after the lease, a later pass runs it again from the start.
import type { Logger } from 'pino';
import { findUser, type WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import { WsError } from '../errors.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { Services } from '../operations/types.js';
import { claim, complete, type ClaimedOperation } from '../queue/store.js';
import { envelopeOfError, success } from '../ws/envelope.js';

export interface ExecutorOptions {
  leaseSeconds: number;
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

async function runOne(ex: Executor, entry: ClaimedOperation, users: UserCache): Promise<Outcome> {
  const { db, registry, services, options } = ex;
  const finish = (tx: Parameters<typeof complete>[0], envelope: string) =>
    complete(tx, {
      operationTrackingID: entry.operationTrackingID,
      leaseToken: entry.leaseToken,
      envelope,
      now: services.clock.now(),
      resultTtlSeconds: options.resultTtlSeconds,
    });
  try {
    const op = registry.get(entry.operation);
    if (!op) throw new WsError('UNKNOWN_OPERATION', `Unknown operation ${entry.operation}: it is not available on this executor`);
    // Looked up before the transaction opens: on SQLite a query outside it would wait for it to end.
    let lookup = users.get(entry.userId);
    if (!lookup) users.set(entry.userId, (lookup = findUser(db.prisma, entry.userId)));
    const user = await lookup;
    if (!user) throw new WsError('ACCESS_DENIED', 'The user who queued this operation no longer exists');
    await db.prisma.$transaction(
      async (tx) => {
        const result = await op.run({ db: tx, user, services }, entry.params);
        if (!(await finish(tx, JSON.stringify(success(result))))) throw new LeaseLost();
      },
      { timeout: options.leaseSeconds * 1000, maxWait: options.leaseSeconds * 1000 },
    );
    return 'succeeded';
  } catch (error) {
    if (error instanceof LeaseLost) return 'lost';
    if (!(error instanceof WsError)) {
      ex.log.error({ err: error, operation: entry.operation, operationTrackingID: entry.operationTrackingID }, 'queued operation failed unexpectedly');
    }
    // The operation's own writes, if any, were rolled back with its transaction; store why it failed.
    return (await finish(db.prisma, JSON.stringify(envelopeOfError(error)))) ? 'failed' : 'lost';
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
