// Runs a claimed batch in a worker thread, on the worker's dedicated database. The operations' writes and the statement that stores their
// results commit in one transaction (a run killed midway leaves nothing half-done), and one transaction
// holds as many operations as finish within a short window (group commit: one COMMIT for many results).
// A transaction begins with its first statement: operations that make none hold no lock while they run
// (on SQLite, the gateway's writes go on meanwhile), and their results are one statement that commits by
// itself (on PostgreSQL a batch of them, or of jobs that call out, costs one round trip, not three).
// An operation that throws rolls back its transaction: the others of it run again in the next one, and
// from then on the batch runs one operation per transaction, so a failing batch costs little.
// Operations marked `external` (job kinds that call out: httpRequest, exec) run before the transaction
// that stores their result, outside it: no transaction waits on another server or a process. Should that
// transaction fail, such a job runs again (its call out happens at least once).
// An entry whose cancel was asked for (src/queue/cancel.ts) is skipped if it has not started, stopped if it
// runs (ctx.signal; the worker kills its command), and its transaction rolled back; it is stored as
// cancelled. Should its cancel reach the database before its completion, the fenced completion misses it
// and the same happens.
import type { Database, OpenTransaction } from '../db/client.js';
import { isTransientDatabaseError } from '../db/errors.js';
import { envelopeOfError, success } from '../envelope.js';
import { WsError } from '../errors.js';
import { findUserRaw, type WsUser } from '../auth/users.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { OperationDefinition, Services } from '../operations/types.js';
import { completeMany, storeReport, type Completion } from '../queue/store.js';
import { cancelsRequested, finishCancelled } from '../queue/cancel.js';
import type { EntryOutcome, RunEntry, RunFacts, RunTiming } from './messages.js';
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
  /** True once the worker was told to stop: operations not started yet are handed back. */
  windingDown(): boolean;
  /** The process group an operation started (0: none any more), for the pool to kill with the worker. */
  holdProcessGroup(pgid: number): void;
  /** An own operation's run starts: its ctx.log, ctx.progress and ctx.signal (built-in ones report nothing). */
  startRun(entry: RunEntry, op: OperationDefinition): RunReport;
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

