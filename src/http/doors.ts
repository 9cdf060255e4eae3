// The HTTP doors beside /webservice.php: the Queue Server's API (/jobs, jobs.ts) and async request-reply
// for every queueable operation (/api/v1/operations, operations.ts). Both authenticate with a Bearer
// credential, submit and read through the same dispatcher as the protocol (quotas, idempotency, parameter
// checks, owner-only results), and answer errors as problem details. Unknown paths under them are 404,
// other methods 405, both as problems.
import type Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { WsUser } from '../auth/users.js';
import type { Database } from '../db/client.js';
import { databaseUnavailability } from '../db/errors.js';
import { databaseUnavailable } from '../errors.js';
import type { Envelope } from '../envelope.js';
import type { OperationLookup } from '../operations/registry.js';
import type { Services } from '../operations/types.js';
import type { Dispatcher } from '../protocol/dispatch.js';
import { bearerUser } from './bearer.js';
import { Problem, problemOf, sendProblem } from './problem.js';
import { addJobRoutes } from './jobs.js';
import { addOperationRoutes } from './operations.js';

export interface DoorDeps {
  db: Database;
  registry: OperationLookup;
  services: Services;
  dispatcher: Dispatcher;
  /** WSGATE_LEASE_SECONDS: which executors count as alive for /jobs/status. */
  leaseSeconds: number;
  bodyLimit: string;
  log: Logger;
}

/** What a door's handler works with: the dependencies, the authenticated caller, and the protocol's calls. */
export interface Door extends DoorDeps {
  user(ctx: Koa.Context): Promise<WsUser>;
  /** A protocol call as `user` (its session already checked); answers the envelope. */
  call(user: WsUser, operation: string, params: Record<string, unknown>): Promise<Envelope>;
}

/** Envelope to value: the result of a success, a Problem thrown for an error. */
export function resultOf(envelope: Envelope, fieldPrefix = '', renamed: Record<string, string> = {}): unknown {
  if (!envelope.success) throw problemOf(envelope.error, fieldPrefix, renamed);
  return envelope.result;
}

const DOOR_PATHS = /^\/(jobs|api\/v1)(\/|$)/;

export function doors(deps: DoorDeps): Koa.Middleware {
  const door: Door = {
    ...deps,
    user: (ctx) => bearerUser(ctx, deps.db.raw, deps.services.clock.now(), deps.services.sessionPolicy, deps.services.sessions),
    call: async (user, operation, params) => (await deps.dispatcher.dispatch({ params: { ...params, operation }, user })).envelope,
  };
  const router = new Router();
  addJobRoutes(router, door);
  addOperationRoutes(router, door);
  const routes = router.routes();

  const unrouted = async (ctx: Koa.Context) => {
    const layers = router.match(ctx.path, ctx.method).path;
    const allowed = [...new Set(layers.flatMap((l) => l.methods).filter((m) => m !== 'HEAD'))];
    if (allowed.length === 0) throw new Problem(404, 'NOT_FOUND', `Not found: ${ctx.path.slice(0, 200)}`);
    ctx.set('Allow', [...allowed, 'OPTIONS'].join(', '));
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      return;
    }
    throw new Problem(405, 'METHOD_NOT_ALLOWED', `HTTP method ${ctx.method.slice(0, 32)} is not allowed here: use ${allowed.join(' or ')}`);
  };

  return async (ctx, next) => {
    if (!DOOR_PATHS.test(ctx.path)) return next();
    try {
      // HEAD would run a GET's handler, and reading a result consumes it.
      if (ctx.method === 'HEAD') return await unrouted(ctx);
      await routes(ctx as Parameters<typeof routes>[0], () => unrouted(ctx));
    } catch (error) {
      if (error instanceof Problem) return sendProblem(ctx, error);
      const unavailable = databaseUnavailability(error);
      if (unavailable) return sendProblem(ctx, problemOf(databaseUnavailable(unavailable)));
      deps.log.error({ err: error, method: ctx.method, path: ctx.path.slice(0, 200) }, 'request failed');
      sendProblem(ctx, new Problem(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
  };
}
