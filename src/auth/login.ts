// getchallenge / login / logout and session checks, as coreBOS does them (README, "Protocol").
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DbTx } from '../db/client.js';
import { toBoolean, toDate } from '../db/values.js';
import type { RawSql } from '../db/raw.js';
import { Prisma } from '../db/generated/sqlite/client.js';
import { WsError } from '../errors.js';
import { randomHex, verifyPassword, type Secret } from './secret.js';
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

/**
 * Hands out the user's unexpired token again, or a new one. Unknown user names get a token too (stored the
 * same way), so the answer does not tell which users exist; their login fails later.
 */
export async function getChallenge(db: DbTx, userName: string, now: Date, policy: SessionPolicy) {
  // One statement decides, so that of two concurrent calls neither replaces the token the other handed out.
  await db.$executeRaw`
    INSERT INTO ws_challenge (user_name, token, expires_at)
    VALUES (${userName}, ${randomHex(16)}, ${new Date(now.getTime() + policy.challengeTtlSeconds * 1000)})
    ON CONFLICT (user_name) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
    WHERE ws_challenge.expires_at <= ${now}`;
  const challenge = await db.challenge.findUniqueOrThrow({ where: { userName } });
  return { token: challenge.token, serverTime: unixSeconds(now), expireTime: unixSeconds(challenge.expiresAt) };
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

export async function login(db: DbTx, secret: Secret, userName: string, accessKey: string, now: Date) {
  const challenge = await db.challenge.findUnique({ where: { userName } });
  if (!challenge || challenge.expiresAt <= now) {
    throw new WsError('INVALID_AUTH_TOKEN', 'Specified token is invalid or expired: call getchallenge first');
  }
  const user = await db.user.findUnique({ where: { userName } });
  if (!user) throw new WsError('INVALID_USER_CREDENTIALS', 'Invalid username or password');
  const expected = createHash('md5').update(challenge.token + secret.decrypt(user.accessKeyEnc)).digest('hex');
  let valid = sameText(accessKey.toLowerCase(), expected);
  if (!valid && user.passwordHash && accessKey.startsWith(challenge.token)) {
    valid = await verifyPassword(accessKey.slice(challenge.token.length), user.passwordHash);
  }
  if (!valid) throw new WsError('INVALID_USER_CREDENTIALS', 'Invalid username or password');
  if (user.disabledAt) throw new WsError('AUTHENTICATION_REQUIRED', 'Given user is inactive'); // coreBOS's answer; after the key check, so it tells only the key's holder
  const sessionName = randomHex(16);
  await db.session.create({ data: { id: sessionKey(sessionName), userId: user.id, createdAt: now, lastSeenAt: now } });
  return { sessionName, userId: formatUserId(user.id), version: API_VERSION, vtigerVersion: VTIGER_VERSION };
}

export async function logout(db: DbTx, sessionName: string): Promise<void> {
  await db.session.deleteMany({ where: { id: sessionKey(sessionName) } });
}

/**
 * Idle time is tracked to this precision, so that a busy client does not write on every request: 15 s, or a
 * tenth of the idle limit when that is shorter.
 */
const lastSeenGranularityMs = (policy: SessionPolicy) => Math.min(15_000, policy.sessionIdleSeconds * 100);

const endSession = (raw: RawSql, key: string) => raw.execute(Prisma.sql`DELETE FROM ws_session WHERE id = ${key}`);

/** Every call after login comes through here: raw statements on the driver (src/db/raw.ts), one per call. */
export async function checkSession(raw: RawSql, sessionName: string | undefined, now: Date, policy: SessionPolicy): Promise<WsUser> {
  if (!sessionName) throw new WsError('AUTHENTICATION_REQUIRED', 'Authentication required: log in and send sessionName');
  const key = sessionKey(sessionName);
  const [row] = await raw.query<{ created_at: unknown; last_seen_at: unknown; user_id: unknown; user_name: string; is_admin: unknown }>(Prisma.sql`
    SELECT s.created_at, s.last_seen_at, u.id AS user_id, u.user_name, u.is_admin
    FROM ws_session s JOIN ws_user u ON u.id = s.user_id
    WHERE s.id = ${key} AND u.disabled_at IS NULL`);
  if (!row) throw new WsError('INVALID_SESSIONID', 'Session Identifier provided is Invalid');
  const session = {
    createdAt: toDate(row.created_at),
    lastSeenAt: toDate(row.last_seen_at),
    user: { id: Number(row.user_id), userName: row.user_name, isAdmin: toBoolean(row.is_admin) },
  };
  if (now.getTime() - session.createdAt.getTime() > policy.sessionLifetimeSeconds * 1000) {
    await endSession(raw, key);
    throw new WsError('SESSION_EXPIRED', 'Session has expired: log in again');
  }
  const idleMs = now.getTime() - session.lastSeenAt.getTime();
  if (idleMs > policy.sessionIdleSeconds * 1000) {
    await endSession(raw, key);
    throw new WsError('SESSION_LEFT_IDLE', 'Session was left idle too long: log in again');
  }
  if (idleMs > lastSeenGranularityMs(policy)) {
    await raw.execute(Prisma.sql`UPDATE ws_session SET last_seen_at = ${now} WHERE id = ${key}`);
  }
  return session.user;
}

/** Drops expired challenges and sessions (run with the executor's maintenance). */
export async function purgeSessions(db: DbTx, now: Date, policy: SessionPolicy): Promise<number> {
  const [c, s1, s2] = await Promise.all([
    db.challenge.deleteMany({ where: { expiresAt: { lte: now } } }),
    db.session.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - policy.sessionLifetimeSeconds * 1000) } } }),
    db.session.deleteMany({ where: { lastSeenAt: { lt: new Date(now.getTime() - policy.sessionIdleSeconds * 1000) } } }),
  ]);
  return c.count + s1.count + s2.count;
}
