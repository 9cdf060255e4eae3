// What an engine is made of: its settings (one pass's or a listener's) and the process's parts it uses.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Clock } from '../clock.js';
import type { BackoffPolicy } from '../backoff.js';
import type { DatabaseHealth } from '../db/health.js';
import type { Metrics } from '../observe/metrics.js';
import type { ModuleDefinition } from '../records/modules.js';
import type { ClaimPacing } from './pacing.js';

export interface EngineOptions {
  /** Named queues in priority order. */
  queues: string[];
  concurrency: number;
  /** Entries one claim reserves per free worker (a claim serves every free worker at once). */
  claimBatch: number;
  /** While entries come fast and the executor keeps up, how long at most a claim waits for more (ms); 0: never (pacing.ts). */
  claimGatherMs: number;
  leaseSeconds: number;
  timeoutSeconds: number;
  memoryMb: number;
  /** How long a worker thread beyond the first may stay idle before it ends (s); 0: never. */
  idleWorkerSeconds: number;
  tries: number;
  backoff: BackoffPolicy;
  /** Idle poll interval (s) when nothing wakes the engine sooner. */
  sleepSeconds: number;
  /** Stop after this many operations (claimed entries). */
  maxJobs?: number;
  /** Stop after this many seconds. */
  maxTimeSeconds?: number;
  /** How long a stop waits for running operations before handing them back. */
  graceSeconds: number;
  resultTtlSeconds: number;
  /** A transaction takes no further operation once open this long (ms). */
  groupCommitMs: number;
}

export interface EngineDeps {
  db: Database;
  config: Config;
  clock: Clock;
  /** The modules' definitions the process loaded, handed to each worker thread as it starts. */
  modules: ModuleDefinition[];
  log: Logger;
  /** Shared with the process's requests (runtime.ts); the engine makes its own when not given. */
  health?: DatabaseHealth;
  /** Housekeeping (purging expired results, old failed entries, dead sessions), run every minute while listening. */
  maintain?: () => Promise<void>;
  /** Queues the recurring operations now due (src/schedule): at the start of a pass, and every second while listening. */
  schedules?: { fire(): Promise<number> };
  /** The own operations' files in force, which a worker thread loads as it starts (registry.ts). */
  operationFiles?: () => string[];
  /** The process's metrics (runs, failures, durations, worker threads); none: not counted. */
  metrics?: Metrics;
  /** When a claim waits for more entries to come (pacing.ts); the engine makes its own from claimGatherMs when not given. */
  pacing?: ClaimPacing;
}
