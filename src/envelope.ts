// The coreBOS answer envelope. `moreinfo` is always present.
import { WsError } from './errors.js';
import { knownDatabaseFailure } from './db/errors.js';

export type Envelope = { success: true; result: unknown; moreinfo: unknown } | { success: false; error: { code: string; message: string }; moreinfo: unknown };

/**
 * An operation's result with a moreinfo of its own (query's totalrows). A plain object, so that it keeps
 * its meaning across a worker thread's message; '@answer' cannot be a field name.
 */
export interface Answer {
  '@answer': { result: unknown; moreinfo: Record<string, unknown> };
}

export const answer = (result: unknown, moreinfo: Record<string, unknown>): Answer => ({ '@answer': { result, moreinfo } });

const isAnswer = (v: unknown): v is Answer => typeof v === 'object' && v !== null && !Array.isArray(v) && '@answer' in v && Object.keys(v).length === 1;

/**
 * A success. The caller's moreinfo (a generated ClientRequestIdentifier, a note that the call could not be
 * queued) joins the one an operation answered (the note as `message`).
 */
export function success(result: unknown, moreinfo: unknown = null): Envelope {
  if (!isAnswer(result)) return { success: true, result, moreinfo };
  const own = result['@answer'];
  if (moreinfo === null) return { success: true, result: own.result, moreinfo: own.moreinfo };
  const extra = typeof moreinfo === 'object' ? moreinfo : { message: moreinfo };
  return { success: true, result: own.result, moreinfo: { ...own.moreinfo, ...extra } };
}

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
