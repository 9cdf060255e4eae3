// MassRetrieve: the records of comma-separated ids, a statement per module named, as coreBOS answers it (the official
// clients' doMassRetrieve): the module is the first id's that the caller may read and that exists; ids of
// other modules, of records that do not exist and of modules the caller may not read are left out without
// an error. The answer is keyed by id in the order given; with nothing retrieved it is `[]` (coreBOS's empty
// PHP array), which clients test as empty either way.
import { may } from '../records/access.js';
import type { ModuleDefinition } from '../records/modules.js';
import { findRecords, moduleOfId, presentRecord, type StoredRecord, type WsRecord } from '../records/store.js';
import { callerOf, listedIds, type OperationContext, type OperationDefinition, type Params } from './types.js';

/** The ids of the call: spaces, empty entries and repeats dropped; a malformed id fails the call, as retrieve's does. */
const idsOf = (ctx: OperationContext, p: Params) => listedIds(ctx, 'MassRetrieve', p.ids).map((wsid) => ({ wsid, ...moduleOfId(ctx.services.modules, wsid) }));

export const massRetrieve: OperationDefinition = {
  name: 'MassRetrieve',
  method: 'POST',
  prelogin: false,
  queueable: false,
  isolated: true,
  summary: 'The records of comma-separated ids of one module (the first readable one), keyed by id; others are left out.',
  params: [{ name: 'ids', type: 'string', required: true, description: 'Comma-separated record ids, e.g. 12x5,12x6' }],
  async run(ctx, p) {
    const user = callerOf(ctx);
    const readable = idsOf(ctx, p).filter((w) => may(user, w.module, 'read'));
    const stored = new Map<ModuleDefinition, Map<number, StoredRecord>>();
    for (const w of readable) {
      if (stored.has(w.module)) continue;
      const wanted = [...new Set(readable.filter((x) => x.module === w.module).map((x) => x.id))];
      stored.set(w.module, await findRecords(ctx.db, w.module, wanted));
    }
    // As coreBOS: the module is that of the first id whose record exists.
    const chosen = readable.find((w) => stored.get(w.module)!.has(w.id))?.module;
    if (!chosen) return [];
    const records: Record<string, WsRecord> = {};
    for (const w of readable) {
      const record = w.module === chosen ? stored.get(chosen)!.get(w.id) : undefined;
      if (record) records[w.wsid] = presentRecord(chosen, record);
    }
    return records;
  },
};
