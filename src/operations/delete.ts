import { deleteRecord } from '../records/store.js';
import type { OperationDefinition } from './types.js';

export const deleteOperation: OperationDefinition = {
  name: 'delete',
  method: 'POST',
  prelogin: false,
  queueable: false,
  summary: 'Deletes a record.',
  params: [{ name: 'id', type: 'string', required: true, description: 'Record id, e.g. 12x5' }],
  run: (ctx, p) => deleteRecord(ctx.db, ctx.services.modules, p.id),
};
