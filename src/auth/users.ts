import type { DbTx } from '../db/client.js';
import { hashPassword, randomHex, type Secret } from './secret.js';

/** The user an operation runs as (the session's, or the one who queued it). */
export interface WsUser {
  id: number;
  userName: string;
  isAdmin: boolean;
}

/** coreBOS's Users module id prefix: user ids look like 19x1. */
export const USERS_MODULE_PREFIX = '19';
export const formatUserId = (id: number) => `${USERS_MODULE_PREFIX}x${id}`;

const USER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface NewUser {
  userName: string;
  isAdmin?: boolean;
  accessKey?: string;
  password?: string;
}

/** Creates a user and returns its access key (the one given, or a new random one). */
export async function addUser(db: DbTx, secret: Secret, user: NewUser, now: Date): Promise<{ id: number; accessKey: string }> {
  if (!USER_NAME.test(user.userName)) throw new Error('a user name is 1-64 letters, digits or _ . @ -');
  const accessKey = user.accessKey ?? randomHex(16);
  if (accessKey.length < 16 || /rn/.test(accessKey)) {
    throw new Error('an access key needs at least 16 characters and must not contain "rn" (corebos-ws-lib rewrites it)');
  }
  const created = await db.user.create({
    data: {
      userName: user.userName,
      accessKeyEnc: secret.encrypt(accessKey),
      passwordHash: user.password ? await hashPassword(user.password) : null,
      isAdmin: user.isAdmin ?? false,
      createdAt: now,
    },
  });
  return { id: created.id, accessKey };
}

export async function findUser(db: DbTx, id: number): Promise<WsUser | null> {
  return db.user.findUnique({ where: { id }, select: { id: true, userName: true, isAdmin: true } });
}
