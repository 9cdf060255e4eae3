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
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { packageRoot } from '../src/config.js';
import { backends, spawnServed, startGateway, stopServed, testEnv, until, type Gateway, type Served } from './support.js';
import { ownPostgres, ownPostgresSkip } from './own-postgres.js';

// Every answer of /healthz and /readyz is checked against openapi.yaml's schemas.
const spec = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const schemas = { '/healthz': ajv.compile(spec.components.schemas.Health), '/readyz': ajv.compile(spec.components.schemas.Readiness) };

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

/** Where `wsgate serve` answers /healthz and /readyz, found in its log. */
const SERVED_AT = /"url":"(http:[^"]+)\/webservice\.php"/;

/** The executor polls every second; one worker and no call workers start fast on a busy machine. */
const SERVE = { WSGATE_EXECUTOR_SCHEDULE: '* * * * * *', WSGATE_MAX_WORKERS: '1', WSGATE_CALL_WORKERS: '0', WSGATE_LEASE_SECONDS: '3' };

describe('readyz when PostgreSQL goes away and comes back', { skip: ownPostgresSkip }, () => {
  let served: Served | undefined;
  after(() => stopServed(served));
  const server = ownPostgres();

  test('503 with the reason while the server is stopped, 200 again once it is back; healthz stays 200', async () => {
    served = await spawnServed(['serve'], testEnv(server.url(), SERVE), SERVED_AT);
    const ready = await readyWith(served.url, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { database: 'ok', migrations: 'ok', executor: 'ok' } });

    await server.stop();
    const down = await readyWith(served.url, 503);
    assert.equal(down.body.status, 'not ready');
    assert.match(down.body.checks.database, /^unreachable: /);
    assert.match(down.body.reason, /database: unreachable/);
    const health = await get(`${served.url}/healthz`);
    assert.equal(health.status, 200, 'the process is up all the same');
    assert.equal(health.body.status, 'ok');

    await server.start();
    const back = await readyWith(served.url, 200);
    assert.equal(back.body.checks.database, 'ok');
    assert.equal(served.child.exitCode, null);
  });
});

describe('readyz when the SQLite file goes away and comes back', () => {
  let served: Served | undefined;
  after(() => stopServed(served));

  test('the database file moved away: 503 naming it; moved back: 200', async () => {
    const url = await backends[0]!.freshUrl();
    const file = url.slice('file:'.length);
    served = await spawnServed(['serve'], testEnv(url, SERVE), SERVED_AT);
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
        worker = await spawnServed(['work'], { ...gw.env, WSGATE_METRICS_PORT: '0', WSGATE_MAX_WORKERS: '2' }, /"metrics":"(http:[^"]+)"/);
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
        await stopServed(worker);
      }
    });
  });
}
