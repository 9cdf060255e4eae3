// Which failures of a deferred run are tried again, and after how long. Infrastructure failures (the
// operation timed out, its worker died, it failed unexpectedly: INTERNAL_SERVER_ERROR) are retried up to
// --tries; what the protocol answers (validation, not found, access) is the operation's result and final.
import { WsError } from '../errors.js';

// HTTP_REQUEST_FAILED and EXEC_FAILED: a job's 5xx answer, network failure or non-zero exit (src/jobs).
const INFRASTRUCTURE_CODES = new Set(['INTERNAL_SERVER_ERROR', 'TIMEOUT', 'HTTP_REQUEST_FAILED', 'EXEC_FAILED']);

/** True for a failure that says nothing about the request itself: another attempt may succeed. */
export const isInfrastructureFailure = (error: unknown) => !(error instanceof WsError) || INFRASTRUCTURE_CODES.has(error.code);
