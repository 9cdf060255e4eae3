// The doors' request bodies: one JSON object, under the body limit. Anything else is a 4xx naming `body`.
import type Koa from 'koa';
import getRawBody from 'raw-body';
import { Problem } from './problem.js';

/** The body's JSON object; {} for an empty body. */
export async function readJsonObject(ctx: Koa.Context, limit: string): Promise<Record<string, unknown>> {
  const length = ctx.get('content-length');
  const chunked = ctx.get('transfer-encoding') !== '';
  if (!chunked && (length === '' || length === '0')) return {};
  const encoding = ctx.get('content-encoding');
  if (encoding && encoding !== 'identity')
    throw new Problem(415, 'INVALID_PARAMETER', `Content-Encoding ${encoding} is not supported: send the body uncompressed`, 'body');
  if (!ctx.is('json', '+json')) {
    throw new Problem(415, 'INVALID_PARAMETER', `Content-Type ${ctx.get('content-type') || '(none)'} is not supported: send application/json`, 'body');
  }
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, encoding: 'utf8', length: length || undefined });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw new Problem(413, 'INVALID_PARAMETER', `The request body is larger than ${limit}`, 'body');
    if (status && status >= 400 && status < 500) throw new Problem(status, 'INVALID_PARAMETER', `Unreadable request body: ${(error as Error).message}`, 'body');
    throw error;
  }
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Problem(400, 'INVALID_PARAMETER', 'The request body is not valid JSON', 'body');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Problem(400, 'INVALID_PARAMETER', 'The request body must be a JSON object', 'body');
  return body as Record<string, unknown>;
}
