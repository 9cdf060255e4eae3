import { createRecord, moduleOf } from '../records/store.js';
import { validateElement } from '../records/validate.js';
import { callerOf, type OperationDefinition } from './types.js';

export const create: OperationDefinition = {
  name: 'create',
  method: 'POST',
  prelogin: false,
  queueable: true,
  summary: 'Creates a record; assigned_user_id defaults to the caller.',
  params: [
    { name: 'elementType', type: 'string', required: true, description: 'Module name, e.g. Contacts' },
    { name: 'element', type: 'encoded', required: true, description: 'JSON object of field values' },
  ],
  precheck: (ctx, p) => void validateElement(moduleOf(ctx.services.modules, p.elementType), p.element),
  async run(ctx, p) {
    const module = moduleOf(ctx.services.modules, p.elementType);
    return createRecord(ctx.db, module, validateElement(module, p.element), callerOf(ctx), ctx.services.clock.now());
  },
};
