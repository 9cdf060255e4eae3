// The coreBOS answer envelope. `moreinfo` is always present.
import { WsError } from './errors.js';
import { knownDatabaseFailure } from './db/errors.js';

export type Envelope =
  | { success: true; result: unknown; moreinfo: unknown }
  | { success: false; error: { code: string; message: string }; moreinfo: unknown };

export const success = (result: unknown, moreinfo: unknown = null): Envelope => ({ success: true, result, moreinfo });

export const failure = (error: WsError): Envelope => ({
  success: false,
  error: { code: error.code, message: error.message },
  moreinfo: null,
});

/**
 * A thrown value as an envelope: a WsError keeps its code; anything else is INTERNAL_SERVER_ERROR, with a
 * message that does not leak internals (the caller logs the real error).
 */
export function envelopeOfError(error: unknown): Envelope {
  if (error instanceof WsError) return failure(error);
  const known = knownDatabaseFailure(error);
  if (known) return failure(known);
  return failure(new WsError('INTERNAL_SERVER_ERROR', 'Internal server error: the operation failed unexpectedly'));
}
