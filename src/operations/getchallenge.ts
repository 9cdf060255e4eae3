import { getChallenge } from '../auth/login.js';
import type { OperationDefinition } from './types.js';

export const getchallenge: OperationDefinition = {
  name: 'getchallenge',
  method: 'GET',
  prelogin: true,
  queueable: false,
  summary: "Token for login: send md5(token + accessKey) as login's accessKey.",
  params: [{ name: 'username', type: 'string', required: true, description: 'User name' }],
  run: (ctx, p) => getChallenge(ctx.db, ctx.services.secret, String(p.username), ctx.services.clock.now(), ctx.services.sessionPolicy),
};
