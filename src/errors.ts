// Errors are values with a coreBOS error code; envelope.ts maps them to the protocol's envelope.
export const ErrorCode = {
  INVALID_SESSIONID: 'INVALID_SESSIONID',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  SESSION_LEFT_IDLE: 'SESSION_LEFT_IDLE',
  AUTHENTICATION_REQUIRED: 'AUTHENTICATION_REQUIRED',
  AUTHENTICATION_FAILURE: 'AUTHENTICATION_FAILURE',
  INVALID_USER_CREDENTIALS: 'INVALID_USER_CREDENTIALS',
  INVALID_AUTH_TOKEN: 'INVALID_AUTH_TOKEN',
  ACCESSKEY_UNDEFINED: 'ACCESSKEY_UNDEFINED',
  ACCESS_DENIED: 'ACCESS_DENIED',
  INVALID_MODULE: 'INVALID_MODULE',
  MANDATORY_FIELDS_MISSING: 'MANDATORY_FIELDS_MISSING',
  INVALID_ID_ATTRIBUTE: 'INVALID_ID_ATTRIBUTE',
  RECORD_NOT_FOUND: 'RECORD_NOT_FOUND',
  QUERY_SYNTAX_ERROR: 'QUERY_SYNTAX_ERROR',
  DATABASE_QUERY_ERROR: 'DATABASE_QUERY_ERROR',
  UNKNOWN_OPERATION: 'UNKNOWN_OPERATION',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  OPERATION_NOT_SUPPORTED: 'OPERATION_NOT_SUPPORTED',
  UNKNOWN_ENTITY: 'UNKNOWN_ENTITY',
  REFERENCE_INVALID: 'REFERENCE_INVALID',
  INVALID_PARAMETER: 'INVALID_PARAMETER',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  // coreBOS upsert's: a searchOn field the element does not give.
  SEARCH_VALUE_NOT_PROVIDED: 'SEARCH_VALUE_NOT_PROVIDED',
  // wsgate's own: upsert's searchOn matches several records (coreBOS would update one of them at random).
  MULTIPLE_RECORDS_FOUND: 'MULTIPLE_RECORDS_FOUND',
  // wsgate's own, for deferred operations.
  TIMEOUT: 'TIMEOUT',
  OPERATION_CANCELLED: 'OPERATION_CANCELLED',
  NOT_CANCELLABLE: 'NOT_CANCELLABLE',
  // wsgate's own: a statement ran past WSGATE_STATEMENT_TIMEOUT_MS and was stopped.
  STATEMENT_TIMEOUT: 'STATEMENT_TIMEOUT',
  // wsgate's own: more calls wait for a call worker than the gateway lets wait.
  SERVER_BUSY: 'SERVER_BUSY',
  // wsgate's own: failed logins for this user name or address must wait, or too many logins are checked at once.
  TOO_MANY_LOGIN_ATTEMPTS: 'TOO_MANY_LOGIN_ATTEMPTS',
  // wsgate's own, for HTTP: a path other than the endpoint (404), a method other than GET and POST (405, 501).
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  // wsgate's own: a deferred submit beyond the user's queue quota (src/queue/quota.ts).
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  // wsgate's own: the database is unreachable (down, restarting) or cannot write (disk full, I/O error);
  // HTTP 503. Nothing is wrong with the request: the same call may be sent again shortly.
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  // wsgate's own, for the 202 door (/api/v1/operations/{id}/result): the operation has not finished yet
  // (HTTP 409), or its result was read already (HTTP 410 Gone).
  RESULT_NOT_READY: 'RESULT_NOT_READY',
  RESULT_ALREADY_READ: 'RESULT_ALREADY_READ',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class WsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

const UNAVAILABLE_MESSAGES = {
  unreachable: 'The database is unreachable just now (down or restarting); try again shortly',
  full: 'The database cannot store more: its disk is full; try again once space is freed',
  io: 'The database cannot read or write its file (I/O error); try again shortly',
} as const;

/** The answer to a call the database could not serve (see src/db/errors.ts databaseUnavailability). */
export const databaseUnavailable = (reason: keyof typeof UNAVAILABLE_MESSAGES) => new WsError('DATABASE_UNAVAILABLE', UNAVAILABLE_MESSAGES[reason]);
