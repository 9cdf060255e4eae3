// Async request-reply for every queueable operation: POST /api/v1/operations/{name} queues it (202 Accepted,
// Location, Retry-After); GET /api/v1/operations/{id} answers its state while it waits or runs and 303 See
// Other to .../result once it finished; the result is answered once (410 Gone after); DELETE cancels one that
// has not started. `Prefer: wait=N` (RFC 7240) holds the answer up to N seconds for the outcome.
import type Koa from 'koa';
import type Router from '@koa/router';
import { NOT_QUEUED_OR_NOT_FINISHED } from '../queue/store.js';
import { resultWasTaken, stateOf } from '../queue/jobs.js';
import type { Envelope } from '../envelope.js';
import type { WsUser } from '../auth/users.js';
import { resultOf, type Door } from './doors.js';
import { readJsonObject } from './json-body.js';
import { Problem, problemOf } from './problem.js';
import { CBWS_OPTIONS } from '../protocol/cbwsOptions.js';

export const OPERATIONS_PATH = '/api/v1/operations';

/** The longest `Prefer: wait` honoured (s): long enough for most operations, short of proxies' idle timeouts. */
export const MAX_PREFER_WAIT_SECONDS = 60;
/** How often a waiting request reads the entry's state (ms): one primary-key read. */
const WAIT_POLL_MS = 200;
/** Retry-After for an entry that is due (or running): a second. A delayed one gets the time until it is due. */
const RETRY_AFTER_SECONDS = 1;

const FINAL = new Set(['done', 'failed', 'cancelled']);

type State = { operationTrackingID: string; status: string; duetime?: string } & Record<string, unknown>;

/** N of `Prefer: wait=N` (several preferences may be given, comma-separated), capped; undefined without one. */
export function preferredWait(ctx: Koa.Context): number | undefined {
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,9})"?/i.exec(ctx.get('prefer'));
  return m ? Math.min(Number(m[1]), MAX_PREFER_WAIT_SECONDS) : undefined;
}

/** Polls the entry until it finished, `seconds` passed, or the client went away. */
async function waitForOutcome(door: Door, ctx: Koa.Context, id: string, user: WsUser, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let gone = false;
  const left = () => (gone = true);
  ctx.res.once('close', left);
  try {
    while (Date.now() < end && !gone) {
      const state = await stateOf(door.db, id, user.id);
      if (state === null || FINAL.has(state)) return;
      await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(0, end - Date.now()))));
    }
  } finally {
    ctx.res.off('close', left);
  }
}

const gone = (id: string) => new Problem(410, 'RESULT_ALREADY_READ', `Operation ${id} finished and its result was read: it is gone`);

/** The protocol's RECORD_NOT_FOUND for an id: 410 when its result was read already, else 404. */
async function refusal(door: Door, envelope: Envelope, id: string, user: WsUser): Promise<never> {
  if (!envelope.success && envelope.error.code === 'RECORD_NOT_FOUND' && (await resultWasTaken(door.db, id, user.id, door.services.clock.now()))) {
    throw gone(id);
  }
  resultOf(envelope);
  throw new Error('unreachable: the envelope was a success');
}

async function stateNow(door: Door, id: string, user: WsUser): Promise<State> {
  const envelope = await door.call(user, 'getQueuedOperationStatus', { operationTrackingID: id });
  if (!envelope.success) await refusal(door, envelope, id, user);
  return (envelope as { result: State }).result;
}

/** Answers the state: 303 to the result once final, else `status` (200 or 202) with Location and Retry-After. */
function answerState(door: Door, ctx: Koa.Context, state: State, status: number, waited: number | undefined): void {
  const href = `${OPERATIONS_PATH}/${encodeURIComponent(state.operationTrackingID)}`;
  if (waited !== undefined) ctx.set('Preference-Applied', `wait=${waited}`);
  ctx.body = state;
  if (FINAL.has(state.status)) {
    ctx.status = 303;
    ctx.set('Location', `${href}/result`);
    return;
  }
  const dueIn = state.status === 'delayed' && state.duetime ? Math.ceil((Date.parse(state.duetime) - door.services.clock.now().getTime()) / 1000) : 0;
  ctx.status = status;
  ctx.set('Location', href);
  ctx.set('Retry-After', String(Math.max(RETRY_AFTER_SECONDS, dueIn)));
}

/** What cbwsOptions may hold in a body of this door (launchfromqueue is taken too: the call is queued anyway). */
const DOOR_OPTIONS: string[] = CBWS_OPTIONS.filter((o) => o !== 'launchfromqueue');

