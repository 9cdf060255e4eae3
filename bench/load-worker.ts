// Runs one autocannon load in a worker thread, so that the load generator has its own event loop and the
// server under test (in the main thread) has the main one to itself. Every response body is checked: an
// envelope with success:true counts as ok, anything else as an error (with its code).
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadSpec, LoadResult } from './load.js';

const spec = workerData as LoadSpec;
let ok = 0;
let failed = 0;
const errorCodes: Record<string, number> = {};
const ids: string[] = [];

const verifyBody = (body: string): boolean => {
  let envelope: { success?: unknown; result?: { operationTrackingID?: string; length?: number }; error?: { code?: string } } | null = null;
  try {
    envelope = JSON.parse(body);
  } catch {
    // not an envelope
  }
  const unexpected = spec.resultLength !== undefined && envelope?.success === true && envelope.result?.length !== spec.resultLength;
  if (envelope?.success === true && !unexpected) {
    ok++;
    if (spec.collectIds && envelope.result?.operationTrackingID) ids.push(envelope.result.operationTrackingID);
    return true;
  }
  failed++;
  const code = unexpected ? 'UNEXPECTED_RESULT' : (envelope?.error?.code ?? 'NOT_AN_ENVELOPE');
  errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  return false;
};

let next = 0;
const paths = spec.paths;
const request = paths
  ? {
      method: 'GET',
      requests: [
        {
          setupRequest: (req: { path?: string }) => {
            req.path = paths[next++ % paths.length];
            return req;
          },
        },
      ],
    }
  : { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: spec.body };
const options = {
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSeconds,
  ...request,
  timeout: 10,
  verifyBody,
  ...(spec.rate ? { overallRate: spec.rate } : {}),
};
// In a worker thread autocannon resolves to its raw result, as each of its own workers does: aggregate it.
const result = autocannon.aggregateResult([await autocannon(options)], options);

const out: LoadResult = {
  durationSeconds: result.duration,
  sent: result.requests.sent ?? 0,
  completed: result['2xx'] + result.non2xx,
  ok,
  envelopeErrors: failed,
  errorCodes,
  non2xx: result.non2xx,
  socketErrors: result.errors,
  timeouts: result.timeouts,
  okPerSecond: ok / result.duration,
  latencyP50Ms: result.latency.p50,
  latencyP99Ms: result.latency.p99,
  ...(spec.collectIds ? { ids } : {}),
};
parentPort!.postMessage(out);
