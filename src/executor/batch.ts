// Runs a claimed batch in a worker thread, on the worker's dedicated database. The operations' writes and the statement that stores their
// results commit in one transaction (a run killed midway leaves nothing half-done), and one transaction
// holds as many operations as finish within a short window (group commit: one COMMIT for many results).
// An operation that throws rolls back its transaction: the others of it run again in the next one, and
// from then on the batch runs one operation per transaction, so a failing batch costs little.
// Operations marked `external` (job kinds that call out: httpRequest, exec) run before the transaction
// that stores their result, outside it: no transaction waits on another server or a process. Should that
// transaction fail, such a job runs again (its call out happens at least once).
// An entry whose cancel was asked for (src/queue/cancel.ts) is skipped if it has not started, stopped if it
// runs (ctx.signal; the worker kills its command), and its transaction rolled back; it is stored as
// cancelled. Should its cancel reach the database before its completion, the fenced completion misses it
// and the same happens.
import type { Database } from '../db/client.js';
import { isTransientDatabaseError } from '../db/errors.js';
import { envelopeOfError, success } from '../envelope.js';
import { WsError } from '../errors.js';
import { findUserRaw, type WsUser } from '../auth/users.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { OperationDefinition, Services } from '../operations/types.js';
import { completeMany, storeReport, type ClaimedOperation, type Completion } from '../queue/store.js';
import { cancelsRequested, finishCancelled } from '../queue/cancel.js';
import type { EntryOutcome } from './messages.js';
import { isInfrastructureFailure } from './retry.js';
import { StoppedForShutdown, type RunReport } from './report.js';

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
  /** The process group an operation started (0: none any more), for the pool to kill with the worker. */
  holdProcessGroup(pgid: number): void;
  /** An own operation's run starts: its ctx.log, ctx.progress and ctx.signal (built-in ones report nothing). */
  startRun(entry: ClaimedOperation, op: OperationDefinition): RunReport;
  /** Its owner cancelled this entry (the executor told the worker). */
  isCancelled(operationTrackingID: string): boolean;
  /** The signal of an external operation's run, aborted when its owner cancels it. */
  externalSignal(operationTrackingID: string): AbortSignal;
  /**
   * Their completions are about to be stored: a cancel from now on is refused. Returns the ones whose
   * cancel came first (then nothing is sealed, and the transaction must roll back).
   */
  seal(operationTrackingIDs: string[]): string[];
  /** The transaction that was to store them rolled back: they may be cancelled again. */
  unseal(operationTrackingIDs: string[]): void;
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
  constructor(
    readonly ids: string[],
    /** Entries its completion missed because their cancel was asked for meanwhile. */
    readonly cancelled: string[] = [],
  ) {
    super('lease lost');
  }
}

/** The run of an entry whose cancel was asked for ended (however it ended): its transaction is rolled back. */
class RunCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface Pending {
  entry: ClaimedOperation;
  index: number;
  /** Decided without running (unknown operation, user gone, or a protocol error from a rolled-back try). */
  answer?: string;
  /** `answer` is the success envelope of an external operation that ran before the transaction. */
  ran?: boolean;
  /** What its last run reported (own operations), stored with its result. */
  report?: RunReport;
  /** The protocol error's code of `answer`. */
  code?: string;
  /** When its run started (epoch ms) and how long it took, once it ran. */
  timing?: { startedAt: number; ms: number };
  /** Its cancel was asked for: stored as cancelled, whatever its run did. */
  cancelled?: boolean;
  /** Its cancel could not be stored: its lease was taken over. */
  lost?: boolean;
}

const epochMs = () => performance.timeOrigin + performance.now();

/** Users looked up by this worker, kept briefly: a queue's entries mostly belong to a few users. */
const USER_CACHE_MS = 5_000;
const userCache = new Map<number, { user: WsUser | null; until: number }>();

async function userOf(r: BatchRunner, userId: number): Promise<WsUser | null> {
  const cached = userCache.get(userId);
  if (cached && cached.until > Date.now()) return cached.user;
  const user = await findUserRaw(r.db.raw, userId);
  if (userCache.size > 1_000) userCache.clear();
  userCache.set(userId, { user, until: Date.now() + USER_CACHE_MS });
  return user;
}

