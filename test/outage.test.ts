// Fault tests: the database goes away under load and comes back, with a real `wsgate serve` (its in-process
// executor on) as a child process.
//
// 1. PostgreSQL restarted under load: the test starts its OWN throwaway server (initdb in a temp folder,
//    pg_ctl as the postgres user, a free port; never the suite's shared server), submits deferred creates,
//    stops the server for a few seconds and starts it again. Calls meanwhile answer DATABASE_UNAVAILABLE
//    (HTTP 503) and the gateway stays up; afterwards every accepted operation has exactly one result and
//    exactly one record. Needs Debian's PostgreSQL binaries and root (or the postgres user).
// 2. SQLite on a small file system: the database on a tmpfs of a few MB (mounted here: needs root) with a
//    filler file beside it; creates with big elements until the disk is full: clear errors, earlier records
//    intact, nothing half-written; deleting the filler brings writes back by themselves. Where `mount` is not
//    permitted the test is skipped, saying so: SQLite's `PRAGMA max_page_count` would only limit the
//    connection that sets it, not the gateway's and its executor's own, so it would not test the real thing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { login, rawCall, spawnServed, stopServed, testEnv, tmpDir, until, type Envelope, type Served } from './support.js';
import { ownPostgres, ownPostgresSkip } from './own-postgres.js';

const NOT_YET = 'Operation not queued or not finished yet';
const DEFER = JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `wsgate serve` as a child process, with its in-process executor polling every second. */
const serve = (env: Record<string, string>) => spawnServed(['serve'], { ...env, WSGATE_EXECUTOR_SCHEDULE: '* * * * * *' });

/** One call; the HTTP status beside the envelope. A failed connection (the server gone) throws. */
async function ws(url: string, params: Record<string, unknown>): Promise<{ status: number; body: Envelope }> {
  const res = await rawCall(url, params);
  return { status: res.status, body: (await res.json()) as Envelope };
}

/** Every log line is JSON; returns the messages of those that say `msg`. */
function logLines(out: string, msg: string) {
  const lines = out.split('\n').filter(Boolean);
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `a log line that is not JSON: ${l.slice(0, 200)}`);
  return lines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).filter((l) => l.msg === msg);
}

/**
 * Polls until every accepted operation has its result (read once, kept in `results`); on timeout the error
 * says where the missing ones stand.
 */
async function allResults(url: string, sessionName: string, accepted: Map<string, string>, ms: number): Promise<Map<string, Envelope>> {
  const results = new Map<string, Envelope>();
  try {
    await until(
      'every accepted operation to have a result',
      async () => {
        for (const id of accepted.keys()) {
          if (results.has(id)) continue;
          const a = await ws(url, { operation: 'getQueuedOperationResult', sessionName, operationTrackingID: id });
          if (a.body.success && a.body.result !== NOT_YET) results.set(id, JSON.parse(a.body.result) as Envelope);
        }
        return results.size === accepted.size;
      },
      ms,
    );
  } catch (error) {
    const missing = [...accepted.keys()].filter((id) => !results.has(id));
    const states = await Promise.all(
      missing.map(async (id) => (await ws(url, { operation: 'getQueuedOperationStatus', sessionName, operationTrackingID: id })).body),
    );
    throw new Error(`${(error as Error).message}: ${missing.length} of ${accepted.size} missing: ${JSON.stringify(states).slice(0, 3000)}`);
  }
  return results;
}

/** A failure answer must be the documented one: DATABASE_UNAVAILABLE with HTTP 503. */
function assertUnavailable(a: { status: number; body: Envelope }, what: string) {
  assert.equal(a.body.success, false);
  assert.deepEqual([a.status, a.body.error?.code], [503, 'DATABASE_UNAVAILABLE'], `${what}: ${JSON.stringify(a.body)}`);
  assert.match(a.body.error!.message, /try again/);
}

