// One web-service call, without HTTP: find the operation, check the session, sanitize the parameters,
// then run it now or queue it. Both ways end in the same operation function (the executor runs the
// queued ones).
import type { Logger } from 'pino';
import { checkSession } from '../auth/login.js';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import { WsError } from '../errors.js';
import type { OperationRegistry } from '../operations/registry.js';
import type { Services } from '../operations/types.js';
import { enqueue } from '../queue/store.js';
import { parseCbwsOptions } from './cbwsOptions.js';
import { envelopeOfError, success, type Envelope } from '../envelope.js';
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

export function createDispatcher(db: Database, registry: OperationRegistry, services: Services, log: Logger): Dispatcher {
  async function handle(call: Call, named: (name: string) => void): Promise<Envelope> {
    const name = typeof call.params.operation === 'string' ? call.params.operation : '';
    const op = registry.get(name);
    if (!op) throw new WsError('UNKNOWN_OPERATION', name ? `Unknown operation requested: ${name}` : 'No operation given');
    named(op.name);
    const sessionParam = typeof call.params.sessionName === 'string' ? call.params.sessionName : '';
    const sessionName = sessionParam || call.authorization || undefined;
    let user: WsUser | null = null;
    if (!op.prelogin) {
      user = await checkSession(db.raw, sessionName, services.clock.now(), services.sessionPolicy);
    }
    const params = sanitize(op, call.params);
    const options = parseCbwsOptions(call.params.cbwsOptions);
    const ctx = { db: db.prisma, user, sessionName, services };
    if (options.launchfromqueue && op.queueable) {
      await op.precheck?.(ctx, params);
      const now = services.clock.now();
      const operationTrackingID = await enqueue(db, {
        operation: op.name,
        params,
        userId: user!.id,
        submittedAt: now,
        dueAt: new Date(now.getTime() + options.queuedelay * 1000),
        queue: options.queue,
        priority: options.priority,
      });
      return success({ operationTrackingID });
    }
    const result = await op.run(ctx, params);
    const moreinfo = options.launchfromqueue ? `${op.name} cannot be queued: it ran at once` : null;
    return success(result, moreinfo);
  }

  return {
    async dispatch(call) {
      let operation: string | undefined;
      try {
        const envelope = await handle(call, (n) => (operation = n));
        return { envelope, operation };
      } catch (error) {
        if (!(error instanceof WsError)) log.error({ err: error, operation }, 'operation failed unexpectedly');
        return { envelope: envelopeOfError(error), operation };
      }
    },
  };
}
