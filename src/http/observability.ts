// The observability routes together: GET /metrics (metrics.ts), GET /healthz and GET /readyz (health.ts),
// on `wsgate serve`'s port, or alone on WSGATE_METRICS_PORT for `wsgate work` (metrics-server.ts).
import type Router from '@koa/router';
import { addHealthRoutes, type Readiness } from './health.js';
import { addMetricsRoute, type MetricsRouteOptions } from './metrics.js';

export interface ObservabilityRoutes extends MetricsRouteOptions {
  ready: () => Promise<Readiness>;
}

export function addObservabilityRoutes(router: Router, o: ObservabilityRoutes): void {
  addMetricsRoute(router, o);
  addHealthRoutes(router, o.ready);
}
