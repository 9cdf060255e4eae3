// What an event script is, as its file writes it: `export default defineEvent(async (event, ctx) => ...)`.
// A file of WSGATE_EVENTS_DIR named `<operation>[.<Module>].<pre|post|queued>.js|.mjs` hooks the operation
// (for every module, or only the one named): DreamFactory's pre-process, post-process and queued events.
import type { OperationUser } from './define.js';

/** A pre script's event: it may return new parameters (undefined: unchanged) or throw an OperationError. */
export interface PreEvent {
  /** The operation as the registry spells it, e.g. `create`. */
  operation: string;
  /** The module the call is about (elementType, the module of an id, a query's `from`); undefined when none. */
  module: string | undefined;
  params: Record<string, unknown>;
  user: OperationUser;
}

/** A post script's event: it may return a new result (undefined: unchanged) or throw an OperationError. */
export interface PostEvent extends PreEvent {
  result: unknown;
}

/** A queued script's event: a snapshot of a committed call, run later by the executor; its return value is ignored. */
export interface QueuedEvent {
  /** The script's file name, e.g. `create.Contacts.queued.js`. */
  script: string;
  request: { operation: string; module: string | undefined; params: Record<string, unknown>; user: OperationUser };
  /** The envelope the caller was answered (or, for a deferred run, the one stored as its result). */
  response: { success: true; result: unknown; moreinfo: unknown };
  environment: {
    /** When the call committed (ISO 8601, UTC). */
    time: string;
    /** The settings in force, by environment variable, without the secret ones. */
    settings: Record<string, unknown>;
  };
}

export interface EventContext {
  user: OperationUser;
  /** A line in the gateway's (pre, post) or the executor's (queued) log, naming the script. */
  log(...args: unknown[]): void;
}

export type EventScript<E = PreEvent | PostEvent | QueuedEvent> = (event: E, ctx: EventContext) => unknown;

/**
 * Marks a function as an event script (an identity function, for the types): TypeScript users name the
 * event, `defineEvent<PostEvent>(async (event) => ...)`.
 */
export function defineEvent<E extends PreEvent | PostEvent | QueuedEvent = PreEvent | PostEvent | QueuedEvent>(script: EventScript<E>): EventScript<E> {
  return script;
}
