// Wrong values for every parameter of every operation: arrays, objects, numbers, booleans, null, empty,
// huge, NUL bytes, invalid UTF-8, SQL injection, prototype-pollution keys, missing; synchronous and (for
// queueable operations) deferred, where nothing may be queued.
import {
  DEFER,
  ELEMENT,
  ID,
  LOGIN,
  MODULE,
  NOT_YET,
  PARAM,
  QUERY,
  encode,
  get,
  json,
  post,
  rawForm,
  union,
  type Case,
  type Codes,
  type Ctx,
  type Expect,
  type Params,
} from './types.js';

type Kind = 'username' | 'accessKey' | 'typeList' | 'module' | 'element' | 'id' | 'fieldList' | 'query' | 'elements' | 'ids' | 'tracking';

interface ParamUnderTest {
  name: string;
  kind: Kind;
  optional?: boolean;
}

interface OpUnderTest {
  op: string;
  session: boolean;
  queueable: boolean;
  /** Valid parameters: each case spoils one of them. */
  base: (c: Ctx) => Params;
  params: ParamUnderTest[];
  /** Mass operations answer per element: a success that did nothing is right for bad elements. */
  successKey?: string;
}

const TRACKING = 'V1StGXR8_Z5jdHi6B-myT';

export const OPERATIONS: OpUnderTest[] = [
  { op: 'getchallenge', session: false, queueable: false, base: () => ({ username: 'admin' }), params: [{ name: 'username', kind: 'username' }] },
  {
    op: 'login',
    session: false,
    queueable: false,
    base: (c) => ({ username: c.userName, accessKey: 'f'.repeat(32) }),
    params: [
      { name: 'username', kind: 'username' },
      { name: 'accessKey', kind: 'accessKey' },
    ],
  },
  {
    op: 'listtypes',
    session: true,
    queueable: false,
    base: () => ({ fieldTypeList: ['email'] }),
    params: [{ name: 'fieldTypeList', kind: 'typeList', optional: true }],
  },
  { op: 'describe', session: true, queueable: true, base: () => ({ elementType: 'Contacts' }), params: [{ name: 'elementType', kind: 'module' }] },
  {
    op: 'create',
    session: true,
    queueable: true,
    base: () => ({ elementType: 'Contacts', element: { lastname: 'Corpus create' } }),
    params: [
      { name: 'elementType', kind: 'module' },
      { name: 'element', kind: 'element' },
    ],
  },
  { op: 'retrieve', session: true, queueable: false, base: (c) => ({ id: c.ids.contact }), params: [{ name: 'id', kind: 'id' }] },
  {
    op: 'update',
    session: true,
    queueable: true,
    base: (c) => ({ element: { id: c.ids.lead, lastname: 'Corpus update', company: 'Corpus' } }),
    params: [{ name: 'element', kind: 'element' }],
  },
  {
    op: 'revise',
    session: true,
    queueable: true,
    base: (c) => ({ element: { id: c.ids.contact, firstname: 'Revised' } }),
    params: [{ name: 'element', kind: 'element' }],
  },
  {
    op: 'upsert',
    session: true,
    queueable: true,
    base: () => ({ elementType: 'Contacts', element: { lastname: 'Corpus upsert', firstname: 'U' }, searchOn: 'lastname', updatedfields: 'firstname' }),
    params: [
      { name: 'elementType', kind: 'module' },
      { name: 'element', kind: 'element' },
      { name: 'searchOn', kind: 'fieldList' },
      { name: 'updatedfields', kind: 'fieldList', optional: true },
    ],
  },
  { op: 'delete', session: true, queueable: false, base: (c) => ({ id: c.ids.lead }), params: [{ name: 'id', kind: 'id' }] },
  { op: 'query', session: true, queueable: false, base: () => ({ query: 'select * from Contacts;' }), params: [{ name: 'query', kind: 'query' }] },
  {
    op: 'MassCreate',
    session: true,
    queueable: true,
    successKey: 'success_creates',
    base: () => ({ elements: [{ elementType: 'Contacts', referenceId: 'a', element: { lastname: 'Corpus mass' } }] }),
    params: [{ name: 'elements', kind: 'elements' }],
  },
  {
    op: 'MassUpdate',
    session: true,
    queueable: true,
    successKey: 'success_updates',
    base: (c) => ({ elements: [{ id: c.ids.contact, firstname: 'Mass' }] }),
    params: [{ name: 'elements', kind: 'elements' }],
  },
  {
    op: 'MassDelete',
    session: true,
    queueable: true,
    successKey: 'success_deletes',
    base: (c) => ({ ids: c.ids.lead }),
    params: [{ name: 'ids', kind: 'ids' }],
  },
  { op: 'getRelatedModulesInfomation', session: true, queueable: true, base: () => ({ module: 'Accounts' }), params: [{ name: 'module', kind: 'module' }] },
  {
    op: 'getQueuedOperationResult',
    session: true,
    queueable: false,
    base: () => ({ operationTrackingID: TRACKING }),
    params: [{ name: 'operationTrackingID', kind: 'tracking' }],
  },
  {
    op: 'getQueuedOperationStatus',
    session: true,
    queueable: false,
    base: () => ({ operationTrackingID: TRACKING }),
    params: [{ name: 'operationTrackingID', kind: 'tracking' }],
  },
  {
    op: 'cancelQueuedOperation',
    session: true,
    queueable: false,
    base: () => ({ operationTrackingID: TRACKING }),
    params: [{ name: 'operationTrackingID', kind: 'tracking' }],
  },
];

type Transport = 'json' | 'form' | 'get' | 'raw';

