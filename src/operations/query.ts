import { budgetExceeded, underStatementBudget } from '../db/sqlite-connection.js';
import { answer } from '../envelope.js';
import { assertMay } from '../records/access.js';
import { compileQuery, toRecords, type TranslatedQuery } from '../vtql/index.js';
import { callerOf, type OperationDefinition, type Params, type Services } from './types.js';

/** The most record text a quick query parses on the event loop (a parse of this much takes about a millisecond). */
const QUICK_DATA_CHARS = 256 * 1024;

/** What `quick` compiled, for the run of the same call (the dispatcher passes it the same parameters). */
const compiled = new WeakMap<Params, TranslatedQuery>();

const compile = (services: Services, p: Params) => compileQuery(p.query as string, services.modules, services.dialect, services.queryLimits);

export const query: OperationDefinition = {
  name: 'query',
  method: 'GET',
  prelogin: false,
  queueable: false,
  isolated: 'sqlite',
  summary:
    'Records selected with VTQL: select fields|*|count(*) from Module [where ...] [order by ...] [limit [offset,] count]; moreinfo.totalrows counts every matching record.',
  params: [
    { name: 'query', type: 'string', required: true, description: "VTQL, e.g. select firstname, lastname from Contacts where lastname like 'S%' limit 10;" },
  ],
  quick(services, p) {
    try {
      const q = compile(services, p);
      compiled.set(p, q);
      return q.quick;
    } catch {
      return true; // the run answers the same error at once
    }
  },
  async run(ctx, p) {
    const q = compiled.get(p) ?? compile(ctx.services, p);
    assertMay(callerOf(ctx), q.module, 'read');
    // Values are parameters, so a client's queries share a few statement texts: prepared, they are planned once.
    const select = (sql: typeof q.sql) =>
      ctx.raw ? ctx.raw.query<Record<string, unknown>>(sql, { prepared: true }) : ctx.db.query<Record<string, unknown>>(sql);
    const rows = await select(q.sql);
    // On the event loop (a quick query), parsing large records would hold it: a call worker does that.
    if (underStatementBudget() && rows.reduce((n, r) => n + (typeof r.data === 'string' ? r.data.length : 0), 0) > QUICK_DATA_CHARS) {
      throw budgetExceeded();
    }
    const records = toRecords(q, rows);
    // moreinfo.totalrows, as coreBOS's vtwsQueryWithTotal answers it (clients' doQueryWithTotal read it): every
    // record the query matches, whatever its limit. A page shorter than the limit, not past the end, tells it
    // without a second statement; count(*) is its own total.
    let totalrows: number;
    if (q.output === 'count') totalrows = Number(records[0]!.count);
    else if (rows.length < q.count! && (rows.length > 0 || q.offset === 0)) totalrows = q.offset! + rows.length;
    else totalrows = Number((await select(q.countSql!))[0]?.count ?? 0);
    return answer(records, { totalrows });
  },
};
