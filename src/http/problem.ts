// Errors of the HTTP doors (/jobs, /api/v1) as RFC 9457 problem details (application/problem+json), each
// carrying the coreBOS error code in the `code` member, and the HTTP status that fits that code.
import { STATUS_CODES } from 'node:http';
import type Koa from 'koa';
import type { ErrorCode } from '../errors.js';
import { CBWS_OPTIONS } from '../protocol/cbwsOptions.js';

/** "cbwsOptions: <member>[.<field>] ...", the start of the message of a bad member (src/protocol/cbwsOptions.ts). */
const OPTION_MESSAGE = new RegExp(`^cbwsOptions: (?:(${[...CBWS_OPTIONS].sort((a, b) => b.length - a.length).join('|')})(\\.[a-z]+)?\\b)?`);

/** A refusal of a door: thrown by its handlers, answered by the doors' error middleware. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** The request field at fault (`command.type`, `priority`, `body`), when one is. */
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The HTTP status of a coreBOS error code; codes of an operation's own refusals are 422. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  AUTHENTICATION_REQUIRED: 401,
  INVALID_SESSIONID: 401,
  SESSION_EXPIRED: 401,
  SESSION_LEFT_IDLE: 401,
  INVALID_AUTH_TOKEN: 401,
  AUTHENTICATION_FAILURE: 401,
  ACCESS_DENIED: 403,
  NOT_FOUND: 404,
  RECORD_NOT_FOUND: 404,
  UNKNOWN_OPERATION: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_CANCELLABLE: 409,
  OPERATION_CANCELLED: 409,
  RESULT_NOT_READY: 409,
  RESULT_ALREADY_READ: 410,
  INVALID_PARAMETER: 400,
  QUOTA_EXCEEDED: 429,
  TOO_MANY_LOGIN_ATTEMPTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  DATABASE_QUERY_ERROR: 500,
  SERVER_BUSY: 503,
  DATABASE_UNAVAILABLE: 503,
  TIMEOUT: 504,
  STATEMENT_TIMEOUT: 504,
};

export const statusOfCode = (code: string): number => STATUS_OF[code as ErrorCode] ?? 422;

/**
 * The problem of a protocol error (an envelope's `error`), its field guessed from the message: "parameter X"
 * (`fieldPrefix` + X), or "cbwsOptions: X" (`cbwsOptions.X`). `renamed` maps a cbwsOptions field to the
 * request member it came from (the Queue Server's `callback_done` is `cbwsOptions.callback`).
 */
export function problemOf(error: { code: string; message: string }, fieldPrefix = '', renamed: Record<string, string> = {}): Problem {
  const status = statusOfCode(error.code);
  const parameter = /\bparameter (\S+?)\b/.exec(error.message)?.[1];
  const option = OPTION_MESSAGE.exec(error.message);
  let field = parameter ? fieldPrefix + parameter : option ? ['cbwsOptions', option[1], option[2]?.slice(1)].filter(Boolean).join('.') : undefined;
  for (const [from, to] of Object.entries(renamed)) if (field === from || field?.startsWith(`${from}.`)) field = to + field.slice(from.length);
  const headers: Record<string, string> = status === 503 ? { 'Retry-After': '5' } : {};
  return new Problem(status, error.code as ErrorCode, error.message, field, headers);
}

export function sendProblem(ctx: Koa.Context, p: Problem): void {
  ctx.status = p.status;
  for (const [name, value] of Object.entries(p.headers)) ctx.set(name, value);
  ctx.type = 'application/problem+json';
  ctx.body = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[p.status] ?? 'Error',
    status: p.status,
    detail: p.message,
    code: p.code,
    ...(p.field ? { field: p.field } : {}),
  });
}
