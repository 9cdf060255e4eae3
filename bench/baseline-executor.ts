// Metric 2, baseline side: a claim+complete loop on the raw driver (no Prisma) over a table identical to
// ws_queued_operation, pre-filled with N due rows. It claims batches of claimBatch with the same statement
// shape as wsgate's dialect (UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING
// ...), and runs each claimed row in its own transaction: one INSERT into ws_record (the operation's write)
// and one UPDATE storing its envelope and marking it done (the completion), committed together, as wsgate
// does. BEGIN IMMEDIATE on SQLite, as wsgate's adapter does.
import { nanoid } from 'nanoid';
import { openRawPostgres, openRawSqlite, type Databases, type System } from './databases.js';
import { CREATE_PARAMS, measurement, type ExecutorMeasurement, type ExecutorSettings } from './executor-common.js';

const LEASE_MS = 300_000;
const RESULT_TTL_MS = 604_800_000;
const USER_ID = 1;

interface ClaimedRow {
  id: string;
  operation: string;
  params: string;
  user_id: number;
  attempts: number;
  due_at: unknown;
}

const dateTime = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** What wsgate's create answers for a Contacts record: every field, the owner, the times, the id. */
function createdEnvelope(recordId: number | bigint, ownerId: number, fields: Record<string, string>, now: number): string {
  const record: Record<string, string> = {};
  for (const f of ['firstname', 'lastname', 'email', 'phone', 'birthday', 'donotcall', 'description']) record[f] = fields[f] ?? '';
  record.assigned_user_id = `19x${ownerId}`;
  record.createdtime = dateTime(now);
  record.modifiedtime = dateTime(now);
  record.id = `12x${recordId}`;
  return JSON.stringify({ success: true, result: record, moreinfo: null });
}

function parseOperation(row: ClaimedRow): { module: string; fields: Record<string, string> } {
  if (row.operation !== 'create') throw new Error(`unexpected operation ${row.operation}`);
  const params = JSON.parse(row.params) as { elementType: string; element: Record<string, string> };
  return { module: params.elementType, fields: params.element };
}

const CLAIMABLE = `SELECT id FROM ws_queued_operation
  WHERE state IN ('queued', 'running') AND available_at <= $now
  ORDER BY available_at, submitted_at`;

const claimSql = (picked: string) => `UPDATE ws_queue_entry
  SET state = 'running', lease_token = $token, available_at = $leaseUntil, started_at = $now, attempts = attempts + 1
  WHERE id IN (${picked})
  RETURNING id, operation, params, user_id, attempts, due_at`;

const COMPLETE = `UPDATE ws_queue_entry
  SET state = 'done', result = $result, finished_at = $now, lease_token = NULL, params = '{}', result_expires_at = $expires
  WHERE id = $id AND lease_token = $token AND state = 'running'`;

const INSERT_RECORD = `INSERT INTO ws_record (module, owner_id, data, created_at, modified_at) VALUES ($module, $owner, $data, $now, $now) RETURNING id`;

const ENQUEUE_COLUMNS = 'id, operation, params, user_id, state, available_at, due_at, submitted_at, attempts';

// -------------------------------------------------------------------------------------------- SQLite

function sqliteExecutor(url: string) {
  const db = openRawSqlite(url);
  const sqlite = (sql: string) => sql.replace(/\$(\w+)/g, '@$1');
  const enqueueStmt = db.prepare(`INSERT INTO ws_queue_entry (${ENQUEUE_COLUMNS}) VALUES (?, 'create', ?, ?, 'queued', ?, ?, ?, 0)`);
  const claimStmt = db.prepare(sqlite(claimSql(`${CLAIMABLE} LIMIT $limit`)));
  const insertRecord = db.prepare(sqlite(INSERT_RECORD));
  const completeStmt = db.prepare(sqlite(COMPLETE));
  const runOne = db.transaction((row: ClaimedRow, token: string): boolean => {
    const { module, fields } = parseOperation(row);
    const now = Date.now();
    const { id } = insertRecord.get({ module, owner: row.user_id, data: JSON.stringify(fields), now }) as { id: number };
    const result = createdEnvelope(id, row.user_id, fields, now);
    return completeStmt.run({ result, now, expires: now + RESULT_TTL_MS, id: row.id, token }).changes === 1;
  });
  return {
    async fill(count: number) {
      const base = Date.now() - 60_000;
      const params = JSON.stringify(CREATE_PARAMS);
      db.transaction(() => {
        for (let i = 0; i < count; i++) enqueueStmt.run(nanoid(), params, USER_ID, base, base, base + i);
      })();
    },
    async pass(limit: number): Promise<{ run: number; lost: number }> {
      let run = 0;
      let lost = 0;
      for (;;) {
        const token = nanoid();
        const now = Date.now();
        const rows = claimStmt.all({ token, leaseUntil: now + LEASE_MS, now, limit }) as ClaimedRow[];
        if (rows.length === 0) break;
        for (const row of rows) {
          if (runOne.immediate(row, token)) run++;
          else lost++;
        }
      }
      return { run, lost };
    },
    async counts() {
      return db
        .prepare(
          `SELECT COUNT(*) AS entries, SUM(state = 'done') AS done, SUM(result LIKE '{"success":true%') AS succeeded,
                  (SELECT COUNT(*) FROM ws_record) AS records
           FROM ws_queued_operation`,
        )
        .get() as { entries: number; done: number; succeeded: number; records: number };
    },
    async close() {
      db.close();
    },
  };
}