export async function runBatch(r: BatchRunner, batch: ClaimedOperation[], log: (error: unknown, entry: ClaimedOperation) => void): Promise<void> {
  const users = new Map<number, WsUser | null>();
  let todo: Pending[] = [];
  for (const [index, entry] of batch.entries()) {
    const op = r.registry.get(entry.operation);
    let refusal: WsError | undefined;
    if (!op?.queueable) refusal = new WsError('UNKNOWN_OPERATION', `Operation ${entry.operation} cannot be run from the queue by this executor`);
    else {
      if (!users.has(entry.userId)) users.set(entry.userId, await userOf(r, entry.userId));
      if (!users.get(entry.userId)) refusal = new WsError('ACCESS_DENIED', 'The user who queued this operation no longer exists');
      else if (users.get(entry.userId)!.disabled) refusal = new WsError('ACCESS_DENIED', 'The user who queued this operation is disabled');
    }
    todo.push({ entry, index, answer: refusal && answerOf(refusal), code: refusal?.code });
  }

  // How long each operation ran (its last try), and who ran it, for the executor's log line.
  const facts = (p: Pending) => ({ ...p.timing, user: users.get(p.entry.userId)?.userName });
  const codeOf = (answer: string) => (JSON.parse(answer) as { error?: { code?: string } }).error?.code;
  let oneByOne = false;
  while (todo.length > 0) {
    if (r.windingDown()) {
      r.settled(todo.map((p) => ({ id: p.entry.operationTrackingID, kind: 'unfinished', started: false, why: 'the executor is stopping' })));
      return;
    }
    for (const p of todo) if (r.isCancelled(p.entry.operationTrackingID)) p.cancelled = true;
    const first = todo[0]!;
    if (!first.answer && !first.cancelled && r.registry.get(first.entry.operation)!.external) {
      if (!(await runExternal(r, first, users.get(first.entry.userId)!, log))) {
        todo = todo.slice(1);
        continue;
      }
    }
    const chunk: Pending[] = [];
    try {
      await r.db.transaction!(async () => {
        const began = Date.now();
        const completions: Completion[] = [];
        const cancelled: Pending[] = [];
        for (const p of todo) {
          if (chunk.length > 0 && (oneByOne || Date.now() - began >= r.groupCommitMs || r.windingDown())) break;
          if (r.isCancelled(p.entry.operationTrackingID)) p.cancelled = true;
          if (p.cancelled) {
            chunk.push(p);
            cancelled.push(p);
            continue;
          }
          // An external operation runs first, before a transaction of its own.
          if (!p.answer && r.registry.get(p.entry.operation)!.external) break;
          chunk.push(p);
          if (p.answer) {
            completions.push({ operationTrackingID: p.entry.operationTrackingID, envelope: p.answer });
            continue;
          }
          const op = r.registry.get(p.entry.operation)!;
          r.running(p.index);
          const report = op.own ? r.startRun(p.entry, op) : undefined;
          p.report = report;
          const startedAt = epochMs();
          try {
            // The operation runs inside the batch's transaction: what it wants atomic is so already.
            const db = r.db.prisma;
            const result = await op.run(
              {
                db,
                user: users.get(p.entry.userId)!,
                services: r.services,
                atomic: (fn) => fn(db),
                trackingId: p.entry.operationTrackingID,
                hooks: report?.hooks,
              },
              p.entry.params,
            );
            // Post event scripts change the result; queued ones are queued in this transaction (events-hooks.ts).
            const { events, modules } = r.services;
            const { envelope } = await events.settle(events.plan(op, p.entry.params, modules), {
              op,
              user: users.get(p.entry.userId)!,
              params: p.entry.params,
              envelope: success(result),
              db,
              dialect: r.db.dialect,
            });
            completions.push({ operationTrackingID: p.entry.operationTrackingID, envelope: JSON.stringify(envelope) });
            if (r.isCancelled(p.entry.operationTrackingID)) throw new RunCancelled();
          } catch (error) {
            if (r.isCancelled(p.entry.operationTrackingID)) throw new OperationThrew(p.entry, new RunCancelled());
            throw new OperationThrew(p.entry, report ? report.outcome(error) : error);
          } finally {
            report?.end();
            r.running(-1);
            p.timing = { startedAt, ms: epochMs() - startedAt };
          }
        }
        for (const p of chunk) if (p.report?.reported) await storeReport(r.db, p.entry.operationTrackingID, p.entry.leaseToken, p.report);
        const leaseToken = batch[0]!.leaseToken;
        const now = r.services.clock.now();
        const late = r.seal(completions.map((c) => c.operationTrackingID));
        if (late.length > 0) throw new LeaseLost([], late);
        const finished = await completeMany(r.db, leaseToken, completions, now, r.resultTtlSeconds);
        const missed = completions.map((c) => c.operationTrackingID).filter((id) => !finished.has(id));
        if (missed.length > 0) {
          // Missed: its lease was taken over, or its cancel reached the database first (then it is cancelled).
          const cancelledMeanwhile = new Set(await cancelsRequested(r.db, [leaseToken]));
          throw new LeaseLost(
            missed.filter((id) => !cancelledMeanwhile.has(id)),
            missed.filter((id) => cancelledMeanwhile.has(id)),
          );
        }
        const stored = await finishCancelled(
          r.db,
          leaseToken,
          cancelled.map((p) => p.entry.operationTrackingID),
          now,
          r.resultTtlSeconds,
        );
        // Not stored: its lease was taken over meanwhile.
        for (const p of cancelled) if (!stored.has(p.entry.operationTrackingID)) p.lost = true;
      });
      r.settled(
        chunk.map((p) =>
          p.lost
            ? { id: p.entry.operationTrackingID, kind: 'lost' }
            : p.cancelled
              ? { id: p.entry.operationTrackingID, kind: 'cancelled', ...facts(p) }
              : p.answer && !p.ran
                ? { id: p.entry.operationTrackingID, kind: 'protocolError', code: p.code ?? codeOf(p.answer), ...facts(p) }
                : { id: p.entry.operationTrackingID, kind: 'done', ...facts(p) },
        ),
      );
      const ran = new Set(chunk);
      todo = todo.filter((p) => !ran.has(p));
    } catch (error) {
      r.unseal(chunk.map((p) => p.entry.operationTrackingID));
      if (error instanceof LeaseLost) {
        r.settled(error.ids.map((id) => ({ id, kind: 'lost' })));
        const lost = new Set(error.ids);
        todo = todo.filter((p) => !lost.has(p.entry.operationTrackingID));
        for (const p of todo) if (error.cancelled.includes(p.entry.operationTrackingID)) p.cancelled = true;
      } else if (error instanceof OperationThrew && error.thrown instanceof RunCancelled) {
        todo.find((t) => t.entry === error.entry)!.cancelled = true;
      } else if (error instanceof OperationThrew && error.thrown instanceof StoppedForShutdown) {
        // Its handler gave up on ctx.signal as the executor stops: handed back, to run again later.
        const p = todo.find((t) => t.entry === error.entry)!;
        r.settled([{ id: p.entry.operationTrackingID, kind: 'unfinished', started: true, why: 'the executor is stopping' }]);
        todo = todo.filter((t) => t !== p);
      } else if (error instanceof OperationThrew && !isTransientDatabaseError(error.thrown)) {
        oneByOne = true;
        const p = todo.find((t) => t.entry === error.entry)!;
        if (isInfrastructureFailure(error.thrown)) {
          if (!(error.thrown instanceof WsError)) log(error.thrown, p.entry);
          const e = envelopeOfError(error.thrown) as { error: { code: string; message: string } };
          r.settled([{ id: p.entry.operationTrackingID, kind: 'infraFailure', code: e.error.code, message: e.error.message, ...facts(p) }]);
          todo = todo.filter((t) => t !== p);
        } else {
          p.answer = answerOf(error.thrown);
          p.code = (error.thrown as WsError).code;
        }
      } else {
        // The database failed around the operations (a transaction that cannot start or commit, a lost
        // connection, a conflict): not their fault, so they are handed back to run again.
        const why = error instanceof OperationThrew ? error.thrown : error;
        r.settled(
          todo.map((p) => ({ id: p.entry.operationTrackingID, kind: 'unfinished', started: chunk.includes(p), why: String((why as Error)?.message ?? why) })),
        );
        return;
      }
    }
  }
}

