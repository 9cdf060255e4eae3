// CORS for browser clients: an allowed origin gets Access-Control-Allow-Origin on every answer, and its
// preflight the methods the path answers (its Allow header), the request headers a client of that path
// sends, and Max-Age. Without configured origins nothing is added.
import type Koa from 'koa';

/** The methods the endpoint answers. */
export const ALLOW = 'GET, POST, OPTIONS';
/** The request headers a client of the endpoint may send: corebos-ws-lib sends Content-Type and corebos-authorization. */
const ENDPOINT_HEADERS = 'content-type, corebos-authorization';
/** The Queue Server API and the 202 door: Bearer credentials, `Prefer: wait`, idempotency keys, traces. */
const DOOR_PATHS = /^\/(jobs|api\/v1)(\/|$)/;
const DOOR_HEADERS = 'authorization, content-type, prefer, idempotency-key, traceparent';
/** What a browser script may read of a door's answer beside the simple headers. */
const DOOR_EXPOSED = 'location, retry-after, preference-applied';
/** Seconds a browser may cache a preflight's answer (Chromium caps it at two hours). */
const CORS_MAX_AGE = '7200';

/** `origins`: exact origins allowed, `*` for any; empty: no CORS at all. */
export function cors(origins: string[]): Koa.Middleware {
  const any = origins.includes('*');
  return async (ctx, next) => {
    if (origins.length === 0) return next();
    if (!any) ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (!origin || !(any || origins.includes(origin))) return next();
    ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
    const door = DOOR_PATHS.test(ctx.path);
    const preflight = ctx.method === 'OPTIONS' && ctx.get('access-control-request-method') !== '';
    if (preflight) {
      ctx.set('Access-Control-Allow-Headers', door ? DOOR_HEADERS : ENDPOINT_HEADERS);
      ctx.set('Access-Control-Max-Age', CORS_MAX_AGE);
    } else if (door) ctx.set('Access-Control-Expose-Headers', DOOR_EXPOSED);
    await next();
    // The methods of the path, as its answer to OPTIONS lists them (a door's DELETE included).
    if (preflight) ctx.set('Access-Control-Allow-Methods', ctx.response.get('Allow') || ALLOW);
  };
}
