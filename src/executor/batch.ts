// Runs a claimed batch in a worker thread, on the worker's dedicated database. The operations' writes and the statement that stores their
// results commit in one transaction (a run killed midway leaves nothing half-done), and one transaction
// holds as many operations as finish within a short window (group commit: one COMMIT for many results).
// An operation that throws rolls back its transaction: the others of it run again in the next one, and
// from then on the batch runs one operation per transaction, so a failing batch costs little.
import type { Database } from '../db/client.js';
import { isTransientDatabaseError } from '../db/errors.js';
import { envelopeOfError, success } from '../envelope.js';
import { WsError } from '../errors.js';
import { findUser, type WsUser } from '../auth/users.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { Services } from '../operations/types.js';
import { completeMany, type ClaimedOperation, type Completion } from '../queue/store.js';
import type { EntryOutcome } from './messages.js';
import { isInfrastructureFailure } from './retry.js';

export interface BatchRunner {
  db: Database;
  registry: OperationRegistry;
  services: Services;
  resultTtlSeconds: number;
  /** A transaction takes no further operation once it has been open this long (ms). */
  groupCommitMs: number;
  /** Called as an operation starts (index in the batch) and ends (-1). */
  running(index: number): void;
  /** Outcomes settled by a commit, as they come. */
  settled(outcomes: EntryOutcome[]): void;
  /** True once the worker was told to stop: operations not started yet are handed back. */
  windingDown(): boolean;
}

class OperationThrew extends Error {
  constructor(
    readonly entry: ClaimedOperation,
    readonly thrown: unknown,
  ) {
    super('operation threw');
  }
}

class LeaseLost extends Error {
  constructor(readonly ids: string[]) {
    super('lease lost');
  }
}

interface Pending {
  entry: ClaimedOperation;
  index: number;
  /** Decided without running (unknown operation, user gone, or a protocol error from a rolled-back try). */
  answer?: string;
}

/** Users looked up by this worker, kept briefly: a queue's entries mostly belong to a few users. */
const USER_CACHE_MS = 5_000;
const userCache = new Map<number, { user: WsUser | null; until: number }>();

async function userOf(r: BatchRunner, userId: number): Promise<WsUser | null> {
  const cached = userCache.get(userId);
  if (cached && cached.until > Date.now()) return cached.user;
  const user = await findUser(r.db.prisma, userId);
  if (userCache.size > 1_000) userCache.clear();
  userCache.set(userId, { user, until: Date.now() + USER_CACHE_MS });
  return user;
}

export async function runBatch(r: BatchRunner, batch: ClaimedOperation[], log: (error: unknown, entry: ClaimedOperation) => void): Promise<void> {
  const users = new Map<number, WsUser | null>();
  let todo: Pending[] = [];
  for (const [index, entry] of batch.entries()) {
    const op = r.registry.get(entry.operation);
    let answer: Pending['answer'];
    if (!op || !op.queueable) answer = answerOf(new WsError('UNKNOWN_OPERATION', `Operation ${entry.operation} cannot be run from the queue by this executor`));
    else {
      if (!users.has(entry.userId)) users.set(entry.userId, await userOf(r, entry.userId));
      if (!users.get(entry.userId)) answer = answerOf(new WsError('ACCESS_DENIED', 'The user who queued this operation no longer exists'));
      else if (users.get(entry.userId)!.disabled) answer = answerOf(new WsError('ACCESS_DENIED', 'The user who queued this operation is disabled'));
    }
    todo.push({ entry, index, answer });
  }

  // How long each operation ran (its last try), and who ran it, for the executor's log line.
  const tookMs = new Map<string, number>();
  const facts = (e: ClaimedOperation) => ({ ms: tookMs.get(e.operationTrackingID) ?? 0, user: users.get(e.userId)?.userName });
  const codeOf = (answer: string) => (JSON.parse(answer) as { error?: { code?: string } }).error?.code;
  let oneByOne = false;
  while (todo.length > 0) {
    if (r.windingDown()) {
      r.settled(todo.map((p) => ({ id: p.entry.operationTrackingID, kind: 'unfinished', started: false, why: 'the executor is stopping' })));
      return;
    }
    const chunk: Pending[] = [];
    try {
      await r.db.transaction!(async () => {
        const began = Date.now();
        const completions: Completion[] = [];
        for (const p of todo) {
          if (chunk.length > 0 && (oneByOne || Date.now() - began >= r.groupCommitMs || r.windingDown())) break;
          chunk.push(p);
          if (p.answer) {
            completions.push({ operationTrackingID: p.entry.operationTrackingID, envelope: p.answer });
            continue;
          }
          const op = r.registry.get(p.entry.operation)!;
          r.running(p.index);
          const started = Date.now();
          try {
            // The operation runs inside the batch's transaction: what it wants atomic is so already.
            const db = r.db.prisma;
            const result = await op.run(
              { db, user: users.get(p.entry.userId)!, services: r.services, atomic: (fn) => fn(db), trackingId: p.entry.operationTrackingID },
              p.entry.params,
            );
            completions.push({ operationTrackingID: p.entry.operationTrackingID, envelope: JSON.stringify(success(result)) });
          } catch (error) {
            throw new OperationThrew(p.entry, error);
          } finally {
            tookMs.set(p.entry.operationTrackingID, Date.now() - started);
            r.running(-1);
          }
        }
        const finished = await completeMany(r.db, batch[0]!.leaseToken, completions, r.services.clock.now(), r.resultTtlSeconds);
        const lost = chunk.filter((p) => !finished.has(p.entry.operationTrackingID)).map((p) => p.entry.operationTrackingID);
        if (lost.length > 0) throw new LeaseLost(lost);
      });
      r.settled(
        chunk.map((p) =>
          p.answer
            ? { id: p.entry.operationTrackingID, kind: 'answered', code: codeOf(p.answer), ...facts(p.entry) }
            : { id: p.entry.operationTrackingID, kind: 'done', ...facts(p.entry) },
        ),
      );
      const ran = new Set(chunk);
      todo = todo.filter((p) => !ran.has(p));
    } catch (error) {
      if (error instanceof LeaseLost) {
        r.settled(error.ids.map((id) => ({ id, kind: 'lost' })));
        const lost = new Set(error.ids);
        todo = todo.filter((p) => !lost.has(p.entry.operationTrackingID));
      } else if (error instanceof OperationThrew && !isTransientDatabaseError(error.thrown)) {
        oneByOne = true;
        const p = todo.find((t) => t.entry === error.entry)!;
        if (isInfrastructureFailure(error.thrown)) {
          if (!(error.thrown instanceof WsError)) log(error.thrown, p.entry);
          const e = envelopeOfError(error.thrown) as { error: { code: string; message: string } };
          r.settled([{ id: p.entry.operationTrackingID, kind: 'failed', code: e.error.code, message: e.error.message, ...facts(p.entry) }]);
          todo = todo.filter((t) => t !== p);
        } else {
          p.answer = answerOf(error.thrown);
        }
      } else {
        // The database failed around the operations (a transaction that cannot start or commit, a lost
        // connection, a conflict): not their fault, so they are handed back to run again.
        const why = error instanceof OperationThrew ? error.thrown : error;
        r.settled(todo.map((p) => ({ id: p.entry.operationTrackingID, kind: 'unfinished', started: chunk.includes(p), why: String((why as Error)?.message ?? why) })));
        return;
      }
    }
  }
}

const answerOf = (error: unknown) => JSON.stringify(envelopeOfError(error));
