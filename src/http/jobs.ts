// The Queue Server's API (Millsoft's, same paths and shapes): POST /jobs/add queues an `http` or `exec`
// command as the built-in operation httpRequest or exec, deferred as a webservice.php call would be;
// GET /jobs/status counts the queue and the executors' threads; GET /jobs/status/:id shows one job with its
// output. Unlike the original, every path needs a Bearer credential and a job is visible to its owner only.
import type Router from '@koa/router';
import { heartbeatEveryMs } from '../executor/engine.js';
import { workerCounts } from '../queue/executors.js';
import { jobDetails, resultWasTaken } from '../queue/jobs.js';
import { queueCounts } from '../queue/status.js';
import { MAX_CONTEXT } from '../protocol/cbwsOptions.js';
import type { Door } from './doors.js';
import { resultOf } from './doors.js';
import { readJsonObject } from './json-body.js';
import { Problem } from './problem.js';

/** The command types and the queueable operation each one runs, with the command fields it takes. */
export const COMMAND_OPERATIONS: Record<string, { operation: string; fields: string[] }> = {
  http: { operation: 'httpRequest', fields: ['url', 'method', 'headers', 'params', 'timeout'] },
  exec: { operation: 'exec', fields: ['name', 'args'] },
};

const JOB_FIELDS = ['priority', 'context', 'command', 'callback_done'];

/** The job's members that become the deferred call's cbwsOptions, by the option's name. */
const JOB_OPTIONS = { 'cbwsOptions.callback': 'callback_done', 'cbwsOptions.priority': 'priority', 'cbwsOptions.context': 'context' };

const bad = (field: string, message: string) => new Problem(400, 'INVALID_PARAMETER', message, field);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 100) ?? String(v);

function priorityOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
    throw bad('priority', `priority must be an integer (higher runs first; default 500), got ${shown(v)}`);
  }
  return v;
}

function contextOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX_CONTEXT || /[\x00-\x1f]/.test(v)) {
    throw bad('context', `context must be a string of up to ${MAX_CONTEXT} printable characters, got ${shown(v)}`);
  }
  return v;
}

/** callback_done: a URL, or the Queue Server's {type: "http", url, method}; handed on as cbwsOptions.callback. */
function callbackOf(v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && v !== '') return v;
  if (!isObject(v)) throw bad('callback_done', `callback_done must be a URL or {"type": "http", "url", "method"}, got ${shown(v)}`);
  if (v.type !== 'http') throw bad('callback_done.type', `callback_done.type must be "http" (commands are not run as callbacks), got ${shown(v.type)}`);
  if (typeof v.url !== 'string' || v.url === '') throw bad('callback_done.url', 'callback_done.url is required: the URL to POST the outcome to');
  for (const key of Object.keys(v)) {
    if (!['type', 'url', 'method'].includes(key)) throw bad(`callback_done.${key}`, `callback_done.${key} is not a field of a callback (type, url, method)`);
  }
  return v;
}

/** The operation and its parameters for a command, or a Problem naming the field at fault. */
function commandOf(door: Door, v: unknown): { operation: string; params: Record<string, unknown> } {
  if (v === undefined || v === null) throw bad('command', 'command is required: {"type": "http", "url", ...} or {"type": "exec", "name", "args"}');
  if (!isObject(v)) throw bad('command', `command must be an object, got ${shown(v)}`);
  const kind = typeof v.type === 'string' ? COMMAND_OPERATIONS[v.type] : undefined;
  if (!kind || !Object.hasOwn(COMMAND_OPERATIONS, String(v.type))) {
    throw bad('command.type', `command.type must be ${Object.keys(COMMAND_OPERATIONS).join(' or ')}, got ${shown(v.type)}`);
  }
  const { type, ...params } = v;
  if (type === 'exec' && 'cmd' in params) {
    throw bad('command.cmd', 'command.cmd is not taken: name a command of WSGATE_EXEC_ALLOW in command.name and give its arguments as the array command.args');
  }
  for (const key of Object.keys(params)) {
    if (!kind.fields.includes(key)) throw bad(`command.${key}`, `command.${key} is not a field of a ${String(type)} command (${kind.fields.join(', ')})`);
  }
  if (!door.registry.get(kind.operation)) {
    throw new Problem(
      422,
      'OPERATION_NOT_SUPPORTED',
      `command.type ${String(type)} is not available: this server has no ${kind.operation} operation`,
      'command.type',
    );
  }
  return { operation: kind.operation, params };
}

export function addJobRoutes(router: Router, door: Door): void {
  router.post('/jobs/add', async (ctx) => {
    const user = await door.user(ctx);
    const body = await readJsonObject(ctx, door.bodyLimit);
    for (const key of Object.keys(body)) {
      if (!JOB_FIELDS.includes(key)) throw bad(key, `${key.slice(0, 64)} is not a field of a job (${JOB_FIELDS.join(', ')})`);
    }
    const cbwsOptions = { launchfromqueue: 1, priority: priorityOf(body.priority), context: contextOf(body.context), callback: callbackOf(body.callback_done) };
    const { operation, params } = commandOf(door, body.command);
    const queued = resultOf(await door.call(user, operation, { ...params, cbwsOptions }), 'command.', JOB_OPTIONS) as { operationTrackingID: string };
    ctx.body = { status: 200, data: { id: queued.operationTrackingID } };
  });

  router.get('/jobs/status', async (ctx) => {
    const user = await door.user(ctx);
    const context = typeof ctx.query.context === 'string' ? contextOf(ctx.query.context) : undefined;
    const now = door.services.clock.now();
    // Administrators see the whole queue; other users their own jobs. The threads are every executor's.
    const counts = await queueCounts(door.db, now, undefined, { context, userId: user.isAdmin ? undefined : user.id }, 'live');
    const workers = await workerCounts(door.db, new Date(now.getTime() - 3 * heartbeatEveryMs(door.leaseSeconds) - 1_000));
    ctx.body = {
      status: 200,
      data: {
        waiting: counts.waiting,
        working: counts.running,
        max_threads: workers.maxWorkers,
        free_threads: Math.max(0, workers.maxWorkers - workers.busyWorkers),
      },
    };
  });

  router.get('/jobs/status/:id', async (ctx) => {
    const user = await door.user(ctx);
    const id = ctx.params.id!;
    const envelope = await door.call(user, 'getQueuedOperationStatus', { operationTrackingID: id });
    if (!envelope.success && envelope.error.code === 'RECORD_NOT_FOUND' && (await resultWasTaken(door.db, id, user.id, door.services.clock.now()))) {
      throw new Problem(410, 'RESULT_ALREADY_READ', `Job ${id} finished and its result was read: it is gone`);
    }
    const status = resultOf(envelope) as Record<string, unknown>;
    const details = await jobDetails(door.db, id, user.id);
    ctx.body = {
      status: 200,
      data: { id, ...status, context: details?.context ?? null, output: details?.result ? JSON.parse(details.result) : null },
    };
  });
}