/** The operation's parameters from the body: only the declared ones, and cbwsOptions; a 400 names any other. */
function paramsOf(door: Door, name: string, body: Record<string, unknown>, idempotencyKey: string) {
  const op = door.registry.get(name);
  if (!op) throw new Problem(404, 'UNKNOWN_OPERATION', `No operation ${name.slice(0, 64)}: see wsgate operations`, 'name');
  if (!op.queueable) throw new Problem(422, 'OPERATION_NOT_SUPPORTED', `${op.name} cannot be queued: call it at /webservice.php`, 'name');
  const declared = op.params.map((p) => p.name);
  const { cbwsOptions, ...params } = body;
  for (const key of Object.keys(params)) {
    if (!declared.includes(key)) {
      throw new Problem(400, 'INVALID_PARAMETER', `${key.slice(0, 64)} is not a parameter of ${op.name} (${declared.join(', ') || 'none'})`, key.slice(0, 64));
    }
  }
  if (cbwsOptions !== undefined && (typeof cbwsOptions !== 'object' || cbwsOptions === null || Array.isArray(cbwsOptions))) {
    throw new Problem(400, 'INVALID_PARAMETER', `cbwsOptions must be an object (${DOOR_OPTIONS.join(', ')})`, 'cbwsOptions');
  }
  // webservice.php ignores members it does not know, as coreBOS does; here a misspelt one (queueDelay) would
  // run the call at once, so it is refused.
  for (const key of Object.keys(cbwsOptions ?? {})) {
    if (!(CBWS_OPTIONS as readonly string[]).includes(key)) {
      throw new Problem(
        400,
        'INVALID_PARAMETER',
        `cbwsOptions.${key.slice(0, 64)} is not an option of a queued call (${DOOR_OPTIONS.join(', ')})`,
        `cbwsOptions.${key.slice(0, 64)}`,
      );
    }
  }
  const options: Record<string, unknown> = { ...(cbwsOptions as object | undefined), launchfromqueue: 1 };
  if (idempotencyKey && !('ClientRequestIdentifier' in options)) options.ClientRequestIdentifier = idempotencyKey;
  return { operation: op.name, params: { ...params, cbwsOptions: options } };
}

export function addOperationRoutes(router: Router, door: Door): void {
  router.post(`${OPERATIONS_PATH}/:name`, async (ctx) => {
    const user = await door.user(ctx);
    const body = await readJsonObject(ctx, door.bodyLimit);
    const { operation, params } = paramsOf(door, ctx.params.name!, body, ctx.get('idempotency-key'));
    const envelope = await door.call(user, operation, params);
    const queued = resultOf(envelope) as { operationTrackingID: string };
    const id = queued.operationTrackingID;
    const wait = preferredWait(ctx);
    if (wait !== undefined) await waitForOutcome(door, ctx, id, user, wait);
    answerState(door, ctx, await stateNow(door, id, user), 202, wait);
  });

  router.get(`${OPERATIONS_PATH}/:id`, async (ctx) => {
    const user = await door.user(ctx);
    const id = ctx.params.id!;
    let state = await stateNow(door, id, user);
    const wait = preferredWait(ctx);
    if (wait !== undefined && !FINAL.has(state.status)) {
      await waitForOutcome(door, ctx, id, user, wait);
      state = await stateNow(door, id, user);
    }
    answerState(door, ctx, state, 200, wait);
  });

  router.get(`${OPERATIONS_PATH}/:id/result`, async (ctx) => {
    const user = await door.user(ctx);
    const id = ctx.params.id!;
    const envelope = await door.call(user, 'getQueuedOperationResult', { operationTrackingID: id });
    const text = resultOf(envelope);
    if (text === NOT_QUEUED_OR_NOT_FINISHED) {
      if (await resultWasTaken(door.db, id, user.id, door.services.clock.now())) throw gone(id);
      const state = await stateOf(door.db, id, user.id);
      if (state === null) throw new Problem(404, 'RECORD_NOT_FOUND', `No deferred operation ${id} of this user`);
      throw new Problem(409, 'RESULT_NOT_READY', `Operation ${id} is ${state}: GET ${OPERATIONS_PATH}/${id} until it answers 303`, undefined, {
        'Retry-After': String(RETRY_AFTER_SECONDS),
      });
    }
    const inner = JSON.parse(String(text)) as Envelope;
    if (!inner.success) throw problemOf(inner.error);
    // As JSON text: Koa would answer a string result as text/plain, and null as 204.
    ctx.status = 200;
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(inner.result ?? null);
  });

  router.delete(`${OPERATIONS_PATH}/:id`, async (ctx) => {
    const user = await door.user(ctx);
    const id = ctx.params.id!;
    const envelope = await door.call(user, 'cancelQueuedOperation', { operationTrackingID: id });
    if (!envelope.success) await refusal(door, envelope, id, user);
    // A running operation is being stopped by its executor: accepted, not done yet.
    ctx.status = envelope.success && (envelope.result as { status?: string }).status === 'cancelling' ? 202 : 200;
    ctx.body = await stateNow(door, id, user);
  });
}
