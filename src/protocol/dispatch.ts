// One web-service call, without HTTP: find the operation, check the session, sanitize the parameters,
// then run it now or queue it. Both ways end in the same operation function (the executor runs the
// queued ones). Operations marked `isolated` run now in a call worker (calls/pool.ts), so that no call
// whose work grows with its input holds the event loop that answers everyone else.
import type { Logger } from 'pino';
import { checkSession } from '../auth/login.js';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import { databaseUnavailable, WsError } from '../errors.js';
import { isStatementTimeout, knownDatabaseFailure } from '../db/errors.js';
import { withStatementBudget } from '../db/sqlite-connection.js';
import { DatabaseHealth } from '../db/health.js';
import { unknownOperation } from '../operations/registry.js';
import type { OperationDefinition, Services } from '../operations/types.js';
import { enqueueWithinQuota } from '../queue/quota.js';
import { checkCallback, parseCbwsOptions } from './cbwsOptions.js';
import { envelopeOfError, failure, success, type Envelope } from '../envelope.js';
import { sanitize } from './sanitize.js';
import { createRunner } from './run.js';
import type { CallAnswer, CallPool } from './calls/pool.js';
import { tracedLog } from '../observe/trace.js';

export interface Call {
  /** Query string, form or JSON body parameters, merged. */
  params: Record<string, unknown>;
  /** The corebos-authorization header, when sent. */
  authorization?: string;
  /** The client's address (failed logins are counted per address). */
  address?: string;
  /** The caller, when the door already authenticated it (an API token or Bearer session, src/http/bearer.ts). */
  user?: WsUser;
  /** The W3C traceparent of the call (observe.ts puts its own span's there): a deferred entry keeps it. */
  traceparent?: string;
}

export interface Dispatched {
  envelope: Envelope;
  operation?: string;
  /** The envelope's JSON text when a call worker made it (then a success's result is in it only). */
  body?: string;
}

export interface Dispatcher {
  dispatch(call: Call): Promise<Dispatched>;
}

/**
 * A quick call's time on the event loop for each statement (ms): an index-led query takes well under a
 * millisecond; one that needs longer costs the event loop this much once, then runs in a call worker.
 */
const QUICK_BUDGET_MS = 10;

/** `calls`: where isolated operations run now; without one (CLI tools, some tests) they run here. */
export function createDispatcher(
  db: Database,
  /** Looked up once per call: a call runs the operation it found, even if a reload replaces it meanwhile. */
  registry: { get(name: string): OperationDefinition | undefined },
  services: Services,
  log: Logger,
  calls?: CallPool,
  health: DatabaseHealth = new DatabaseHealth(log),
): Dispatcher {
  const runner = createRunner(db, services, log);

  async function handle(call: Call, named: (name: string) => void): Promise<Envelope | CallAnswer> {
    const name = typeof call.params.operation === 'string' ? call.params.operation : '';
    const op = registry.get(name);
    if (!op || op.internal) throw unknownOperation(name);
    named(op.name);
    const sessionParam = typeof call.params.sessionName === 'string' ? call.params.sessionName : '';
    const sessionName = sessionParam || call.authorization || undefined;
    let user: WsUser | null = call.user ?? null;
    if (!op.prelogin && !user) {
      user = await checkSession(db.raw, sessionName, services.clock.now(), services.sessionPolicy, services.sessions);
    }
    // Pre event scripts: for a deferred call at submit, so that one they reject queues nothing.
    const params = await services.events.pre(op, user, sanitize(op, call.params), services.modules);
    const options = parseCbwsOptions(call.params.cbwsOptions);
    const deferred = (options.launchfromqueue || op.queued === true) && op.queueable;
    checkCallback(options, deferred, services.jobs);
    if (deferred) {
      let envelope: Envelope;
      if (op.idempotent && options.clientRequestIdentifier !== undefined) {
        envelope = await runner.idempotent(op, user!, sessionName, params, options, true, call.traceparent);
      } else {
        await op.precheck?.(runner.contextOf(user, sessionName, call.address), params);
        envelope = success({
          operationTrackingID: await enqueueWithinQuota(db, runner.entryOf(op, user!, params, options, call.traceparent), user!, services.quota),
        });
      }
      // The submit's log line carries the call's trace id, as the run's does (engine.ts).
      const operationTrackingID = envelope.success ? (envelope.result as { operationTrackingID?: string })?.operationTrackingID : undefined;
      if (log.isLevelEnabled('debug'))
        tracedLog(log, call.traceparent).debug({ operation: op.name, operationTrackingID, queue: options.queue }, 'operation queued');
      return envelope;
    }
    const isolated = op.isolated === true || (op.isolated === 'sqlite' && db.dialect.inProcess);
    if (isolated && calls) {
      if (op.quick?.(services, params)) {
        try {
          return await withStatementBudget(QUICK_BUDGET_MS, () => runner.runNow(op, user, sessionName, params, options, call.address));
        } catch (error) {
          if (!isStatementTimeout(error)) throw error;
          // Not so quick after all: the call worker runs it again, with the full statement time limit.
        }
      }
      return calls.run({ operation: op.name, user, sessionName, params, options });
    }
    return runner.runNow(op, user, sessionName, params, options, call.address);
  }

  return {
    async dispatch(call) {
      let operation: string | undefined;
      const started = DatabaseHealth.now();
      try {
        const answer = await handle(call, (n) => (operation = n));
        health.ok(started);
        return 'envelope' in answer ? { ...answer, operation } : { envelope: answer, operation };
      } catch (error) {
        // The database down or unable to write: a clear answer at once, logged once per outage (health).
        const unavailable = error instanceof WsError ? null : health.failed(error);
        if (unavailable) return { envelope: failure(databaseUnavailable(unavailable)), operation };
        if (!(error instanceof WsError) && !knownDatabaseFailure(error)) log.error({ err: error, operation }, 'operation failed unexpectedly');
        return { envelope: envelopeOfError(error), operation };
      }
    },
  };
}
