// wsgate's typed client (`import { WsgateClient } from 'wsgate/client'`), for Node 20+ and browsers: it
// needs only `fetch`. It speaks the coreBOS web-service protocol at /webservice.php (getchallenge and login,
// any operation, the envelope), defers operations with cbwsOptions and follows them through a handle.
// It imports nothing of the server at run time, so a bundler takes only this folder.
import { md5 } from 'js-md5';
import type { ErrorCode } from '../errors.js';
import { WsgateError } from './errors.js';

export { WsgateError, isWsgateError } from './errors.js';
export type { ErrorCode } from '../errors.js';

export interface ClientOptions {
  /** The gateway's base URL (`https://host:8080`) or its endpoint (`https://host:8080/webservice.php`). */
  url: string;
  /** Another `fetch` (a proxy agent, a test double of the network); default the global one. */
  fetch?: typeof fetch;
  /** Milliseconds a single HTTP request may take before it is aborted (default 60,000). */
  requestTimeoutMs?: number;
  /**
   * Wait for deferred results through wsgate's 202 API (`GET /api/v1/operations/{id}` with `Prefer: wait`)
   * where the gateway has it (default true); false polls getQueuedOperationStatus, as against coreBOS.
   */
  useAsyncApi?: boolean;
}

export interface DeferOptions {
  /** Seconds before the operation may run (coreBOS's queuedelay). */
  delay?: number;
  queue?: string;
  /** Higher runs first (default 500). */
  priority?: number;
  /** coreBOS's idempotent requests: a repeat with the same identifier answers the first call's id. */
  clientRequestIdentifier?: string;
  /** Where wsgate reports the final outcome (a URL the gateway is allowed to call). */
  callback?: string;
}

export type QueuedState = 'queued' | 'delayed' | 'running' | 'done' | 'failed' | 'cancelled';

/** getQueuedOperationStatus's answer (fields a newer gateway adds are kept). */
export interface QueuedOperationStatus {
  operationTrackingID: string;
  operation: string;
  status: QueuedState;
  queue: string;
  priority: number;
  attempts: number;
  errors: { attempt: number; code: string; message: string; at: string }[];
  submittedtime: string;
  duetime: string;
  startedtime: string | null;
  finishedtime: string | null;
  /** Set while a running operation is being stopped after a cancel (it ends as cancelled). */
  cancelrequestedtime: string | null;
  [more: string]: unknown;
}

export interface ResultOptions {
  /** Seconds to wait for the outcome (default 0: answer now, or throw NOT_FINISHED). */
  wait?: number;
  /** First pause between polls in ms (default 250; doubles up to 5,000). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** The one error this client makes up itself: a deferred operation whose result is not there yet. */
export const NOT_FINISHED = 'NOT_FINISHED' as const;

const FINAL: ReadonlySet<QueuedState> = new Set(['done', 'failed', 'cancelled']);
const NOT_QUEUED_OR_NOT_FINISHED = 'Operation not queued or not finished yet';

/** Operations coreBOS serves on GET; every other one is POSTed. */
const GET_OPERATIONS = new Set(
  ['getchallenge', 'listtypes', 'describe', 'retrieve', 'query', 'getQueuedOperationStatus', 'getQueuedOperationResult', 'getRelatedModulesInfomation'].map(
    (n) => n.toLowerCase(),
  ),
);

type Params = Record<string, unknown>;

const encode = (params: Params) => {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return form;
};

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });

export class WsgateClient {
  readonly endpoint: string;
  /** The 202 API's base (`.../api/v1/operations`), or null once the gateway answered that it has none. */
  asyncApi: string | null;
  readonly fetch: typeof fetch;
  private readonly requestTimeoutMs: number;
  private session: { sessionName: string; userId: string } | null = null;

  constructor(options: ClientOptions) {
    const url = options.url.replace(/\/+$/, '');
    this.endpoint = /\/webservice\.php$/.test(url) ? url : `${url}/webservice.php`;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.asyncApi = options.useAsyncApi === false ? null : `${this.endpoint.replace(/\/webservice\.php$/, '')}/api/v1/operations`;
  }

  /** The session name after login (for another client, or the 202 API's `Authorization: Bearer`). */
  get sessionName(): string | undefined {
    return this.session?.sessionName;
  }

  /** The logged-in user's id (`19x1`). */
  get userId(): string | undefined {
    return this.session?.userId;
  }

