import { createRecord, moduleOf, resolveOwner } from '../records/store.js';
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
  async precheck(ctx, p) {
    const element = validateElement(moduleOf(ctx.services.modules, p.elementType), p.element);
    await resolveOwner(ctx.db, element.assignedUserId, callerOf(ctx));
  },
  async run(ctx, p) {
    const module = moduleOf(ctx.services.modules, p.elementType);
    return createRecord(ctx.db, module, validateElement(module, p.element), callerOf(ctx), ctx.services.clock.now());
  },
};
