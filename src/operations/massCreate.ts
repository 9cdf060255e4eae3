// MassCreate: many records in one call, possibly of several modules. An element's field whose value is
// `@{referenceId}` gets the id of the record another element of the same call creates; those are created
// first. Each element ends in success_creates or failed_creates; a bad one does not stop the others.
import { WsError } from '../errors.js';
import { answerFor, assertMay } from '../records/access.js';
import { createRecords, moduleOf, type NewRecord, type WsRecord } from '../records/store.js';
import { asElement, validateElement } from '../records/validate.js';
import { callerOf, checkMassSize, type OperationContext, type OperationDefinition, type Params } from './types.js';

interface Item {
  /** The element as sent, its references replaced by ids as they become known; answered with a failure. */
  record: Record<string, unknown>;
  fields: Record<string, unknown>;
  /** Field name -> referenceId, for the `@{...}` values. */
  refs: Map<string, string>;
  outcome?: WsRecord | WsError;
}

const REFERENCE = /^@\{([^{}]*)\}$/;

const failed = (message: string) => new WsError('REFERENCE_INVALID', `Invalid reference specified: ${message}`);

function itemOf(raw: unknown): Item {
  const record = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? { ...(raw as Record<string, unknown>) } : { element: raw };
  const item: Item = { record, fields: {}, refs: new Map() };
  try {
    item.fields = { ...asElement(record.element, 'element of an item') };
    record.element = item.fields;
    for (const [name, value] of Object.entries(item.fields)) {
      const m = typeof value === 'string' ? REFERENCE.exec(value) : null;
      if (m) item.refs.set(name, m[1]!);
    }
  } catch (error) {
    item.outcome = error as WsError;
  }
  return item;
}

/** Elements by referenceId; a second element with one already taken fails (references mean the first). */
function referenceIds(items: Item[]): Map<string, Item> {
  const byRef = new Map<string, Item>();
  for (const item of items) {
    const id = item.record.referenceId;
    if (item.outcome || id === undefined || id === null || id === '') continue;
    if (byRef.has(String(id))) item.outcome = new WsError('INVALID_PARAMETER', `referenceId ${String(id)} is used by more than one element`);
    else byRef.set(String(id), item);
  }
  return byRef;
}

/**
 * The order of creation: rounds of elements whose references are all to elements of earlier rounds.
 * Elements referring to an unknown referenceId, to themselves or around a cycle, fail here.
 */
function rounds(items: Item[], byRef: Map<string, Item>): Item[][] {
  const level = new Map<Item, number>();
  const visiting = new Set<Item>();
  const levelOf = (item: Item): number => {
    if (item.outcome) return -1;
    const known = level.get(item);
    if (known !== undefined) return known;
    if (visiting.has(item)) {
      item.outcome = failed(`element ${String(item.record.referenceId)} is part of a reference cycle`);
      return -1;
    }
    visiting.add(item);
    let mine = 0;
    for (const ref of item.refs.values()) {
      const target = byRef.get(ref);
      const theirs = target ? levelOf(target) : -1;
      if (!target) item.outcome ??= failed(`@{${ref}} names no element of this call`);
      else if (theirs < 0) item.outcome ??= failed(`@{${ref}} refers to an element that was not created`);
      mine = Math.max(mine, theirs + 1);
    }
    visiting.delete(item);
    const result = item.outcome ? -1 : mine;
    level.set(item, result);
    return result;
  };
  const out: Item[][] = [];
  for (const item of items) {
    const l = levelOf(item);
    if (l >= 0) (out[l] ??= []).push(item);
  }
  return out.filter(Boolean);
}

function elementsOf(ctx: OperationContext, p: Params): unknown[] {
  if (!Array.isArray(p.elements)) throw new WsError('INVALID_PARAMETER', 'elements must be a JSON list of {"elementType", "referenceId", "element"}');
  checkMassSize(ctx, 'MassCreate', 'elements', p.elements.length);
  return p.elements;
}

export const massCreate: OperationDefinition = {
  name: 'MassCreate',
  method: 'POST',
  prelogin: false,
  queueable: true,
  isolated: true,
  idempotent: true,
  summary: 'Creates many records; `@{referenceId}` values point at records created by the same call. Per element outcomes.',
  params: [{ name: 'elements', type: 'encoded', required: true, description: 'JSON list of {"elementType", "referenceId", "element"}' }],
  precheck: (ctx, p) => void elementsOf(ctx, p),
  async run(ctx, p) {
    const items = elementsOf(ctx, p).map(itemOf);
    const user = callerOf(ctx);
    const now = ctx.services.clock.now();
    const byRef = referenceIds(items);
    await ctx.atomic(async (db) => {
      for (const round of rounds(items, byRef)) {
        const ready: { item: Item; record: NewRecord }[] = [];
        for (const item of round) {
          try {
            for (const [name, ref] of item.refs) {
              const target = byRef.get(ref)!.outcome;
              if (!(target && !(target instanceof WsError))) throw failed(`@{${ref}} refers to an element that was not created`);
              item.fields[name] = target.id;
            }
            const module = moduleOf(ctx.services.modules, item.record.elementType);
            assertMay(user, module, 'create');
            ready.push({ item, record: { module, element: validateElement(module, item.fields) } });
          } catch (error) {
            if (!(error instanceof WsError)) throw error;
            item.outcome = error;
          }
        }
        const created = await createRecords(
          db,
          ctx.services.dialect,
          ctx.services.modules,
          ready.map((r) => r.record),
          user,
          now,
        );
        // Answered as the caller may see each record (id and times only of a module the role may not read).
        for (const [k, r] of ready.entries()) {
          const outcome = created[k]!;
          r.item.outcome = outcome instanceof WsError ? outcome : answerFor(user, r.record.module, outcome);
        }
      }
    });
    return {
      success_creates: items.filter((i) => i.outcome && !(i.outcome instanceof WsError)).map((i) => i.outcome),
      failed_creates: items
        .filter((i) => i.outcome instanceof WsError)
        .map((i) => ({ record: i.record, code: (i.outcome as WsError).code, message: (i.outcome as WsError).message })),
    };
  },
};
