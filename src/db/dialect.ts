// The statements whose SQL differs between SQLite and PostgreSQL. Everything else is written once
// (Prisma queries, or Prisma.sql templates that Prisma renders with each provider's placeholders).
import { Prisma } from './generated/sqlite/client.js';

export interface ClaimParams {
  now: Date;
  leaseUntil: Date;
  leaseToken: string;
  limit: number;
}

export interface Dialect {
  /**
   * One statement that reserves up to `limit` claimable entries (queued and due, or running with an expired
   * lease), oldest first, for the caller's lease token, and returns them.
   */
  claimDue(p: ClaimParams): Prisma.Sql;
}

const claimable = (p: ClaimParams) => Prisma.sql`
  SELECT id FROM ws_queued_operation
  WHERE state IN ('queued', 'running') AND available_at <= ${p.now}
  ORDER BY due_at, submitted_at`;

const claimUpdate = (p: ClaimParams, picked: Prisma.Sql) => Prisma.sql`
  UPDATE ws_queued_operation
  SET state = 'running', lease_token = ${p.leaseToken}, available_at = ${p.leaseUntil},
      started_at = ${p.now}, attempts = attempts + 1
  WHERE id IN (${picked})
  RETURNING id, operation, params, user_id, attempts, due_at, submitted_at`;

export const dialects: Record<'sqlite' | 'postgresql', Dialect> = {
  // SQLite: the UPDATE takes the database's write lock before it reads, so the sub-select cannot pick a
  // row another executor is claiming at the same moment.
  sqlite: {
    claimDue: (p) => claimUpdate(p, Prisma.sql`${claimable(p)} LIMIT ${p.limit}`),
  },
  // PostgreSQL: rows another executor is claiming are skipped rather than waited for.
  postgresql: {
    claimDue: (p) => claimUpdate(p, Prisma.sql`${claimable(p)} LIMIT ${p.limit} FOR UPDATE SKIP LOCKED`),
  },
};