describe('PostgreSQL restarted under load', { skip: ownPostgresSkip }, () => {
  let served: Served | undefined;
  after(() => stopServed(served));
  const server = ownPostgres();

  test('calls answer DATABASE_UNAVAILABLE while it is down, the gateway stays up, every accepted operation runs exactly once', async () => {
    const url = server.url();
    // A short lease: entries whose outcome could not be recorded are retaken soon if not handed back.
    served = await serve(testEnv(url, { WSGATE_LEASE_SECONDS: '5' }));
    const { sessionName } = await login(served.url);
    const accepted = new Map<string, string>(); // operationTrackingID -> lastname
    let phase = 'before' as 'before' | 'down' | 'after';
    const refused = { before: 0, down: 0, after: 0 };
    let acceptedAfter = 0;
    let submitting = true;
    let n = 0;
    const submitter = (async () => {
      while (submitting) {
        const lastname = `outage-${n++}`;
        const a = await ws(served!.url, {
          operation: 'create',
          sessionName,
          elementType: 'Contacts',
          element: JSON.stringify({ lastname }),
          cbwsOptions: DEFER,
        });
        if (a.body.success) {
          accepted.set(a.body.result.operationTrackingID, lastname);
          if (phase === 'after') acceptedAfter++;
        } else {
          assertUnavailable(a, `submit #${n} (${phase})`);
          refused[phase]++;
        }
        await sleep(10);
      }
    })();
    try {
      await until('some operations accepted', async () => accepted.size >= 20);
      await server.stop();
      phase = 'down';
      await until('a call refused while the database is down', async () => refused.down > 0);
      await sleep(4_000); // the outage lasts a few seconds, calls keep coming
      assert.equal(served.child.exitCode, null, `the gateway exited: ${served.out().slice(-2000)}`);
      await server.start();
      phase = 'after';
      await until('submits accepted again after the restart', async () => acceptedAfter >= 20, 30_000);
    } finally {
      submitting = false;
      await submitter;
    }
    assert.ok(refused.down > 0);

    // Every accepted operation gets its result (read once), the ones accepted before the outage included.
    const results = await allResults(served.url, sessionName, accepted, 45_000);
    for (const [id, r] of results) assert.equal(r.success, true, `${id}: ${JSON.stringify(r)}`);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ lastname: string; n: string }>(
        `SELECT data::json->>'lastname' AS lastname, count(*) AS n FROM ws_record WHERE module = 'Contacts' GROUP BY 1`,
      );
      const made = new Map(rows.map((r) => [r.lastname, Number(r.n)]));
      for (const lastname of accepted.values()) assert.equal(made.get(lastname), 1, `${lastname}: exactly one record`);
      assert.equal(rows.length, accepted.size, 'no record for a refused call');
      const { rows: left } = await db.query(`SELECT state, count(*) AS n FROM ws_queued_operation WHERE state NOT IN ('done') GROUP BY 1`);
      assert.deepEqual(left, [], 'nothing left queued, running or failed');
    } finally {
      await db.end();
    }

    assert.equal(served.child.exitCode, null, 'the gateway is still up');
    const down = logLines(served.out(), 'database unavailable');
    assert.ok(down.length >= 1 && down.length <= 4, `logged once per change of state, not per attempt: ${down.length}`);
    assert.ok(logLines(served.out(), 'database available again').length >= 1);
  });
});

