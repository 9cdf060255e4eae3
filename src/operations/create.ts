import { answerFor, assertMay } from '../records/access.js';
import { checkReferences } from '../records/references.js';
import { createRecord, moduleOf, resolveOwner } from '../records/store.js';
import { validateElement } from '../records/validate.js';
import { callerOf, type OperationContext, type OperationDefinition, type Params } from './types.js';

function prepare(ctx: OperationContext, p: Params) {
  const module = moduleOf(ctx.services.modules, p.elementType);
  assertMay(callerOf(ctx), module, 'create');
  return { module, valid: validateElement(module, p.element) };
}

export const create: OperationDefinition = {
  name: 'create',
  method: 'POST',
  prelogin: false,
  queueable: true,
  idempotent: true,
  summary: 'Creates a record; assigned_user_id defaults to the caller.',
  params: [
    { name: 'elementType', type: 'string', required: true, description: 'Module name, e.g. Contacts' },
    { name: 'element', type: 'encoded', required: true, description: 'JSON object of field values' },
  ],
  async precheck(ctx, p) {
    const { module, valid } = prepare(ctx, p);
    await checkReferences(ctx.db, ctx.services.modules, { module, fields: valid.fields }, callerOf(ctx));
    await resolveOwner(ctx.db, valid.assignedUserId, callerOf(ctx));
  },
  async run(ctx, p) {
    const { module, valid } = prepare(ctx, p);
    const user = callerOf(ctx);
    return answerFor(user, module, await createRecord(ctx.db, ctx.services.modules, module, valid, user, ctx.services.clock.now()));
  },
};
