// Test support: real databases (a fresh SQLite file, a fresh PostgreSQL database), a real gateway on an
// ephemeral port, and a small protocol client.
import { after } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, packageRoot, type Config } from '../src/config.js';
import { createLogger, engineOf, ensureAdmin, openRuntime, syncIndexes, type Runtime } from '../src/runtime.js';
import type { EngineOptions, PassSummary } from '../src/executor/engine.js';
import { startServer, type RunningServer } from '../src/server.js';
import { addUser } from '../src/auth/users.js';

export interface Backend {
  name: 'sqlite' | 'postgresql';
  /** A fresh, empty database. */
  freshUrl(): Promise<string>;
}

/** This test file's temporary folder (its SQLite files and data folders) and those of tmpDir(): removed when it ends. */
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-test-'));
const tmpFolders = [tmpRoot];
const removeTmpFolders = () => {
  for (const dir of tmpFolders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
};
// Also when the file ends without its `after` hooks (process.exit): nothing is left in /tmp either way.
process.once('exit', removeTmpFolders);

/** A fresh folder of its own in /tmp, removed with all it holds when the test file ends. */
export function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wsgate-${prefix}-`));
  tmpFolders.push(dir);
  return dir;
}

const sqlite: Backend = {
  name: 'sqlite',
  async freshUrl() {
    return `file:${path.join(tmpRoot, `${randomBytes(6).toString('hex')}.db`)}`;
  },
};

const pgAdminUrl = process.env.WSGATE_TEST_PG_URL;

/** The databases this test file created: dropped when it ends, with the file's temporary folder. */
const created: string[] = [];

after(async () => {
  await killLeftovers();
  if (created.length) {
    const admin = new pg.Client({ connectionString: pgAdminUrl });
    await admin.connect();
    try {
      // FORCE: a gateway or worker a test left open does not keep its database alive.
      for (const name of created.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  removeTmpFolders();
});

const postgresql: Backend = {
  name: 'postgresql',
  async freshUrl() {
    const name = `wsgate_test_${randomBytes(6).toString('hex')}`;
    created.push(name);
    const admin = new pg.Client({ connectionString: pgAdminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(pgAdminUrl!);
    url.pathname = `/${name}`;
    return url.toString();
  },
};

/** The databases the suite runs on: SQLite always, PostgreSQL when the runner provided one. */
export const backends: Backend[] = pgAdminUrl ? [sqlite, postgresql] : [sqlite];

/** The suite's own operations, loaded as a deployment's are (WSGATE_OPERATIONS_DIR). */
export const fixtureOperations = path.join(packageRoot, 'test', 'fixtures', 'operations');

export const ADMIN_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

export function testEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const dataDir = fs.mkdtempSync(path.join(tmpRoot, 'data-'));
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: databaseUrl,
    WSGATE_DATA_DIR: dataDir,
    WSGATE_SECRET: 'test-secret-test-secret',
    WSGATE_ADMIN_ACCESSKEY: ADMIN_KEY,
    WSGATE_EXECUTOR_SCHEDULE: 'off',
    WSGATE_LOG_LEVEL: 'silent',
    // The suite's own operations (wsgatetest_*, and those of own-operations.test.ts) are script operations.
    WSGATE_OPERATIONS_DIR: fixtureOperations,
    PORT: '0',
    WSGATE_HOST: '127.0.0.1',
    ...extra,
  };
}

export interface Gateway {
  url: string;
  rt: Runtime;
  server: RunningServer;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A real gateway in this process, on an ephemeral port, over a fresh database of the given backend. */
export async function startGateway(backend: Backend, extra: Record<string, string> = {}): Promise<Gateway> {
  const env = testEnv(await backend.freshUrl(), extra);
  const config: Config = loadConfig(env);
  const rt = await openRuntime(config, createLogger(config.logLevel));
  await syncIndexes(rt);
  await ensureAdmin(rt);
  const server = await startServer(rt);
  return {
    url: `${server.url}/webservice.php`,
    rt,
    server,
    env,
    async close() {
      await server.close();
      await rt.close();
    },
  };
}

export async function addTestUser(gw: Gateway, userName: string, password?: string, isAdmin = false) {
  return addUser(gw.rt.db.raw, gw.rt.services.secret, { userName, password, isAdmin }, gw.rt.services.clock.now());
}

export type Envelope = { success: boolean; result?: any; error?: { code: string; message: string }; moreinfo: unknown };

export interface CallOptions {
  method?: 'GET' | 'POST';
  /** POST as a JSON body instead of a form. */
  json?: boolean;
  headers?: Record<string, string>;
}

const formEncode = (params: Record<string, unknown>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'string' ? v : JSON.stringify(v))}`)
    .join('&');

export async function call(url: string, params: Record<string, unknown>, options: CallOptions = {}): Promise<Envelope> {
  const res = await rawCall(url, params, options);
  return (await res.json()) as Envelope;
}

export async function rawCall(url: string, params: Record<string, unknown>, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? 'POST';
  if (method === 'GET') return fetch(`${url}?${formEncode(params)}`, { headers: options.headers });
  if (options.json) {
    return fetch(url, { method, body: JSON.stringify(params), headers: { 'content-type': 'application/json', ...options.headers } });
  }
  return fetch(url, {
    method,
    body: formEncode(params),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
  });
}

