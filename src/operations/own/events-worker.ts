// An event worker: runs pre and post scripts, one at a time, for the thread that owns it (the gateway's
// event loop, a call worker or an executor worker). Its owner terminates it when a script outlives its time.
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../log.js';
import { WsError } from '../../errors.js';
import { importEventScript } from './events-load.js';
import type { EventJob, FromEventWorker } from './events-pool.js';

const port = parentPort!;
const log = createLogger((workerData as { logLevel: string }).logLevel).child({ eventWorker: true });
const send = (m: FromEventWorker) => port.postMessage(m);

/** An OperationError (or any error with a code of its own, from another copy of the package): a protocol error. */
function protocolError(error: unknown): { code: string; message: string } | null {
  if (error instanceof WsError) return { code: error.code, message: error.message };
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (e && e.name === 'OperationError' && typeof e.code === 'string' && typeof e.message === 'string') return { code: e.code, message: e.message };
  return null;
}

port.on('message', async ({ id, job }: { id: number; job: EventJob }) => {
  try {
    const script = await importEventScript(job.url, job.script);
    const user = (job.event as { user: unknown }).user;
    const value = await script(job.event, { user, log: (...args: unknown[]) => log.info({ script: job.script }, format(...args)) });
    // As JSON: what reaches the caller is JSON, and a value that cannot cross threads fails here, named.
    send({ id, ok: true, value: value === undefined ? undefined : (JSON.parse(JSON.stringify(value) ?? 'null') as unknown) });
  } catch (error) {
    const protocol = protocolError(error);
    send(protocol ? { id, ok: false, protocol } : { id, ok: false, failed: (error as Error)?.stack ?? String(error) });
  }
});
send({ ready: true });
