import { assertMay } from '../records/access.js';
import { compileQuery, toRecords } from '../vtql/index.js';
import { callerOf, type OperationDefinition } from './types.js';

export const query: OperationDefinition = {
  name: 'query',
  method: 'GET',
  prelogin: false,
  queueable: false,
  isolated: true,
  summary: 'Records selected with VTQL: select fields|*|count(*) from Module [where ...] [order by ...] [limit [offset,] count];',
  params: [{ name: 'query', type: 'string', required: true, description: "VTQL, e.g. select firstname, lastname from Contacts where lastname like 'S%' limit 10;" }],
  async run(ctx, p) {
    const q = compileQuery(p.query as string, ctx.services.modules, ctx.services.provider, ctx.services.queryLimits);
    assertMay(callerOf(ctx), q.module, 'read');
    // Values are parameters, so a client's queries share a few statement texts: prepared, they are planned once.
    const rows = ctx.raw
      ? await ctx.raw.query<Record<string, unknown>>(q.sql, { prepared: true })
      : await ctx.db.$queryRaw<Record<string, unknown>[]>(q.sql);
    return toRecords(q, rows);
  },
};