export const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** getchallenge + login; returns the session name and user id. */
export async function login(url: string, userName = 'admin', accessKey = ADMIN_KEY) {
  const challenge = await call(url, { operation: 'getchallenge', username: userName }, { method: 'GET' });
  if (!challenge.success) throw new Error(`getchallenge failed: ${JSON.stringify(challenge)}`);
  const res = await call(url, { operation: 'login', username: userName, accessKey: md5(challenge.result.token + accessKey) });
  if (!res.success) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return res.result as { sessionName: string; userId: string; version: string };
}

export const cliPath = path.join(packageRoot, 'dist', 'src', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The processes spawnCli started that have not ended: those a failed test did not get to stop are killed when the file ends. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function killLeftovers() {
  const left = [...running].map((child) => new Promise((resolve) => child.once('close', resolve)));
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(left);
}

/** Runs `wsgate ...` as a child process with the given environment. */
export function spawnCli(args: string[], env: Record<string, string>, input?: string): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.once('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  // A child that ends before reading its input is no failure of the test's; a process that could not be
  // started says so in the run's stderr (its 'close' follows).
  child.stdin!.on('error', () => undefined);
  child.on('error', (error) => (stderr += `(the test could not run the process: ${error.message})\n`));
  child.stdin!.end(input ?? '');
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export const runCli = (args: string[], env: Record<string, string>, input?: string) => spawnCli(args, env, input).done;

export interface Served {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** The URL `pattern` found in its log. */
  url: string;
  /** stdout so far (JSON log lines). */
  out(): string;
}

/** `wsgate serve` or `wsgate work` as a child process logging at info; `pattern` finds the URL to use in its JSON log. */
export async function spawnServed(args: string[], env: Record<string, string>, pattern = /"url":"([^"]+)"/): Promise<Served> {
  const served = spawnCli(args, { ...env, WSGATE_LOG_LEVEL: 'info' });
  let out = '';
  served.child.stdout!.on('data', (d) => (out += d));
  let exited = false;
  void served.done.then(() => (exited = true));
  const url = await until(`wsgate ${args[0]} to listen`, async () => {
    if (exited) throw new Error(`wsgate ${args[0]} exited at start: ${(await served.done).stderr}`);
    return pattern.exec(out)?.[1];
  });
  return { ...served, url, out: () => out };
}

/** SIGTERM, SIGKILL if it has not exited 20 s later; returns once it has. Nothing to do once it has exited. */
export async function stopServed(s: Served | undefined) {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const killer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  await s.done;
  clearTimeout(killer);
}

/**
 * A CLI run as an assertion message: its exit code (or signal), stdout and stderr. Every assertion on a run
 * carries it, so that a failure explains itself (a run that printed nothing says how it ended). Takes
 * spawnSync's results too (`status`).
 */
export const shown = (r: { code?: number | null; status?: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }) =>
  `exit code ${r.code ?? r.status}${r.signal ? ` (signal ${r.signal})` : ''}\nstdout: ${r.stdout || '(empty)'}\nstderr: ${r.stderr || '(empty)'}`;

/** Asserts a CLI run's exit code and that its stdout matches; failures show the whole run. */
export function expectCli(r: CliResult, code: number, stdout?: RegExp): CliResult {
  if (r.code !== code) throw new Error(`expected exit code ${code}, got ${shown(r)}`);
  if (stdout && !stdout.test(r.stdout)) throw new Error(`expected stdout to match ${stdout}, got ${shown(r)}`);
  return r;
}

/** Polls a condition (not a schedule): resolves once it holds, fails after `ms` (generous: a loaded CI machine starts a gateway process slowly). */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One executor pass in this process (a worker pool of its own, closed afterwards), as `wsgate execute` runs. */
export async function runPass(rt: Runtime, overrides: Partial<EngineOptions> = {}): Promise<PassSummary> {
  const engine = engineOf(rt, overrides);
  try {
    return await engine.drain();
  } finally {
    await engine.close();
  }
}

/**
 * Runs `change` (a session ended or a user changed, in this process or by another) and, on PostgreSQL, waits
 * until the gateway has heard of it: its session cache trusts what it read until the notice arrives
 * (src/db/session-notices.ts). On SQLite the checks of one event-loop turn share a mark read less than 1 ms
 * before (src/db/raw.ts): the next check after 2 ms reads it afresh.
 */
export async function heard<T>(gw: Gateway, change: () => Promise<T>): Promise<T> {
  const before = gw.rt.db.dialect.name === 'postgresql' ? await gw.rt.db.raw.changeMark?.() : undefined;
  const result = await change();
  for (let i = 0; before !== undefined && i < 1_000 && (await gw.rt.db.raw.changeMark!()) === before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  if (before === undefined) await new Promise((resolve) => setTimeout(resolve, 2));
  return result;
}

/** An executable shell script `name` in `dir` (for exec jobs' allow files). */
export function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/**
 * True while any live process of the group exists. Signal 0 answers "none at all" quickly; otherwise /proc
 * tells which of the group's processes still run: a killed process its parent (this test process, for a
 * command the in-process executor started) has not reaped yet is a zombie, ended, not alive.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  if (!fs.existsSync('/proc/self/stat')) return true;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended since the listing
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, the fields after its last ')' do not.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** SIGKILL to the live process groups whose ids scripts wrote to `*.pgid` files in `dir`: a failed test leaves none running. */
export function killGroupsIn(dir: string) {
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.pgid'))) {
    const pgid = Number(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (pgid > 1 && groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
  }
}
