// The Koa application: /webservice.php (and /webservice) by GET and POST, parameters from the query string
// and from form or JSON bodies, a body-size limit, and the envelope as JSON. Every other path and method is
// answered in the envelope too (404, 405, 501), OPTIONS and CORS as configured, and whatever goes wrong
// on a connection is logged as one JSON line. It knows HTTP, not SQL.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import { WsError, type ErrorCode } from '../errors.js';
import { failure, type Envelope } from '../envelope.js';
import type { Dispatcher } from '../protocol/dispatch.js';
import { parseForm } from './form.js';
import { addOpenapiRoute, type OperationList } from './openapi.js';
import { addObservabilityRoutes, type ObservabilityRoutes } from './observability.js';

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

/** The paths of the endpoint and the methods it answers. */
const ENDPOINTS = new Set(['/webservice.php', '/webservice']);
const ALLOW = 'GET, POST, OPTIONS';
/** Methods HTTP defines: 405 on the endpoint; any other method is 501 (not implemented). */
const STANDARD_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** The request headers a browser client may send: corebos-ws-lib sends Content-Type and corebos-authorization. */
const CORS_ALLOW_HEADERS = 'content-type, corebos-authorization';
/** Seconds a browser may cache a preflight's answer (Chromium caps it at two hours). */
const CORS_MAX_AGE = '7200';

/** What the router's allowedMethods throws for a method the endpoint does not take (405) or HTTP lacks (501). */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function answer(ctx: Koa.Context, status: number, code: ErrorCode, message: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = failure(new WsError(code, message));
}

/** Errors of a client that went away or sent a broken request: not the server's fault. */
function clientFault(error: unknown): 'gone' | 'malformed' | null {
  const e = error as { code?: string; type?: string; message?: string };
  if (e?.type === 'request.aborted' || e?.message === 'aborted' || e?.message === 'request aborted') return 'gone';
  if (['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_EOF_STATE'].includes(e?.code ?? '')) {
    return 'gone';
  }
  if (e?.code?.startsWith('HPE_') || e?.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'malformed';
  return null;
}

/** The path alone (never the query string: it may carry parameters), cut short. */
const pathOf = (ctx: Koa.Context) => ctx.path.slice(0, 200);

/**
 * Koa's ctx.onerror, for errors on the request's connection after the middleware (a socket reset while the
 * answer is written, a body cut short): one JSON log line instead of Koa's plain-text stack on stderr,
 * and, when nothing was sent yet and the socket still takes it, an answer in the envelope.
 */
function onContextError(log: Logger) {
  return function (this: Koa.Context, error: Error | null) {
    if (error == null) return;
    const fault = clientFault(error);
    const where = { method: this.method, path: pathOf(this), code: (error as { code?: string }).code };
    if (fault === 'gone') log.debug(where, 'client went away during the request');
    else if (fault === 'malformed') log.warn(where, 'malformed HTTP request');
    else log.error({ ...where, err: error }, 'request failed on its connection');
    if (this.headerSent || !this.writable) return;
    const status = (error as { status?: number }).status;
    const res = this.res;
    for (const name of res.getHeaderNames()) if (!name.startsWith('access-control-') && name !== 'vary') res.removeHeader(name);
    const body = JSON.stringify(
      failure(fault ? new WsError('INVALID_PARAMETER', 'Unreadable request') : new WsError('INTERNAL_SERVER_ERROR', 'Internal server error')),
    );
    res.statusCode = fault && status && status >= 400 && status < 500 ? status : fault ? 400 : 500;
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };
}

/**
 * The http server's 'clientError' (a request Node could not parse, or a connection reset before a request
 * was whole): one JSON log line, and when the socket can still take one, a JSON answer, as Node's default
 * handler would send a bare 400.
 */
export function clientErrorHandler(log: Logger) {
  return (error: NodeJS.ErrnoException, socket: Duplex) => {
    const fault = clientFault(error) ?? 'malformed';
    if (fault === 'gone') log.debug({ code: error.code }, 'client went away mid-request');
    else log.warn({ code: error.code }, 'malformed HTTP request');
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const body = JSON.stringify(failure(new WsError('INVALID_PARAMETER', `Malformed HTTP request (${STATUS_CODES[status]})`)));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

/**
 * CORS for browser clients (corebos-ws-lib): an allowed origin gets Access-Control-Allow-Origin on every
 * answer, and its preflight the methods, headers and Max-Age. Without configured origins nothing is added.
 */
function cors(origins: string[]): Koa.Middleware {
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

  const endpoint = async (ctx: Koa.Context) => {
    const started = process.hrtime.bigint();
    let envelope: Envelope;
    let operation: string | undefined;
    let body: string | undefined;
    try {
      const params = await readParams(ctx, options.bodyLimit);
      const authorization = ctx.get('corebos-authorization') || ctx.get('corebos_authorization') || undefined;
      ({ envelope, operation, body } = await dispatcher.dispatch({ params, authorization, address: ctx.ip, traceparent: ctx.get('traceparent') || undefined }));
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
    ctx.body = body ?? envelope;
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

  app.context.onerror = onContextError(options.log);
  // Anything emitted on the application is logged as JSON rather than printed by Koa's default handler.
  app.on('error', (error: Error) => {
    const fault = clientFault(error);
    if (fault) options.log.debug({ code: (error as { code?: string }).code }, 'client went away during the request');
    else options.log.error({ err: error }, 'request failed');
  });
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpRefusal) {
        ctx.set('Allow', ALLOW);
        answer(ctx, error.status, error.code, `HTTP method ${ctx.method.slice(0, 32)} ${error.message}`);
        return;
      }
      options.log.error({ err: error, method: ctx.method, path: pathOf(ctx) }, 'request failed');
      answer(ctx, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
  });
  app.use(cors(options.corsOrigins ?? []));
  if (options.doors) app.use(options.doors);
  const router = new Router({ methods: [...STANDARD_METHODS] });
  for (const path of ENDPOINTS) {
    router.get(path, (ctx) => {
      if (ctx.method !== 'HEAD') return endpoint(ctx);
      // The router answers HEAD with GET's route; an operation must not run for a HEAD request.
      ctx.set('Allow', ALLOW);
      ctx.status = 405;
    });
    router.post(path, endpoint);
    router.options(path, (ctx) => {
      ctx.set('Allow', ALLOW);
      ctx.status = 204;
    });
  }
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
