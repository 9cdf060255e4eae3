// The call's parameters: the query string, and for POST the body, a url-encoded form (also when no type is
// given, as PHP reads it) or a JSON object, under the body limit; body names win over the query string's.
// Anything else is refused rather than misread as a form: multipart bodies, other types, compressed bodies.
import type Koa from 'koa';
import getRawBody from 'raw-body';
import { WsError } from '../errors.js';
import { RequestRefused } from './error-envelope.js';
import { parseForm } from './form.js';
import { callState } from './webservice-state.js';

function bodyKind(ctx: Koa.Context): 'form' | 'json' {
  const encoding = ctx.get('content-encoding');
  if (encoding && encoding !== 'identity') {
    throw new RequestRefused(415, 'INVALID_PARAMETER', `Content-Encoding ${encoding} is not supported: send the body uncompressed`);
  }
  if (!ctx.get('content-type') || ctx.is('application/x-www-form-urlencoded')) return 'form';
  if (ctx.is('json', '+json')) return 'json';
  throw new RequestRefused(
    415,
    'INVALID_PARAMETER',
    `Content-Type ${ctx.get('content-type')} is not supported: send application/x-www-form-urlencoded or application/json`,
  );
}

async function bodyText(ctx: Koa.Context, limit: string): Promise<string> {
  try {
    return await getRawBody(ctx.req, { limit, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new RequestRefused(413, 'INVALID_PARAMETER', `The request body is larger than ${limit}`);
    if (status && status >= 400 && status < 500) {
      throw new RequestRefused(status, 'INVALID_PARAMETER', `Unreadable request body: ${(error as Error).message}`);
    }
    throw error;
  }
}

function jsonParameters(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WsError('INVALID_PARAMETER', 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WsError('INVALID_PARAMETER', 'A JSON request body must be an object of parameters');
  }
  return body as Record<string, unknown>;
}

async function readParameters(ctx: Koa.Context, limit: string): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = parseForm(ctx.querystring);
  if (ctx.method !== 'POST') return params;
  const kind = ctx.request.length === 0 ? 'form' : bodyKind(ctx);
  const text = await bodyText(ctx, limit);
  if (!text) return params;
  return { ...params, ...(kind === 'json' ? jsonParameters(text) : parseForm(text)) };
}

/** `limit`: WSGATE_BODY_LIMIT, as raw-body reads it (`1mb`). */
export function parameters(limit: string): Koa.Middleware {
  return async (ctx, next) => {
    callState(ctx).params = await readParameters(ctx, limit);
    return next();
  };
}