const answerOf = (error: unknown) => JSON.stringify(envelopeOfError(error));

/**
 * Runs an external operation outside any transaction; its envelope (success or protocol error) becomes the
 * pending entry's answer, stored by the next transaction. False when it failed for an infrastructure
 * reason: that attempt is settled as failed here.
 */
async function runExternal(r: BatchRunner, p: Pending, user: WsUser, log: (error: unknown, entry: ClaimedOperation) => void): Promise<boolean> {
  const op = r.registry.get(p.entry.operation)!;
  const db = r.db.prisma;
  r.running(p.index);
  try {
    const result = await op.run(
      {
        db,
        user,
        services: r.services,
        atomic: (fn) => fn(db),
        trackingId: p.entry.operationTrackingID,
        holdProcessGroup: r.holdProcessGroup,
        signal: r.externalSignal(p.entry.operationTrackingID),
      },
      p.entry.params,
    );
    p.answer = JSON.stringify(success(result));
    p.ran = true;
    if (r.isCancelled(p.entry.operationTrackingID)) p.cancelled = true;
    return true;
  } catch (error) {
    // Its command was killed, or its request given up, because its owner cancelled it.
    if (r.isCancelled(p.entry.operationTrackingID)) {
      p.cancelled = true;
      return true;
    }
    if (!isInfrastructureFailure(error)) {
      p.answer = answerOf(error);
      return true;
    }
    if (!(error instanceof WsError)) log(error, p.entry);
    const e = envelopeOfError(error) as { error: { code: string; message: string } };
    r.settled([{ id: p.entry.operationTrackingID, kind: 'infraFailure', code: e.error.code, message: e.error.message }]);
    return false;
  } finally {
    r.running(-1);
  }
}
