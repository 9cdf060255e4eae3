// Where event scripts meet a call: pre scripts before it runs (or is queued), post scripts on its result,
// and queued scripts queued with the snapshot of the call in the transaction of its writes, so that only a
// committed call fires them. Every thread that runs operations has one (Services.events); an operation
// without scripts costs one map lookup, and no event worker starts until a script runs.
import { isMainThread } from 'node:worker_threads';
import type { Logger } from 'pino';
import { settings, type Config, type Setting } from '../../config.js';
import type { Clock } from '../../clock.js';
import type { DbTx } from '../../db/client.js';
import type { Dialect } from '../../db/dialect.js';
import { WsError } from '../../errors.js';
import type { Envelope } from '../../envelope.js';
import { formatUserId, type WsUser } from '../../auth/users.js';
import type { ModuleRegistry } from '../../records/modules.js';
import { enqueueIn } from '../../queue/store.js';
import type { OperationDefinition, Params } from '../types.js';
import type { OperationUser } from './define.js';
import type { QueuedEvent } from './events-define.js';
import { EventScripts, matching, type EventScriptFile } from './events-load.js';
import { EventPool } from './events-pool.js';

/** The internal operation that runs a queued event script (events-queued.ts). */
export const QUEUED_EVENT = 'wsgate.queuedEvent';

/** What a call's post and queued scripts are; null when it has none (then nothing changes for it). */
export interface EventPlan {
  module: string | undefined;
  post: EventScriptFile[];
  queued: EventScriptFile[];
}

/** The settings a queued script sees: none secret, nor the secret's file; DATABASE_URL without its password. */
export function publicSettings(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(settings) as [keyof Config, Setting][]) {
    const value = config[name];
    if (s.secret || name === 'secretFile' || value === undefined) continue;
    out[s.env] = name === 'databaseUrl' ? s.show(value) : value;
  }
  return out;
}

export const eventUserOf = (user: WsUser): OperationUser => ({ id: formatUserId(user.id), userName: user.userName, isAdmin: user.isAdmin });

const ID = /^([1-9][0-9]*)x[1-9][0-9]*$/;

/** The module a call is about: its elementType (or module), the module of its id or element's id, a query's `from`. */
export function moduleOfCall(params: Params, modules: ModuleRegistry): string | undefined {
  for (const key of ['elementType', 'module']) {
    const v = params[key];
    if (typeof v === 'string') return modules.find(v)?.name;
  }
  const element = params.element as { id?: unknown } | undefined;
  for (const id of [params.id, typeof element === 'object' && element !== null ? element.id : undefined]) {
    const m = typeof id === 'string' ? ID.exec(id) : null;
    if (m) return modules.byIdPrefix(m[1]!)?.name;
  }
  if (typeof params.query === 'string') {
    const m = /\bfrom\s+([A-Za-z][A-Za-z0-9_]*)/i.exec(params.query);
    if (m) return modules.find(m[1]!)?.name;
  }
  return undefined;
}

export class EventHooks {
  private current = EventScripts.none;
  private pool: EventPool | null = null;
  private logger: Logger | null = null;
  private readonly environment: Record<string, unknown>;

  constructor(
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly threadLog: Logger,
  ) {
    this.environment = publicSettings(config);
  }

  /** The folder queued scripts are read from when they run. */
  get dir(): string {
    return this.config.eventsDir;
  }

  get scripts(): EventScripts {
    return this.current;
  }

  /** Puts a loaded set in force (at start, and on a reload: calls under way keep the set they started with). */
  use(scripts: EventScripts): void {
    this.current = scripts;
  }

  get log(): Logger {
    return (this.logger ??= this.threadLog.child({ events: true }));
  }

  /** The call's parameters after its pre scripts (unchanged without any); an OperationError rejects the call. */
  async pre(op: OperationDefinition, user: WsUser | null, params: Params, modules: ModuleRegistry): Promise<Params> {
    const kinds = this.current.of(op.name);
    if (!kinds || kinds.pre.length === 0 || !user) return params;
    const module = moduleOfCall(params, modules);
    let p = params;
    for (const s of matching(kinds.pre, module)) {
      const out = await this.run(s, { operation: op.name, module, params: p, user: eventUserOf(user) });
      if (out === undefined) continue;
      if (typeof out !== 'object' || out === null || Array.isArray(out)) {
        throw new WsError('INTERNAL_SERVER_ERROR', `Internal server error: event script ${s.script} returned something other than the parameters (an object)`);
      }
      p = out as Params;
    }
    return p;
  }

  /** The call's post and queued scripts, or null. */
  plan(op: OperationDefinition, params: Params, modules: ModuleRegistry): EventPlan | null {
    const kinds = this.current.of(op.name);
    if (!kinds || (kinds.post.length === 0 && kinds.queued.length === 0)) return null;
    const module = moduleOfCall(params, modules);
    const post = matching(kinds.post, module);
    const queued = matching(kinds.queued, module);
    return post.length || queued.length ? { module, post, queued } : null;
  }

  /**
   * A successful call's envelope after its post scripts, with its queued scripts queued in `db` (the
   * transaction of the call's writes). `announce` wakes this process's executor once that has committed.
   */
  async settle(
    plan: EventPlan | null,
    call: { op: OperationDefinition; user: WsUser; params: Params; envelope: Envelope; db: DbTx; dialect: Dialect },
  ): Promise<{ envelope: Envelope; announce: () => void }> {
    let envelope = call.envelope;
    if (!plan || !envelope.success) return { envelope, announce: () => undefined };
    const user = eventUserOf(call.user);
    const request = { operation: call.op.name, module: plan.module, params: call.params, user };
    for (const s of plan.post) {
      const out = await this.run(s, { ...request, result: envelope.result });
      if (out !== undefined) envelope = { ...envelope, result: out };
    }
    const announces: (() => void)[] = [];
    const now = this.clock.now();
    for (const s of plan.queued) {
      const snapshot: QueuedEvent = {
        script: s.script,
        request,
        response: envelope as QueuedEvent['response'],
        environment: { time: now.toISOString(), settings: this.environment },
      };
      const q = await enqueueIn(call.db, call.dialect, {
        operation: QUEUED_EVENT,
        params: snapshot as unknown as Params,
        userId: call.user.id,
        submittedAt: now,
        dueAt: now,
      });
      announces.push(q.announce);
    }
    return {
      envelope,
      announce: () => {
        for (const a of announces) a();
      },
    };
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }

  private async run(s: EventScriptFile, event: unknown): Promise<unknown> {
    this.pool ??= new EventPool({
      // The gateway's event loop runs many calls' scripts; a worker thread, one call's at a time.
      size: isMainThread ? 2 : 1,
      timeoutMs: this.config.eventTimeoutMs,
      memoryMb: this.config.workerMemoryMb,
      logLevel: this.config.logLevel,
    });
    const outcome = await this.pool.run({ script: s.script, url: s.url, event });
    if (outcome.ok) return outcome.value;
    if (outcome.detail) this.log.error({ script: s.script, detail: outcome.detail }, 'event script failed');
    else if (outcome.error.code === 'TIMEOUT') this.log.warn({ script: s.script }, outcome.error.message);
    throw outcome.error;
  }
}
