import { answerFor } from '../records/access.js';
import { checkChangedReferences } from '../records/references.js';
import { findRecord, resolveOwner, reviseRecord } from '../records/store.js';
import { validatePartialElement } from '../records/validate.js';
import { recordToChange } from './target.js';
import { callerOf, type OperationContext, type OperationDefinition, type Params } from './types.js';

/** The record an element with id names, the caller's right to change it, and the fields it sets. */
export function prepareRevise(ctx: OperationContext, raw: unknown) {
  const { element, module, id } = recordToChange(ctx, raw, 'revise');
  return { module, id, valid: validatePartialElement(module, element) };
}

/** Applies it; answers the record as the caller may see it (id and times only to a role that may not read). */
export async function runRevise(ctx: OperationContext, prepared: ReturnType<typeof prepareRevise>) {
  const { module, id, valid } = prepared;
  const user = callerOf(ctx);
  return answerFor(user, module, await reviseRecord(ctx.db, ctx.services.dialect, ctx.services.modules, module, id, valid, user, ctx.services.clock.now()));
}

export const revise: OperationDefinition = {
  name: 'revise',
  method: 'POST',
  prelogin: false,
  queueable: true,
  idempotent: true,
  summary: 'Changes only the fields given (a partial update); the record id goes inside element.',
  params: [{ name: 'element', type: 'encoded', required: true, description: 'JSON object with id and the fields to change' }],
  async precheck(ctx, p: Params) {
    const { module, id, valid } = prepareRevise(ctx, p.element);
    await findRecord(ctx.db, module, id);
    await checkChangedReferences(ctx.db, ctx.services.modules, { module, fields: valid.fields }, id, callerOf(ctx));
    await resolveOwner(ctx.db, valid.assignedUserId, callerOf(ctx));
  },
  run: (ctx, p) => runRevise(ctx, prepareRevise(ctx, p.element)),
};
