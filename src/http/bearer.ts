// Who calls a door: `Authorization: Bearer <API token or session name>`. A token (wsg_...) is looked up by
// its hash; anything else is checked as a session, with the session's expiry and idle rules.
import type Koa from 'koa';
import { checkSession, type SessionPolicy } from '../auth/login.js';
import type { SessionCache } from '../auth/session-cache.js';
import { looksLikeToken, userOfToken } from '../auth/tokens.js';
import type { WsUser } from '../auth/users.js';
import type { RawSql } from '../db/raw.js';
import { WsError } from '../errors.js';
import { Problem, problemOf } from './problem.js';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="wsgate"' };

export async function bearerUser(ctx: Koa.Context, raw: RawSql, now: Date, policy: SessionPolicy, sessions?: SessionCache): Promise<WsUser> {
  const header = ctx.get('authorization');
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!m) {
    const why = header ? 'the Authorization header must be "Bearer <API token or session name>"' : 'send Authorization: Bearer <API token or session name>';
    throw new Problem(401, 'AUTHENTICATION_REQUIRED', `Authentication required: ${why}`, 'Authorization', CHALLENGE);
  }
  const credential = m[1]!;
  if (looksLikeToken(credential)) {
    const user = await userOfToken(raw, credential);
    if (!user) throw new Problem(401, 'INVALID_AUTH_TOKEN', 'The API token is unknown or revoked, or its user is disabled', 'Authorization', CHALLENGE);
    return user;
  }
  try {
    return await checkSession(raw, credential, now, policy, sessions);
  } catch (error) {
    if (!(error instanceof WsError)) throw error;
    const p = problemOf(error);
    throw new Problem(p.status, p.code, error.message, 'Authorization', CHALLENGE);
  }
}
