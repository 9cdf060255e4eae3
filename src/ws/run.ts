// Running an operation now, or queueing it inside an idempotent call's transaction: the part of a call that
// comes after the session check. The gateway's event loop runs it for light operations; a call worker
// (calls/worker.ts) runs the very same code for operations whose work grows with their input.
import type { Logger } from 'pino';
import { nanoid } from 'nanoid';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import type { OperationContext, OperationDefinition, Params, Services } from '../operations/types.js';
import type { NewQueuedOperation } from '../queue/store.js';
import { enqueueInWithinQuota } from '../queue/quota.js';
import type { CbwsOptions } from './cbwsOptions.js';
import { requestHashOf, storeAnswer, takeRequestId } from './idempotency.js';
import { success, type Envelope } from '../envelope.js';

/**
 * Transactions of synchronous calls (idempotent ones, upsert, mass operations): waiting to start covers
 * SQLite's wait for another process's write lock; the run may take as long as a large MassCreate.
 */
const TRANSACTION = { maxWait: 15_000, timeout: 120_000 };

export interface Runner {
  /** The queue entry of a deferred call. */
  entryOf(op: OperationDefinition, user: WsUser, params: Params, options: CbwsOptions, traceParent?: string): NewQueuedOperation;
  /** A repeat of a known ClientRequestIdentifier answers the first call's answer; see idempotency.ts. */
  idempotent(op: OperationDefinition, user: WsUser, sessionName: string | undefined, params: Params, options: CbwsOptions, deferred: boolean, traceParent?: string): Promise<Envelope>;
  /** Runs the operation now and answers its envelope (the identifier honoured when it has one). */
  runNow(op: OperationDefinition, user: WsUser | null, sessionName: string | undefined, params: Params, options: CbwsOptions, address?: string): Promise<Envelope>;
  /** The context of a call made outside any transaction. */
  contextOf(user: WsUser | null, sessionName: string | undefined, address?: string): OperationContext;
}

export function createRunner(db: Database, services: Services, _log: Logger): Runner {
  const entryOf: Runner['entryOf'] = (op, user, params, options, traceParent) => {
    const now = services.clock.now();
    return {
      operation: op.name,
      params,
      userId: user.id,
      submittedAt: now,
      dueAt: new Date(now.getTime() + options.queuedelay * 1000),
      queue: options.queue,
      priority: options.priority,
      traceParent,
    };
  };

  const idempotent: Runner['idempotent'] = async (op, user, sessionName, params, options, deferred, traceParent) => {
    const generated = options.clientRequestIdentifier === 'generate';
    const requestId = generated ? nanoid() : options.clientRequestIdentifier!;
    const deferral = deferred ? { queuedelay: options.queuedelay, queue: options.queue, priority: options.priority } : null;
    const key = { userId: user.id, requestId, operation: op.name, requestHash: requestHashOf({ operation: op.name, params, deferral }) };
    const moreinfo = generated ? { ClientRequestIdentifier: requestId } : null;
    const now = services.clock.now();
    let wake: (() => void) | undefined;
    const answer = await db.prisma.$transaction(async (tx) => {
      const known = await takeRequestId(tx, key, now, new Date(now.getTime() + services.requestIdTtlSeconds * 1000));
      if (known !== true) return known;
      const ctx: OperationContext = { db: tx, user, sessionName, services, atomic: (fn) => fn(tx) };
      let envelope: Envelope;
      if (deferred) {
        await op.precheck?.(ctx, params);
        const queued = await enqueueInWithinQuota(tx, db.dialect, entryOf(op, user, params, options, traceParent), user, services.quota);
        wake = queued.announce;
        envelope = success({ operationTrackingID: queued.operationTrackingID }, moreinfo);
      } else {
        envelope = success(await op.run(ctx, params), moreinfo);
      }
      const text = JSON.stringify(envelope);
      await storeAnswer(tx, key, text);
      return text;
    }, TRANSACTION);
    wake?.();
    return JSON.parse(answer) as Envelope;
  };

  const contextOf: Runner['contextOf'] = (user, sessionName, address) => ({
    address,
    db: db.prisma,
    raw: db.raw,
    user,
    sessionName,
    services,
    atomic: (fn) => db.prisma.$transaction((tx) => fn(tx), TRANSACTION),
  });

  const runNow: Runner['runNow'] = async (op, user, sessionName, params, options, address) => {
    // coreBOS ignores the identifier for operations not marked idempotent; so does wsgate (README).
    if (op.idempotent && user && options.clientRequestIdentifier !== undefined) {
      return idempotent(op, user, sessionName, params, options, false);
    }
    const result = await op.run(contextOf(user, sessionName, address), params);
    const moreinfo = options.launchfromqueue ? `${op.name} cannot be queued: it ran at once` : null;
    return success(result, moreinfo);
  };

  return { entryOf, idempotent, runNow, contextOf };
}
