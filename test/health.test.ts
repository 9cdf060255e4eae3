// GET /healthz and GET /readyz: 200 while the process can serve, 503 with a JSON reason when it cannot.
// - PostgreSQL: the test starts its OWN throwaway server (initdb in a temp folder, pg_ctl as the postgres
//   user, a free port; never the suite's shared server) under a real `wsgate serve` with its executor on,
//   stops it (503: database unreachable; /healthz stays 200), starts it again (200).
// - SQLite has no server to stop: "the database goes away" is its file disappearing from under the process
//   (a volume unmounted, the file moved or deleted): the process would keep writing to a file no other
//   process sees. The test moves the file away (503: gone) and back (200).
// - Both: a migration missing from the database is 503 until it is back; an executor in the process that
//   has not reported in is 503; `wsgate work` answers the three paths on WSGATE_METRICS_PORT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packageRoot } from '../src/config.js';
import { backends, spawnCli, startGateway, testEnv, until, type CliResult, type Gateway, tmpDir } from './support.js';
import type { ChildProcess } from 'node:child_process';

// Every answer of /healthz and /readyz is checked against openapi.yaml's schemas.
const spec = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const schemas = { '/healthz': ajv.compile(spec.components.schemas.Health), '/readyz': ajv.compile(spec.components.schemas.Readiness) };

const run = promisify(execFile);

interface Served {
  child: ChildProcess;
  done: Promise<CliResult>;
  url: string;
}

/** `wsgate serve` or `wsgate work` as a child process; `pattern` finds its URL in its JSON log. */
async function spawnWsgate(args: string[], env: Record<string, string>, pattern: RegExp): Promise<Served> {
  const served = spawnCli(args, { ...env, WSGATE_LOG_LEVEL: 'info' });
  let out = '';
  served.child.stdout!.on('data', (d) => (out += d));
  let exited = false;
  void served.done.then(() => (exited = true));
  const url = await until(
    `${args[0]} to listen`,
    async () => {
      if (exited) throw new Error(`wsgate ${args[0]} exited at start: ${(await served.done).stderr}`);
      return pattern.exec(out)?.[1];
    },
    60_000,
  );
  return { ...served, url };
}

async function stop(s: Served | undefined) {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const killer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  await s.done;
  clearTimeout(killer);
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  const body = await res.json();
  const path = new URL(url).pathname as keyof typeof schemas;
  if (schemas[path]) {
    assert.ok(schemas[path](body), `${path} does not match openapi.yaml: ${ajv.errorsText(schemas[path].errors)} ${JSON.stringify(body)}`);
    assert.ok(spec.paths[path].get.responses[String(res.status)], `${path} answered ${res.status}, not in openapi.yaml`);
  }
  return { status: res.status, body };
}

const readyWith = (base: string, status: number) =>
  until(
    `/readyz ${status}`,
    async () => {
      const r = await get(`${base}/readyz`);
      return r.status === status ? r : null;
    },
    60_000,
  );

const pgBin = (() => {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).sort((a, b) => Number(a) - Number(b));
  const bin = versions.length ? path.join(root, versions.at(-1)!, 'bin') : null;
  return bin && fs.existsSync(path.join(bin, 'pg_ctl')) ? bin : null;
})();
const isRoot = process.getuid?.() === 0;
const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
  os.userInfo().username === 'postgres' ? [cmd, args] : ['runuser', ['-u', 'postgres', '--', cmd, ...args]];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The executor polls every second; one worker and no call workers start fast on a busy machine. */
const SERVE = { WSGATE_EXECUTOR_SCHEDULE: '* * * * * *', WSGATE_MAX_WORKERS: '1', WSGATE_CALL_WORKERS: '0', WSGATE_LEASE_SECONDS: '3' };

