// Memory of `wsgate serve`: the built CLI started as its own process on a fresh database with N executor
// worker threads (WSGATE_MAX_WORKERS) and the call workers at their default, its VmRSS read from
// /proc/PID/status twice while it is idle: once started (every thread started and the figure steady for
// 2 s) and once settled (--settle seconds after it began serving: V8 gives back a thread's start-up memory
// some 10-20 s after its start, when its memory reducer finds it idle), then optionally while clients
// submit deferred creates that its executor runs (peak and after the load).
//   node dist/bench/rss.js [--workers 1,4,8] [--settle S] [--load S] [--connections C] [--rounds R]
//                          [--pg ADMIN_URL] [--cli LABEL=PATH/cli.js ...] [--env NAME=VALUE ...]
// Several --cli (builds of two commits, say) are measured in turn, round after round, so that one run
// compares them on the same machine state. Each figure is the median of the rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { packageRoot } from '../src/config.js';
import { ADMIN_KEY, login } from './wsgate.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,4,8' },
    settle: { type: 'string', default: '40' },
    load: { type: 'string', default: '0' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    pg: { type: 'string' },
    cli: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
  },
});
const workerCounts = values.workers.split(',').map(Number);
const loadSeconds = Number(values.load);
const settleSeconds = Number(values.settle);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const clis = (values.cli ?? [`this=${path.join(packageRoot, 'dist', 'src', 'cli.js')}`]).map((c) => {
  const at = c.indexOf('=');
  return { label: c.slice(0, at), file: path.resolve(c.slice(at + 1)) };
});
const systems: ('sqlite' | 'postgresql')[] = values.pg ? ['sqlite', 'postgresql'] : ['sqlite'];

interface Sample {
  idleMb: number;
  settledMb: number;
  threads: number;
  loadPeakMb?: number;
  afterLoadMb?: number;
  submits?: number;
}

const kb = (pid: number, field: string) => {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
};
const rssMb = (pid: number) => kb(pid, 'VmRSS') / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the thread count and RSS have not moved for 2 s (every worker started). */
async function idle(pid: number): Promise<{ mb: number; threads: number }> {
  const samples: { mb: number; threads: number }[] = [];
  const until = Date.now() + 60_000;
  for (;;) {
    samples.push({ mb: rssMb(pid), threads: kb(pid, 'Threads') });
    const last = samples.slice(-8);
    if (
      last.length === 8 &&
      last.every((s) => s.threads === last[0]!.threads) &&
      Math.max(...last.map((s) => s.mb)) - Math.min(...last.map((s) => s.mb)) < 0.5
    ) {
      return last.at(-1)!;
    }
    if (Date.now() > until) return samples.at(-1)!;
    await sleep(250);
  }
}

function serving(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"url":"([^"]+)"[^\n]*"msg":"wsgate serving"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`wsgate serve exited (${code}): ${err.slice(-2000)}`)));
  });
}

function deferredCreate(sessionName: string): string {
  const params = {
    operation: 'create',
    sessionName,
    elementType: 'Contacts',
    element: JSON.stringify({ lastname: 'Rss' }),
    cbwsOptions: JSON.stringify({ launchfromqueue: 1 }),
  };
  return new URLSearchParams(params).toString();
}

/** C clients submitting deferred creates for S seconds; the executor runs them as they come. */
async function load(url: string, pid: number): Promise<{ peakMb: number; submits: number }> {
  const body = deferredCreate(await login(url));
  let peakMb = rssMb(pid);
  let submits = 0;
  const end = Date.now() + loadSeconds * 1000;
  const watch = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 100);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        const envelope = (await res.json()) as { success: boolean };
        if (!envelope.success) throw new Error(`submit failed: ${JSON.stringify(envelope)}`);
        submits++;
      }
    }),
  );
  clearInterval(watch);
  return { peakMb: Math.max(peakMb, rssMb(pid)), submits };
}

