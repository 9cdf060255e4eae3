import { logout as endSession } from '../auth/login.js';
import type { OperationDefinition } from './types.js';

export const logout: OperationDefinition = {
  name: 'logout',
  method: 'POST',
  prelogin: false,
  queueable: false,
  summary: 'Ends the session.',
  params: [{ name: 'sessionName', type: 'string', required: false, description: "The session to end: the caller's own" }],
  async run(ctx) {
    if (ctx.sessionName) await endSession(ctx.db, ctx.sessionName, ctx.services.sessions);
    return { message: 'successfull' };
  },
};