  /** getchallenge, then login with md5(token + accessKey): the access key itself never travels. */
  async login(userName: string, accessKey: string): Promise<{ sessionName: string; userId: string }> {
    const challenge = (await this.send('getchallenge', { username: userName })) as { token: string };
    const answer = (await this.send('login', { username: userName, accessKey: md5(challenge.token + accessKey) })) as { sessionName: string; userId: string };
    this.session = { sessionName: answer.sessionName, userId: answer.userId };
    return this.session;
  }

  /** Takes over a session made elsewhere. */
  useSession(sessionName: string, userId = ''): void {
    this.session = { sessionName, userId };
  }

  async logout(): Promise<void> {
    if (!this.session) return;
    await this.call('logout', {});
    this.session = null;
  }

  /** Any operation, run now; its result, or a WsgateError carrying the protocol's error code. */
  async call<T = unknown>(operation: string, params: Params = {}): Promise<T> {
    if (!this.session) throw new WsgateError('AUTHENTICATION_REQUIRED', 'Log in first (client.login)');
    return (await this.send(operation, { ...params, sessionName: this.session.sessionName })) as T;
  }

  /** Queues `operation` and answers a handle on it at once (cbwsOptions launchfromqueue). */
  async defer(operation: string, params: Params = {}, options: DeferOptions = {}): Promise<DeferredOperation> {
    const cbwsOptions: Params = { launchfromqueue: 1, queuedelay: options.delay ?? 0 };
    if (options.queue !== undefined) cbwsOptions.queue = options.queue;
    if (options.priority !== undefined) cbwsOptions.priority = options.priority;
    if (options.clientRequestIdentifier !== undefined) cbwsOptions.clientRequestIdentifier = options.clientRequestIdentifier;
    if (options.callback !== undefined) cbwsOptions.callback = options.callback;
    const answer = await this.call<{ operationTrackingID?: string }>(operation, { ...params, cbwsOptions });
    if (typeof answer?.operationTrackingID !== 'string') {
      // coreBOS runs an operation that cannot be queued at once and answers its result.
      throw new WsgateError(
        'OPERATION_NOT_SUPPORTED',
        `${operation} was not deferred (it cannot be queued): the gateway ran it and answered ${JSON.stringify(answer).slice(0, 200)}`,
      );
    }
    return new DeferredOperation(this, answer.operationTrackingID);
  }

  /** A handle on an operation deferred earlier (its operationTrackingID). */
  deferred(operationTrackingID: string): DeferredOperation {
    return new DeferredOperation(this, operationTrackingID);
  }

  // The protocol's operations, typed.
  listtypes = () => this.call<{ types: string[]; information: Record<string, unknown> }>('listtypes');
  describe = (elementType: string) => this.call<Record<string, unknown>>('describe', { elementType });
  create = <T = Record<string, unknown>>(elementType: string, element: Params) => this.call<T>('create', { elementType, element });
  retrieve = <T = Record<string, unknown>>(id: string) => this.call<T>('retrieve', { id });
  update = <T = Record<string, unknown>>(element: Params & { id: string }) => this.call<T>('update', { element });
  revise = <T = Record<string, unknown>>(element: Params & { id: string }) => this.call<T>('revise', { element });
  delete = (id: string) => this.call<{ status: string }>('delete', { id });
  query = <T = Record<string, unknown>>(query: string) => this.call<T[]>('query', { query });

