// Prisma CLI configuration for the SQLite schema: the Wasm schema engine through the driver adapter,
// because these machines cannot download Prisma's native engines (README, "Prisma").
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './sqlite/schema.prisma',
  migrations: { path: './sqlite/migrations' },
  async adapter() {
    return new PrismaBetterSQLite3({ url: process.env.WSGATE_SQLITE_FILE ?? 'file:./data/prisma-cli.db' });
  },
});
