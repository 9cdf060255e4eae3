// What the executor's main thread and its worker threads say to each other.
import type { ClaimedOperation } from '../queue/store.js';
import type { ExecutionPolicy } from '../operations/types.js';
import type { ReportDelta } from './report.js';
import type { LogLine } from '../thread-log.js';

/** When the operation's code started (epoch ms) and how long it ran (ms); absent when it was answered without running. */
export interface RunTiming {
  startedAt?: number;
  ms?: number;
}

/** How long an operation ran (ms) and the name of the user it ran as, for the executor's log line. */
export interface RunFacts {
  ms?: number;
  user?: string;
}

/** How one claimed entry ended in a worker. */
export type EntryOutcome =
  /** Its success envelope is stored. */
  | ({ id: string; kind: 'done' } & RunTiming & RunFacts)
  /** The operation answered a protocol error (validation, not found, access): stored as its final result. */
  | ({ id: string; kind: 'protocolError'; code?: string } & RunTiming & RunFacts)
  /** An infrastructure failure: the main thread records the attempt and retries it or moves it to the failed store. */
  | ({ id: string; kind: 'infraFailure'; code: string; message: string } & RunTiming & RunFacts)
  /** Its cancel was asked for (src/queue/cancel.ts): stored as cancelled, nothing of its run kept. */
  | ({ id: string; kind: 'cancelled' } & RunTiming & RunFacts)
  /** Its lease was taken over by another executor: nothing of this run was kept. */
  | { id: string; kind: 'lost' }
  /** Not finished here (the database failed around it, or the worker was told to stop): to be handed back. */
  | { id: string; kind: 'unfinished'; started: boolean; why: string };

/**
 * What a worker needs of a claimed entry to run it; the main thread keeps the rest (attempts, errors, times).
 * Each field copied to the worker lives in its heap for the whole batch.
 */
export type RunEntry = Pick<ClaimedOperation, 'operationTrackingID' | 'operation' | 'paramsJson' | 'userId' | 'leaseToken'>;

export const runEntryOf = (e: ClaimedOperation): RunEntry => ({
  operationTrackingID: e.operationTrackingID,
  operation: e.operation,
  paramsJson: e.paramsJson,
  userId: e.userId,
  leaseToken: e.leaseToken,
});

export type ToWorker =
  | { type: 'run'; batch: RunEntry[] }
  /** Its owner cancelled this entry of the batch: stop it if it runs, skip it if it has not started. */
  | { type: 'cancel'; id: string }
  | { type: 'wind-down' }
  | { type: 'close' };

export type FromWorker =
  /**
   * The worker loaded its registry: the operations that declare their own timeout, tries or backoff
   * (lower-case names), which the main thread applies to their entries (watchdog, retries).
   */
  | { type: 'ready'; policies: Record<string, ExecutionPolicy> }
  /**
   * The answer to a cancel: accepted (the entry ends as cancelled), or too late (its outcome is being
   * committed or was settled already).
   */
  | { type: 'cancel-answer'; id: string; accepted: boolean }
  /** A running entry's ctx.progress or ctx.log, sent as it happens. */
  | { type: 'report'; id: string; delta: ReportDelta }
  /** The worker cannot go on (its database did not open, or its loop broke): it is replaced. */
  | { type: 'fatal'; message: string }
  /** Outcomes settled so far (sent after each commit, and at the end of a batch). */
  | { type: 'outcomes'; outcomes: EntryOutcome[] }
  | { type: 'batch-done'; heapUsedMb: number }
  /** A line of the worker's log, written by the main thread's logger. */
  | { type: 'log'; line: LogLine }
  | { type: 'closed' };

/**
 * Shared memory per worker, read by the main thread's watchdog: which entry of the current batch runs
 * (its index) and since when (epoch ms; 0 when no operation runs).
 */
export const RUNNING_INDEX = 0;
export const RUNNING_SINCE = 1;
/** The process group the running operation started (exec), 0 when none: killed when the worker is stopped. */
export const RUNNING_PGID = 2;
export const RUNNING_SLOTS = 3;
