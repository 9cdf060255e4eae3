// Dashboard sessions: an admin signs in with user name and access key, and gets a random token in an
// HttpOnly, SameSite=Strict cookie. The session lives in the database (ws_session, under a hash of the
// token that differs from the web service's, so a dashboard cookie is no sessionName): signing out deletes
// it, and it ends like any session (lifetime, idle time, `wsgate user disable`, `user key --rotate`).
// Failed sign-ins count with the logins' throttle. Every change carries a CSRF token derived from the session.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as SQL from '../db/sql.js';
import type { Database } from '../db/client.js';
import { toBoolean, toDate } from '../db/values.js';
import { randomHex, type Secret } from '../auth/secret.js';
import type { LoginThrottle } from '../auth/throttle.js';
import type { SessionPolicy } from '../auth/login.js';
import { WsError } from '../errors.js';

export interface SessionDeps {
  db: Database;
  secret: Secret;
  clock: { now(): Date };
  throttle: LoginThrottle;
  policy: SessionPolicy;
}

export interface DashboardUser {
  id: number;
  userName: string;
}

export const COOKIE = 'wsgate_dashboard';

const storedKey = (token: string) => createHash('sha256').update(`wsgate dashboard session\0${token}`).digest('hex');

/** The token a form must send back with every change: bound to the session, made only by this server. */
export const csrfTokenOf = (secret: Secret, token: string) => secret.mac(`dashboard csrf\0${token}`);

export function csrfValid(secret: Secret, token: string, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(csrfTokenOf(secret, token));
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A refused sign-in: the message is shown on the sign-in page. */
export class SignInRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const WRONG = 'Unknown user name or wrong access key';

/** Checks the access key (the key itself, not a challenge's digest: this is a form over HTTPS) and opens a session. */
export async function signIn(deps: SessionDeps, userName: string, accessKey: string, address: string | undefined): Promise<string> {
  const now = deps.clock.now();
  try {
    deps.throttle.check(userName, address, now);
  } catch (error) {
    if (error instanceof WsError) throw new SignInRefused(429, error.message);
    throw error;
  }
  try {
    const [user] =
      userName.length > 255
        ? []
        : await deps.db.raw.query<{ id: unknown; access_key_enc: string; is_admin: unknown; disabled_at: unknown }>(
            SQL.sql`SELECT id, access_key_enc, is_admin, disabled_at FROM ws_user WHERE user_name = ${userName}`,
          );
    const stored = user ? deps.secret.decrypt(user.access_key_enc) : '';
    const a = Buffer.from(createHash('sha256').update(stored).digest('hex'));
    const b = Buffer.from(createHash('sha256').update(accessKey).digest('hex'));
    if (!user || !timingSafeEqual(a, b)) {
      deps.throttle.failed(userName, address, deps.clock.now());
      throw new SignInRefused(401, WRONG);
    }
    deps.throttle.succeeded(userName);
    // Told only to the key's holder.
    if (user.disabled_at !== null && user.disabled_at !== undefined) throw new SignInRefused(403, 'This user is disabled');
    if (!toBoolean(user.is_admin)) throw new SignInRefused(403, 'The dashboard is for admin users only');
    const token = randomHex(32);
    await deps.db.raw.execute(SQL.sql`
      INSERT INTO ws_session (id, user_id, created_at, last_seen_at) VALUES (${storedKey(token)}, ${Number(user.id)}, ${now}, ${now})`);
    return token;
  } finally {
    deps.throttle.done(userName, address);
  }
}

/** The admin a session token belongs to, or null (unknown, ended, expired, idle, not admin any more). */
export async function sessionUser(deps: SessionDeps, token: string | undefined): Promise<DashboardUser | null> {
  if (!token || !/^[0-9a-f]{64}$/.test(token)) return null;
  const key = storedKey(token);
  const [row] = await deps.db.raw.query<{ created_at: unknown; last_seen_at: unknown; user_id: unknown; user_name: string; is_admin: unknown }>(SQL.sql`
    SELECT s.created_at, s.last_seen_at, u.id AS user_id, u.user_name, u.is_admin
    FROM ws_session s JOIN ws_user u ON u.id = s.user_id
    WHERE s.id = ${key} AND u.disabled_at IS NULL`);
  if (!row || !toBoolean(row.is_admin)) return null;
  const now = deps.clock.now();
  const age = now.getTime() - toDate(row.created_at).getTime();
  const idle = now.getTime() - toDate(row.last_seen_at).getTime();
  if (age > deps.policy.sessionLifetimeSeconds * 1000 || idle > deps.policy.sessionIdleSeconds * 1000) {
    await deps.db.raw.execute(SQL.sql`DELETE FROM ws_session WHERE id = ${key}`);
    return null;
  }
  if (idle > Math.min(15_000, deps.policy.sessionIdleSeconds * 100)) {
    await deps.db.raw.execute(SQL.sql`UPDATE ws_session SET last_seen_at = ${now} WHERE id = ${key}`);
  }
  return { id: Number(row.user_id), userName: row.user_name };
}

export async function signOut(deps: SessionDeps, token: string): Promise<void> {
  await deps.db.raw.execute(SQL.sql`DELETE FROM ws_session WHERE id = ${storedKey(token)}`);
}
