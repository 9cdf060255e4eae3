// An own operation's queue defaults (queue, delay, priority) and execution policy (timeout, tries,
// backoff), checked when its file is loaded: a bad value stops the start like any other broken key.
import { isQueueName } from '../../config.js';
import { parseBackoff, type BackoffPolicy } from '../../backoff.js';
import type { ExecutionPolicy, QueueDefaults } from '../types.js';
import type { OwnOperationDefinition } from './define.js';

/** Ten years, as cbwsOptions' queuedelay allows. */
const MAX_DELAY = 10 * 365 * 24 * 3600;
const INT32 = 2 ** 31;

function backoffOf(v: unknown, fail: (why: string) => Error): BackoffPolicy {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return { delays: [v], exponential: false };
  if (Array.isArray(v) && v.length > 0 && v.every((d) => typeof d === 'number' && Number.isFinite(d) && d >= 0))
    return { delays: v as number[], exponential: false };
  if (typeof v === 'string') {
    try {
      return parseBackoff(v);
    } catch (error) {
      throw fail((error as Error).message);
    }
  }
  throw fail('backoff must be seconds (10), a list ([10, 60, 300] or "10,60,300") or "exponential[:SECONDS]"');
}

export function queueSettingsOf(def: OwnOperationDefinition, fail: (why: string) => Error): { queueDefaults: QueueDefaults; policy: ExecutionPolicy } {
  const queueDefaults: QueueDefaults = {};
  const policy: ExecutionPolicy = {};
  if (def.queue !== undefined) {
    if (typeof def.queue !== 'string' || !isQueueName(def.queue)) throw fail('queue must be a queue name (letters, digits, _ . -, up to 64 characters)');
    queueDefaults.queue = def.queue;
  }
  if (def.delay !== undefined) {
    if (!Number.isSafeInteger(def.delay) || def.delay < 0 || def.delay > MAX_DELAY) throw fail(`delay must be whole seconds from 0 to ${MAX_DELAY}`);
    queueDefaults.delaySeconds = def.delay;
  }
  if (def.priority !== undefined) {
    if (!Number.isInteger(def.priority) || def.priority < -INT32 || def.priority >= INT32) throw fail('priority must be an integer (higher runs first)');
    queueDefaults.priority = def.priority;
  }
  if (def.timeout !== undefined) {
    if (typeof def.timeout !== 'number' || !(def.timeout > 0) || def.timeout > 86_400) throw fail('timeout must be seconds, more than 0 and at most 86400');
    policy.timeoutSeconds = def.timeout;
  }
  if (def.tries !== undefined) {
    if (!Number.isInteger(def.tries) || def.tries < 1 || def.tries > 100) throw fail('tries must be a whole number from 1 to 100');
    policy.tries = def.tries;
  }
  if (def.backoff !== undefined) policy.backoff = backoffOf(def.backoff, fail);
  const queueable = def.queueable ?? true;
  if (!queueable && (Object.keys(queueDefaults).length > 0 || Object.keys(policy).length > 0)) {
    throw fail('queue, delay, priority, timeout, tries and backoff apply to deferred runs: the operation is not queueable');
  }
  return { queueDefaults, policy };
}
