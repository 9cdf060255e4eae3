// Running an operation now, or queueing it inside an idempotent call's transaction: the part of a call that
// comes after the session check. The gateway's event loop runs it for light operations; a call worker
// (calls/worker.ts) runs the very same code for operations whose work grows with their input.
import type { Logger } from 'pino';
import { nanoid } from 'nanoid';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import type { OperationContext, OperationDefinition, Params, RunHooks, Services } from '../operations/types.js';
import type { NewQueuedOperation } from '../queue/store.js';
import { enqueueInWithinQuota } from '../queue/quota.js';
import type { CbwsOptions } from './cbwsOptions.js';
import { requestHashOf, storeAnswer, takeRequestId } from '../queue/idempotency.js';
import { success, type Envelope } from '../envelope.js';

/**
 * Transactions of synchronous calls (idempotent ones, upsert, mass operations) may take as long as a large
 * MassCreate: rolled back past this (a call worker stops the call sooner).
 */
const TRANSACTION = { timeoutMs: 120_000 };

export interface Runner {
  /** The queue entry of a deferred call. */
  entryOf(op: OperationDefinition, user: WsUser, params: Params, options: CbwsOptions, traceParent?: string): NewQueuedOperation;
  /** A repeat of a known ClientRequestIdentifier answers the first call's answer; see idempotency.ts. */
  idempotent(
    op: OperationDefinition,
    user: WsUser,
    sessionName: string | undefined,
    params: Params,
    options: CbwsOptions,
    deferred: boolean,
    traceParent?: string,
  ): Promise<Envelope>;
  /** Runs the operation now and answers its envelope (the identifier honoured when it has one). */
  runNow(
    op: OperationDefinition,
    user: WsUser | null,
    sessionName: string | undefined,
    params: Params,
    options: CbwsOptions,
    address?: string,
  ): Promise<Envelope>;
  /** The context of a call made outside any transaction. */
  contextOf(user: WsUser | null, sessionName: string | undefined, address?: string): OperationContext;
}

/**
 * A synchronous call's ctx.log, ctx.progress and ctx.signal (own operations): the lines go to the server's
 * log with the operation's name (no entry keeps them), progress has no one to answer it and is dropped, and
 * the signal is aborted when the call's time (`timeoutMs`) is up, just as the call worker is stopped.
 */
function syncHooks(log: Logger, op: OperationDefinition, user: WsUser | null, timeoutMs: number | undefined): RunHooks {
  const deadline = timeoutMs ? Date.now() + timeoutMs : 0;
  let signal: AbortSignal | undefined;
  return {
    log: (line) => log.info({ operation: op.name, user: user?.userName }, line),
    progress() {},
    // Made when the handler first reads it: AbortSignal.timeout's timer and weak references cost a no-op
    // call a tenth of its time in the call worker (a CPU profile of the own-operations bench).
    get signal() {
      if (!signal) {
        const left = deadline - Date.now();
        if (!deadline) signal = new AbortController().signal;
        else if (left > 0) signal = AbortSignal.timeout(left);
        else signal = AbortSignal.abort(new DOMException('The call outlived its time', 'TimeoutError'));
      }
      return signal;
    },
  };
}

/** `callTimeoutMs`: how long a synchronous call may run here (the call workers' limit). */
export function createRunner(db: Database, services: Services, log: Logger, callTimeoutMs?: number): Runner {
  const entryOf: Runner['entryOf'] = (op, user, params, options, traceParent) => {
    const now = services.clock.now();
    // An operation's own queue defaults apply where the caller's cbwsOptions say nothing.
    const own = op.queueDefaults ?? {};
    const delay = options.given.queuedelay ? options.queuedelay : (own.delaySeconds ?? options.queuedelay);
    return {
      operation: op.name,
      params,
      userId: user.id,
      submittedAt: now,
      dueAt: new Date(now.getTime() + delay * 1000),
      queue: options.given.queue ? options.queue : (own.queue ?? options.queue),
      priority: options.given.priority ? options.priority : (own.priority ?? options.priority),
      context: options.context,
      callback: options.callback,
      traceParent,
    };
  };

  const idempotent: Runner['idempotent'] = async (op, user, sessionName, params, options, deferred, traceParent) => {
    const generated = options.clientRequestIdentifier === 'generate';
    const requestId = generated ? nanoid() : options.clientRequestIdentifier!;
    const deferral = deferred
      ? { queuedelay: options.queuedelay, queue: options.queue, priority: options.priority, ...(options.callback ? { callback: options.callback } : {}) }
      : null;
    const key = { userId: user.id, requestId, operation: op.name, requestHash: requestHashOf({ operation: op.name, params, deferral }) };
    const moreinfo = generated ? { ClientRequestIdentifier: requestId } : null;
    const now = services.clock.now();
    let wake: (() => void) | undefined;
    const answer = await db.atomic(async (tx) => {
      const known = await takeRequestId(tx, key, now, new Date(now.getTime() + services.requestIdTtlSeconds * 1000));
      if (known !== true) return known;
      const ctx: OperationContext = { db: tx, user, sessionName, services, atomic: (fn) => fn(tx) };
      if (op.own) ctx.hooks = syncHooks(log, op, user, callTimeoutMs);
      let envelope: Envelope;
      if (deferred) {
        await op.precheck?.(ctx, params);
        const queued = await enqueueInWithinQuota(tx, db.dialect, entryOf(op, user, params, options, traceParent), user, services.quota);
        wake = queued.announce;
        envelope = success({ operationTrackingID: queued.operationTrackingID }, moreinfo);
      } else {
        const settled = await services.events.settle(services.events.plan(op, params, services.modules), {
          op,
          user,
          params,
          envelope: success(await op.run(ctx, params), moreinfo),
          db: tx,
          dialect: db.dialect,
        });
        wake = settled.announce;
        envelope = settled.envelope;
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
    db: db.raw,
    raw: db.raw,
    user,
    sessionName,
    services,
    atomic: (fn) => db.atomic(fn, TRANSACTION),
  });

  const runNow: Runner['runNow'] = async (op, user, sessionName, params, options, address) => {
    // coreBOS ignores the identifier for operations not marked idempotent; so does wsgate (README).
    if (op.idempotent && user && options.clientRequestIdentifier !== undefined) {
      return idempotent(op, user, sessionName, params, options, false);
    }
    const moreinfo = options.launchfromqueue ? `${op.name} cannot be queued: it ran at once` : null;
    const ctx = contextOf(user, sessionName, address);
    if (op.own) ctx.hooks = syncHooks(log, op, user, callTimeoutMs);
    const plan = user && services.events.plan(op, params, services.modules);
    if (!plan) return success(await op.run(ctx, params), moreinfo);
    // Post and queued event scripts: the operation, its post scripts and the queueing of its queued
    // scripts share one transaction, so that a call that fails or is rejected by a post script fires none.
    const settled = await db.atomic(async (tx) => {
      // Inside the transaction the operation gets only the transaction: not the driver, whose reads would
      // run beside it (on PostgreSQL another connection, which neither sees its writes nor waits for its locks).
      const inTx: OperationContext = { ...ctx, raw: undefined, db: tx, atomic: (fn) => fn(tx) };
      return services.events.settle(plan, { op, user: user!, params, envelope: success(await op.run(inTx, params), moreinfo), db: tx, dialect: db.dialect });
    }, TRANSACTION);
    settled.announce();
    return settled.envelope;
  };

  return { entryOf, idempotent, runNow, contextOf };
}
