import { login as doLogin } from '../auth/login.js';
import type { OperationDefinition } from './types.js';

export const login: OperationDefinition = {
  name: 'login',
  method: 'POST',
  prelogin: true,
  queueable: false,
  summary: 'Opens a session: accessKey is md5(token + user access key), or token + password for users with one.',
  params: [
    { name: 'username', type: 'string', required: true, description: 'User name' },
    { name: 'accessKey', type: 'string', required: true, description: 'md5(challenge token + access key), hex' },
  ],
  run: (ctx, p) =>
    doLogin(ctx.db, ctx.services.secret, ctx.services.loginDefences, {
      userName: String(p.username),
      accessKey: String(p.accessKey),
      address: ctx.address,
      clock: ctx.services.clock,
    }),
};