// ---------------------------------------------------------------------------------------- PostgreSQL

/** $name placeholders to $1..$n, and the values in that order. */
function positional(sql: string) {
  const names: string[] = [];
  const text = sql.replace(/\$(\w+)/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { text, values: (v: Record<string, unknown>) => names.map((n) => v[n]) };
}

async function postgresExecutor(url: string) {
  const pool = await openRawPostgres(url, 2);
  const client = await pool.connect();
  const claimQ = positional(claimSql(`${CLAIMABLE} LIMIT $limit FOR UPDATE SKIP LOCKED`));
  const insertQ = positional(INSERT_RECORD);
  const completeQ = positional(COMPLETE);
  const runOne = async (row: ClaimedRow, token: string): Promise<boolean> => {
    await client.query('BEGIN');
    try {
      const { module, fields } = parseOperation(row);
      const now = new Date();
      const inserted = await client.query(insertQ.text, insertQ.values({ module, owner: row.user_id, data: JSON.stringify(fields), now }));
      const result = createdEnvelope(inserted.rows[0].id, row.user_id, fields, now.getTime());
      const done = await client.query(completeQ.text, completeQ.values({ result, now, expires: new Date(now.getTime() + RESULT_TTL_MS), id: row.id, token }));
      await client.query('COMMIT');
      return done.rowCount === 1;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  };
  return {
    async fill(count: number) {
      const base = Date.now() - 60_000;
      const ids = Array.from({ length: count }, () => nanoid());
      const submitted = ids.map((_, i) => new Date(base + i));
      await client.query(
        `INSERT INTO ws_queue_entry (${ENQUEUE_COLUMNS})
         SELECT id, 'create', $3, $4, 'queued', $5, $5, submitted_at, 0
         FROM unnest($1::text[], $2::timestamp(3)[]) AS t(id, submitted_at)`,
        [ids, submitted, JSON.stringify(CREATE_PARAMS), USER_ID, new Date(base)],
      );
    },
    async pass(limit: number): Promise<{ run: number; lost: number }> {
      let run = 0;
      let lost = 0;
      for (;;) {
        const token = nanoid();
        const now = new Date();
        const { rows } = await client.query<ClaimedRow>(claimQ.text, claimQ.values({ token, leaseUntil: new Date(now.getTime() + LEASE_MS), now, limit }));
        if (rows.length === 0) break;
        for (const row of rows) {
          if (await runOne(row, token)) run++;
          else lost++;
        }
      }
      return { run, lost };
    },
    async counts() {
      const { rows } = await client.query(
        `SELECT COUNT(*) AS entries, COUNT(*) FILTER (WHERE state = 'done') AS done,
                COUNT(*) FILTER (WHERE result LIKE '{"success":true%') AS succeeded,
                (SELECT COUNT(*) FROM ws_record) AS records
         FROM ws_queued_operation`,
      );
      const r = rows[0];
      return { entries: Number(r.entries), done: Number(r.done), succeeded: Number(r.succeeded), records: Number(r.records) };
    },
    async close() {
      client.release();
      await pool.end();
    },
  };
}

// ------------------------------------------------------------------------------------------- measure

export async function measureBaselineExecutor(system: System, dbs: Databases, s: ExecutorSettings): Promise<ExecutorMeasurement> {
  const url = await dbs.fresh(system, 'exec_base');
  const ex = system === 'sqlite' ? sqliteExecutor(url) : await postgresExecutor(url);
  try {
    const problems: string[] = [];
    if (s.warmup > 0) {
      await ex.fill(s.warmup);
      const w = await ex.pass(s.claimBatch);
      if (w.run !== s.warmup || w.lost) problems.push(`warm-up pass: ${JSON.stringify(w)}`);
    }
    await ex.fill(s.n);
    const started = performance.now();
    const summary = await ex.pass(s.claimBatch);
    const ms = performance.now() - started;

    const total = s.warmup + s.n;
    if (summary.run !== s.n || summary.lost) problems.push(`pass ran ${summary.run} (lost ${summary.lost}), expected ${s.n}`);
    const c = await ex.counts();
    if (Number(c.entries) !== total || Number(c.done) !== total) problems.push(`${c.done} of ${c.entries} entries done, expected ${total}`);
    if (Number(c.succeeded) !== total) problems.push(`${c.succeeded} success envelopes stored, expected ${total}`);
    if (Number(c.records) !== total) problems.push(`${c.records} records created, expected ${total}`);
    return measurement(s.n, ms, problems);
  } finally {
    await ex.close();
  }
}
