// Applies the SQL migrations in prisma/<provider>/migrations at start-up, recording them in Prisma's own
// `_prisma_migrations` table (same columns and checksums), so `prisma migrate deploy` and `migrate status`
// agree with what wsgate did. Done here rather than by spawning the Prisma CLI: the CLI needs its Wasm
// engine and takes seconds per start, and several processes starting at once must not race (PostgreSQL:
// Prisma's advisory lock number; SQLite: BEGIN IMMEDIATE).
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { postgresql, sqlite } from './dialect.js';

const PRISMA_ADVISORY_LOCK = 72707369;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

function checkApplied(applied: Map<string, string>, migrations: Migration[]): Migration[] {
  for (const [name, checksum] of applied) {
    const m = migrations.find((x) => x.name === name);
    if (m && m.checksum !== checksum) throw new Error(`migration ${name} was changed after it was applied`);
  }
  return migrations.filter((m) => !applied.has(m.name));
}

function migrateSqlite(db: BetterSqlite3.Database, migrations: Migration[]): string[] {
  db.exec(sqlite.migrationsTable);
  // Prisma's SQLite migrations rebuild tables (new table, copy, drop, rename) with `PRAGMA foreign_keys=OFF`,
  // which SQLite ignores inside a transaction: turn the checks off around it, and check once at the end.
  db.pragma('foreign_keys = OFF');
  db.exec('BEGIN IMMEDIATE');
  try {
    const rows = db.prepare('SELECT migration_name, checksum FROM _prisma_migrations WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL').all() as {
      migration_name: string;
      checksum: string;
    }[];
    const pending = checkApplied(new Map(rows.map((r) => [r.migration_name, r.checksum])), migrations);
    for (const m of pending) {
      db.exec(m.sql);
      db.prepare(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES (?, ?, ?, ?, ?, 1)`,
      ).run(randomUUID(), m.checksum, Date.now(), m.name, Date.now());
    }
    const broken = db.pragma('foreign_key_check') as { table: string }[];
    if (broken.length > 0) throw new Error(`migrations left rows with broken foreign keys in ${broken[0]!.table}`);
    db.exec('COMMIT');
    return pending.map((m) => m.name);
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

async function migratePostgres(client: pg.ClientBase, migrations: Migration[]): Promise<string[]> {
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
  try {
    await client.query(postgresql.migrationsTable);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM _prisma_migrations WHERE rolled_back_at IS NULL AND finished_at IS NOT NULL',
    );
    const pending = checkApplied(new Map(rows.map((r) => [r.migration_name, r.checksum])), migrations);
    for (const m of pending) {
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(
          `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    }
    return pending.map((m) => m.name);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
  }
}

/** Applies the pending migrations in `dir` to the SQLite file, on a connection of its own. */
export function migrateSqliteFile(file: string, dir: string, busyTimeoutMs: number): string[] {
  // Migrations run once at start, before anything is served: a synchronous wait for the lock is fine.
  // Required here, not imported with the module: PostgreSQL's processes and threads do not load it.
  const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  const db = new Sqlite(file, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    return migrateSqlite(db, readMigrations(dir));
  } finally {
    db.close();
  }
}

/** Applies the pending migrations in `dir` to the PostgreSQL database, on a connection of its own. */
export async function migratePostgresDatabase(url: string, dir: string): Promise<string[]> {
  // node-postgres is loaded only where PostgreSQL is used.
  const { nodePostgres } = await import('./pg.js');
  const client = new nodePostgres.Client({ connectionString: url });
  await client.connect();
  try {
    return await migratePostgres(client, readMigrations(dir));
  } finally {
    await client.end();
  }
}
