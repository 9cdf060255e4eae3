// One outbound HTTP request (an httpRequest job, a callback delivery), safe against being pointed at the
// inside: each hop's host is checked against the allow list, and the address the connection goes to is
// checked in the socket's own lookup (no second resolution an attacker's DNS could answer differently),
// again after connecting, and again for every redirect. No connection is reused between hops (agent: false),
// and proxies from the environment are not used.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { LookupFunction } from 'node:net';
import type { AllowList } from './allow.js';

/** A destination the allow list refuses (a final answer: trying again would not help). */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
}

/** The request did not get an answer: a network failure (worth another try). */
export class OutboundFailed extends Error {
  override name = 'OutboundFailed';
}

/** The deadline passed. */
export class OutboundTimeout extends Error {
  override name = 'OutboundTimeout';
}

/** More redirects than allowed. */
export class TooManyRedirects extends Error {
  override name = 'TooManyRedirects';
}

export interface OutboundRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** Bytes of the answer's body kept; the rest is not read. */
  maxBodyBytes: number;
  allow: AllowList;
  /** Redirects followed (each checked as the first request was); 0: a redirect is the answer. */
  maxRedirects: number;
  /** Checks a redirect's target URL before it is followed (scheme, userinfo, host); throws to refuse it. */
  checkRedirect?(url: URL): void;
  /** Ends the request early (its deferred run was cancelled): it fails as OutboundFailed. */
  signal?: AbortSignal;
}

export interface OutboundAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  truncated: boolean;
  /** The URL that answered (after redirects). */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function guardedLookup(allow: AllowList): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const ok = addresses.filter((a) => allow.addressAllowed(a.address));
      if (ok.length === 0) {
        return callback(
          new OutboundRefused(
            `${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}, which is not allowed (loopback, private, link-local or metadata address not listed)`,
          ),
        );
      }
      if (options.all) callback(null, ok);
      else callback(null, ok[0]!.address, ok[0]!.family);
    });
  }) as LookupFunction;
}

function hop(
  r: OutboundRequest,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal,
): Promise<OutboundAnswer> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (net.isIP(host) && !r.allow.addressAllowed(host)) {
      return reject(new OutboundRefused(`the address ${host} is not allowed (loopback, private, link-local or metadata address not listed)`));
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request({
      protocol: url.protocol,
      hostname: host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      lookup: guardedLookup(r.allow),
      agent: false,
      signal,
      ...(url.protocol === 'https:' && !net.isIP(host) ? { servername: host } : {}),
    });
    let refused: OutboundRefused | null = null;
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        const address = socket.remoteAddress;
        if (!address || !r.allow.addressAllowed(address)) {
          refused = new OutboundRefused(`the connection went to ${address ?? 'an unknown address'}, which is not allowed`);
          req.destroy(refused);
        }
      });
    });
    req.on('error', (error: Error & { code?: string }) => {
      if (refused) return reject(refused);
      if (error instanceof OutboundRefused) return reject(error);
      if (signal.aborted || error.name === 'AbortError') return reject(new OutboundTimeout(`no complete answer within ${r.timeoutMs / 1000} s`));
      reject(new OutboundFailed(`${url.host}: ${error.code ?? error.message}`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers as Record<string, string | string[]>,
          body: Buffer.concat(chunks),
          truncated,
          url: url.toString(),
        });
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = r.maxBodyBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          // The rest is not wanted: stop reading it.
          res.destroy();
          finish();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', finish);
      res.on('error', (error) => {
        if (truncated) return;
        if (signal.aborted) reject(new OutboundTimeout(`no complete answer within ${r.timeoutMs / 1000} s`));
        else reject(new OutboundFailed(`${url.host}: the answer was cut off (${error.message})`));
      });
    });
    req.end(body);
  });
}

/** Sends the request, following redirects as allowed; throws OutboundRefused, OutboundFailed, OutboundTimeout or TooManyRedirects. */
export async function send(r: OutboundRequest): Promise<OutboundAnswer> {
  // One controller for the timeout and the caller's signal (Node 20's AbortSignal.any may let a timeout
  // signal it depends on be collected before it fires).
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), r.timeoutMs);
  const forward = () => stop.abort();
  r.signal?.addEventListener('abort', forward, { once: true });
  if (r.signal?.aborted) stop.abort();
  try {
    return await follow(r, stop.signal);
  } finally {
    clearTimeout(timer);
    r.signal?.removeEventListener('abort', forward);
  }
}

async function follow(r: OutboundRequest, signal: AbortSignal): Promise<OutboundAnswer> {
  let url = r.url;
  let method = r.method;
  let body = r.body;
  let headers = r.headers;
  for (let redirects = 0; ; redirects++) {
    const answer = await hop(r, url, method, headers, body, signal);
    const location = answer.headers.location;
    if (!REDIRECTS.has(answer.status) || typeof location !== 'string' || r.maxRedirects === 0) return answer;
    if (redirects >= r.maxRedirects) throw new TooManyRedirects(`more than ${r.maxRedirects} redirects (the last to ${location})`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new OutboundRefused(`a redirect to an invalid URL (${location})`);
    }
    r.checkRedirect?.(next);
    // As browsers do: 303 (and 301/302 after a POST) becomes a GET without a body; 307 and 308 keep both.
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
    }
    // Credentials are for the host they were given for.
    if (next.origin !== url.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^(authorization|cookie|proxy-authorization)$/i.test(k)));
    url = next;
  }
}
