import { assertMay } from '../records/access.js';
import { findRecord, moduleOfId, presentRecord } from '../records/store.js';
import { callerOf, type OperationDefinition } from './types.js';

export const retrieve: OperationDefinition = {
  name: 'retrieve',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary: 'One record by id.',
  params: [{ name: 'id', type: 'string', required: true, description: 'Record id, e.g. 12x5' }],
  async run(ctx, p) {
    const { module, id } = moduleOfId(ctx.services.modules, p.id);
    assertMay(callerOf(ctx), module, 'read');
    return presentRecord(module, await findRecord(ctx.db, module, id));
  },
};
