// Failures on a request's connection rather than in its handling: a client that went away or sent a
// request Node could not parse. One JSON log line each, and an answer in the envelope while the socket
// still takes one (Koa's ctx.onerror and the http server's 'clientError').
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { WsError } from '../errors.js';
import { failure } from '../envelope.js';

/** Errors of a client that went away or sent a broken request: not the server's fault. */
export function clientFault(error: unknown): 'gone' | 'malformed' | null {
  const e = error as { code?: string; type?: string; message?: string };
  if (e?.type === 'request.aborted' || e?.message === 'aborted' || e?.message === 'request aborted') return 'gone';
  if (['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'HPE_INVALID_EOF_STATE'].includes(e?.code ?? '')) {
    return 'gone';
  }
  if (e?.code?.startsWith('HPE_') || e?.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'malformed';
  return null;
}

/** The path alone (never the query string: it may carry parameters), cut short. */
export const pathOf = (ctx: Koa.Context) => ctx.path.slice(0, 200);

/**
 * Koa's ctx.onerror, for errors on the request's connection after the middleware (a socket reset while the
 * answer is written, a body cut short): one JSON log line instead of Koa's plain-text stack on stderr,
 * and, when nothing was sent yet and the socket still takes it, an answer in the envelope.
 */
export function onContextError(log: Logger) {
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
