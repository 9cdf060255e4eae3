import type { Db } from '../db/client.js';
import * as SQL from '../db/sql.js';
import type { Queryable, RawSql } from '../db/raw.js';
import { toBoolean } from '../db/values.js';
import { hashPassword, randomHex, type Secret } from './secret.js';

/** The user an operation runs as (the session's, or the one who queued it). */
export interface WsUser {
  id: number;
  userName: string;
  isAdmin: boolean;
  /** Set by the executor's lookup (findUserRaw): the user was disabled (`wsgate user disable`). */
  disabled?: boolean;
}

/** coreBOS's Users module id prefix: user ids look like 19x1. */
export const USERS_MODULE_PREFIX = '19';
export const formatUserId = (id: number) => `${USERS_MODULE_PREFIX}x${id}`;

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/** 32 hex digits: corebos-ws-lib's MD5 rewrites the text "rn", which hex never holds. */
const newAccessKey = () => randomHex(16);

export interface NewUser {
  userName: string;
  isAdmin?: boolean;
  accessKey?: string;
  password?: string;
}

/** A user name or access key that cannot be used (too short, bad characters). */
export class InvalidUserInput extends Error {}

/** Creates a user and returns its access key (the one given, or a new random one). */
export async function addUser(db: Queryable, secret: Secret, user: NewUser, now: Date): Promise<{ id: number; accessKey: string }> {
  if (!USER_NAME.test(user.userName)) throw new InvalidUserInput('a user name is 1-64 letters, digits or _ . @ -');
  const accessKey = user.accessKey ?? newAccessKey();
  if (accessKey.length < 16 || /rn/.test(accessKey)) {
    throw new InvalidUserInput('an access key needs at least 16 characters and must not contain "rn" (corebos-ws-lib rewrites it)');
  }
  const passwordHash = user.password ? await hashPassword(user.password) : null;
  const [created] = await db.query<{ id: unknown }>(SQL.sql`
    INSERT INTO ws_user (user_name, access_key_enc, password_hash, is_admin, created_at)
    VALUES (${user.userName}, ${secret.encrypt(accessKey)}, ${passwordHash}, ${user.isAdmin ?? false}, ${now})
    RETURNING id`);
  return { id: Number(created!.id), accessKey };
}

/** The id of the user of this name, and whether it is disabled; null when there is none. */
export async function userByName(db: Queryable, userName: string): Promise<{ id: number; disabled: boolean } | null> {
  const [row] = await db.query<{ id: unknown; disabled_at: unknown }>(SQL.sql`SELECT id, disabled_at FROM ws_user WHERE user_name = ${userName}`);
  return row ? { id: Number(row.id), disabled: row.disabled_at !== null } : null;
}

/** The user with this id, as the executor and the call workers look it up; null when there is none. */
export async function findUserRaw(raw: RawSql, id: number): Promise<WsUser | null> {
  const [row] = await raw.query<{ id: unknown; user_name: string; is_admin: unknown; disabled_at: unknown }>(
    SQL.sql`SELECT id, user_name, is_admin, disabled_at FROM ws_user WHERE id = ${id}`,
    { prepared: true },
  );
  return row ? { id: Number(row.id), userName: row.user_name, isAdmin: toBoolean(row.is_admin), disabled: row.disabled_at !== null } : null;
}

// Operator controls (`wsgate user ...`). Each returns null for an unknown user name.

/**
 * Disables a user (it can no longer log in; the executor refuses what it queued) and ends its sessions at
 * once, or enables it again. Returns the sessions ended.
 */
export async function setDisabled(db: Db, userName: string, disabled: boolean, now: Date): Promise<{ sessionsEnded: number } | null> {
  return db.$transaction(async (tx) => {
    const changed = await tx.user.updateMany({ where: { userName }, data: { disabledAt: disabled ? now : null } });
    if (changed.count !== 1) return null;
    const ended = disabled ? await tx.session.deleteMany({ where: { user: { userName } } }) : { count: 0 };
    return { sessionsEnded: ended.count };
  });
}

/** Gives a user a new random access key (returned, to be shown once) and ends its sessions: the old key stops working. */
export async function rotateAccessKey(db: Db, secret: Secret, userName: string): Promise<{ accessKey: string; sessionsEnded: number } | null> {
  const accessKey = newAccessKey();
  return db.$transaction(async (tx) => {
    const changed = await tx.user.updateMany({ where: { userName }, data: { accessKeyEnc: secret.encrypt(accessKey) } });
    if (changed.count !== 1) return null;
    const ended = await tx.session.deleteMany({ where: { user: { userName } } });
    return { accessKey, sessionsEnded: ended.count };
  });
}

/** A user's own queue limits: a number sets one, null clears it (the setting holds), undefined leaves it. */
export interface QuotaOverrides {
  queued?: number | null;
  queuedBytes?: number | null;
  maxDelaySeconds?: number | null;
}

export async function setQuotaOverrides(db: Db, userName: string, o: QuotaOverrides): Promise<number | null> {
  const user = await db.user.findUnique({ where: { userName }, select: { id: true } });
  if (!user) return null;
  await db.user.update({
    where: { id: user.id },
    data: { quotaQueued: o.queued, quotaQueuedBytes: o.queuedBytes, quotaMaxDelaySeconds: o.maxDelaySeconds },
  });
  return user.id;
}

export async function userIdOf(db: Db, userName: string): Promise<number | null> {
  return (await db.user.findUnique({ where: { userName }, select: { id: true } }))?.id ?? null;
}
