// cbwsOptions: the caller's request to defer an operation. coreBOS ignores a malformed value and runs the
// call at once; wsgate answers INVALID_PARAMETER instead, so that a caller never believes it deferred
// something it did not. Keys wsgate does not know are ignored (later versions add some).
import { isQueueName } from '../config.js';
import { WsError } from '../errors.js';
import { DEFAULT_PRIORITY, DEFAULT_QUEUE } from '../queue/store.js';
import { checkOutboundUrl } from '../outbound/url.js';
import type { JobSettings } from '../operations/types.js';

/** Where a deferred call's final outcome is reported (src/executor/callbacks.ts). */
export interface CallbackTarget {
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
}

export interface CbwsOptions {
  launchfromqueue: boolean;
  /** Seconds to wait before the operation may run. */
  queuedelay: number;
  /** wsgate's extension: the named queue (default `default`). */
  queue: string;
  /** wsgate's extension: higher runs first (default 500, as coreBOS's Queue Server seeds it). */
  priority: number;
  /**
   * coreBOS's idempotent requests: the caller's identifier of this request, 'generate' when wsgate is to make
   * one (coreBOS: "generate" or empty), undefined when none was asked for.
   */
  clientRequestIdentifier?: string;
  /** wsgate's extension (the Queue Server's `context`): a free label kept with the entry, filterable. */
  context?: string;
  /** wsgate's extension: report the final outcome to this URL (a string, or the Queue Server's `{type: 'http', url, method}`). */
  callback?: CallbackTarget;
  /** Which of queuedelay, queue and priority the caller gave (an operation's own defaults apply to the others). */
  given: { queuedelay: boolean; queue: boolean; priority: boolean };
}

const NONE: CbwsOptions = {
  launchfromqueue: false,
  queuedelay: 0,
  queue: DEFAULT_QUEUE,
  priority: DEFAULT_PRIORITY,
  given: { queuedelay: false, queue: false, priority: false },
};

const isGiven = (v: unknown) => v !== undefined && v !== null && v !== '';

/** The members cbwsOptions takes (parseCbwsOptions); others are ignored, as coreBOS ignores them. */
export const CBWS_OPTIONS = ['launchfromqueue', 'queuedelay', 'queue', 'priority', 'context', 'callback', 'ClientRequestIdentifier'] as const;

const bad = (message: string) => new WsError('INVALID_PARAMETER', `cbwsOptions: ${message}`);

function parseLaunch(v: unknown): boolean {
  if (v === undefined || v === null || v === 0 || v === '0' || v === false || v === '') return false;
  if (v === 1 || v === '1' || v === true) return true;
  throw bad(`launchfromqueue must be 1 or 0 (or true/false), got ${JSON.stringify(v)}`);
}

/** Ten years: far beyond any sensible deferral, and well inside what a date can hold. */
export const MAX_QUEUEDELAY = 10 * 365 * 24 * 3600;

function parseDelay(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_QUEUEDELAY) {
    throw bad(`queuedelay must be a whole number of seconds from 0 to ${MAX_QUEUEDELAY}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function parseQueue(v: unknown): string {
  if (v === undefined || v === null || v === '') return DEFAULT_QUEUE;
  if (typeof v !== 'string' || !isQueueName(v)) {
    throw bad(`queue must be a queue name (letters, digits, _ . -, up to 64 characters), got ${JSON.stringify(v)}`);
  }
  return v;
}

const INT32 = 2 ** 31;

function parsePriority(v: unknown): number {
  if (v === undefined || v === null || v === '') return DEFAULT_PRIORITY;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -INT32 || n >= INT32) {
    throw bad(`priority must be an integer (higher runs first), got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Long enough for any UUID or hash a client would use, short enough to stay a small key. */
export const MAX_CLIENT_REQUEST_IDENTIFIER = 255;

function parseRequestIdentifier(o: Record<string, unknown>): string | undefined {
  if (!('ClientRequestIdentifier' in o)) return undefined;
  const v = o.ClientRequestIdentifier;
  if (v === null || v === '' || v === 'generate') return 'generate';
  const id = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof id !== 'string' || id.length > MAX_CLIENT_REQUEST_IDENTIFIER || /[\x00-\x1f]/.test(id)) {
    throw bad(
      `ClientRequestIdentifier must be a string of up to ${MAX_CLIENT_REQUEST_IDENTIFIER} printable characters (or "generate"), got ${JSON.stringify(v)}`,
    );
  }
  return id;
}

/** Long enough for an application's name and a tag, short enough to stay a small indexed value. */
export const MAX_CONTEXT = 255;

function parseContext(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX_CONTEXT || /[\x00-\x1f]/.test(v)) {
    throw bad(`context must be a string of up to ${MAX_CONTEXT} printable characters, got ${JSON.stringify(v).slice(0, 100)}`);
  }
  return v;
}

const CALLBACK_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function parseCallback(v: unknown): CallbackTarget | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return { url: v, method: 'POST' };
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('callback must be a URL or {"type": "http", "url": ..., "method": ...}');
  const o = v as Record<string, unknown>;
  if (o.type !== undefined && o.type !== 'http') throw bad(`callback.type must be http, got ${JSON.stringify(o.type)}`);
  if (typeof o.url !== 'string' || o.url === '') throw bad('callback.url must be a URL');
  const method = o.method === undefined || o.method === '' ? 'POST' : String(o.method).toUpperCase();
  if (!CALLBACK_METHODS.has(method)) throw bad(`callback.method must be POST, PUT or PATCH, got ${JSON.stringify(o.method)}`);
  return { url: o.url, method: method as CallbackTarget['method'] };
}

/**
 * A callback may be named only by a deferred call, only when callbacks are on (WSGATE_CALLBACK_SECRET), and
 * only to a URL the allow list lets wsgate call (WSGATE_HTTP_ALLOW), as httpRequest's.
 */
export function checkCallback(options: CbwsOptions, deferred: boolean, jobs: JobSettings): void {
  if (!options.callback) return;
  if (!deferred) throw bad('callback is for deferred calls only (launchfromqueue)');
  if (!jobs.callbacks) throw bad('callback: callbacks are off on this server (WSGATE_CALLBACK_SECRET is not set)');
  checkOutboundUrl('cbwsOptions: callback.url', options.callback.url, jobs.httpAllow, 'WSGATE_HTTP_ALLOW');
}

/**
 * From a JSON string (form and query parameters), or an object: a JSON body's, or PHP-style bracketed form
 * parameters' (`cbwsOptions[launchfromqueue]=1`, values as strings: "1" counts as 1).
 */
export function parseCbwsOptions(raw: unknown): CbwsOptions {
  if (raw === undefined || raw === null || raw === '') return NONE;
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw bad('not valid JSON');
    }
  }
  // PHP clients send an empty array for "no options".
  if (Array.isArray(value) && value.length === 0) return NONE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('must be a JSON object');
  const o = value as Record<string, unknown>;
  return {
    launchfromqueue: parseLaunch(o.launchfromqueue),
    queuedelay: parseDelay(o.queuedelay),
    queue: parseQueue(o.queue),
    priority: parsePriority(o.priority),
    clientRequestIdentifier: parseRequestIdentifier(o),
    context: parseContext(o.context),
    callback: parseCallback(o.callback),
    given: { queuedelay: isGiven(o.queuedelay), queue: isGiven(o.queue), priority: isGiven(o.priority) },
  };
}