async function measure(cli: string, system: 'sqlite' | 'postgresql', workers: number, dir: string, n: number): Promise<Sample> {
  let databaseUrl = `file:${path.join(dir, `rss${n}.db`)}`;
  const dbName = `wsgate_rss_${process.pid}_${n}`;
  if (system === 'postgresql') {
    const admin = new pg.Client({ connectionString: values.pg });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(values.pg!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const child = spawn(process.execPath, [cli, 'serve'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      WSGATE_DATA_DIR: dir,
      WSGATE_SECRET: 'bench-secret-bench-secret',
      WSGATE_ADMIN_ACCESSKEY: ADMIN_KEY,
      WSGATE_MAX_WORKERS: String(workers),
      WSGATE_LOG_LEVEL: 'info',
      WSGATE_QUOTA_QUEUED: '2147483647',
      WSGATE_QUOTA_QUEUED_BYTES: '2147483647',
      PORT: '0',
      WSGATE_HOST: '127.0.0.1',
      ...Object.fromEntries((values.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    },
  });
  try {
    const url = await serving(child);
    const servingSince = Date.now();
    const pid = child.pid!;
    const quiet = await idle(pid);
    await sleep(servingSince + settleSeconds * 1000 - Date.now());
    const settled = await idle(pid);
    const sample: Sample = { idleMb: quiet.mb, settledMb: settled.mb, threads: settled.threads };
    if (loadSeconds > 0) {
      const { peakMb, submits } = await load(url, pid);
      sample.loadPeakMb = peakMb;
      sample.submits = submits;
      await sleep(3_000);
      sample.afterLoadMb = rssMb(pid);
    }
    return sample;
  } finally {
    // A serve that could not start has exited already: its 'exit' was emitted, and waiting for it would leave
    // this run pending (and its folder behind).
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (system === 'postgresql') {
      const admin = new pg.Client({ connectionString: values.pg });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(0));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-rss-'));
const results = new Map<string, Sample[]>();
let n = 0;
try {
  for (let r = 0; r < rounds; r++) {
    for (const system of systems) {
      for (const workers of workerCounts) {
        for (const cli of clis) {
          const key = `${cli.label}|${system}|${workers}`;
          const sample = await measure(cli.file, system, workers, dir, n++);
          results.set(key, [...(results.get(key) ?? []), sample]);
          console.error(`round ${r + 1} ${key}: ${JSON.stringify(sample)}`);
        }
      }
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(
  `RSS of wsgate serve (MB, median of ${rounds}; call workers at their default; idle: started, and settled ${settleSeconds} s after serving; load: ${loadSeconds} s, ${connections} clients)`,
);
console.log(['build', 'database', 'workers', 'threads', 'idle started', 'idle settled', 'load peak', 'after load', 'submits'].join('\t'));
for (const [key, samples] of results) {
  const [label, system, workers] = key.split('|');
  const m = (f: (s: Sample) => number | undefined) => {
    const xs = samples.map(f).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  console.log(
    [
      label,
      system,
      workers,
      m((s) => s.threads),
      fmt(m((s) => s.idleMb)),
      fmt(m((s) => s.settledMb)),
      fmt(m((s) => s.loadPeakMb)),
      fmt(m((s) => s.afterLoadMb)),
      fmt(m((s) => s.submits)),
    ].join('\t'),
  );
}

if (workerCounts.length > 1) {
  const fewest = Math.min(...workerCounts);
  const most = Math.max(...workerCounts);
  console.log(`MB per extra worker (${fewest} -> ${most} workers, medians), started / settled:`);
  for (const cli of clis) {
    for (const system of systems) {
      const at = (workers: number, f: (s: Sample) => number) => median((results.get(`${cli.label}|${system}|${workers}`) ?? []).map(f));
      const per = (f: (s: Sample) => number) => ((at(most, f) - at(fewest, f)) / (most - fewest)).toFixed(1);
      console.log(`${cli.label}\t${system}\t${per((s) => s.idleMb)} / ${per((s) => s.settledMb)}`);
    }
  }
}
