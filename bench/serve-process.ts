// A real `wsgate serve` process, started as users start it (the CLI, `node dist/src/cli.js serve`), with its
// in-process executor on (the default schedule; enqueues wake it at once), on a fresh database. Its
// resident memory is read from /proc/PID/status (VmRSS: the process and every worker thread, which share it).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { packageRoot } from '../src/config.js';
import { ADMIN_KEY } from './wsgate.js';

export interface ServeProcess {
  pid: number;
  /** The webservice endpoint. */
  url: string;
  /** Resident memory of the process in MB (threads included), or null once it ended. */
  rssMb(): number | null;
  /** CPU seconds the process has used so far, user and system, all its threads. */
  cpuSeconds(): number | null;
  /** SIGTERM, then waits for the process to end (running operations finish within its grace). */
  stop(): Promise<number | null>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

export function rssMbOf(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux, whatever the kernel's HZ). */
const USER_HZ = 100;

export function cpuSecondsOf(pid: number): number | null {
  try {
    // The fields after the command name (which may hold spaces), from its closing parenthesis: utime and stime are the 12th and 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return null;
  }
}

/** `WSGATE_BENCH_SERVE_NODE_FLAGS`, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: Node flags for the serve process (profiles). */
const nodeFlags = () => (process.env.WSGATE_BENCH_SERVE_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** `WSGATE_BENCH_SERVE_ENV`, e.g. `WSGATE_CLAIM_GATHER_MS=0`: settings of the serve process (space-separated), to compare them in turn. */
const settings = () =>
  Object.fromEntries(
    (process.env.WSGATE_BENCH_SERVE_ENV ?? '')
      .split(' ')
      .filter(Boolean)
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );

/** Starts `wsgate serve` on `databaseUrl` and waits until GET /readyz answers 200. `env` adds or overrides settings. */
export async function startServe(databaseUrl: string, dataDir: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags(), path.join(packageRoot, 'dist', 'src', 'cli.js'), 'serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      WSGATE_DATA_DIR: dataDir,
      WSGATE_SECRET: 'bench-secret-bench-secret',
      WSGATE_ADMIN_ACCESSKEY: ADMIN_KEY,
      WSGATE_LOG_LEVEL: 'warn',
      // One user submits everything: a user's default quota (10,000 queued entries) would refuse the backlog.
      WSGATE_QUOTA_QUEUED: '2147483647',
      WSGATE_QUOTA_QUEUED_BYTES: '2147483647',
      PORT: String(port),
      WSGATE_HOST: '127.0.0.1',
      ...settings(),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000; // a start takes seconds, on a loaded machine a minute or more
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wsgate serve exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('wsgate serve was not ready within 180 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid!;
  return {
    pid,
    url: `${base}/webservice.php`,
    rssMb: () => rssMbOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    async stop() {
      const end = exited(child);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      try {
        return await end;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