describe('SQLite on a full file system', () => {
  let mnt: string | undefined;
  let mounted = false;
  let served: Served | undefined;

  before(() => {
    mnt = tmpDir('outage-fs');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=10m', 'tmpfs', mnt], { encoding: 'utf8' });
    mounted = m.status === 0;
    if (!mounted) process.stderr.write(`mount not permitted (${(m.stderr || m.error?.message || '').trim()}): the full-disk test is skipped\n`);
  });

  after(async () => {
    await stopServed(served);
    if (mounted) spawnSync('umount', ['-l', mnt!]);
  });

  test('clear errors while the disk is full, nothing half-written, writes back by themselves when space is freed', async (t) => {
    if (!mounted) return t.skip('mount not permitted here (needs root)');
    const filler = path.join(mnt!, 'filler');
    // Most of it: freeing it must leave room for SQLite's checkpoint, which copies the WAL's pages into the
    // database file (as much again as the WAL holds), and for what waits (the deferred creates accepted).
    fs.writeFileSync(filler, Buffer.alloc(6 * 2 ** 20, 1));
    served = await serve(testEnv(`file:${path.join(mnt!, 'wsgate.db')}`));
    const { sessionName } = await login(served.url);
    const big = 'x'.repeat(60_000); // a text field holds 65,535 characters at most
    const create = (lastname: string, deferred: boolean) =>
      ws(served!.url, {
        operation: 'create',
        sessionName,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname, description: big }),
        ...(deferred ? { cbwsOptions: DEFER } : {}),
      });

    const written: string[] = []; // ids of records created synchronously
    const accepted = new Map<string, string>(); // deferred: operationTrackingID -> lastname
    let refusals = 0;
    let i = 0;
    // Fill it: synchronous creates, every third one deferred, until writes are refused a few times.
    await until(
      'the disk to fill up',
      async () => {
        const deferred = i % 3 === 1;
        const lastname = `fill-${i++}`;
        const a = await create(lastname, deferred);
        if (a.body.success) {
          if (deferred) accepted.set(a.body.result.operationTrackingID, lastname);
          else written.push(a.body.result.id);
        } else {
          assertUnavailable(a, `create ${lastname}`);
          assert.match(a.body.error!.message, /disk is full/);
          refusals++;
        }
        return refusals >= 3;
      },
      60_000,
    );
    assert.ok(written.length >= 3, `some records written before the disk filled (${written.length})`);
    assert.equal(served.child.exitCode, null, 'the gateway is up');

    // What was written is intact and readable, and no record is half-written.
    for (const id of written.slice(0, 3)) {
      const r = await ws(served.url, { operation: 'retrieve', sessionName, id });
      assert.equal(r.body.success, true, JSON.stringify(r.body));
      assert.equal(r.body.result.description.length, big.length);
    }
    const readAll = async () => {
      const q = await ws(served!.url, { operation: 'query', sessionName, query: `select lastname, description from Contacts limit 500;` });
      assert.equal(q.body.success, true, JSON.stringify(q.body).slice(0, 500));
      const rows = q.body.result as { lastname: string; description: string }[];
      for (const r of rows) assert.equal(r.description.length, big.length, `${r.lastname} is whole`);
      return rows;
    };
    await readAll();

    // Space returns: writes work again without a restart, and the deferred creates accepted before all run once.
    fs.rmSync(filler);
    const writeAgain = async (deferred: boolean) => {
      const lastname = `after-${i++}`;
      const a = await create(lastname, deferred);
      if (!a.body.success) assertUnavailable(a, `create ${lastname}`);
      else if (deferred) accepted.set(a.body.result.operationTrackingID, lastname);
      return a.body.success;
    };
    await until('a synchronous create to succeed again', () => writeAgain(false), 30_000);
    await until('a deferred create to be accepted again', () => writeAgain(true), 30_000);
    const results = await allResults(served.url, sessionName, accepted, 45_000);
    for (const [id, r] of results) assert.equal(r.success, true, `${id}: ${JSON.stringify(r).slice(0, 300)}`);
    const rows = await readAll();
    const count = (lastname: string) => rows.filter((r) => r.lastname === lastname).length;
    for (const lastname of accepted.values()) assert.equal(count(lastname), 1, `${lastname}: exactly one record`);
    assert.equal(served.child.exitCode, null, 'the gateway is still up');
    assert.ok(logLines(served.out(), 'database unavailable').length >= 1);
  });
});
