// The client's errors: every failure carries the protocol's error code (the server's ErrorCode list,
// plus the client's own NOT_FINISHED), so callers switch on `error.code` with the compiler's help.
import type { ErrorCode } from '../errors.js';

export class WsgateError extends Error {
  override name = 'WsgateError';
  constructor(
    readonly code: ErrorCode | 'NOT_FINISHED',
    message: string,
    /** The HTTP status of the answer, when there was one. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export function isWsgateError(error: unknown, code?: WsgateError['code']): error is WsgateError {
  return error instanceof WsgateError && (code === undefined || error.code === code);
}
