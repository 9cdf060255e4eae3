// MassUpdate: each element (a partial record with its id) applied as a revise; per element outcomes.
import { WsError } from '../errors.js';
import { prepareRevise, runRevise } from './revise.js';
import { checkMassSize, type OperationContext, type OperationDefinition, type Params } from './types.js';

function elementsOf(ctx: OperationContext, p: Params): unknown[] {
  if (!Array.isArray(p.elements)) throw new WsError('INVALID_PARAMETER', 'elements must be a JSON list of partial records, each with its id');
  checkMassSize(ctx, 'MassUpdate', 'elements', p.elements.length);
  return p.elements;
}

export const massUpdate: OperationDefinition = {
  name: 'MassUpdate',
  method: 'POST',
  prelogin: false,
  queueable: true,
  isolated: true,
  idempotent: true,
  summary: 'Revises many records (each element a partial record with its id); per element outcomes.',
  params: [{ name: 'elements', type: 'encoded', required: true, description: 'JSON list of partial records, each with id' }],
  precheck: (ctx, p) => void elementsOf(ctx, p),
  async run(ctx, p) {
    const elements = elementsOf(ctx, p);
    const success_updates: unknown[] = [];
    const failed_updates: { id: unknown; code: string; message: string }[] = [];
    await ctx.atomic(async (db) => {
      const inTx = { ...ctx, db, raw: undefined };
      const idOf = (element: unknown) => (element !== null && typeof element === 'object' ? ((element as { id?: unknown }).id ?? '') : '');
      // Applied in id order, so that two MassUpdates of the same records lock them in the same order (no
      // deadlock on PostgreSQL); answered in the order given.
      const order = elements.map((_, i) => i).sort((a, b) => String(idOf(elements[a])).localeCompare(String(idOf(elements[b]))) || a - b);
      const outcomes: (unknown | WsError)[] = [];
      for (const i of order) {
        try {
          outcomes[i] = await runRevise(inTx, prepareRevise(inTx, elements[i]));
        } catch (error) {
          if (!(error instanceof WsError)) throw error;
          outcomes[i] = error;
        }
      }
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome instanceof WsError) failed_updates.push({ id: idOf(elements[i]), code: outcome.code, message: outcome.message });
        else success_updates.push(outcome);
      }
    });
    return { success_updates, failed_updates };
  },
};
