// End to end, sustained (WSGATE_BENCH_PARTS=sustained; issue 13 item 2): one real `wsgate serve` process
// (the CLI, its in-process executor on) and autocannon's connections submitting deferred creates
// (cbwsOptions launchfromqueue, queuedelay 0) for WSGATE_BENCH_SUSTAINED_SECONDS while the executor runs
// them. Reported: submits/s (successful answers), runs/s (entries whose finished_at falls in the window, read
// from the database), the backlog when the load stops (queued and running entries), p99 submit latency, and
// the serve process's RSS every WSGATE_BENCH_SAMPLE_SECONDS. Afterwards, with the process stopped, nothing
// may be lost: every accepted submit has its entry, every done entry a success envelope and a record.
import os from 'node:os';
import type { Databases, System } from './databases.js';
import { runLoad, submitBody, type LoadResult } from './load.js';
import { openQueueProbe } from './queue-probe.js';
import { startServe } from './serve-process.js';
import { login } from './wsgate.js';

export interface SustainedSettings {
  connections: number;
  seconds: number;
  sampleSeconds: number;
}

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number | null;
  /** The machine's 1-minute load average. */
  load: number;
  queued: number;
  running: number;
  done: number;
}

export interface SustainedMeasurement {
  submitsPerSecond: number;
  runsPerSecond: number;
  /** Queued and running entries when the load stopped. */
  backlog: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  rssIdleMb: number | null;
  rssMaxMb: number | null;
  rssEndMb: number | null;
  /**
   * CPU time of the serve process per accepted submit (its run included), in microseconds, over the load:
   * what a loaded machine changes least (the wall-clock rates above are bounded by the CPU share it got).
   */
  cpuUsPerOperation: number | null;
  /** The serve process's CPU seconds per wall second during the load (2 = both cores of this machine). */
  cpuCores: number | null;
  samples: Sample[];
  load: Omit<LoadResult, 'ids'>;
  /** Seconds the process took to stop (its grace lets running operations finish). */
  stopSeconds: number;
  problems: string[];
}

const state = (counts: Record<string, number>, s: string) => counts[s] ?? 0;

export async function measureSustained(system: System, dbs: Databases, s: SustainedSettings, log: (m: string) => void): Promise<SustainedMeasurement> {
  const url = await dbs.fresh(system, 'sustained');
  const serve = await startServe(url, dbs.dataDir());
  const probe = await openQueueProbe(system, url);
  const problems: string[] = [];
  try {
    const session = await login(serve.url);
    const rssIdleMb = serve.rssMb();
    const samples: Sample[] = [];
    const started = new Date();
    const cpuBefore = serve.cpuSeconds();
    const sample = async () => {
      const counts = await probe.byState();
      const x = {
        t: Math.round((Date.now() - started.getTime()) / 1000),
        rssMb: serve.rssMb(),
        load: Math.round(os.loadavg()[0]! * 10) / 10,
        queued: state(counts, 'queued'),
        running: state(counts, 'running'),
        done: state(counts, 'done'),
      };
      samples.push(x);
      log(`${system}:   t=${x.t}s rss ${x.rssMb} MB, queued ${x.queued}, running ${x.running}, done ${x.done}, load ${os.loadavg()[0]!.toFixed(1)}`);
    };
    let sampling = Promise.resolve();
    const every = setInterval(() => (sampling = sampling.then(sample, () => undefined)), s.sampleSeconds * 1000);
    let load: LoadResult;
    try {
      load = await runLoad({ url: serve.url, body: submitBody(session, 0), connections: s.connections, durationSeconds: s.seconds, collectIds: true });
    } finally {
      clearInterval(every);
    }
    await sampling;
    const ended = new Date();
    const cpuAfter = serve.cpuSeconds();
    const atEnd = await probe.byState();
    await sample();
    const runs = await probe.finishedBetween(started, ended);
    const seconds = (ended.getTime() - started.getTime()) / 1000;

    const stopping = performance.now();
    const code = await serve.stop();
    const stopSeconds = Math.round((performance.now() - stopping) / 100) / 10;
    if (code !== 0) problems.push(`wsgate serve exited with ${code}`);

    if (load.ok === 0) problems.push('no successful submit');
    if (load.envelopeErrors) problems.push(`${load.envelopeErrors} error envelopes ${JSON.stringify(load.errorCodes)}`);
    if (load.non2xx || load.socketErrors || load.timeouts)
      problems.push(`${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts`);
    const entries = new Map((await probe.entries()).map((e) => [e.id, e]));
    const ids = load.ids ?? [];
    if (ids.length !== load.ok) problems.push(`${ids.length} tracking ids for ${load.ok} successful submits`);
    const missing = ids.filter((id) => !entries.has(id)).length;
    if (missing) problems.push(`${missing} accepted submits have no entry`);
    if (entries.size > load.sent) problems.push(`${entries.size} entries for ${load.sent} requests sent`);
    const all = [...entries.values()];
    const done = all.filter((e) => e.state === 'done');
    const badDone = done.filter((e) => !e.hasResult || !e.succeeded).length;
    if (badDone) problems.push(`${badDone} done entries without a success envelope`);
    const other = all.filter((e) => e.state !== 'done' && e.state !== 'queued');
    if (other.length) problems.push(`${other.length} entries neither done nor queued after the stop (${[...new Set(other.map((e) => e.state))].join(', ')})`);
    const records = await probe.records();
    if (records !== done.length) problems.push(`${records} records for ${done.length} done entries`);

    const cpu = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
    const rss = samples.map((x) => x.rssMb).filter((x): x is number => x !== null);
    const { ids: _ids, ...loadWithoutIds } = load;
    return {
      submitsPerSecond: load.okPerSecond,
      runsPerSecond: runs / seconds,
      backlog: state(atEnd, 'queued') + state(atEnd, 'running'),
      latencyP50Ms: load.latencyP50Ms,
      latencyP99Ms: load.latencyP99Ms,
      rssIdleMb,
      rssMaxMb: rss.length ? Math.max(...rss) : null,
      rssEndMb: rss.at(-1) ?? null,
      cpuUsPerOperation: cpu === null ? null : Math.round((cpu * 1e6) / Math.max(1, load.ok)),
      cpuCores: cpu === null ? null : Math.round((cpu / seconds) * 100) / 100,
      samples,
      load: loadWithoutIds,
      stopSeconds,
      problems,
    };
  } finally {
    await serve.stop();
    await probe.close();
  }
}
