// The Koa application: the web-service endpoint (webservice.ts, composed middleware), the doors, the
// dashboard, OpenAPI and observability routes, CORS as configured, and the envelope for every other path
// and method (404, 405, 501). Whatever goes wrong on a connection is logged as one JSON line
// (connection-errors.ts). It knows HTTP, not SQL.
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Dispatcher } from '../protocol/dispatch.js';
import { clientFault, onContextError } from './connection-errors.js';
import { cors } from './cors.js';
import { answer, HttpRefusal, lastResort } from './error-envelope.js';
import { addOpenapiRoute, type OperationList } from './openapi.js';
import { addObservabilityRoutes, type ObservabilityRoutes } from './observability.js';
import { addWebserviceRoutes, webserviceEndpoint } from './webservice.js';

export interface AppOptions {
  bodyLimit: string;
  log: Logger;
  /** WSGATE_CORS_ORIGINS: exact origins allowed to call from a browser, `*` for any; empty: no CORS at all. */
  corsOrigins?: string[];
  /** The doors beside the endpoint (/jobs, /api/v1: src/http/doors.ts). */
  doors?: Koa.Middleware;
  /** The operations in force, for GET /openapi.yaml (absent: no such route). */
  operations?: OperationList;
  /** The dashboard's routes (src/dashboard), before the 404. */
  dashboard?: Koa.Middleware;
  /** GET /metrics, /healthz and /readyz (issue 14). */
  observability?: ObservabilityRoutes;
}

/** Methods HTTP defines: 405 on the endpoint; any other method is 501 (not implemented). */
const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export function createApp(dispatcher: Dispatcher, options: AppOptions): Koa {
  const app = new Koa();
  app.proxy = false;
  app.context.onerror = onContextError(options.log);
  // Anything emitted on the application is logged as JSON rather than printed by Koa's default handler.
  app.on('error', (error: Error) => {
    const fault = clientFault(error);
    if (fault) options.log.debug({ code: (error as { code?: string }).code }, 'client went away during the request');
    else options.log.error({ err: error }, 'request failed');
  });
  app.use(lastResort(options.log));
  app.use(cors(options.corsOrigins ?? []));
  app.use(webserviceEndpoint(dispatcher, options));
  if (options.doors) app.use(options.doors);
  const router = new Router({ methods: [...STANDARD_METHODS] });
  addWebserviceRoutes(router, dispatcher, options);
  if (options.operations) addOpenapiRoute(router, options.operations);
  if (options.dashboard) app.use(options.dashboard);
  if (options.observability) addObservabilityRoutes(router, options.observability);
  app.use(router.routes());
  app.use(
    router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new HttpRefusal(405, 'METHOD_NOT_ALLOWED', 'is not allowed here: use GET or POST'),
      notImplemented: () => new HttpRefusal(501, 'METHOD_NOT_ALLOWED', 'is not implemented: use GET or POST'),
    }),
  );
  app.use((ctx) => answer(ctx, 404, 'NOT_FOUND', 'Not found: the web-service endpoint is /webservice.php'));
  return app;
}
