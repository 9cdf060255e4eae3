import { assertMay } from '../records/access.js';
import { deleteRecord, moduleOfId } from '../records/store.js';
import { callerOf, type OperationDefinition } from './types.js';

export const deleteOperation: OperationDefinition = {
  name: 'delete',
  method: 'POST',
  prelogin: false,
  queueable: false,
  summary: 'Deletes a record.',
  params: [{ name: 'id', type: 'string', required: true, description: 'Record id, e.g. 12x5' }],
  async run(ctx, p) {
    const { module, id } = moduleOfId(ctx.services.modules, p.id);
    assertMay(callerOf(ctx), module, 'delete');
    return deleteRecord(ctx.db, module, id);
  },
};
