import { WsError } from '../errors.js';
import { answerFor, assertMay, may } from '../records/access.js';
import type { ModuleDefinition } from '../records/modules.js';
import { createRecord, moduleOf, reviseRecord } from '../records/store.js';
import { asElement, validateElement, validatePartialElement } from '../records/validate.js';
import type { Condition } from '../vtql/ast.js';
import { translate } from '../vtql/index.js';
import { callerOf, type OperationContext, type OperationDefinition, type Params } from './types.js';

function fieldList(module: ModuleDefinition, text: unknown, what: string): string[] {
  if (text === undefined || text === null || text === '') return [];
  if (typeof text !== 'string') throw new WsError('INVALID_PARAMETER', `${what} must be field names separated by commas`);
  const names = [
    ...new Set(
      text
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ),
  ];
  const unknown = names.filter((n) => !module.fields.some((f) => f.name === n) && n !== 'assigned_user_id');
  if (unknown.length) throw new WsError('INVALID_PARAMETER', `${what}: ${module.name} has no field ${unknown.join(', ')}`);
  return names;
}

const pick = (element: Record<string, unknown>, names: string[]) => Object.fromEntries(names.filter((n) => n in element).map((n) => [n, element[n]]));

function prepare(ctx: OperationContext, p: Params) {
  const module = moduleOf(ctx.services.modules, p.elementType);
  const user = callerOf(ctx);
  assertMay(user, module, 'read');
  // Whether it will create or update is known only when it runs (and checked then); one of them must be allowed.
  if (!may(user, module, 'create') && !may(user, module, 'update')) assertMay(user, module, 'create');
  const element = asElement(p.element);
  const searchOn = fieldList(module, p.searchOn, 'searchOn').filter((n) => n !== 'assigned_user_id');
  if (searchOn.length === 0) throw new WsError('INVALID_PARAMETER', 'searchOn must name at least one field of the module');
  const absent = searchOn.find((n) => !(n in element));
  if (absent) throw new WsError('SEARCH_VALUE_NOT_PROVIDED', `No value is provided for the search field: ${absent}`);
  const updatedFields = fieldList(module, p.updatedfields, 'updatedfields');
  // Values compared as they are stored (booleans as 0/1, numbers as sent), and checked like any others.
  const search = validatePartialElement(module, pick(element, searchOn)).fields;
  return { module, element, search, searchOn, updatedFields };
}

/** Ids of the module's records whose searchOn fields equal the element's (at most two: one is enough to know). */
async function matches(ctx: OperationContext, module: ModuleDefinition, search: Record<string, string>): Promise<number[]> {
  const items: Condition[] = Object.entries(search).map(([name, value]) => ({
    kind: 'compare',
    field: { name, pos: 0 },
    op: '=',
    value: { kind: 'string', value, pos: 0 },
  }));
  const { sql } = translate(
    {
      select: { kind: 'fields', fields: [{ name: 'id', pos: 0 }] },
      module: { name: module.name, pos: 0 },
      where: { kind: 'and', items },
      orderBy: [],
      limit: { offset: 0, count: 2 },
    },
    ctx.services.modules,
    ctx.services.dialect,
    { defaultLimit: 2, maxLimit: 2 },
  );
  const rows = await ctx.db.query<{ id: unknown }>(sql);
  return rows.map((r) => Number(r.id));
}

export const upsert: OperationDefinition = {
  name: 'upsert',
  method: 'POST',
  prelogin: false,
  queueable: true,
  isolated: 'sqlite',
  idempotent: true,
  summary:
    "Creates the record when none has the searchOn fields' values; updates only the updatedfields of the one that has; MULTIPLE_RECORDS_FOUND when several have.",
  params: [
    { name: 'elementType', type: 'string', required: true, description: 'Module name, e.g. Contacts' },
    { name: 'element', type: 'encoded', required: true, description: 'JSON object of field values (all of them, for a create)' },
    { name: 'searchOn', type: 'string', required: true, description: 'Comma-separated fields whose values find the record' },
    { name: 'updatedfields', type: 'string', required: false, description: 'Comma-separated fields set on an existing record (none when empty)' },
  ],
  precheck: (ctx, p) => void prepare(ctx, p),
  async run(ctx, p) {
    const { module, element, search, searchOn, updatedFields } = prepare(ctx, p);
    const user = callerOf(ctx);
    const now = ctx.services.clock.now();
    return ctx.atomic(async (db) => {
      const inTx = { ...ctx, db, raw: undefined };
      // Upserts of a module wait for each other, so that two cannot both find nothing and create. Per module,
      // not per value: searches on other fields, or values written differently ('5' and '5.0'), can match
      // the same record.
      const lock = ctx.services.dialect.lockKey(`upsert ${module.name}`);
      if (lock) await db.query(lock);
      const found = await matches(inTx, module, search);
      if (found.length > 1) {
        throw new WsError(
          'MULTIPLE_RECORDS_FOUND',
          `More than one ${module.name} record has these values of ${searchOn.join(', ')}: upsert cannot tell which to update`,
        );
      }
      if (found.length === 0) {
        assertMay(user, module, 'create');
        return answerFor(user, module, await createRecord(db, ctx.services.modules, module, validateElement(module, element), user, now));
      }
      assertMay(user, module, 'update');
      const changes = validatePartialElement(module, pick(element, updatedFields));
      return answerFor(user, module, await reviseRecord(db, ctx.services.dialect, ctx.services.modules, module, found[0]!, changes, user, now));
    });
  },
};
