// The web-service endpoint (/webservice.php and /webservice) as Koa middleware, composed in this order:
// the request log, the error envelope, the parameters, then the call handed to the dispatcher (src/ws).
// A GET or POST on the exact path runs the chain at once, ahead of the doors, the dashboard and the
// router's matching of every route (issue 13: the per-call HTTP cost); the router answers the rest of the
// endpoint's requests (HEAD, OPTIONS, a trailing slash, other methods) as it always did.
import type Koa from 'koa';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { Dispatcher } from '../protocol/dispatch.js';
import { ALLOW } from './cors.js';
import { protocolErrors } from './error-envelope.js';
import { parameters } from './parameters.js';
import { requestLog } from './request-log.js';
import { callState } from './webservice-state.js';

/** The paths of the endpoint. */
const ENDPOINTS = ['/webservice.php', '/webservice'];

/** The middleware run in order, each handed the next (what koa-compose does, for a chain fixed at start). */
function chain(middleware: Koa.Middleware[]): (ctx: Koa.Context) => Promise<void> {
  const run = (ctx: Koa.Context, i: number): Promise<void> =>
    i === middleware.length ? Promise.resolve() : Promise.resolve(middleware[i]!(ctx, () => run(ctx, i + 1)));
  return (ctx) => run(ctx, 0);
}

const callChain = (dispatcher: Dispatcher, options: { bodyLimit: string; log: Logger }): Koa.Middleware[] => [
  requestLog(options.log),
  protocolErrors(),
  parameters(options.bodyLimit),
  dispatchCall(dispatcher),
];

/** GET and POST on the endpoint's exact paths, before anything else that looks at the path. */
export function webserviceEndpoint(dispatcher: Dispatcher, options: { bodyLimit: string; log: Logger }): Koa.Middleware {
  const paths = new Set(ENDPOINTS);
  const call = chain(callChain(dispatcher, options));
  return (ctx, next) => ((ctx.method === 'GET' || ctx.method === 'POST') && paths.has(ctx.path) ? call(ctx) : next());
}

/** The handler: the call to the dispatcher, with the session from the header when no sessionName is given. */
export function dispatchCall(dispatcher: Dispatcher): Koa.Middleware {
  return async (ctx) => {
    const state = callState(ctx);
    const authorization = ctx.get('corebos-authorization') || ctx.get('corebos_authorization') || undefined;
    const { envelope, operation, body } = await dispatcher.dispatch({
      params: state.params ?? {},
      authorization,
      address: ctx.ip,
      traceparent: ctx.get('traceparent') || undefined,
    });
    state.operation = operation;
    state.envelope = envelope;
    ctx.type = 'application/json';
    // A call worker's answer comes as its JSON text already.
    ctx.body = body ?? envelope;
  };
}

/** The router answers HEAD with GET's route; an operation must not run for a HEAD request. */
const refuseHead: Koa.Middleware = (ctx, next) => {
  if (ctx.method !== 'HEAD') return next();
  ctx.set('Allow', ALLOW);
  ctx.status = 405;
};

export function addWebserviceRoutes(router: Router, dispatcher: Dispatcher, options: { bodyLimit: string; log: Logger }): void {
  const call = callChain(dispatcher, options);
  for (const path of ENDPOINTS) {
    router.get(path, refuseHead, ...call);
    router.post(path, ...call);
    router.options(path, (ctx) => {
      ctx.set('Allow', ALLOW);
      ctx.status = 204;
    });
  }
}
