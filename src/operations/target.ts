import { WsError } from '../errors.js';
import { assertMay } from '../records/access.js';
import { moduleOfId } from '../records/store.js';
import { asElement } from '../records/validate.js';
import { callerOf, type OperationContext } from './types.js';

/** The record an element with id names (update, revise, MassUpdate), once the caller's role may update it. */
export function recordToChange(ctx: OperationContext, raw: unknown, operation: string) {
  const element = asElement(raw);
  if (element.id === undefined || element.id === '') {
    throw new WsError('INVALID_ID_ATTRIBUTE', `element has no id: ${operation} needs the id of the record inside element`);
  }
  const { module, id } = moduleOfId(ctx.services.modules, element.id);
  assertMay(callerOf(ctx), module, 'update');
  return { element, module, id };
}