interface Hostile {
  label: string;
  /** undefined: the parameter is left out. */
  value?: unknown;
  transport: Transport;
  /** For `raw`: the parameter's encoded text as it goes into the body. */
  encoded?: string;
  /** Also tried deferred. */
  deferred?: boolean;
  /** Absent, null or empty: not bad input for an optional parameter. */
  absent?: boolean;
}

export const HUGE = 'x'.repeat(300_000);
export const SQL_INJECTION = "x' OR '1'='1'; DROP TABLE ws_record; --";
export const PROTO_JSON = '{"__proto__":{"isAdmin":true,"polluted":1},"constructor":{"prototype":{"polluted":1}}}';

const HOSTILE: Hostile[] = [
  { label: 'an array', value: ['x', 1], transport: 'json', deferred: true },
  { label: 'an object', value: { a: { b: 1 } }, transport: 'json', deferred: true },
  { label: 'the largest double', value: 1.7976931348623157e308, transport: 'json' },
  { label: 'a boolean', value: true, transport: 'json' },
  { label: 'null', value: null, transport: 'json', absent: true },
  { label: 'empty', value: '', transport: 'form', deferred: true, absent: true },
  { label: 'a 300 KB string', value: HUGE, transport: 'form' },
  { label: 'NUL bytes', value: 'a\u0000b\u0000', transport: 'get' },
  { label: 'invalid UTF-8', encoded: '%C3%28%FF%FEa%ED%A0%80', transport: 'raw' },
  { label: 'SQL injection', value: SQL_INJECTION, transport: 'get', deferred: true },
  { label: '__proto__ and constructor keys', value: PROTO_JSON, transport: 'form', deferred: true },
  { label: 'missing', transport: 'form', deferred: true, absent: true },
];

function codesOf(op: OpUnderTest, p: ParamUnderTest, h: Hostile): Codes {
  if (h.absent && !p.optional) return PARAM;
  switch (p.kind) {
    case 'username':
    case 'accessKey':
      return op.op === 'login' ? LOGIN : PARAM;
    case 'typeList':
      return PARAM;
    case 'module':
      return MODULE;
    case 'element':
    case 'elements':
      return op.op === 'upsert' ? union(ELEMENT, ['SEARCH_VALUE_NOT_PROVIDED']) : ELEMENT;
    case 'fieldList':
      return union(PARAM, ELEMENT, ['SEARCH_VALUE_NOT_PROVIDED']);
    case 'id':
    case 'ids':
      return ID;
    case 'query':
      return union(QUERY, ['ACCESS_DENIED', 'INVALID_MODULE']);
    case 'tracking':
      return union(PARAM, ['RECORD_NOT_FOUND']);
  }
}

const isArray = (v: unknown) => Array.isArray(v);

/** The success answers that are right for a spoiled parameter (nothing done), or undefined. */
function successOf(op: OpUnderTest, p: ParamUnderTest, _h: Hostile, deferred: boolean): Expect['success'] {
  if (deferred) return undefined;
  if (op.op === 'getchallenge') {
    // Unknown names may get a token (the answer must not tell who exists); the check below looks at what was kept.
    return (r) => {
      if (typeof r?.token !== 'string') throw new Error('a getchallenge success carries a token');
    };
  }
  if (p.kind === 'typeList')
    return (r) => {
      if (!isArray(r?.types)) throw new Error('listtypes answers types');
    };
  if (p.kind === 'tracking' && op.op === 'getQueuedOperationResult')
    return (r) => {
      if (r !== NOT_YET) throw new Error('an unknown id is "not queued"');
    };
  if (op.successKey) {
    const key = op.successKey;
    return (r) => {
      if (!isArray(r?.[key]) || r[key].length !== 0) throw new Error(`${op.op} did something: ${key} = ${JSON.stringify(r?.[key])?.slice(0, 200)}`);
    };
  }
  return undefined;
}

function requestOf(op: OpUnderTest, p: ParamUnderTest, h: Hostile, deferred: boolean) {
  return (c: Ctx) => {
    const params: Params = { operation: op.op, ...(op.session ? { sessionName: c.admin } : {}), ...op.base(c) };
    if (deferred) params.cbwsOptions = DEFER;
    delete params[p.name];
    if (h.transport === 'raw') return rawForm(`${encode(params)}&${p.name}=${h.encoded}`);
    if (h.value !== undefined) params[p.name] = h.value;
    if (h.transport === 'json') return json(params);
    if (h.transport === 'get') return get(params);
    return post(params);
  };
}

export function matrixCases(): Case[] {
  const cases: Case[] = [];
  for (const op of OPERATIONS) {
    for (const p of op.params) {
      for (const h of HOSTILE) {
        if (p.optional && h.absent) continue; // leaving out an optional parameter is no bad input
        for (const deferred of op.queueable && h.deferred ? [false, true] : [false]) {
          // A deferred MassDelete of ids that are not ids is queued as coreBOS queues it (outcomes per id).
          if (deferred && p.kind === 'ids' && !h.absent && h.transport !== 'json') continue;
          // A list of bad elements is per-element failures, not a bad parameter: queued like a good one.
          if (deferred && p.kind === 'elements' && isArray(h.value)) continue;
          cases.push({
            name: `${op.op}${deferred ? ' deferred' : ''}: ${p.name} ${h.label}`,
            finding: op.op === 'getchallenge' && (h.value === HUGE || h.label === 'NUL bytes') ? 2 : undefined,
            request: requestOf(op, p, h, deferred),
            expect: { codes: codesOf(op, p, h), success: successOf(op, p, h, deferred) },
          });
        }
      }
    }
  }
  return cases;
}
