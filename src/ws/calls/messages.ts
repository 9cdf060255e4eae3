// What the gateway's event loop and its call workers say to each other.
import type { WsUser } from '../../auth/users.js';
import type { Envelope } from '../../envelope.js';
import type { Params } from '../../operations/types.js';
import type { CbwsOptions } from '../cbwsOptions.js';

/** A synchronous call after its session check: the operation runs in the worker as `user`. */
export interface IsolatedCall {
  operation: string;
  user: WsUser | null;
  sessionName: string | undefined;
  params: Params;
  options: CbwsOptions;
}

export type ToCallWorker = { type: 'call'; id: number; call: IsolatedCall } | { type: 'close' };

export type FromCallWorker =
  | { type: 'ready' }
  | { type: 'answer'; id: number; envelope: Envelope; heapUsedMb: number }
  | { type: 'fatal'; message: string };
