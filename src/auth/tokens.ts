// Users' API tokens for the HTTP doors (/jobs, /api/v1): made by `wsgate token add`, shown once, stored as
// their SHA-256 only (a token is 256 random bits, so no slow hash is needed), revocable.
import { createHash, randomBytes } from 'node:crypto';
import * as SQL from '../db/sql.js';
import type { RawSql } from '../db/raw.js';
import { toBoolean, toDate } from '../db/values.js';
import type { WsUser } from './users.js';

/** Every token starts with this, so that a Bearer value is told from a session name without a lookup. */
export const TOKEN_PREFIX = 'wsg_';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export const looksLikeToken = (value: string) => value.startsWith(TOKEN_PREFIX);

export interface ApiTokenRow {
  id: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Makes a token for the user; the token itself is returned here only. */
export async function addToken(raw: RawSql, userId: number, now: Date): Promise<{ id: string; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  // Hex, so that an id never starts with '-' on a command line.
  const id = randomBytes(6).toString('hex');
  await raw.execute(SQL.sql`INSERT INTO ws_api_token (id, user_id, token_hash, created_at) VALUES (${id}, ${userId}, ${hashOf(token)}, ${now})`);
  return { id, token };
}

export async function listTokens(raw: RawSql, userId: number): Promise<ApiTokenRow[]> {
  const rows = await raw.query<{ id: string; created_at: unknown; revoked_at: unknown }>(SQL.sql`
    SELECT id, created_at, revoked_at FROM ws_api_token WHERE user_id = ${userId} ORDER BY created_at, id`);
  return rows.map((r) => ({ id: r.id, createdAt: toDate(r.created_at), revokedAt: r.revoked_at == null ? null : toDate(r.revoked_at) }));
}

/** Revokes a token named by its id or by the token itself. False when there is no such token not yet revoked. */
export async function revokeToken(raw: RawSql, idOrToken: string, now: Date): Promise<boolean> {
  const where = looksLikeToken(idOrToken) ? SQL.sql`token_hash = ${hashOf(idOrToken)}` : SQL.sql`id = ${idOrToken}`;
  return (await raw.execute(SQL.sql`UPDATE ws_api_token SET revoked_at = ${now} WHERE ${where} AND revoked_at IS NULL`)) === 1;
}

/** The user a token belongs to; null when it is unknown, revoked, or its user is disabled. */
export async function userOfToken(raw: RawSql, token: string): Promise<WsUser | null> {
  const [row] = await raw.query<{ id: unknown; user_name: string; is_admin: unknown }>(SQL.sql`
    SELECT u.id, u.user_name, u.is_admin FROM ws_api_token t JOIN ws_user u ON u.id = t.user_id
    WHERE t.token_hash = ${hashOf(token)} AND t.revoked_at IS NULL AND u.disabled_at IS NULL`);
  return row ? { id: Number(row.id), userName: row.user_name, isAdmin: toBoolean(row.is_admin) } : null;
}
