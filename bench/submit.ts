// Metric 1: queued submits per second over HTTP, for wsgate and for the bare baseline, with the same
// autocannon settings. Each side gets an unmeasured warm-up run first. After the measured run the rows
// that appeared in ws_queued_operation are counted: at least one per success, at most one per request sent.
import { startBaselineSubmit } from './baseline-submit.js';
import type { Databases, System } from './databases.js';
import { runLoad, settle, submitBody, type LoadResult } from './load.js';
import { login, startGateway } from './wsgate.js';

export interface SubmitSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface SubmitMeasurement {
  load: LoadResult;
  rowsAdded: number;
  /** Why the run cannot be trusted; empty when every check passed. */
  problems: string[];
}

async function measure(url: string, body: string, countQueued: () => Promise<number>, s: SubmitSettings): Promise<SubmitMeasurement> {
  if (s.warmupSeconds > 0) {
    await runLoad({ url, body, connections: s.connections, durationSeconds: s.warmupSeconds });
    await settle();
  }
  const before = await countQueued();
  const load = await runLoad({ url, body, connections: s.connections, durationSeconds: s.durationSeconds });
  await settle(); // requests still in flight when autocannon stopped
  const rowsAdded = (await countQueued()) - before;
  const problems: string[] = [];
  if (load.ok === 0) problems.push('no successful response');
  if (load.envelopeErrors) problems.push(`${load.envelopeErrors} error envelopes ${JSON.stringify(load.errorCodes)}`);
  if (load.non2xx) problems.push(`${load.non2xx} non-2xx responses`);
  if (load.socketErrors || load.timeouts) problems.push(`${load.socketErrors} socket errors, ${load.timeouts} timeouts`);
  if (rowsAdded < load.ok) problems.push(`only ${rowsAdded} queued rows for ${load.ok} successful submits`);
  if (rowsAdded > load.sent) problems.push(`${rowsAdded} queued rows for only ${load.sent} requests sent`);
  return { load, rowsAdded, problems };
}

export async function measureWsgateSubmits(system: System, dbs: Databases, s: SubmitSettings): Promise<SubmitMeasurement> {
  const gw = await startGateway(await dbs.fresh(system, 'submit'), dbs.dataDir());
  try {
    const sessionName = await login(gw.url);
    return await measure(gw.url, submitBody(sessionName), () => gw.rt.db.prisma.queuedOperation.count(), s);
  } finally {
    await gw.close();
  }
}

export async function measureBaselineSubmits(system: System, dbs: Databases, s: SubmitSettings): Promise<SubmitMeasurement> {
  const server = await startBaselineSubmit(system, await dbs.fresh(system, 'submit_base'));
  try {
    return await measure(server.url, submitBody('baseline-session'), server.countQueued, s);
  } finally {
    await server.close();
  }
}
