// `wsgate work`'s small HTTP server on WSGATE_METRICS_PORT: /metrics, /healthz and /readyz only; every
// other path 404 and every other method 405, in the protocol's envelope like the gateway's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { WsError } from '../errors.js';
import { failure } from '../envelope.js';
import { addObservabilityRoutes, type ObservabilityRoutes } from './observability.js';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(o: ObservabilityRoutes & { port: number; host: string; log: Logger }): Promise<MetricsServer> {
  const app = new Koa();
  app.on('error', (error: Error) => o.log.debug({ err: error }, 'metrics request failed'));
  const refuse = (ctx: Koa.Context, status: number, code: 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'INTERNAL_SERVER_ERROR', message: string) => {
    ctx.status = status;
    ctx.type = 'application/json';
    ctx.body = failure(new WsError(code, message));
  };
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      o.log.error({ err: error, path: ctx.path.slice(0, 200) }, 'metrics request failed');
      refuse(ctx, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  });
  const router = new Router();
  addObservabilityRoutes(router, o);
  app.use(router.routes());
  app.use((ctx) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.set('Allow', 'GET');
      return refuse(ctx, 405, 'METHOD_NOT_ALLOWED', `HTTP method ${ctx.method.slice(0, 32)} is not allowed here: use GET`);
    }
    refuse(ctx, 404, 'NOT_FOUND', 'Not found: this server answers /metrics, /healthz and /readyz');
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
