// httpRequest: the Queue Server's HttpWorker as a queueable operation. It makes one HTTP request and stores
// the answer (status, headers, body cut at WSGATE_HTTP_MAX_BODY_BYTES). A 4xx is the job's final result;
// a 5xx, a network failure or a timeout is an infrastructure failure, tried again per --tries. Every call is
// deferred (queued: a call without cbwsOptions is queued as if it asked to be): a request that may take a
// minute has no place in a synchronous answer. Off until WSGATE_HTTP_ALLOW lists hosts (src/outbound).
import { WsError } from '../errors.js';
import { checkOutboundUrl } from '../outbound/url.js';
import type { OperationContext, OperationDefinition, Params } from '../operations/types.js';

export const JOB_ID_PLACEHOLDER = '__JOBID__';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const WITHOUT_BODY = new Set(['GET', 'HEAD']);
/** Headers the request itself sets (or that would change how it is framed). */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'expect']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 3_600;
export const MAX_REDIRECTS = 5;
const ALLOW_SETTING = 'WSGATE_HTTP_ALLOW';

const bad = (message: string) => new WsError('INVALID_PARAMETER', `httpRequest: ${message}`);

interface HttpJob {
  url: URL;
  method: string;
  headers: Record<string, string>;
  params: unknown;
  timeoutSeconds: number;
}

function checkHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('headers must be a JSON object of header names and text values');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!TOKEN.test(name)) throw bad(`headers: "${name}" is not a header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw bad(`headers.${name} is set by wsgate itself`);
    const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
    if (typeof text !== 'string' || /[\r\n\0]/.test(text)) throw bad(`headers.${name} must be text on one line`);
    headers[name.toLowerCase()] = text;
  }
  return headers;
}

function checkTimeout(raw: unknown): number {
  if (raw === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_TIMEOUT_SECONDS) {
    throw bad(`timeout must be seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Everything known wrong before the request: the same checks at submit (nothing queued) and at the run. */
function jobOf(ctx: OperationContext, p: Params): HttpJob {
  const allow = ctx.services.jobs.httpAllow;
  const url = checkOutboundUrl('httpRequest: url', p.url, allow, ALLOW_SETTING);
  const method = p.method === undefined ? 'GET' : String(p.method).toUpperCase();
  if (!METHODS.has(method)) throw bad(`method must be one of ${[...METHODS].join(', ')}, got ${JSON.stringify(p.method)}`);
  const params = p.params;
  if (params !== undefined && (typeof params !== 'object' || params === null) && typeof params !== 'string') {
    throw bad('params must be a JSON object (or text, sent as the body as it is)');
  }
  if (WITHOUT_BODY.has(method) && params !== undefined && (typeof params !== 'object' || Array.isArray(params))) {
    throw bad(`params of a ${method} request must be a JSON object (its query parameters)`);
  }
  return { url, method, headers: checkHeaders(p.headers), params, timeoutSeconds: checkTimeout(p.timeout) };
}

const scalar = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Query or form pairs of an object: a list repeats its key. */
function pairs(o: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(o)) {
    if (Array.isArray(v)) for (const item of v) out.push([k, scalar(item)]);
    else out.push([k, scalar(v)]);
  }
  return out;
}

/** The URL and body to send: params in the query (GET, HEAD) or in the body (JSON, or a form when the content-type says so), `__JOBID__` replaced. */
function requestOf(job: HttpJob, trackingId: string): { url: URL; headers: Record<string, string>; body?: Buffer } {
  const put = (text: string) => text.split(JOB_ID_PLACEHOLDER).join(trackingId);
  const headers = { ...job.headers };
  const url = new URL(job.url);
  let body: string | undefined;
  if (WITHOUT_BODY.has(job.method)) {
    for (const [k, v] of pairs((job.params as Record<string, unknown>) ?? {})) url.searchParams.append(k, v);
  } else if (typeof job.params === 'string') {
    body = job.params;
  } else if (job.params !== undefined) {
    const form = /^application\/x-www-form-urlencoded\b/i.test(headers['content-type'] ?? '');
    if (form && !Array.isArray(job.params)) body = new URLSearchParams(pairs(job.params as Record<string, unknown>)).toString();
    else {
      body = JSON.stringify(job.params);
      headers['content-type'] ??= 'application/json';
    }
  }
  // The placeholder is replaced in the URL's text (where the URL parser left it as it is) and in the body.
  return { url: new URL(put(url.toString())), headers, body: body === undefined ? undefined : Buffer.from(put(body)) };
}

