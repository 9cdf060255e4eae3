// GET /healthz (the process is up and answers) and GET /readyz (it can serve: the database answers, every
// migration this version ships is applied, and the executor this process runs, if any, reports in with its
// heartbeat), for load balancers and orchestrators: 200 or 503 with a JSON reason. Open to anyone: they
// say nothing a caller could use.
import fs from 'node:fs';
import path from 'node:path';
import type Router from '@koa/router';
import * as SQL from '../db/sql.js';
import type { Database } from '../db/client.js';
import { readMigrations } from '../db/migrate.js';
import { parseDatabaseUrl } from '../db/url.js';

/** What readiness asks of an executor running in this process. */
export interface Heartbeating {
  /** Milliseconds since its last successful heartbeat; null before the first. */
  heartbeatAgeMs(): number | null;
  /** Its heartbeat period (ms). */
  readonly heartbeatEveryMs: number;
}

export interface ReadinessOptions {
  db: Database;
  databaseUrl: string;
  /** The folder holding `<provider>/migrations`. */
  migrationsDir: string;
  /** The executor of this process (serve's in-process one, or work's listener); none: not checked. */
  executor?: () => Heartbeating | null;
}

/** A check that takes longer than this counts as failed (the database hangs). */
const CHECK_TIMEOUT_MS = 3_000;
/** An executor whose heartbeat is older than this many periods is not heartbeating. */
const MISSED_HEARTBEATS = 3;

export interface Readiness {
  ready: boolean;
  checks: { database: string; migrations: string; executor: string };
  reason?: string;
}

export function readinessCheck(o: ReadinessOptions): () => Promise<Readiness> {
  const location = parseDatabaseUrl(o.databaseUrl);
  const expected = readMigrations(path.join(o.migrationsDir, o.db.dialect.name, 'migrations')).map((m) => m.name);
  // SQLite: the file open now; a file removed or replaced under the process (a volume unmounted, a restore
  // gone wrong) means the database it serves from is gone for every other process.
  const sqliteFile = location.provider === 'sqlite' && location.file !== ':memory:' ? location.file : null;
  const identity = sqliteFile ? fileIdentity(sqliteFile) : null;

  async function database(): Promise<{ database: string; migrations: string }> {
    if (sqliteFile && fileIdentity(sqliteFile) !== identity) {
      return { database: `the database file ${sqliteFile} is gone or was replaced`, migrations: 'unknown' };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      // One statement answers both: the database serves, and how many of the expected migrations it has.
      const rows = await Promise.race([
        o.db.raw.query<{ n: unknown }>(SQL.sql`
          SELECT count(*) AS n FROM _prisma_migrations
          WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND migration_name IN (${SQL.join(expected)})`),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
      ]);
      const applied = Number(rows[0]?.n ?? 0);
      return {
        database: 'ok',
        migrations: applied === expected.length ? 'ok' : `${expected.length - applied} of ${expected.length} migrations not applied`,
      };
    } catch (error) {
      return {
        database: `unreachable: ${String((error as Error)?.message ?? error)
          .split('\n')[0]!
          .slice(0, 200)}`,
        migrations: 'unknown',
      };
    } finally {
      clearTimeout(timer);
    }
  }

  function executor(): string {
    const e = o.executor?.();
    if (!e) return 'none in this process';
    const age = e.heartbeatAgeMs();
    if (age === null) return 'no heartbeat yet';
    if (age > MISSED_HEARTBEATS * e.heartbeatEveryMs) return `last heartbeat ${Math.round(age / 1000)} s ago`;
    return 'ok';
  }

  return async () => {
    const checks = { ...(await database()), executor: executor() };
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok' && v !== 'none in this process' && v !== 'unknown');
    return failing.length === 0 ? { ready: true, checks } : { ready: false, checks, reason: failing.map(([k, v]) => `${k}: ${v}`).join('; ') };
  };
}

function fileIdentity(file: string): string | null {
  try {
    const s = fs.statSync(file);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

/** Adds GET /healthz and GET /readyz to the router. */
export function addHealthRoutes(router: Router, ready: () => Promise<Readiness>): void {
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  });
  router.get('/readyz', async (ctx) => {
    const r = await ready();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = r.ready ? 200 : 503;
    ctx.body = r.ready ? { status: 'ready', checks: r.checks } : { status: 'not ready', reason: r.reason, checks: r.checks };
  });
}
