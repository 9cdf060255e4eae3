// One web-service call, without HTTP: find the operation, check the session, sanitize the parameters,
// then run it now or queue it. Both ways end in the same operation function (the executor runs the
// queued ones).
import type { Logger } from 'pino';
import { nanoid } from 'nanoid';
import { checkSession } from '../auth/login.js';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import { databaseUnavailable, WsError } from '../errors.js';
import { DatabaseHealth } from '../db/health.js';
import { unknownOperation, type OperationRegistry } from '../operations/registry.js';
import type { OperationContext, OperationDefinition, Params, Services } from '../operations/types.js';
import { enqueue, enqueueIn, type NewQueuedOperation } from '../queue/store.js';
import { parseCbwsOptions, type CbwsOptions } from './cbwsOptions.js';
import { requestHashOf, storeAnswer, takeRequestId } from './idempotency.js';
import { envelopeOfError, failure, success, type Envelope } from '../envelope.js';
import { sanitize } from './sanitize.js';

export interface Call {
  /** Query string, form or JSON body parameters, merged. */
  params: Record<string, unknown>;
  /** The corebos-authorization header, when sent. */
  authorization?: string;
}

export interface Dispatcher {
  dispatch(call: Call): Promise<{ envelope: Envelope; operation?: string }>;
}

/**
 * Transactions of synchronous calls (idempotent ones, upsert, mass operations): waiting to start covers
 * SQLite's wait for another process's write lock; the run may take as long as a large MassCreate.
 */
const TRANSACTION = { maxWait: 15_000, timeout: 120_000 };

export function createDispatcher(
  db: Database,
  registry: OperationRegistry,
  services: Services,
  log: Logger,
  health: DatabaseHealth = new DatabaseHealth(log),
): Dispatcher {
  const entryOf = (op: OperationDefinition, user: WsUser, params: Params, options: CbwsOptions): NewQueuedOperation => {
    const now = services.clock.now();
    return {
      operation: op.name,
      params,
      userId: user.id,
      submittedAt: now,
      dueAt: new Date(now.getTime() + options.queuedelay * 1000),
      queue: options.queue,
      priority: options.priority,
    };
  };

  /** A repeat of a known ClientRequestIdentifier answers the first call's answer; see idempotency.ts. */
  async function idempotent(op: OperationDefinition, user: WsUser, sessionName: string | undefined, params: Params, options: CbwsOptions, deferred: boolean) {
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
        const queued = await enqueueIn(tx, db.dialect, entryOf(op, user, params, options));
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
  }

  async function handle(call: Call, named: (name: string) => void): Promise<Envelope> {
    const name = typeof call.params.operation === 'string' ? call.params.operation : '';
    const op = registry.get(name);
    if (!op) throw unknownOperation(name);
    named(op.name);
    const sessionParam = typeof call.params.sessionName === 'string' ? call.params.sessionName : '';
    const sessionName = sessionParam || call.authorization || undefined;
    let user: WsUser | null = null;
    if (!op.prelogin) {
      user = await checkSession(db.raw, sessionName, services.clock.now(), services.sessionPolicy);
    }
    const params = sanitize(op, call.params);
    const options = parseCbwsOptions(call.params.cbwsOptions);
    const deferred = options.launchfromqueue && op.queueable;
    // coreBOS ignores the identifier for operations not marked idempotent; so does wsgate (README).
    if (op.idempotent && user && options.clientRequestIdentifier !== undefined) {
      return idempotent(op, user, sessionName, params, options, deferred);
    }
    const ctx: OperationContext = {
      db: db.prisma,
      raw: db.raw,
      user,
      sessionName,
      services,
      atomic: (fn) => db.prisma.$transaction((tx) => fn(tx), TRANSACTION),
    };
    if (deferred) {
      await op.precheck?.(ctx, params);
      const operationTrackingID = await enqueue(db, entryOf(op, user!, params, options));
      return success({ operationTrackingID });
    }
    const result = await op.run(ctx, params);
    const moreinfo = options.launchfromqueue ? `${op.name} cannot be queued: it ran at once` : null;
    return success(result, moreinfo);
  }

  return {
    async dispatch(call) {
      let operation: string | undefined;
      const started = DatabaseHealth.now();
      try {
        const envelope = await handle(call, (n) => (operation = n));
        health.ok(started);
        return { envelope, operation };
      } catch (error) {
        // The database down or unable to write: a clear answer at once, logged once per outage (health).
        const unavailable = error instanceof WsError ? null : health.failed(error);
        if (unavailable) return { envelope: failure(databaseUnavailable(unavailable)), operation };
        if (!(error instanceof WsError)) log.error({ err: error, operation }, 'operation failed unexpectedly');
        return { envelope: envelopeOfError(error), operation };
      }
    },
  };
}
