// `wsgate token add|list|revoke`: users' API tokens for the HTTP doors (/jobs, /api/v1).
import { userIdOf } from '../auth/users.js';
import { addToken, listTokens, revokeToken } from '../auth/tokens.js';
import { Refusal, UsageError, withRuntime, type Verb } from './verb.js';

const USAGE = 'wsgate token add USER | wsgate token list USER [--json] | wsgate token revoke ID|TOKEN';

export const tokenVerbs: Record<string, Verb> = {
  token: {
    usage: USAGE,
    help: `API tokens for the HTTP doors (/jobs, /api/v1), sent as "Authorization: Bearer <token>".
add USER        makes a token for USER and prints it once (only its SHA-256 is stored), then its id
list USER       the user's tokens: id, created, revoked (never the tokens themselves)
revoke ID|TOKEN revokes a token, named by its id or by the token; it stops working at once`,
    options: { json: { type: 'boolean' } },
    async run({ values, positionals }, config) {
      const [action, arg, ...extra] = positionals;
      if (!action || !arg || extra.length > 0 || !['add', 'list', 'revoke'].includes(action)) {
        throw new UsageError('needs add USER, list USER or revoke ID|TOKEN');
      }
      return withRuntime(config, async (rt) => {
        const now = rt.services.clock.now();
        if (action === 'revoke') {
          if (!(await revokeToken(rt.db.raw, arg, now))) throw new Refusal(`no token ${arg.slice(0, 16)} that is not revoked already`);
          process.stdout.write('revoked\n');
          return 0;
        }
        const userId = await userIdOf(rt.db.prisma, arg);
        if (userId === null) throw new Refusal(`no user ${arg}`);
        if (action === 'add') {
          const { id, token } = await addToken(rt.db.raw, userId, now);
          process.stdout.write(`${token}\nid=${id} (the token is shown only this once)\n`);
          return 0;
        }
        const tokens = await listTokens(rt.db.raw, userId);
        if (values.json) process.stdout.write(JSON.stringify(tokens) + '\n');
        else {
          for (const t of tokens) {
            process.stdout.write(`${t.id}  created=${t.createdAt.toISOString()}${t.revokedAt ? `  revoked=${t.revokedAt.toISOString()}` : ''}\n`);
          }
        }
        return 0;
      });
    },
  },
};
