// getRelatedModulesInfomation (coreBOS's spelling): the modules whose reference fields point at the given
// module (one-to-many relations), in coreBOS's shape, keyed by the related module's label. Only modules the
// caller may read are listed.
import { assertMay, may } from '../records/access.js';
import { moduleOf } from '../records/store.js';
import { callerOf, type OperationDefinition } from './types.js';

/** Fields a related list shows: the label fields first, then the others, up to this many. */
const LIST_FIELDS = 8;

export const getRelatedModulesInfomation: OperationDefinition = {
  name: 'getRelatedModulesInfomation',
  method: 'POST',
  prelogin: false,
  queueable: true,
  summary: 'The modules related to a module (those with a reference field to it), keyed by label.',
  params: [{ name: 'module', type: 'string', required: true, description: 'Module name, e.g. Accounts' }],
  precheck(ctx, p) {
    assertMay(callerOf(ctx), moduleOf(ctx.services.modules, p.module), 'read');
  },
  async run(ctx, p) {
    const user = callerOf(ctx);
    const module = moduleOf(ctx.services.modules, p.module);
    assertMay(user, module, 'read');
    const result: Record<string, unknown> = {};
    let relationId = 0;
    for (const related of ctx.services.modules.modules) {
      for (const field of related.fields) {
        if (field.type !== 'reference' || !field.references!.includes(module.name)) continue;
        relationId++;
        if (!may(user, related, 'read')) continue;
        const others = related.fields.map((f) => f.name).filter((n) => !related.labelFields.includes(n));
        const key = related.label in result ? `${related.label} (${field.name})` : related.label;
        result[key] = {
          related_tabid: related.idPrefix,
          related_module: related.name,
          label: related.label,
          labeli18n: related.label,
          actions: may(user, related, 'create') ? 'add' : '',
          relationId: String(relationId),
          relatedfield: field.name,
          relationtype: '1:N',
          filterFields: {
            fields: [...related.labelFields, ...others].slice(0, LIST_FIELDS).concat('assigned_user_id'),
            linkfields: related.labelFields,
            pagesize: 40,
          },
        };
      }
    }
    return result;
  },
};
