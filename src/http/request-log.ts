// One log line per web-service call (at debug): the operation, its outcome and its time. Never the
// parameters: they carry access keys, session names and record data.
import type Koa from 'koa';
import type { Logger } from 'pino';
import { callState } from './webservice-state.js';

export function requestLog(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    // The level is read per call (a reload may change it); below debug the call costs nothing more.
    if (!log.isLevelEnabled('debug')) return next();
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const { operation, envelope } = callState(ctx);
      log.debug(
        {
          operation,
          success: envelope?.success ?? false,
          code: envelope === undefined ? 'INTERNAL_SERVER_ERROR' : envelope.success ? undefined : envelope.error.code,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'webservice call',
      );
    }
  };
}