interface Pending {
  entry: RunEntry;
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

/** An entry's parameters, parsed for its run (a batch's parsed parameters do not outlive their runs). */
const paramsOf = (e: RunEntry) => JSON.parse(e.paramsJson) as Record<string, unknown>;

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

/** How one transaction of a batch ended: `committed` stored its chunk; every other kind rolled it back. */
type Step =
  /** `lost` and `cancelled`: completions a statement of their own missed, while it stored the others. */
  | { kind: 'committed'; lost?: string[]; cancelled?: string[] }
  /** Nothing was written in the transaction, which sent nothing: the completions are to be stored alone. */
  | { kind: 'alone'; completions: Completion[] }
  /** An operation threw: a protocol error, an infrastructure failure, or the database failing under it. */
  | { kind: 'threw'; pending: Pending; thrown: unknown }
  /** The run of an entry whose cancel was asked for ended (however it ended). */
  | { kind: 'cancelled'; pending: Pending }
  /** Its handler gave up on ctx.signal as the executor stops. */
  | { kind: 'stopped'; pending: Pending }
  /** Completions the fence missed: their lease was taken over (`lost`), or their cancel came first (`cancelled`). */
  | { kind: 'leaseLost'; lost: string[]; cancelled: string[] };

/**
 * Runs the batch, one transaction after another, and yields what happened to its entries as each
 * transaction ends (a worker reports them at once: a worker stopped later keeps what it committed).
 * It throws only when the database fails outside a transaction (looking up the batch's users).
 */
export async function* runBatch(r: BatchRunner, batch: RunEntry[], log: (error: unknown, entry: RunEntry) => void): AsyncGenerator<EntryOutcome[], void> {
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
  const without = (gone: (p: Pending) => boolean) => (todo = todo.filter((p) => !gone(p)));
  let oneByOne = false;
  // The claim's commit did not wait for the disk (Database.unflushed): a crash of the server could still
  // undo it. No statement of the batch reaches the database before it is flushed: the first transaction
  // flushes before its BEGIN (its operations' code starts at once; their statements wait), and an external
  // operation waits for the flush before it runs. Else a server crash could let another executor run a job
  // this one runs still, or lose the attempt of an operation whose statement crashed the server.
  let flushed = r.db.dialect.flushLog === null;
  while (todo.length > 0) {
    if (r.windingDown()) {
      yield todo.map((p) => unfinished(p, false, 'the executor is stopping'));
      return;
    }
    for (const p of todo) if (r.isCancelled(p.entry.operationTrackingID)) p.cancelled = true;
    const first = todo[0]!;
    if (!first.answer && !first.cancelled && r.registry.get(first.entry.operation)!.external) {
      if (!flushed) {
        try {
          await r.db.raw.query(r.db.dialect.flushLog!);
          flushed = true;
        } catch (error) {
          yield todo.map((p) => unfinished(p, false, error));
          return;
        }
      }
      const failed = await runExternal(r, first, users.get(first.entry.userId)!, log);
      if (failed) {
        yield [failed];
        todo = todo.slice(1);
        continue;
      }
    }
    const chunk: Pending[] = [];
    let step: Step;
    try {
      step = await inTransaction(r, (tx) => runChunk(r, tx, todo, chunk, users, oneByOne), !flushed);
      flushed = true;
      if (step.kind === 'alone') step = await completeAlone(r, todo[0]!.entry.leaseToken, step.completions);
    } catch (error) {
      // The database failed around the operations (a transaction that cannot start or commit, a lost
      // connection, a conflict): not their fault, so they are handed back to run again.
      r.unseal(chunk.map((p) => p.entry.operationTrackingID));
      yield todo.map((p) => unfinished(p, chunk.includes(p), error));
      return;
    }
    if (step.kind !== 'committed') r.unseal(chunk.map((p) => p.entry.operationTrackingID));
    switch (step.kind) {
      case 'committed': {
        const lost = new Set(step.lost);
        const cancelled = new Set(step.cancelled);
        const stored = chunk.filter((p) => !lost.has(p.entry.operationTrackingID) && !cancelled.has(p.entry.operationTrackingID));
        const outcomes: EntryOutcome[] = [...stored.map((p) => settledOutcome(p, facts(p))), ...[...lost].map((id): EntryOutcome => ({ id, kind: 'lost' }))];
        if (outcomes.length > 0) yield outcomes;
        const ended = new Set(stored);
        without((p) => ended.has(p) || lost.has(p.entry.operationTrackingID));
        // Their cancel reached the database first: stored as cancelled by the next transaction.
        for (const p of todo) if (cancelled.has(p.entry.operationTrackingID)) p.cancelled = true;
        break;
      }
      case 'leaseLost':
        if (step.lost.length > 0) yield step.lost.map((id) => ({ id, kind: 'lost' }));
        without((p) => step.lost.includes(p.entry.operationTrackingID));
        for (const p of todo) if (step.cancelled.includes(p.entry.operationTrackingID)) p.cancelled = true;
        break;
      case 'cancelled':
        step.pending.cancelled = true;
        break;
      case 'stopped':
        // Handed back, to run again later.
        yield [unfinished(step.pending, true, 'the executor is stopping')];
        without((p) => p === step.pending);
        break;
      case 'threw': {
        const { pending: p, thrown } = step;
        if (isTransientDatabaseError(thrown)) {
          yield todo.map((t) => unfinished(t, chunk.includes(t), thrown));
          return;
        }
        oneByOne = true;
        if (isInfrastructureFailure(thrown)) {
          yield [infraFailureOf(p, thrown, log, facts(p))];
          without((t) => t === p);
        } else {
          p.answer = answerOf(thrown);
          p.code = (thrown as WsError).code;
        }
        break;
      }
    }
  }
}

/**
 * Runs the pending entries in the open transaction, as many as group commit allows (`chunk` collects
 * them), stores their completions fenced by the batch's lease, and stores the cancelled ones as cancelled.
 */
async function runChunk(
  r: BatchRunner,
  tx: OpenTransaction,
  todo: Pending[],
  chunk: Pending[],
  users: Map<number, WsUser | null>,
  oneByOne: boolean,
): Promise<Step> {
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
    const ended = await runInTransaction(r, p, users.get(p.entry.userId)!);
    if (typeof ended !== 'string') return ended;
    completions.push({ operationTrackingID: p.entry.operationTrackingID, envelope: ended });
  }
  // No operation made a statement, so the transaction has not begun: the completions are one statement,
  // which commits by itself (on PostgreSQL two round trips sooner than BEGIN ... COMMIT).
  if (!tx.begun() && cancelled.length === 0 && !chunk.some((p) => p.report?.reported)) return { kind: 'alone', completions };
  for (const p of chunk) if (p.report?.reported) await storeReport(r.db, p.entry.operationTrackingID, p.entry.leaseToken, p.report);
  // A batch is one claim's: its entries share one lease.
  const leaseToken = todo[0]!.entry.leaseToken;
  const now = r.services.clock.now();
  const late = r.seal(completions.map((c) => c.operationTrackingID));
  if (late.length > 0) return { kind: 'leaseLost', lost: [], cancelled: late };
  const finished = await completeMany(r.db, leaseToken, completions, now, r.resultTtlSeconds);
  const missed = completions.map((c) => c.operationTrackingID).filter((id) => !finished.has(id));
  if (missed.length > 0) {
    // Missed: its lease was taken over, or its cancel reached the database first (then it is cancelled).
    const cancelledMeanwhile = new Set(await cancelsRequested(r.db, [leaseToken]));
    return { kind: 'leaseLost', lost: missed.filter((id) => !cancelledMeanwhile.has(id)), cancelled: missed.filter((id) => cancelledMeanwhile.has(id)) };
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
  return { kind: 'committed' };
}

/**
 * Stores the completions of a chunk whose transaction wrote nothing, in a statement of their own: it commits
 * by itself, so unlike in a transaction the ones it stored stay stored when it misses others (their lease
 * was taken over, or their cancel reached the database first; the caller stores those as cancelled).
 */
async function completeAlone(r: BatchRunner, leaseToken: string, completions: Completion[]): Promise<Step> {
  const ids = completions.map((c) => c.operationTrackingID);
  const late = r.seal(ids);
  if (late.length > 0) return { kind: 'leaseLost', lost: [], cancelled: late };
  const finished = await completeMany(r.db, leaseToken, completions, r.services.clock.now(), r.resultTtlSeconds);
  const missed = ids.filter((id) => !finished.has(id));
  if (missed.length === 0) return { kind: 'committed' };
  r.unseal(missed);
  const cancelledMeanwhile = new Set(await cancelsRequested(r.db, [leaseToken]));
  return { kind: 'committed', lost: missed.filter((id) => !cancelledMeanwhile.has(id)), cancelled: missed.filter((id) => cancelledMeanwhile.has(id)) };
}

/** Runs one operation inside the open transaction: its success envelope, or how its run ended otherwise. */
async function runInTransaction(r: BatchRunner, p: Pending, user: WsUser): Promise<string | Step> {
  const op = r.registry.get(p.entry.operation)!;
  const id = p.entry.operationTrackingID;
  r.running(p.index);
  const report = op.own ? r.startRun(p.entry, op) : undefined;
  p.report = report;
  const startedAt = epochMs();
  try {
    // The operation runs inside the batch's transaction: what it wants atomic is so already.
    const db = r.db.raw;
    const params = paramsOf(p.entry);
    const result = await op.run({ db, user, services: r.services, atomic: (fn) => fn(db), trackingId: id, hooks: report?.hooks }, params);
    // Post event scripts change the result; queued ones are queued in this transaction (events-hooks.ts).
    const { events, modules } = r.services;
    const { envelope } = await events.settle(events.plan(op, params, modules), {
      op,
      user,
      params,
      envelope: success(result),
      db,
      dialect: r.db.dialect,
    });
    return r.isCancelled(id) ? { kind: 'cancelled', pending: p } : JSON.stringify(envelope);
  } catch (error) {
    if (r.isCancelled(id)) return { kind: 'cancelled', pending: p };
    const thrown = report ? report.outcome(error) : error;
    return thrown instanceof StoppedForShutdown ? { kind: 'stopped', pending: p } : { kind: 'threw', pending: p, thrown };
  } finally {
    report?.end();
    // Only what the run reported is kept to be stored: a report kept for nothing would live to the batch's end.
    if (report && !report.reported) p.report = undefined;
    r.running(-1);
    p.timing = { startedAt, ms: epochMs() - startedAt };
  }
}

/** The transaction API rolls back only on a throw: this carries a step that must roll back through it, and nothing else does. */
class RollBack extends Error {
  constructor(readonly step: Step) {
    super(`rolled back: ${step.kind}`);
  }
}

async function inTransaction(r: BatchRunner, body: (tx: OpenTransaction) => Promise<Step>, flushFirst: boolean): Promise<Step> {
  try {
    return await r.db.transaction!(
      async (tx) => {
        const step = await body(tx);
        if (step.kind !== 'committed' && step.kind !== 'alone') throw new RollBack(step);
        return step;
      },
      { flushFirst },
    );
  } catch (error) {
    if (error instanceof RollBack) return error.step;
    throw error;
  }
}

const codeOf = (answer: string) => (JSON.parse(answer) as { error?: { code?: string } }).error?.code;

/** What a committed chunk's entry became. */
function settledOutcome(p: Pending, facts: RunTiming & RunFacts): EntryOutcome {
  const id = p.entry.operationTrackingID;
  if (p.lost) return { id, kind: 'lost' };
  if (p.cancelled) return { id, kind: 'cancelled', ...facts };
  if (p.answer && !p.ran) return { id, kind: 'protocolError', code: p.code ?? codeOf(p.answer), ...facts };
  return { id, kind: 'done', ...facts };
}

/** Not finished here: handed back by the main thread, to run again. */
function unfinished(p: Pending, started: boolean, why: unknown): EntryOutcome {
  return { id: p.entry.operationTrackingID, kind: 'unfinished', started, why: typeof why === 'string' ? why : String((why as Error)?.message ?? why) };
}

/** An attempt that failed for an infrastructure reason: the main thread retries it or moves it to the failed store. */
function infraFailureOf(p: Pending, thrown: unknown, log: (error: unknown, entry: RunEntry) => void, facts: RunTiming & RunFacts = {}): EntryOutcome {
  if (!(thrown instanceof WsError)) log(thrown, p.entry);
  const e = envelopeOfError(thrown) as { error: { code: string; message: string } };
  return { id: p.entry.operationTrackingID, kind: 'infraFailure', code: e.error.code, message: e.error.message, ...facts };
}

const answerOf = (error: unknown) => JSON.stringify(envelopeOfError(error));

/**
 * Runs an external operation outside any transaction; its envelope (success or protocol error) becomes the
 * pending entry's answer, stored by the next transaction. When it failed for an infrastructure reason,
 * that attempt's outcome (failed here); null otherwise.
 */
async function runExternal(r: BatchRunner, p: Pending, user: WsUser, log: (error: unknown, entry: RunEntry) => void): Promise<EntryOutcome | null> {
  const op = r.registry.get(p.entry.operation)!;
  const db = r.db.raw;
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
      paramsOf(p.entry),
    );
    p.answer = JSON.stringify(success(result));
    p.ran = true;
    if (r.isCancelled(p.entry.operationTrackingID)) p.cancelled = true;
    return null;
  } catch (error) {
    // Its command was killed, or its request given up, because its owner cancelled it.
    if (r.isCancelled(p.entry.operationTrackingID)) {
      p.cancelled = true;
      return null;
    }
    if (!isInfrastructureFailure(error)) {
      p.answer = answerOf(error);
      return null;
    }
    return infraFailureOf(p, error, log);
  } finally {
    r.running(-1);
  }
}
