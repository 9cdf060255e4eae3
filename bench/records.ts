// Metrics 3-5: `query` over 100,000 records (an equality filter and a prefix `like 'x%'` filter on an indexed
// field) and MassCreate of 1,000 elements, for wsgate over HTTP and for the same work done with raw SQL on
// the driver, in the same run, on the same database (so both sides use the same index).
//
// The baseline is what a developer would write by hand against this schema: the one SELECT that uses the
// field index, or multi-row INSERTs of the same 1,000 records in one transaction. wsgate's side is a real
// client's: HTTP, session check, VTQL parse and translation, the statement, and shaping the answer.
//
// `query` is measured twice over HTTP: one sequential client in the server's own thread (fetch), whose own
// cost (~280 us a call here, BENCHMARKS.md) is in the figure; and the way the submits row measures, autocannon
// with several keep-alive connections in a thread of its own, as clients in other processes would call: what
// the gateway answers per second. The baseline is the same sequential SELECT on the driver for both.
import Database from 'better-sqlite3';
import pg from 'pg';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import type { Databases, System } from './databases.js';
import { sqliteFile } from './databases.js';
import { login, startGateway } from './wsgate.js';
import { runLoad } from './load.js';
import { createDispatcher } from '../src/protocol/dispatch.js';

export interface RecordsSettings {
  /** Records of the module queried (100,000). */
  records: number;
  /** Queries per measured run (after a tenth as many unmeasured). */
  queries: number;
  /** MassCreate calls of 1,000 elements, measured (after one unmeasured). */
  massCalls: number;
  /** The concurrent `query` rows: autocannon's connections, seconds measured and seconds of warm-up (the submits row's). */
  load: { connections: number; durationSeconds: number; warmupSeconds: number };
}

export interface RecordsRow {
  metric: string;
  unit: string;
  wsgate: number;
  baseline: number;
  problems: { wsgate: string[]; baseline: string[] };
  details: { wsgate: unknown; baseline: unknown };
}

/** 10,000 distinct surnames: an equality filter matches 10 records, a prefix of the first 5 characters about 10. */
const surname = (i: number) => `Sur${String(i % 10_000).padStart(5, '0')}`;
const MASS = 1_000;

interface RawSide {
  select(sql: string, values: unknown[]): Promise<unknown[]>;
  /** Runs the statements in one transaction. */
  inTransaction(statements: { sql: string; values: unknown[] }[]): Promise<void>;
  close(): Promise<void>;
}