describe('readyz when PostgreSQL goes away and comes back', {
  skip: !pgBin || (!isRoot && os.userInfo().username !== 'postgres') ? 'needs PostgreSQL server binaries and root' : false,
}, () => {
  let dir: string;
  let port: number;
  let served: Served | undefined;
  const pgCtl = (...args: string[]) => run(...asPostgres(path.join(pgBin!, 'pg_ctl'), ['-D', dir, ...args]), { timeout: 60_000 });
  const startPg = () => pgCtl('-l', path.join(dir, 'server.log'), '-w', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`, 'start');

  before(async () => {
    dir = tmpDir('health-pg');
    fs.chmodSync(dir, 0o755);
    if (isRoot) spawnSync('chown', ['postgres', dir]);
    await run(...asPostgres(path.join(pgBin!, 'initdb'), ['-D', dir, '--auth=trust', '-U', 'postgres']), { timeout: 60_000 });
    port = await freePort();
    await startPg();
  });

  after(async () => {
    await stop(served);
    if (dir) {
      await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('503 with the reason while the server is stopped, 200 again once it is back; healthz stays 200', async () => {
    served = await spawnWsgate(['serve'], testEnv(`postgresql://postgres@127.0.0.1:${port}/postgres`, SERVE), /"url":"(http:[^"]+)\/webservice\.php"/);
    const ready = await readyWith(served.url, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { database: 'ok', migrations: 'ok', executor: 'ok' } });

    await pgCtl('-m', 'fast', 'stop');
    const down = await readyWith(served.url, 503);
    assert.equal(down.body.status, 'not ready');
    assert.match(down.body.checks.database, /^unreachable: /);
    assert.match(down.body.reason, /database: unreachable/);
    const health = await get(`${served.url}/healthz`);
    assert.equal(health.status, 200, 'the process is up all the same');
    assert.equal(health.body.status, 'ok');

    await startPg();
    const back = await readyWith(served.url, 200);
    assert.equal(back.body.checks.database, 'ok');
    assert.equal(served.child.exitCode, null);
  });
});

describe('readyz when the SQLite file goes away and comes back', () => {
  let served: Served | undefined;
  after(() => stop(served));

  test('the database file moved away: 503 naming it; moved back: 200', async () => {
    const url = await backends[0]!.freshUrl();
    const file = url.slice('file:'.length);
    served = await spawnWsgate(['serve'], testEnv(url, SERVE), /"url":"(http:[^"]+)\/webservice\.php"/);
    await readyWith(served.url, 200);
    fs.renameSync(file, `${file}.moved`);
    try {
      const gone = await get(`${served.url}/readyz`);
      assert.equal(gone.status, 503);
      assert.match(gone.body.checks.database, /the database file .* is gone or was replaced/);
    } finally {
      fs.renameSync(`${file}.moved`, file);
    }
    await readyWith(served.url, 200);
  });
});

for (const backend of backends) {
  describe(`health on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => (gw = await startGateway(backend)));
    after(() => gw.close());

    test('healthz 200; readyz 200 without an executor in the process, 503 while a migration is missing', async () => {
      const base = gw.server.url;
      const health = await get(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(health.body.status, 'ok');
      const ready = await get(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body.checks, { database: 'ok', migrations: 'ok', executor: 'none in this process' });

      const [last] = await gw.rt.db.prisma.$queryRaw<{ id: string; migration_name: string }[]>`
        SELECT id, migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1`;
      const rename = (name: string) => gw.rt.db.prisma.$executeRaw`UPDATE _prisma_migrations SET migration_name = ${name} WHERE id = ${last!.id}`;
      await rename(`hidden-${last!.migration_name}`);
      try {
        const missing = await get(`${base}/readyz`);
        assert.equal(missing.status, 503);
        assert.match(missing.body.checks.migrations, /^1 of \d+ migrations not applied$/);
        assert.equal(missing.body.reason, `migrations: ${missing.body.checks.migrations}`);
      } finally {
        await rename(last!.migration_name);
      }
      assert.equal((await get(`${base}/readyz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`, { method: 'POST' })).status, 405);
    });

    test('`wsgate work` answers /metrics, /healthz and /readyz on WSGATE_METRICS_PORT, nothing else', async () => {
      let worker: Served | undefined;
      try {
        worker = await spawnWsgate(['work'], { ...gw.env, WSGATE_METRICS_PORT: '0', WSGATE_MAX_WORKERS: '2' }, /"metrics":"(http:[^"]+)"/);
        const ready = await readyWith(worker.url, 200);
        assert.equal(ready.body.checks.executor, 'ok', 'its listener heartbeats');
        assert.equal((await get(`${worker.url}/healthz`)).status, 200);
        const metrics = await fetch(`${worker.url}/metrics`);
        assert.equal(metrics.status, 200);
        const text = await metrics.text();
        assert.match(text, /^wsgate_worker_threads\{pool="executor",state="free"\} 2$/m);
        assert.match(text, /^wsgate_queue_entries\{queue="default",state="waiting"\} 0$/m);
        const other = await get(`${worker.url}/webservice.php`);
        assert.equal(other.status, 404);
        assert.equal(other.body.error.code, 'NOT_FOUND');
      } finally {
        await stop(worker);
      }
    });
  });
}
