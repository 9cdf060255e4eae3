// Which failures of a deferred run are tried again, and after how long. Infrastructure failures (the
// operation timed out, its worker died, it failed unexpectedly: INTERNAL_SERVER_ERROR) are retried up to
// --tries; what the protocol answers (validation, not found, access) is the operation's result and final.
import { WsError } from '../errors.js';

const INFRASTRUCTURE_CODES = new Set(['INTERNAL_SERVER_ERROR', 'TIMEOUT']);

/** True for a failure that says nothing about the request itself: another attempt may succeed. */
export const isInfrastructureFailure = (error: unknown) => !(error instanceof WsError) || INFRASTRUCTURE_CODES.has(error.code);
