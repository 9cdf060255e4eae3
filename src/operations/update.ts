import { answerFor } from '../records/access.js';
import { checkChangedReferences } from '../records/references.js';
import { findRecord, resolveOwner, updateRecord } from '../records/store.js';
import { validateElement } from '../records/validate.js';
import { recordToChange } from './target.js';
import { callerOf, type OperationDefinition, type OperationContext, type Params } from './types.js';

function prepare(ctx: OperationContext, p: Params) {
  const { element, module, id } = recordToChange(ctx, p.element, 'update');
  return { module, id, valid: validateElement(module, element) };
}

export const update: OperationDefinition = {
  name: 'update',
  method: 'POST',
  prelogin: false,
  queueable: true,
  idempotent: true,
  summary: "Replaces a record's fields (fields not sent become empty); the record id goes inside element.",
  params: [{ name: 'element', type: 'encoded', required: true, description: 'JSON object of all field values, with id' }],
  async precheck(ctx, p) {
    const { module, id, valid } = prepare(ctx, p);
    await findRecord(ctx.db, module, id);
    await checkChangedReferences(ctx.db, ctx.services.modules, { module, fields: valid.fields }, id, callerOf(ctx));
    await resolveOwner(ctx.db, valid.assignedUserId, callerOf(ctx));
  },
  async run(ctx, p) {
    const { module, id, valid } = prepare(ctx, p);
    const user = callerOf(ctx);
    return answerFor(user, module, await updateRecord(ctx.db, ctx.services.modules, module, id, valid, user, ctx.services.clock.now()));
  },
};
