// MassUpdate: each element (a partial record with its id) applied as a revise; per element outcomes.
import { WsError } from '../errors.js';
import { prepareRevise, runRevise } from './revise.js';
import type { OperationDefinition } from './types.js';

const LIST = 'elements must be a JSON list of partial records, each with its id';

export const massUpdate: OperationDefinition = {
  name: 'MassUpdate',
  method: 'POST',
  prelogin: false,
  queueable: true,
  idempotent: true,
  summary: 'Revises many records (each element a partial record with its id); per element outcomes.',
  params: [{ name: 'elements', type: 'encoded', required: true, description: 'JSON list of partial records, each with id' }],
  precheck(_ctx, p) {
    if (!Array.isArray(p.elements)) throw new WsError('INVALID_PARAMETER', LIST);
  },
  async run(ctx, p) {
    if (!Array.isArray(p.elements)) throw new WsError('INVALID_PARAMETER', LIST);
    const elements = p.elements as unknown[];
    const success_updates: unknown[] = [];
    const failed_updates: { id: unknown; code: string; message: string }[] = [];
    await ctx.atomic(async (db) => {
      const inTx = { ...ctx, db };
      for (const element of elements) {
        try {
          success_updates.push(await runRevise(inTx, prepareRevise(inTx, element)));
        } catch (error) {
          if (!(error instanceof WsError)) throw error;
          const id = element !== null && typeof element === 'object' ? (element as { id?: unknown }).id ?? '' : '';
          failed_updates.push({ id, code: error.code, message: error.message });
        }
      }
    });
    return { success_updates, failed_updates };
  },
};
