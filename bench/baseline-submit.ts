// Baseline for queued submits: a bare Koa app (raw body reading, no router, no Prisma, no session check)
// that parses the same form body, does ONE raw INSERT into a table identical to ws_queued_operation and
// answers an envelope of the same shape with a nanoid tracking id. SQLite: better-sqlite3 with WAL and
// synchronous=NORMAL (as wsgate tunes it). PostgreSQL: a pg Pool of 10 (wsgate's default pool size).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { nanoid } from 'nanoid';
import { openRawPostgres, openRawSqlite, type System } from './databases.js';

export interface BaselineSubmitServer {
  url: string;
  countQueued(): Promise<number>;
  close(): Promise<void>;
}

type Insert = (id: string, operation: string, params: string, userId: number, dueAt: number, submittedAt: number) => Promise<void>;

const INSERT_COLUMNS = 'id, operation, params, user_id, state, available_at, due_at, submitted_at, attempts';

export async function startBaselineSubmit(system: System, databaseUrl: string): Promise<BaselineSubmitServer> {
  let insert: Insert;
  let countQueued: () => Promise<number>;
  let closeDb: () => Promise<void>;
  if (system === 'sqlite') {
    const db = openRawSqlite(databaseUrl);
    // Timestamps as wsgate's Prisma adapter stores them (timestampFormat unixepoch-ms).
    const stmt = db.prepare(`INSERT INTO ws_queue_entry (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, 0)`);
    insert = async (id, operation, params, userId, dueAt, submittedAt) => {
      stmt.run(id, operation, params, userId, dueAt, dueAt, submittedAt);
    };
    countQueued = async () => (db.prepare('SELECT COUNT(*) AS n FROM ws_queued_operation').get() as { n: number }).n;
    closeDb = async () => void db.close();
  } else {
    const pool = await openRawPostgres(databaseUrl, 10);
    const sql = `INSERT INTO ws_queue_entry (${INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, 'queued', $5, $5, $6, 0)`;
    insert = async (id, operation, params, userId, dueAt, submittedAt) => {
      await pool.query(sql, [id, operation, params, userId, new Date(dueAt), new Date(submittedAt)]);
    };
    countQueued = async () => Number((await pool.query('SELECT COUNT(*) AS n FROM ws_queued_operation')).rows[0].n);
    closeDb = () => pool.end();
  }

  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/webservice.php') {
      ctx.status = 404;
      return;
    }
    try {
      const text = await getRawBody(ctx.req, { limit: '1mb', encoding: 'utf8', length: ctx.get('content-length') || undefined });
      const form = new URLSearchParams(text);
      const operation = form.get('operation') ?? '';
      const element = JSON.parse(form.get('element') ?? 'null') as unknown;
      const options = JSON.parse(form.get('cbwsOptions') ?? '{}') as { queuedelay?: number };
      const now = Date.now();
      const id = nanoid();
      await insert(id, operation, JSON.stringify({ elementType: form.get('elementType'), element }), 1, now + (options.queuedelay ?? 0) * 1000, now);
      ctx.type = 'application/json';
      ctx.body = { success: true, result: { operationTrackingID: id }, moreinfo: null };
    } catch (error) {
      ctx.status = 500;
      ctx.type = 'application/json';
      ctx.body = { success: false, error: { code: 'INTERNAL_SERVER_ERROR', message: (error as Error).message }, moreinfo: null };
    }
  });

  const server = http.createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webservice.php`,
    countQueued,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeDb();
    },
  };
}
