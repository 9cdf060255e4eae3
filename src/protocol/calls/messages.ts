// What the gateway's event loop and its call workers say to each other.
import type { WsUser } from '../../auth/users.js';
import type { Envelope } from '../../envelope.js';
import type { Params } from '../../operations/types.js';
import type { CbwsOptions } from '../cbwsOptions.js';
import type { LogLine } from '../../thread-log.js';

/** A synchronous call after its session check: the operation runs in the worker as `user`. */
export interface IsolatedCall {
  operation: string;
  user: WsUser | null;
  sessionName: string | undefined;
  params: Params;
  options: CbwsOptions;
}

export type ToCallWorker =
  | { type: 'call'; id: number; call: IsolatedCall }
  /** After a reload of the operations: load these files of them (the set the main thread accepted). */
  | { type: 'reload'; files: string[] }
  | { type: 'close' };

export type FromCallWorker =
  | { type: 'ready' }
  /** The reload asked for is done (when it failed, the worker keeps its set and has logged why). */
  | { type: 'reloaded' }
  /**
   * The envelope as the JSON text the gateway sends (serialized here, off the event loop, and cheaper to
   * pass between threads than the object), with what the gateway needs to know of it.
   */
  | { type: 'answer'; id: number; body: string; error: Extract<Envelope, { success: false }>['error'] | null; heapUsedMb: number }
  /** A line of the worker's log, written by the gateway's logger. */
  | { type: 'log'; line: LogLine }
  /** The worker could not start; `unavailable` when its database could not be reached or written. */
  | { type: 'fatal'; message: string; unavailable: 'unreachable' | 'full' | 'io' | null };
