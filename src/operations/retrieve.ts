import { retrieveRecord } from '../records/store.js';
import type { OperationDefinition } from './types.js';

export const retrieve: OperationDefinition = {
  name: 'retrieve',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary: 'One record by id.',
  params: [{ name: 'id', type: 'string', required: true, description: 'Record id, e.g. 12x5' }],
  run: (ctx, p) => retrieveRecord(ctx.db, ctx.services.modules, p.id),
};
