// The Koa application: /webservice.php (and /webservice) by GET and POST, parameters from the query string
// and from form or JSON bodies, a body-size limit, and the envelope as JSON. It knows HTTP, not SQL.
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import { WsError } from '../errors.js';
import { failure, type Envelope } from '../envelope.js';
import type { Dispatcher } from '../ws/dispatch.js';
import { parseForm } from './form.js';

export interface AppOptions {
  bodyLimit: string;
  log: Logger;
}

class UnsupportedBody extends WsError {}

/**
 * Bodies are url-encoded forms (also when no type is given, as PHP reads them) or JSON. Anything else is
 * refused rather than misread as a form: multipart bodies, other types, compressed bodies.
 */
function bodyKind(ctx: Koa.Context): 'form' | 'json' {
  const encoding = ctx.get('content-encoding');
  if (encoding && encoding !== 'identity') {
    throw new UnsupportedBody('INVALID_PARAMETER', `Content-Encoding ${encoding} is not supported: send the body uncompressed`);
  }
  if (!ctx.get('content-type') || ctx.is('application/x-www-form-urlencoded')) return 'form';
  if (ctx.is('json', '+json')) return 'json';
  throw new UnsupportedBody(
    'INVALID_PARAMETER',
    `Content-Type ${ctx.get('content-type')} is not supported: send application/x-www-form-urlencoded or application/json`,
  );
}

async function readParams(ctx: Koa.Context, limit: string): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = parseForm(ctx.querystring);
  if (ctx.method !== 'POST') return params;
  const kind = ctx.request.length === 0 ? 'form' : bodyKind(ctx);
  const text = await getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  if (!text) return params;
  if (kind === 'json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new WsError('INVALID_PARAMETER', 'The request body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new WsError('INVALID_PARAMETER', 'A JSON request body must be an object of parameters');
    }
    return { ...params, ...body };
  }
  return { ...params, ...parseForm(text) };
}

export function createApp(dispatcher: Dispatcher, options: AppOptions): Koa {
  const app = new Koa();
  app.proxy = false;
  const router = new Router();

  const endpoint = async (ctx: Koa.Context) => {
    if (ctx.method === 'HEAD') {
      // The router answers HEAD with GET's route; an operation must not run for a HEAD request.
      ctx.set('Allow', 'GET, POST');
      ctx.status = 405;
      return;
    }
    const started = process.hrtime.bigint();
    let envelope: Envelope;
    let operation: string | undefined;
    try {
      const params = await readParams(ctx, options.bodyLimit);
      const authorization = ctx.get('corebos-authorization') || ctx.get('corebos_authorization') || undefined;
      ({ envelope, operation } = await dispatcher.dispatch({ params, authorization }));
    } catch (error) {
      const status = (error as { status?: number; type?: string }).status;
      if (error instanceof UnsupportedBody) {
        ctx.status = 415;
        envelope = failure(error);
      } else if (error instanceof WsError) {
        envelope = failure(error);
      } else if (status === 413) {
        ctx.status = 413;
        envelope = failure(new WsError('INVALID_PARAMETER', `The request body is larger than ${options.bodyLimit}`));
      } else if (status && status >= 400 && status < 500) {
        ctx.status = status;
        envelope = failure(new WsError('INVALID_PARAMETER', `Unreadable request body: ${(error as Error).message}`));
      } else {
        throw error;
      }
    }
    if (!envelope.success && envelope.error.code === 'DATABASE_UNAVAILABLE') {
      // The database is down or cannot write: HTTP 503 with the envelope, and a hint when to try again.
      ctx.status = 503;
      ctx.set('Retry-After', '5');
    }
    ctx.type = 'application/json';
    ctx.body = envelope;
    // Never the parameters: they carry access keys, session names and record data.
    options.log.debug(
      {
        operation,
        success: envelope.success,
        code: envelope.success ? undefined : envelope.error.code,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      },
      'webservice call',
    );
  };

  for (const path of ['/webservice.php', '/webservice']) {
    router.get(path, endpoint);
    router.post(path, endpoint);
  }
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      options.log.error({ err: error }, 'request failed');
      ctx.status = 500;
      ctx.type = 'application/json';
      ctx.body = failure(new WsError('INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
