// The web-service endpoint (/webservice.php and /webservice) as Koa middleware, composed in this order:
// the request log, the error envelope, the parameters, then the call handed to the dispatcher (src/ws).
import type Koa from 'koa';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { Dispatcher } from '../ws/dispatch.js';
import { ALLOW } from './cors.js';
import { protocolErrors } from './error-envelope.js';
import { parameters } from './parameters.js';
import { requestLog } from './request-log.js';
import { callState } from './webservice-state.js';

/** The paths of the endpoint. */
const ENDPOINTS = ['/webservice.php', '/webservice'];

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
  const call = [requestLog(options.log), protocolErrors(), parameters(options.bodyLimit), dispatchCall(dispatcher)];
  for (const path of ENDPOINTS) {
    router.get(path, refuseHead, ...call);
    router.post(path, ...call);
    router.options(path, (ctx) => {
      ctx.set('Allow', ALLOW);
      ctx.status = 204;
    });
  }
}
