// HTTP load with autocannon (in a worker thread: see load-worker.ts) against a form-POST endpoint.
import { Worker } from 'node:worker_threads';

export interface LoadSpec {
  url: string;
  /** The url-encoded form body of every request (a POST); unused when `paths` is given. */
  body: string;
  /** GET requests instead, to these paths (with their query strings) in turn, one after another across the connections. */
  paths?: string[];
  /** With `paths`: a success whose result is not an array of this length counts as an error (UNEXPECTED_RESULT). */
  resultLength?: number;
  connections: number;
  durationSeconds: number;
  /** Requests per second across all connections at most (autocannon's overallRate); unset: as fast as answered. */
  rate?: number;
  /** Keep the operationTrackingID of every successful answer (LoadResult.ids). */
  collectIds?: boolean;
}

export interface LoadResult {
  durationSeconds: number;
  /** Requests started. */
  sent: number;
  /** Responses received. */
  completed: number;
  /** Responses whose envelope says success:true. */
  ok: number;
  /** Responses whose body is an error envelope (or no envelope at all). */
  envelopeErrors: number;
  errorCodes: Record<string, number>;
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  okPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** The operationTrackingIDs answered, when the spec asked to collect them. */
  ids?: string[];
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: spec });
    let result: LoadResult | undefined;
    worker.once('message', (m: LoadResult) => (result = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}

/** The deferred create every submit benchmark posts. */
export function submitBody(sessionName: string, queuedelay = 3600): string {
  const params: Record<string, string> = {
    operation: 'create',
    sessionName,
    elementType: 'Contacts',
    element: JSON.stringify({ lastname: 'Bench' }),
    cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay }),
  };
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
}

export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
