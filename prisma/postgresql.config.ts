// Prisma CLI configuration for the PostgreSQL schema (see prisma/sqlite.config.ts for why an adapter).
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './postgresql/schema.prisma',
  migrations: { path: './postgresql/migrations' },
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://localhost/wsgate' });
  },
});
