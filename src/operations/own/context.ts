// The `ctx` an own operation's handle(params, ctx) gets: the user, the tracking id, ctx.api.call (any
// registered operation, as the same user, in the same transaction when the run has one), and the run's
// log, progress and abort signal (RunHooks: the executor's worker or the call worker provides them).
import { format } from 'node:util';
import { WsError } from '../../errors.js';
import { formatUserId } from '../../auth/users.js';
import type { OperationContext, OperationDefinition, Params, RunHooks } from '../types.js';
import type { OperationContextForScripts } from './define.js';

/** ctx.api.call within ctx.api.call ... at most this deep (an operation calling itself ends here). */
export const MAX_CALL_DEPTH = 8;

/** A log line longer than this is cut. */
export const MAX_LOG_LINE = 1_000;

const quiet = new AbortController().signal;
const NO_HOOKS: RunHooks = { log() {}, progress() {}, signal: quiet };

/**
 * The parameters of a call made from code, as a client would send them: only the declared ones; JSON text
 * or a value for encoded ones (element, elements), text for the others.
 */
function paramsFor(op: OperationDefinition, raw: Record<string, unknown>): Params {
  const params: Params = {};
  for (const spec of op.params) {
    const value = raw[spec.name];
    if (value === undefined || value === null || value === '') {
      if (spec.required) throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} is required`);
      continue;
    }
    if (spec.type === 'encoded' && typeof value === 'string') {
      try {
        params[spec.name] = JSON.parse(value);
      } catch {
        throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} is not valid JSON`);
      }
    } else if (spec.type === 'encoded' || op.own) params[spec.name] = value;
    else if (typeof value === 'object') throw new WsError('INVALID_PARAMETER', `${op.name}: parameter ${spec.name} must be a string`);
    else params[spec.name] = String(value);
  }
  return params;
}

export function scriptContext(ctx: OperationContext, lookup: (name: string) => OperationDefinition | undefined): OperationContextForScripts {
  const user = ctx.user!;
  const hooks = ctx.hooks ?? NO_HOOKS;
  return {
    user: { id: formatUserId(user.id), userName: user.userName, isAdmin: user.isAdmin },
    trackingId: ctx.trackingId,
    api: {
      async call(operation, params = {}) {
        const op = typeof operation === 'string' ? lookup(operation) : undefined;
        if (!op) throw new WsError('UNKNOWN_OPERATION', `ctx.api.call: unknown operation ${String(operation)}`);
        if (op.prelogin || op.name === 'logout') throw new WsError('OPERATION_NOT_SUPPORTED', `ctx.api.call: ${op.name} cannot be called from an operation`);
        const depth = (ctx.depth ?? 0) + 1;
        if (depth > MAX_CALL_DEPTH) throw new WsError('OPERATION_NOT_SUPPORTED', `ctx.api.call: calls nested more than ${MAX_CALL_DEPTH} deep`);
        if (typeof params !== 'object' || params === null)
          throw new WsError('INVALID_PARAMETER', `ctx.api.call: the parameters of ${op.name} must be an object`);
        return op.run({ ...ctx, depth }, paramsFor(op, params));
      },
    },
    log: (...values) => {
      const line = format(...values);
      hooks.log(line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line);
    },
    progress: (fraction, message) => {
      if (typeof fraction !== 'number' || !Number.isFinite(fraction))
        throw new TypeError('ctx.progress(fraction, message): fraction must be a number from 0 to 1');
      hooks.progress(Math.min(1, Math.max(0, fraction)), message === undefined || message === null ? null : String(message).slice(0, MAX_LOG_LINE));
    },
    get signal() {
      return hooks.signal;
    },
  };
}