  private async send(operation: string, params: Params): Promise<unknown> {
    const form = encode({ operation, ...params });
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    const res = GET_OPERATIONS.has(operation.toLowerCase())
      ? await this.fetch(`${this.endpoint}?${form}`, { signal })
      : await this.fetch(this.endpoint, { method: 'POST', body: form, signal, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const text = await res.text();
    let envelope: { success?: boolean; result?: unknown; error?: { code?: string; message?: string } };
    try {
      envelope = JSON.parse(text);
    } catch {
      throw new WsgateError(
        'INTERNAL_SERVER_ERROR',
        `${operation}: the gateway answered HTTP ${res.status} with no envelope: ${text.slice(0, 200)}`,
        res.status,
      );
    }
    if (envelope.success === true) return envelope.result;
    throw new WsgateError((envelope.error?.code ?? 'INTERNAL_SERVER_ERROR') as ErrorCode, envelope.error?.message ?? 'no message', res.status);
  }
}

/** A deferred operation: its status, cancelling it, and its result (read once, as the protocol says). */
export class DeferredOperation {
  constructor(
    private readonly client: WsgateClient,
    readonly operationTrackingID: string,
  ) {}

  status(): Promise<QueuedOperationStatus> {
    return this.client.call<QueuedOperationStatus>('getQueuedOperationStatus', { operationTrackingID: this.operationTrackingID });
  }

  /**
   * Cancels it if it has not finished: 'cancelled' when it had not started, 'cancelling' when it runs (its
   * executor stops it; it ends as cancelled). NOT_CANCELLABLE (a WsgateError) once it has finished.
   */
  async cancel(): Promise<'cancelled' | 'cancelling'> {
    const answer = await this.client.call<{ status: 'cancelled' | 'cancelling' }>('cancelQueuedOperation', { operationTrackingID: this.operationTrackingID });
    return answer.status;
  }

  /**
   * The operation's result once it has finished: reading it deletes it on the gateway, so a second call
   * throws RECORD_NOT_FOUND-like errors, not the result. A protocol error of the operation is thrown as a
   * WsgateError with its code; so is OPERATION_CANCELLED. With `wait`, polls its status with backoff until
   * it is final or the time is up (then NOT_FINISHED).
   */
  async result<T = unknown>(options: ResultOptions = {}): Promise<T> {
    const deadline = Date.now() + (options.wait ?? 0) * 1000;
    if (this.client.asyncApi) {
      const answered = await this.resultByAsyncApi<T>(deadline, options.signal);
      if (answered) return answered.result;
    }
    let pauseMs = options.pollMs ?? 250;
    for (;;) {
      const status = await this.status();
      if (FINAL.has(status.status)) return this.take<T>();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new WsgateError(NOT_FINISHED, `Operation ${this.operationTrackingID} is ${status.status}, not finished yet`);
      }
      await pause(Math.min(pauseMs, left), options.signal);
      pauseMs = Math.min(pauseMs * 2, 5_000);
    }
  }

  /**
   * Through the 202 API: `Prefer: wait` holds each request up to a minute, and the redirect (303) to the
   * result is followed, which reads it (once). Null when the gateway has no such API (then polling goes on).
   */
  private async resultByAsyncApi<T>(deadline: number, signal?: AbortSignal): Promise<{ result: T } | null> {
    const url = `${this.client.asyncApi}/${encodeURIComponent(this.operationTrackingID)}`;
    for (;;) {
      const wait = Math.max(0, Math.min(60, Math.ceil((deadline - Date.now()) / 1000)));
      const headers: Record<string, string> = { authorization: `Bearer ${this.client.sessionName ?? ''}`, accept: 'application/json' };
      if (wait > 0) headers.prefer = `wait=${wait}`;
      const res = await this.client.fetch(url, { headers, redirect: 'follow', signal: signal ?? AbortSignal.timeout((wait + 30) * 1000) });
      const problem = (res.headers.get('content-type') ?? '').includes('application/problem+json');
      if (res.status === 404 && !problem) {
        this.client.asyncApi = null; // a gateway without the 202 API (coreBOS itself)
        return null;
      }
      const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
      if (problem || !res.ok) {
        const code = typeof body?.code === 'string' ? body.code : 'INTERNAL_SERVER_ERROR';
        throw new WsgateError(code as ErrorCode, String(body?.detail ?? body?.title ?? `HTTP ${res.status}`), res.status);
      }
      if (res.redirected || /\/result$/.test(new URL(res.url || url).pathname)) return { result: body as T };
      if (Date.now() >= deadline) {
        throw new WsgateError(NOT_FINISHED, `Operation ${this.operationTrackingID} is ${String(body?.status ?? 'pending')}, not finished yet`);
      }
    }
  }

  private async take<T>(): Promise<T> {
    const stored = await this.client.call<string>('getQueuedOperationResult', { operationTrackingID: this.operationTrackingID });
    if (stored === NOT_QUEUED_OR_NOT_FINISHED) {
      throw new WsgateError('RECORD_NOT_FOUND', `The result of ${this.operationTrackingID} was read already or has expired`);
    }
    const envelope = JSON.parse(stored) as { success: boolean; result?: T; error?: { code: string; message: string } };
    if (envelope.success) return envelope.result as T;
    throw new WsgateError(envelope.error!.code as ErrorCode, envelope.error!.message);
  }
}
