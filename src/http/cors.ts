// CORS for browser clients (corebos-ws-lib): an allowed origin gets Access-Control-Allow-Origin on every
// answer, and its preflight the methods, headers and Max-Age. Without configured origins nothing is added.
import type Koa from 'koa';

/** The methods the endpoint answers. */
export const ALLOW = 'GET, POST, OPTIONS';
/** The request headers a browser client may send: corebos-ws-lib sends Content-Type and corebos-authorization. */
const CORS_ALLOW_HEADERS = 'content-type, corebos-authorization';
/** Seconds a browser may cache a preflight's answer (Chromium caps it at two hours). */
const CORS_MAX_AGE = '7200';

/** `origins`: exact origins allowed, `*` for any; empty: no CORS at all. */
export function cors(origins: string[]): Koa.Middleware {
  const any = origins.includes('*');
  return async (ctx, next) => {
    if (origins.length === 0) return next();
    if (!any) ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (origin && (any || origins.includes(origin))) {
      ctx.set('Access-Control-Allow-Origin', any ? '*' : origin);
      if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
        ctx.set('Access-Control-Allow-Methods', ALLOW);
        ctx.set('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
        ctx.set('Access-Control-Max-Age', CORS_MAX_AGE);
      }
    }
    return next();
  };
}