/** The answer's body as text, or base64 when it is not UTF-8. */
function bodyOf(body: Buffer): { body: string; bodyEncoding?: 'base64' } {
  const text = body.toString('utf8');
  return Buffer.byteLength(text) === body.length && !text.includes('\uFFFD') ? { body: text } : { body: body.toString('base64'), bodyEncoding: 'base64' };
}

export const httpRequest: OperationDefinition = {
  name: 'httpRequest',
  method: 'POST',
  prelogin: false,
  queueable: true,
  queued: true,
  external: true,
  summary:
    "A job that makes one HTTP request (the Queue Server's HttpWorker) and stores its answer: {status, headers, body}. Always deferred. Off until WSGATE_HTTP_ALLOW lists hosts.",
  params: [
    { name: 'url', type: 'string', required: true, description: 'http or https URL; __JOBID__ in it is replaced with the operationTrackingID' },
    { name: 'method', type: 'string', required: false, description: 'GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS' },
    { name: 'headers', type: 'encoded', required: false, description: 'JSON object of request headers' },
    {
      name: 'params',
      type: 'encoded',
      required: false,
      description:
        'JSON object: the query of a GET or HEAD, the body otherwise (JSON, or a form with content-type application/x-www-form-urlencoded); __JOBID__ in the body is replaced',
    },
    { name: 'timeout', type: 'string', required: false, description: `seconds for the whole request, redirects included (default ${DEFAULT_TIMEOUT_SECONDS})` },
  ],
  precheck(ctx, p) {
    jobOf(ctx, p);
  },
  async run(ctx, p) {
    const job = jobOf(ctx, p);
    const { url, headers, body } = requestOf(job, ctx.trackingId ?? '');
    const allow = ctx.services.jobs.httpAllow;
    // Imported when a request is first made: a worker thread that sends none does not hold node:http and https.
    const { OutboundFailed, OutboundRefused, OutboundTimeout, send, TooManyRedirects } = await import('../outbound/send.js');
    try {
      const answer = await send({
        url,
        method: job.method,
        headers,
        body,
        timeoutMs: job.timeoutSeconds * 1000,
        maxBodyBytes: ctx.services.jobs.httpMaxBodyBytes,
        allow,
        maxRedirects: MAX_REDIRECTS,
        checkRedirect: (next) => void checkOutboundUrl('httpRequest: a redirect', next.toString(), allow, ALLOW_SETTING),
        signal: ctx.signal,
      });
      const result = { status: answer.status, headers: answer.headers, ...bodyOf(answer.body), truncated: answer.truncated, url: answer.url };
      if (answer.status >= 500) {
        throw new WsError('HTTP_REQUEST_FAILED', `httpRequest: ${url.host} answered ${answer.status}: ${answer.body.toString('utf8', 0, 200)}`);
      }
      return result;
    } catch (error) {
      if (error instanceof WsError) throw error;
      if (error instanceof OutboundRefused) throw new WsError('ACCESS_DENIED', `httpRequest: ${error.message}`);
      if (error instanceof TooManyRedirects) throw new WsError('TOO_MANY_REDIRECTS', `httpRequest: ${error.message}`);
      if (error instanceof OutboundTimeout) throw new WsError('TIMEOUT', `httpRequest: ${error.message}`);
      if (error instanceof OutboundFailed) throw new WsError('HTTP_REQUEST_FAILED', `httpRequest: ${error.message}`);
      throw error;
    }
  },
};
