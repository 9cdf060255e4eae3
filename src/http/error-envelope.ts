// Errors as the protocol's envelope, {"success":false,"error":{code,message}}, with the HTTP status that
// fits: a protocol error thrown while the endpoint reads or runs a call (200, or the status it carries:
// 413, 415, ...), a database that is down (503), a method the router refuses (405, 501), and anything
// unexpected (500, logged, never a stack in the answer).
import type Koa from 'koa';
import type { Logger } from 'pino';
import { WsError, type ErrorCode } from '../errors.js';
import { failure } from '../envelope.js';
import { pathOf } from './connection-errors.js';
import { ALLOW } from './cors.js';
import { callState } from './webservice-state.js';

/** A protocol error answered with an HTTP status of its own rather than 200 (an oversized or unreadable body). */
export class RequestRefused extends WsError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** What the router's allowedMethods throws for a method the endpoint does not take (405) or HTTP lacks (501). */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function answer(ctx: Koa.Context, status: number, code: ErrorCode, message: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = failure(new WsError(code, message));
}

/**
 * The endpoint's: a protocol error thrown below becomes its envelope; an envelope that says the database
 * is down or cannot write is HTTP 503 with a hint when to try again. Anything else goes up to lastResort.
 */
export function protocolErrors(): Koa.Middleware {
  return async (ctx, next) => {
    const state = callState(ctx);
    try {
      await next();
    } catch (error) {
      if (!(error instanceof WsError)) throw error;
      if (error instanceof RequestRefused) ctx.status = error.status;
      state.envelope = failure(error);
      ctx.type = 'application/json';
      ctx.body = state.envelope;
    }
    if (state.envelope?.success === false && state.envelope.error.code === 'DATABASE_UNAVAILABLE') {
      ctx.status = 503;
      ctx.set('Retry-After', '5');
    }
  };
}

/** The application's outermost: a refused method (with Allow), and whatever else escaped, as a 500. */
export function lastResort(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpRefusal) {
        ctx.set('Allow', ALLOW);
        answer(ctx, error.status, error.code, `HTTP method ${ctx.method.slice(0, 32)} ${error.message}`);
        return;
      }
      log.error({ err: error, method: ctx.method, path: pathOf(ctx) }, 'request failed');
      answer(ctx, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  };
}
