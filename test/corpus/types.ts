// The bad-input corpus: each case is one HTTP request (or a short exchange) and what a hardened gateway
// must answer. test/bad-input.test.ts replays every case against a real gateway on each database.
import { createHash } from 'node:crypto';

/** What a case may use: the sessions and records the replay prepared. */
export interface Ctx {
  /** http://127.0.0.1:PORT (no path). */
  base: string;
  admin: string;
  user: string;
  adminKey: string;
  userName: string;
  userKey: string;
  /** Seeded records: an account, a contact (its account_id set), a lead; all admin's. */
  ids: { account: string; contact: string; lead: string };
}

/** One raw HTTP request. Bodies are bytes as sent: nothing is encoded for the case. */
export interface Req {
  method?: string;
  /** Default /webservice.php; may carry its own query string. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body then cut the connection before it is complete (finding 8): no answer is read. */
  abort?: boolean;
  /** Send the body, leave the request unfinished, and read the answer (a refusal needs no body). */
  partial?: boolean;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json?: any;
}

/**
 * `client`: any protocol error but a server fault; used where the right code is not the corpus's to decide
 * (an HTTP-level refusal such as 404/405 whose code the http layer chooses).
 */
export type Codes = readonly string[] | 'client';

export interface Expect {
  /** HTTP statuses allowed (default [200]). Never a 5xx, unless listed. */
  status?: readonly number[];
  /** Codes of a failure envelope that are right. */
  codes: Codes;
  /** When set, a success envelope is right too, if this accepts its result (throws otherwise). */
  success?: (result: any, c: Ctx) => void;
  /** No body can be expected (HEAD; the connection was cut). */
  noBody?: boolean;
}

export interface Case {
  name: string;
  /** The finding of issue 10 the case reproduces, if any. */
  finding?: number;
  request: (c: Ctx) => Req | Promise<Req>;
  expect: Expect;
  /** While the case runs, other callers (getchallenge) must keep being answered promptly (finding 1). */
  probe?: boolean;
  /** Extra checks after the answer (the database, the process). */
  check?: (c: Ctx, h: Harness) => Promise<void>;
  /** Cases in an earlier phase run first (a login replay needs logins not yet throttled). */
  phase?: number;
}

/** What the replay hands to checks. */
export interface Harness {
  sql<T = Record<string, unknown>>(text: string): Promise<T[]>;
  send(req: Req): Promise<Answer>;
}

// Codes -------------------------------------------------------------------------------------------------

/** Refusals of a parameter's value (the exact one depends on which check comes first). */
export const PARAM = ['INVALID_PARAMETER'] as const;
/** Limits being added by the limits, quotas and login work: any of these names a limit as a client error. */
export const LIMIT = ['INVALID_PARAMETER', 'QUERY_SYNTAX_ERROR', 'VALIDATION_FAILED', 'QUOTA_EXCEEDED', 'ACCESS_DENIED'] as const;
export const QUERY = ['QUERY_SYNTAX_ERROR', 'INVALID_PARAMETER'] as const;
export const ID = ['INVALID_ID_ATTRIBUTE', 'INVALID_PARAMETER', 'RECORD_NOT_FOUND', 'ACCESS_DENIED', 'INVALID_MODULE'] as const;
export const MODULE = ['INVALID_MODULE', 'INVALID_PARAMETER', 'ACCESS_DENIED'] as const;
export const ELEMENT = [
  'INVALID_PARAMETER',
  'VALIDATION_FAILED',
  'MANDATORY_FIELDS_MISSING',
  'INVALID_ID_ATTRIBUTE',
  'RECORD_NOT_FOUND',
  'REFERENCE_INVALID',
  'INVALID_MODULE',
  'ACCESS_DENIED',
] as const;
export const SESSION = ['INVALID_SESSIONID', 'AUTHENTICATION_REQUIRED'] as const;
/** A failed login, or one refused because failed logins are being slowed down (TOO_MANY_LOGIN_ATTEMPTS). */
export const LOGIN = ['INVALID_AUTH_TOKEN', 'INVALID_USER_CREDENTIALS', 'AUTHENTICATION_FAILURE', 'INVALID_PARAMETER', 'TOO_MANY_LOGIN_ATTEMPTS'] as const;
export const UNKNOWN_OP = ['UNKNOWN_OPERATION'] as const;
/** Codes that are never a right answer to bad input. */
export const SERVER_FAULTS = ['INTERNAL_SERVER_ERROR', 'DATABASE_QUERY_ERROR'];

export const union = (...sets: readonly (readonly string[])[]) => [...new Set(sets.flat())];

// Request builders ----------------------------------------------------------------------------------------

export type Params = Record<string, unknown>;

/** PHP-style form encoding; non-string values are sent as their JSON text (as clients send encoded parameters). */
export const encode = (params: Params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const JSON_TYPE = { 'content-type': 'application/json' };

export const post = (params: Params, headers: Record<string, string> = {}): Req => ({ method: 'POST', body: encode(params), headers: { ...FORM, ...headers } });
export const get = (params: Params, headers: Record<string, string> = {}): Req => ({ method: 'GET', path: `/webservice.php?${encode(params)}`, headers });
export const json = (body: unknown, headers: Record<string, string> = {}): Req => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { ...JSON_TYPE, ...headers },
});
export const rawForm = (body: string | Buffer, headers: Record<string, string> = {}): Req => ({ method: 'POST', body, headers: { ...FORM, ...headers } });

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export const DEFER = { launchfromqueue: 1, queuedelay: 0 };
export const NOT_YET = 'Operation not queued or not finished yet';

/** JSON text nested `depth` deep: [[[...]]]. */
export const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