function rawSide(system: System, url: string): RawSide {
  if (system === 'sqlite') {
    const db = new Database(sqliteFile(url), { timeout: 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const cache = new Map<string, Database.Statement>();
    const prepared = (sql: string) => {
      let s = cache.get(sql);
      if (!s) cache.set(sql, (s = db.prepare(sql)));
      return s;
    };
    return {
      async select(sql, values) {
        return prepared(sql).all(...values);
      },
      async inTransaction(statements) {
        db.transaction(() => {
          for (const s of statements) prepared(s.sql).run(...s.values);
        })();
      },
      async close() {
        db.close();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    async select(sql, values) {
      return (await pool.query({ text: sql, values, name: `q${sql.length}` })).rows;
    },
    async inTransaction(statements) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        for (const s of statements) await client.query(s.sql, s.values);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The hand-written SELECTs, on the expressions the field index holds (src/vtql/columns.ts). */
function handWritten(system: System) {
  const p = (n: number) => (system === 'sqlite' ? '?' : `$${n}`);
  const text = system === 'sqlite' ? `COALESCE(json_extract(data, '$.lastname'), '')` : `(COALESCE(data::jsonb ->> 'lastname', '') COLLATE "C")`;
  const like = system === 'sqlite' ? 'LIKE' : 'ILIKE';
  const head = `SELECT id, owner_id, created_at, modified_at, data FROM ws_record WHERE module = 'Contacts'`;
  return {
    equality: `${head} AND lower(${text}) = lower(${p(1)}) AND ${text} = ${p(2)} ORDER BY id LIMIT 100`,
    prefix: `${head} AND lower(${text}) >= ${p(1)} AND lower(${text}) < ${p(2)} AND ${text} ${like} ${p(3)} ORDER BY id LIMIT 100`,
  };
}

const prefixOf = (i: number) => surname(i).slice(0, 7).toLowerCase(); // 'sur0123' matches Sur01230..Sur01239
const nextPrefix = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

async function timed(n: number, fn: (i: number) => Promise<number>): Promise<{ perSecond: number; ms: number; rows: number }> {
  let rows = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) rows += await fn(i);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { perSecond: (n / ms) * 1000, ms: Math.round(ms), rows };
}

export async function measureRecords(system: System, dbs: Databases, s: RecordsSettings, log: (m: string) => void): Promise<RecordsRow[]> {
  const url = await dbs.fresh(system, 'records');
  const gw = await startGateway(url, dbs.dataDir());
  const raw = rawSide(system, url);
  try {
    log(`${system}: seeding ${s.records.toLocaleString('en-US')} Contacts`);
    const now = new Date();
    for (let i = 0; i < s.records; i += 500) {
      const rows = Array.from(
        { length: Math.min(500, s.records - i) },
        (_, k) =>
          Prisma.sql`('Contacts', 1, ${JSON.stringify({ firstname: `F${i + k}`, lastname: surname(i + k), email: `c${i + k}@example.com` })}, ${now}, ${now})`,
      );
      await gw.rt.db.raw.execute(Prisma.sql`INSERT INTO ws_record (module, owner_id, data, created_at, modified_at) VALUES ${Prisma.join(rows)}`);
    }
    if (system === 'postgresql') await gw.rt.db.raw.execute(Prisma.sql`ANALYZE ws_record`);
    const session = await login(gw.url);
    const vtql = async (query: string): Promise<number> => {
      const res = (await (await fetch(`${gw.url}?operation=query&sessionName=${session}&query=${encodeURIComponent(query)}`)).json()) as {
        success: boolean;
        result: unknown[];
      };
      if (!res.success) throw new Error(`query failed: ${JSON.stringify(res)}`);
      return res.result.length;
    };
    // The same calls without HTTP (the dispatcher the HTTP layer calls), to show where the time goes.
    const dispatcher = createDispatcher(gw.rt.db, gw.rt.registry, gw.rt.services, gw.rt.log);
    const inProcess = async (query: string): Promise<number> => {
      const { envelope } = await dispatcher.dispatch({ params: { operation: 'query', sessionName: session, query } });
      if (!envelope.success) throw new Error(`query failed: ${JSON.stringify(envelope)}`);
      return (envelope.result as unknown[]).length;
    };
    const sql = handWritten(system);
    const warm = Math.max(1, Math.round(s.queries / 10));
    const rows: RecordsRow[] = [];

    for (const kind of ['equality', 'prefix'] as const) {
      const text = (i: number) =>
        kind === 'equality'
          ? `select * from Contacts where lastname = '${surname(i * 7919)}';`
          : `select * from Contacts where lastname like '${prefixOf(i * 7919)}%';`;
      const wsQuery = (i: number) => vtql(text(i));
      const rawQuery = async (i: number) => {
        const name = surname(i * 7919);
        const prefix = prefixOf(i * 7919);
        const values = kind === 'equality' ? [name, name] : [prefix, nextPrefix(prefix), `${prefix}%`];
        return (await raw.select(sql[kind], values)).length;
      };
      log(`${system}: query with ${kind === 'equality' ? 'an equality' : "a like 'x%'"} filter, ${s.queries} queries each side`);
      await timed(warm, wsQuery);
      const w = await timed(s.queries, wsQuery);
      await timed(warm, rawQuery);
      const b = await timed(s.queries, rawQuery);
      await timed(warm, (i) => inProcess(text(i)));
      const d = await timed(s.queries, (i) => inProcess(text(i)));
      log(
        `${system}:   wsgate ${Math.round(w.perSecond)}/s over HTTP (${Math.round(d.perSecond)}/s in process, no HTTP), raw SQL ${Math.round(b.perSecond)}/s`,
      );
      // Each surname has records/10,000 records; a prefix covers ten surnames; a query answers 100 at most.
      const perQuery = Math.min(100, Math.floor(s.records / 10_000) * (kind === 'equality' ? 1 : 10));
      const problems = (r: { rows: number }) => (r.rows !== s.queries * perQuery ? [`answered ${r.rows} rows, expected ${s.queries * perQuery}`] : []);
      const name = `query over ${s.records.toLocaleString('en-US')} records, ${kind === 'equality' ? 'lastname = value' : "lastname like 'x%'"}`;
      const paths = Array.from(
        { length: s.queries },
        (_, i) => `${new URL(gw.url).pathname}?operation=query&sessionName=${session}&query=${encodeURIComponent(text(i))}`,
      );
      const spec = { url: gw.url, body: '', paths, resultLength: perQuery, connections: s.load.connections };
      if (s.load.warmupSeconds > 0) await runLoad({ ...spec, durationSeconds: s.load.warmupSeconds });
      const load = await runLoad({ ...spec, durationSeconds: s.load.durationSeconds });
      log(
        `${system}:   wsgate ${Math.round(load.okPerSecond)}/s over HTTP with ${s.load.connections} connections (p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms)`,
      );
      const loadProblems: string[] = [];
      if (load.ok === 0) loadProblems.push('no successful response');
      if (load.envelopeErrors) loadProblems.push(`${load.envelopeErrors} error envelopes or answers of another length ${JSON.stringify(load.errorCodes)}`);
      if (load.non2xx || load.socketErrors || load.timeouts)
        loadProblems.push(`${load.non2xx} non-2xx, ${load.socketErrors} socket errors, ${load.timeouts} timeouts`);
      rows.push({
        metric: `${name}, one client`,
        unit: 'queries/s',
        wsgate: w.perSecond,
        baseline: b.perSecond,
        problems: { wsgate: problems(w), baseline: problems(b) },
        details: { wsgate: { http: w, inProcess: d }, baseline: b },
      });
      rows.push({
        metric: `${name}, ${s.load.connections} connections`,
        unit: 'queries/s',
        wsgate: load.okPerSecond,
        baseline: b.perSecond,
        problems: { wsgate: loadProblems, baseline: problems(b) },
        details: { wsgate: load, baseline: b },
      });
    }

    log(`${system}: MassCreate of ${MASS} elements, ${s.massCalls} calls each side`);
    let batch = 0;
    const elements = () => Array.from({ length: MASS }, (_, k) => ({ lastname: `Mass${batch}_${k}`, firstname: 'M', email: `m${batch}_${k}@example.com` }));
    const massCreate = async () => {
      batch++;
      const body = new URLSearchParams({
        operation: 'MassCreate',
        sessionName: session,
        elements: JSON.stringify(elements().map((element) => ({ elementType: 'Contacts', element }))),
      });
      const res = (await (await fetch(gw.url, { method: 'POST', body })).json()) as { success: boolean; result: { success_creates: unknown[] } };
      if (!res.success) throw new Error(`MassCreate failed: ${JSON.stringify(res).slice(0, 300)}`);
      return res.result.success_creates.length;
    };
    const rawInsert = async () => {
      batch++;
      const at = new Date();
      const all = elements();
      const statements = [];
      for (let k = 0; k < all.length; k += 500) {
        const chunk = all.slice(k, k + 500);
        const p = (n: number) => (system === 'sqlite' ? '?' : `$${n}`);
        statements.push({
          sql: `INSERT INTO ws_record (module, owner_id, data, created_at, modified_at) VALUES ${chunk.map((_, j) => `('Contacts', 1, ${p(j * 3 + 1)}, ${p(j * 3 + 2)}, ${p(j * 3 + 3)})`).join(', ')}`,
          values: chunk.flatMap((e) => [JSON.stringify(e), system === 'sqlite' ? at.getTime() : at, system === 'sqlite' ? at.getTime() : at]),
        });
      }
      await raw.inTransaction(statements);
      return all.length;
    };
    await massCreate();
    const w = await timed(s.massCalls, massCreate);
    await rawInsert();
    const b = await timed(s.massCalls, rawInsert);
    const wr = (w.rows / w.ms) * 1000;
    const br = (b.rows / b.ms) * 1000;
    log(`${system}:   wsgate ${Math.round(wr)} records/s, raw SQL ${Math.round(br)} records/s`);
    const created = (r: { rows: number }) => (r.rows !== s.massCalls * MASS ? [`created ${r.rows} records, expected ${s.massCalls * MASS}`] : []);
    rows.push({
      metric: `MassCreate of ${MASS.toLocaleString('en-US')} elements`,
      unit: 'records/s',
      wsgate: wr,
      baseline: br,
      problems: { wsgate: created(w), baseline: created(b) },
      details: { wsgate: w, baseline: b },
    });
    return rows;
  } finally {
    await raw.close();
    await gw.close();
  }
}
