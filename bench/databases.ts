// Fresh databases for the benchmark: SQLite files in a temporary folder, PostgreSQL databases created on the
// admin URL. Everything made here is removed by cleanup(). The baselines get the same schema as wsgate by
// running wsgate's own migration files on the raw drivers.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { packageRoot } from '../src/config.js';

export type System = 'sqlite' | 'postgresql';

export class Databases {
  readonly tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgate-bench-'));
  private pgCreated: string[] = [];

  constructor(readonly pgAdminUrl: string | undefined) {}

  /** A fresh, empty database of the system, as a DATABASE_URL. */
  async fresh(system: System, label: string): Promise<string> {
    const suffix = randomBytes(4).toString('hex');
    if (system === 'sqlite') return `file:${path.join(this.tmpRoot, `${label}-${suffix}.db`)}`;
    const name = `wsgate_bench_${label.replace(/\W/g, '_')}_${suffix}`;
    const admin = new pg.Client({ connectionString: this.pgAdminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    this.pgCreated.push(name);
    const url = new URL(this.pgAdminUrl!);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** A folder for a gateway's data (its generated secret, if any). */
  dataDir(): string {
    return fs.mkdtempSync(path.join(this.tmpRoot, 'data-'));
  }

  async cleanup(): Promise<void> {
    if (this.pgCreated.length) {
      const admin = new pg.Client({ connectionString: this.pgAdminUrl });
      try {
        await admin.connect();
        for (const name of this.pgCreated) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch (error) {
        console.error(`could not drop the benchmark databases ${this.pgCreated.join(', ')}: ${(error as Error).message}`);
      } finally {
        await admin.end().catch(() => undefined);
      }
      this.pgCreated = [];
    }
    fs.rmSync(this.tmpRoot, { recursive: true, force: true });
  }
}

export const sqliteFile = (url: string) => url.slice('file:'.length);

function migrationSql(system: System): string {
  const dir = path.join(packageRoot, 'prisma', system, 'migrations');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8'))
    .join('\n');
}

/** A raw better-sqlite3 connection, tuned as wsgate tunes its own (WAL, synchronous=NORMAL), with wsgate's schema. */
export function openRawSqlite(url: string): Database.Database {
  const db = new Database(sqliteFile(url), { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.exec(migrationSql('sqlite'));
  return db;
}

/** A pg pool on the database, with wsgate's schema applied. */
export async function openRawPostgres(url: string, max = 10): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max });
  await pool.query(migrationSql('postgresql'));
  return pool;
}
