// GET /metrics: the process's metrics in Prometheus' text format. Only for those who may see them: with
// WSGATE_METRICS_TOKEN set, a request must carry `Authorization: Bearer <token>` (401 otherwise); without
// it, only clients on this host (loopback) are answered (403 otherwise).
import { timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import type Router from '@koa/router';
import { WsError, type ErrorCode } from '../errors.js';
import { failure } from '../envelope.js';
import type { Metrics } from '../observe/metrics.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  /** WSGATE_METRICS_TOKEN; undefined: loopback clients only. */
  token?: string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function refuse(ctx: Koa.Context, status: number, code: ErrorCode, message: string) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = failure(new WsError(code, message));
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether the request may read the metrics; answers the refusal itself when not. */
export function metricsAccess(ctx: Koa.Context, token: string | undefined): boolean {
  if (token !== undefined) {
    const given = /^Bearer\s+(.+)$/i.exec(ctx.get('authorization'))?.[1]?.trim();
    if (given && sameText(given, token)) return true;
    ctx.set('WWW-Authenticate', 'Bearer realm="wsgate metrics"');
    refuse(ctx, 401, 'AUTHENTICATION_REQUIRED', 'The metrics need Authorization: Bearer <WSGATE_METRICS_TOKEN>');
    return false;
  }
  // The socket's own address: never a forwarded header, which a client could set.
  if (LOOPBACK.test(ctx.req.socket.remoteAddress ?? '')) return true;
  refuse(ctx, 403, 'ACCESS_DENIED', 'The metrics are answered to this host only; set WSGATE_METRICS_TOKEN to scrape them from elsewhere');
  return false;
}

export function addMetricsRoute(router: Router, o: MetricsRouteOptions): void {
  router.get('/metrics', async (ctx) => {
    if (!metricsAccess(ctx, o.token)) return;
    ctx.set('Cache-Control', 'no-store');
    ctx.type = o.metrics.contentType;
    ctx.body = await o.metrics.text();
  });
}
