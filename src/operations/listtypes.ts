import { WsError } from '../errors.js';
import { may } from '../records/access.js';
import { callerOf, type OperationDefinition } from './types.js';

export const listtypes: OperationDefinition = {
  name: 'listtypes',
  method: 'GET',
  prelogin: false,
  queueable: false,
  summary: 'The modules the user may read, optionally only those having fields of the given types.',
  params: [{ name: 'fieldTypeList', type: 'encoded', required: false, description: 'JSON list of field types, e.g. ["email"]' }],
  async run(ctx, p) {
    const wanted = p.fieldTypeList;
    if (wanted !== undefined && wanted !== null && (!Array.isArray(wanted) || wanted.some((t) => typeof t !== 'string'))) {
      throw new WsError('INVALID_PARAMETER', 'fieldTypeList must be a JSON list of field type names');
    }
    const user = callerOf(ctx);
    const modules = ctx.services.modules.modules.filter(
      (m) => may(user, m, 'read') && (!Array.isArray(wanted) || wanted.length === 0 || m.fields.some((f) => (wanted as string[]).includes(f.type))),
    );
    return {
      types: modules.map((m) => m.name),
      information: Object.fromEntries(modules.map((m) => [m.name, { isEntity: true, label: m.label, singular: m.singular }])),
    };
  },
};
