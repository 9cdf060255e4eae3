// A client loop in its own thread, so that its timing is not the gateway's event loop: `probe` calls
// getchallenge and retrieve alternately and records each latency; `attack` repeats one heavy call.
import { parentPort, workerData } from 'node:worker_threads';

export interface ClientJob {
  kind: 'probe' | 'attack';
  url: string;
  /** Form bodies to send in turn. */
  bodies: string[];
  seconds: number;
}

export interface ClientResult {
  latenciesMs: number[];
  errors: string[];
}

const job = workerData as ClientJob;
const latenciesMs: number[] = [];
const errors: string[] = [];
const end = Date.now() + job.seconds * 1000;
for (let i = 0; Date.now() < end; i++) {
  const body = job.bodies[i % job.bodies.length]!;
  const start = performance.now();
  try {
    const res = await fetch(job.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const envelope = (await res.json()) as { success: boolean; error?: { code: string } };
    latenciesMs.push(performance.now() - start);
    if (!envelope.success && job.kind === 'probe') errors.push(envelope.error?.code ?? 'unknown');
  } catch (error) {
    errors.push((error as Error).message);
  }
}
parentPort!.postMessage({ latenciesMs, errors } satisfies ClientResult);
