// getchallenge / login / logout and session checks, as coreBOS does them (README, "Protocol").
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DbTx } from '../db/client.js';
import { toBoolean, toDate } from '../db/values.js';
import type { RawSql } from '../db/raw.js';
import * as SQL from '../db/sql.js';
import { WsError } from '../errors.js';
import { databaseUnavailability, isBusy } from '../db/errors.js';
import { randomHex, type PasswordChecker, type Secret } from './secret.js';
import type { LoginThrottle } from './throttle.js';
import type { CheckedSession, SessionCache } from './session-cache.js';
import { formatUserId, type WsUser } from './users.js';

export interface SessionPolicy {
  challengeTtlSeconds: number;
  sessionLifetimeSeconds: number;
  sessionIdleSeconds: number;
}

/** coreBOS's web-service API version, answered by login. */
export const API_VERSION = '0.22';
export const VTIGER_VERSION = '5.4.0';

const unixSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** Longer user names are never looked up or stored (wsgate's own names have at most 64 characters). */
export const MAX_USER_NAME_LENGTH = 255;
/** A token is handed out with at least this long to live (or half the token lifetime, when shorter). */
const MIN_TOKEN_LIFE_MS = 60_000;

/**
 * When the token handed out now expires. Tokens of a user name expire on a schedule of its own: every
 * WSGATE_CHALLENGE_TTL_SECONDS, shifted by a phase derived from the name and the server secret (so that not
 * all tokens expire at once). The same for users and unknown names, so expireTime does not tell them apart.
 * Within the last minute of a period the next period's token is handed out, so that none is about to expire.
 */
function expiryOf(secret: Secret, userName: string, now: Date, policy: SessionPolicy): Date {
  const period = policy.challengeTtlSeconds * 1000;
  const phase = parseInt(secret.mac(`challenge phase\0${userName}`).slice(0, 12), 16) % period;
  const margin = Math.min(MIN_TOKEN_LIFE_MS, Math.floor(period / 2));
  const index = Math.floor((now.getTime() + margin - phase) / period);
  return new Date(phase + (index + 1) * period);
}

/**
 * Hands out the user's unexpired token again, or a new one. A name that is no user gets a token too, so the
 * answer does not tell which users exist; but nothing is stored for it: its token is an HMAC of the name and
 * the period under the server secret, the same on every call until it expires, as a user's is. So no
 * unauthenticated caller can grow the database (its login fails like a wrong key).
 */
export async function getChallenge(db: DbTx, secret: Secret, userName: string, now: Date, policy: SessionPolicy) {
  const expiresAt = expiryOf(secret, userName, now, policy);
  const answer = (token: string, expires: Date) => ({ token, serverTime: unixSeconds(now), expireTime: unixSeconds(expires) });
  if (userName.length <= MAX_USER_NAME_LENGTH) {
    // A read first: most calls find the user's token of this period, and a write would wait for SQLite's
    // write lock, which a long MassUpdate in a call worker or an executor's batch may hold.
    const [known] = await db.query<{ token: string | null; expires_at: unknown }>(SQL.sql`
      SELECT c.token, c.expires_at FROM ws_user u LEFT JOIN ws_challenge c ON c.user_name = u.user_name
      WHERE u.user_name = ${userName}`);
    if (!known) return answer(secret.mac(`challenge token\0${userName}\0${expiresAt.getTime()}`).slice(0, 32), expiresAt);
    if (known.token !== null && toDate(known.expires_at).getTime() >= expiresAt.getTime()) return answer(known.token, toDate(known.expires_at));
    // One statement decides, so that of two concurrent calls neither replaces the token the other handed
    // out; it stores a row only for an existing user, and replaces only a token of an earlier period.
    await db.execute(SQL.sql`
      INSERT INTO ws_challenge (user_name, token, expires_at)
      SELECT user_name, ${randomHex(16)}, ${expiresAt} FROM ws_user WHERE user_name = ${userName}
      ON CONFLICT (user_name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
      WHERE ws_challenge.expires_at < excluded.expires_at`);
    const [row] = await db.query<{ token: string; expires_at: unknown }>(SQL.sql`
      SELECT c.token, c.expires_at FROM ws_challenge c JOIN ws_user u ON u.user_name = c.user_name
      WHERE c.user_name = ${userName}`);
    if (row) return answer(row.token, toDate(row.expires_at));
  }
  return answer(secret.mac(`challenge token\0${userName}\0${expiresAt.getTime()}`).slice(0, 32), expiresAt);
}

/**
 * Sessions are stored under a hash of their name: a session name is a bearer credential, and a copy of the
 * database must not hand out live sessions. 128 random bits need no salt or slow hash.
 */
const sessionKey = (sessionName: string) => createHash('sha256').update(sessionName).digest('hex');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What slows and bounds logins (README, "Login defences"); one per process. */
export interface LoginDefences {
  throttle: LoginThrottle;
  passwords: PasswordChecker;
}

export interface LoginAttempt {
  userName: string;
  accessKey: string;
  /** The client's address, for the failure count per address. */
  address?: string;
  /** Read at the start and again when a failure is counted: the wait starts when the answer is given. */
  clock: { now(): Date };
}

const invalidCredentials = () =>
  new WsError('INVALID_USER_CREDENTIALS', 'Invalid username or password (or the token expired or was used: call getchallenge again)');

/**
 * Every failed login answers INVALID_USER_CREDENTIALS after one scrypt verification (the user's password
 * hash, or a dummy one), whatever failed: unknown name, no token, a used-up token, a wrong key. So neither
 * the answer nor its time tells which names exist. A success uses the token up.
 */
export async function login(db: DbTx, secret: Secret, defences: LoginDefences, attempt: LoginAttempt) {
  const { userName, address, clock } = attempt;
  const now = clock.now();
  defences.throttle.check(userName, address, now);
  try {
    return await checkedLogin(db, secret, defences, attempt, now);
  } finally {
    defences.throttle.done(userName, address);
  }
}

async function checkedLogin(db: DbTx, secret: Secret, defences: LoginDefences, attempt: LoginAttempt, now: Date) {
  const { userName, accessKey, address, clock } = attempt;
  const [user] =
    userName.length > MAX_USER_NAME_LENGTH
      ? []
      : await db.query<{
          id: unknown;
          access_key_enc: string;
          password_hash: string | null;
          token: string | null;
          expires_at: unknown;
          disabled_at: unknown;
        }>(SQL.sql`
    SELECT u.id, u.access_key_enc, u.password_hash, c.token, c.expires_at, u.disabled_at
    FROM ws_user u LEFT JOIN ws_challenge c ON c.user_name = u.user_name
    WHERE u.user_name = ${userName}`);
  const token = user?.token && toDate(user.expires_at) > now ? user.token : null;
  let valid = false;
  if (user && token) {
    const expected = createHash('md5')
      .update(token + secret.decrypt(user.access_key_enc))
      .digest('hex');
    valid = sameText(accessKey.toLowerCase(), expected);
  }
  if (!valid) {
    const hash = user?.password_hash && token && accessKey.startsWith(token) ? user.password_hash : null;
    valid = await defences.passwords.verify(hash ? accessKey.slice(token!.length) : accessKey, hash);
  }
  // coreBOS's answer for an inactive user; given after the key check, so it tells only the key's holder.
  if (valid && user!.disabled_at !== null) throw new WsError('AUTHENTICATION_REQUIRED', 'Given user is inactive');
  // Using the token up is one conditional DELETE: of two logins with one proof, one finds the row.
  if (!valid || (await db.execute(SQL.sql`DELETE FROM ws_challenge WHERE user_name = ${userName} AND token = ${token!} AND expires_at > ${now}`)) !== 1) {
    defences.throttle.failed(userName, address, clock.now());
    throw invalidCredentials();
  }
  defences.throttle.succeeded(userName);
  const userId = Number(user!.id);
  const sessionName = randomHex(16);
  await db.execute(SQL.sql`INSERT INTO ws_session (id, user_id, created_at, last_seen_at) VALUES (${sessionKey(sessionName)}, ${userId}, ${now}, ${now})`);
  return { sessionName, userId: formatUserId(userId), version: API_VERSION, vtigerVersion: VTIGER_VERSION };
}

export async function logout(db: DbTx, sessionName: string, cache?: SessionCache): Promise<void> {
  const key = sessionKey(sessionName);
  await db.execute(SQL.sql`DELETE FROM ws_session WHERE id = ${key}`);
  cache?.forget(key);
}

/**
 * Idle time is tracked to this precision, so that a busy client does not write on every request: 15 s, or a
 * tenth of the idle limit when that is shorter.
 */
const lastSeenGranularityMs = (policy: SessionPolicy) => Math.min(15_000, policy.sessionIdleSeconds * 100);

const endSession = (raw: RawSql, key: string) => raw.execute(SQL.sql`DELETE FROM ws_session WHERE id = ${key}`);

/** The session stored under `key` with its user, or null when there is none (or its user is disabled). */
async function readSession(raw: RawSql, key: string): Promise<CheckedSession | null> {
  const [row] = await raw.query<{ created_at: unknown; last_seen_at: unknown; user_id: unknown; user_name: string; is_admin: unknown }>(SQL.sql`
    SELECT s.created_at, s.last_seen_at, u.id AS user_id, u.user_name, u.is_admin
    FROM ws_session s JOIN ws_user u ON u.id = s.user_id
    WHERE s.id = ${key} AND u.disabled_at IS NULL`);
  if (!row) return null;
  return {
    createdAt: toDate(row.created_at),
    lastSeenAt: toDate(row.last_seen_at),
    user: { id: Number(row.user_id), userName: row.user_name, isAdmin: toBoolean(row.is_admin) },
  };
}

/**
 * Every call after login comes through here: raw statements on the driver (src/db/raw.ts). With a cache
 * (and the database's change mark) a session checked before is not read again while nothing it depends on
 * changed; its lifetime and idle time are checked on every call all the same.
 */
export async function checkSession(raw: RawSql, sessionName: string | undefined, now: Date, policy: SessionPolicy, cache?: SessionCache): Promise<WsUser> {
  if (!sessionName) throw new WsError('AUTHENTICATION_REQUIRED', 'Authentication required: log in and send sessionName');
  const key = sessionKey(sessionName);
  const epoch = cache?.epoch ?? 0;
  const mark = cache && raw.changeMark ? await raw.changeMark() : undefined;
  let session = mark === undefined ? undefined : cache!.get(key, mark, now.getTime());
  // A kept session whose last-seen time is due for a write is read again: another gateway sharing the
  // database (PostgreSQL) may have written a later one, and the idle check must not end a session in use.
  if (session && now.getTime() - session.lastSeenAt.getTime() > lastSeenGranularityMs(policy)) session = undefined;
  session ??= (await readSession(raw, key)) ?? undefined;
  if (!session) throw new WsError('INVALID_SESSIONID', 'Session Identifier provided is Invalid');
  if (now.getTime() - session.createdAt.getTime() > policy.sessionLifetimeSeconds * 1000) {
    cache?.forget(key);
    await endSession(raw, key);
    throw new WsError('SESSION_EXPIRED', 'Session has expired: log in again');
  }
  const idleMs = now.getTime() - session.lastSeenAt.getTime();
  if (idleMs > policy.sessionIdleSeconds * 1000) {
    cache?.forget(key);
    await endSession(raw, key);
    throw new WsError('SESSION_LEFT_IDLE', 'Session was left idle too long: log in again');
  }
  if (idleMs > lastSeenGranularityMs(policy)) {
    // A call that only reads must not fail because this write cannot be made now (SQLite's write lock held
    // by a long transaction, a full disk): the session stays valid, and the next call tries again.
    const written = await raw.execute(SQL.sql`UPDATE ws_session SET last_seen_at = ${now} WHERE id = ${key}`).then(
      (n) => n === 1,
      (error: unknown) => {
        if (!isBusy(error) && !databaseUnavailability(error)) throw error;
        return false;
      },
    );
    // Not written: the session may have ended meanwhile (or the write lock was busy): not cached this time.
    if (!written) return session.user;
    session = { ...session, lastSeenAt: now };
  }
  // This process's own writes leave the mark as it was: the entry is as true as the row.
  if (mark !== undefined) cache!.set(key, session, mark, now.getTime(), epoch);
  return session.user;
}

/** Drops expired challenges and sessions (run with the executor's maintenance). */
export async function purgeSessions(db: DbTx, now: Date, policy: SessionPolicy): Promise<number> {
  const [c, s1, s2] = await Promise.all([
    db.execute(SQL.sql`DELETE FROM ws_challenge WHERE expires_at <= ${now}`),
    db.execute(SQL.sql`DELETE FROM ws_session WHERE created_at < ${new Date(now.getTime() - policy.sessionLifetimeSeconds * 1000)}`),
    db.execute(SQL.sql`DELETE FROM ws_session WHERE last_seen_at < ${new Date(now.getTime() - policy.sessionIdleSeconds * 1000)}`),
  ]);
  return c + s1 + s2;
}
