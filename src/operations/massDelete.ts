// MassDelete: records named by comma-separated ids, grouped by module into a few statements; per id outcomes.
import { WsError } from '../errors.js';
import { assertMay } from '../records/access.js';
import { formatWsId } from '../records/ids.js';
import type { ModuleDefinition } from '../records/modules.js';
import { deleteRecords, moduleOfId } from '../records/store.js';
import { callerOf, listedIds, type OperationContext, type OperationDefinition, type Params } from './types.js';

const idsOf = (ctx: OperationContext, p: Params) => listedIds(ctx, 'MassDelete', p.ids);

export const massDelete: OperationDefinition = {
  name: 'MassDelete',
  method: 'POST',
  prelogin: false,
  queueable: true,
  isolated: true,
  summary: 'Deletes the records of comma-separated ids; per id outcomes.',
  params: [{ name: 'ids', type: 'string', required: true, description: 'Comma-separated record ids, e.g. 12x5,12x6' }],
  precheck: (ctx, p) => void idsOf(ctx, p),
  async run(ctx, p) {
    const user = callerOf(ctx);
    const ids = idsOf(ctx, p);
    const outcome = new Map<string, WsError | true>();
    const byModule = new Map<ModuleDefinition, { wsid: string; id: number }[]>();
    for (const wsid of ids) {
      try {
        const { module, id } = moduleOfId(ctx.services.modules, wsid);
        assertMay(user, module, 'delete');
        let list = byModule.get(module);
        if (!list) byModule.set(module, (list = []));
        list.push({ wsid, id });
      } catch (error) {
        if (!(error instanceof WsError)) throw error;
        outcome.set(wsid, error);
      }
    }
    await ctx.atomic(async (db) => {
      // Modules and ids in a fixed order, so that concurrent MassDeletes lock rows in the same order.
      for (const [module, wanted] of [...byModule].sort(([a], [b]) => a.name.localeCompare(b.name))) {
        const gone = await deleteRecords(
          db,
          module,
          wanted.map((w) => w.id).sort((a, b) => a - b),
        );
        for (const w of wanted) {
          outcome.set(
            w.wsid,
            gone.has(w.id) || new WsError('RECORD_NOT_FOUND', `Record you are trying to access is not found: ${formatWsId(module.idPrefix, w.id)}`),
          );
        }
      }
    });
    return {
      success_deletes: ids.filter((id) => outcome.get(id) === true),
      failed_deletes: ids.flatMap((id) => {
        const e = outcome.get(id);
        return e instanceof WsError ? [{ id, code: e.code, message: e.message }] : [];
      }),
    };
  },
};
