// cbwsOptions malformed in many ways, bad sessions (parameter and header), ids of other modules or out of
// range, duplicate parameters, unknown operations, PHP bracket names with prototype keys, roles.
import {
  DEFER,
  ELEMENT,
  ID,
  LIMIT,
  MODULE,
  PARAM,
  SESSION,
  UNKNOWN_OP,
  encode,
  get,
  json,
  md5,
  post,
  rawForm,
  union,
  type Case,
  type Ctx,
  type Params,
} from './types.js';

const TEN_YEARS = 10 * 365 * 24 * 3600;

/** [what, cbwsOptions as sent]: strings go as they are, other values as JSON (form) or as they are (JSON body). */
const BAD_OPTIONS: [string, unknown][] = [
  ['an opening brace', '{'],
  ['a list', '[1]'],
  ['a number', '1'],
  ['a JSON string', '"launchfromqueue"'],
  ['JSON null', 'null'],
  ['JSON true', 'true'],
  ['not JSON', 'launchfromqueue=1'],
  ['launchfromqueue 2', { launchfromqueue: 2 }],
  ['launchfromqueue "yes"', { launchfromqueue: 'yes' }],
  ['launchfromqueue [1]', { launchfromqueue: [1] }],
  ['launchfromqueue an object', { launchfromqueue: { a: 1 } }],
  ['launchfromqueue -1', { launchfromqueue: -1 }],
  ['launchfromqueue 1.0e0 as text', { launchfromqueue: '1.0e0' }],
  ['queuedelay -1', { launchfromqueue: 1, queuedelay: -1 }],
  ['queuedelay 1.5', { launchfromqueue: 1, queuedelay: 1.5 }],
  ['queuedelay "1.5"', { launchfromqueue: 1, queuedelay: '1.5' }],
  ['queuedelay "abc"', { launchfromqueue: 1, queuedelay: 'abc' }],
  ['queuedelay 1e308', { launchfromqueue: 1, queuedelay: 1e308 }],
  ['queuedelay ten years and a second', { launchfromqueue: 1, queuedelay: TEN_YEARS + 1 }],
  ['queuedelay of 22 digits', { launchfromqueue: 1, queuedelay: '9999999999999999999999' }],
  ['queuedelay [0]', { launchfromqueue: 1, queuedelay: [0] }],
  ['queuedelay true', { launchfromqueue: 1, queuedelay: true }],
  ['queue "../etc"', { launchfromqueue: 1, queue: '../etc' }],
  ['queue of 65 characters', { launchfromqueue: 1, queue: 'q'.repeat(65) }],
  ['queue with a space', { launchfromqueue: 1, queue: 'a b' }],
  ['queue ["a"]', { launchfromqueue: 1, queue: ['a'] }],
  ['queue 12', { launchfromqueue: 1, queue: 12 }],
  ['queue with a NUL byte', { launchfromqueue: 1, queue: 'a\u0000' }],
  ['queue with SQL', { launchfromqueue: 1, queue: "x'; DELETE FROM ws_queued_operation; --" }],
  ['priority 1.5', { launchfromqueue: 1, priority: 1.5 }],
  ['priority 2^31', { launchfromqueue: 1, priority: 2 ** 31 }],
  ['priority -2^31-1', { launchfromqueue: 1, priority: -(2 ** 31) - 1 }],
  ['priority "high"', { launchfromqueue: 1, priority: 'high' }],
  ['priority 1e308', { launchfromqueue: 1, priority: 1e308 }],
  ['priority [1]', { launchfromqueue: 1, priority: [1] }],
  ['ClientRequestIdentifier of 256 characters', { launchfromqueue: 1, ClientRequestIdentifier: 'c'.repeat(256) }],
  ['ClientRequestIdentifier with a control character', { ClientRequestIdentifier: 'a\u0001b' }],
  ['ClientRequestIdentifier an object', { ClientRequestIdentifier: { a: 1 } }],
  ['ClientRequestIdentifier a list', { ClientRequestIdentifier: [1] }],
  ['ClientRequestIdentifier true', { launchfromqueue: 1, ClientRequestIdentifier: true }],
  ['ClientRequestIdentifier 1.5', { ClientRequestIdentifier: 1.5 }],
];

function optionCases(): Case[] {
  const cases: Case[] = [];
  for (const [what, options] of BAD_OPTIONS) {
    // A create that would make a record, and a MassDelete that would delete one, if the options were ignored.
    cases.push(
      {
        name: `create with cbwsOptions ${what}`,
        request: (c) =>
          post({ operation: 'create', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'Options ignored' }, cbwsOptions: options }),
        expect: { codes: PARAM },
      },
      {
        name: `MassDelete with cbwsOptions ${what}`,
        request: (c) => post({ operation: 'MassDelete', sessionName: c.admin, ids: c.ids.lead, cbwsOptions: options }),
        expect: { codes: PARAM },
      },
    );
    if (typeof options !== 'string') {
      cases.push({
        name: `revise in a JSON body with cbwsOptions ${what} as an object`,
        request: (c) => json({ operation: 'revise', sessionName: c.admin, element: { id: c.ids.contact, firstname: 'Options ignored' }, cbwsOptions: options }),
        expect: { codes: PARAM },
      });
    }
  }
  const jsonOptions: [string, unknown][] = [
    ['a list of two', [1, 2]],
    ['a number', 5],
    ['true', true],
    ['a list holding the options', [{ launchfromqueue: 1 }]],
  ];
  for (const [what, options] of jsonOptions) {
    cases.push({
      name: `create in a JSON body with cbwsOptions ${what}`,
      request: (c) =>
        json({ operation: 'create', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'Options ignored' }, cbwsOptions: options }),
      expect: { codes: PARAM },
    });
  }
  cases.push({
    name: 'cbwsOptions with launchfromqueue under __proto__ defers nothing',
    request: (c) =>
      rawForm(
        `operation=describe&sessionName=${c.admin}&elementType=Contacts&cbwsOptions=${encodeURIComponent('{"__proto__":{"launchfromqueue":1,"queuedelay":5}}')}`,
      ),
    expect: {
      codes: PARAM,
      success: (r) => {
        if (r?.operationTrackingID !== undefined) throw new Error('deferred through __proto__');
      },
    },
  });
  return cases;
}

/** [what, session name] sent as sessionName. */
const BAD_SESSIONS: [string, (c: Ctx) => string][] = [
  ['of random hex', () => 'f'.repeat(32)],
  ['of one character', () => 'x'],
  ['of 900 KB', () => 's'.repeat(900_000)],
  ['with a NUL byte', (c) => `${c.admin}\u0000`],
  ['with SQL', () => "' OR '1'='1"],
  ['of the admin session in capitals', (c) => c.admin.toUpperCase()],
  ['of the admin session and a space', (c) => `${c.admin} `],
  ['of the admin session cut short', (c) => c.admin.slice(0, -1)],
  ['of the SHA-256 the database keeps', (c) => md5(c.admin)],
  ['of a path', () => '../../data/wsgate.db'],
  ['of __proto__', () => '__proto__'],
  ['of a challenge token', () => '0123456789abcdef0123456789abcdef'],
];

function sessionCases(): Case[] {
  const cases: Case[] = [];
  for (const [what, session] of BAD_SESSIONS) {
    cases.push(
      {
        name: `retrieve with a sessionName ${what}`,
        request: (c) => post({ operation: 'retrieve', sessionName: session(c), id: c.ids.contact }),
        expect: { codes: SESSION },
      },
      {
        name: `deferred create with a sessionName ${what}`,
        request: (c) =>
          post({ operation: 'create', sessionName: session(c), elementType: 'Contacts', element: { lastname: 'No session' }, cbwsOptions: DEFER }),
        expect: { codes: SESSION },
      },
    );
    // Header values lose surrounding spaces in HTTP itself: that one is the admin session.
    if (session({ admin: 'a'.repeat(32) } as Ctx).length < 1000 && !what.includes('space')) {
      cases.push({
        name: `delete with a corebos-authorization header ${what}`,
        request: (c) => ({
          ...post({ operation: 'delete', id: c.ids.lead }),
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'corebos-authorization': session(c).replace(/\u0000/g, '') + (what.includes('NUL') ? 'x' : ''),
          },
        }),
        expect: { codes: SESSION },
      });
    }
  }
  cases.push(
    {
      name: 'a bad sessionName beside the admin session in the header (the parameter wins)',
      request: (c) => post({ operation: 'delete', sessionName: 'f'.repeat(32), id: c.ids.lead }, { 'corebos-authorization': c.admin }),
      expect: { codes: SESSION },
    },
    {
      name: 'an empty corebos-authorization header',
      request: (c) => post({ operation: 'retrieve', id: c.ids.contact }, { 'corebos-authorization': '' }),
      expect: { codes: SESSION },
    },
    {
      name: 'a corebos_authorization header with a bad session',
      request: (c) => post({ operation: 'retrieve', id: c.ids.contact }, { corebos_authorization: 'deadbeef' }),
      expect: { codes: SESSION },
    },
    {
      name: 'a Bearer authorization header',
      request: (c) => post({ operation: 'retrieve', id: c.ids.contact }, { 'corebos-authorization': `Bearer ${'0'.repeat(32)}` }),
      expect: { codes: SESSION },
    },
    {
      name: 'the admin session in the query string, a bad one in the body (the body wins)',
      request: (c) => ({ ...post({ operation: 'delete', sessionName: 'f'.repeat(32), id: c.ids.lead }), path: `/webservice.php?sessionName=${c.admin}` }),
      expect: { codes: SESSION },
    },
    {
      name: 'a session that was logged out',
      phase: 0,
      request: async (c) => {
        const session = await freshSession(c);
        const out = await fetch(`${c.base}/webservice.php`, {
          method: 'POST',
          body: encode({ operation: 'logout', sessionName: session }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }).then((r) => r.json());
        if (!out.success) throw new Error(`logout failed: ${JSON.stringify(out)}`);
        return post({ operation: 'delete', sessionName: session, id: c.ids.lead });
      },
      expect: { codes: SESSION },
    },
    {
      name: "logout of another user's session through the parameter",
      request: (c) => post({ operation: 'logout', sessionName: 'e'.repeat(32) }, { 'corebos-authorization': c.user }),
      expect: { codes: SESSION },
    },
    { name: 'no session at all for a delete', request: (c) => post({ operation: 'delete', id: c.ids.lead }), expect: { codes: SESSION } },
  );
  return cases;
}

async function freshSession(c: Ctx): Promise<string> {
  const challenge = await fetch(`${c.base}/webservice.php?operation=getchallenge&username=${c.userName}`).then((r) => r.json());
  const res = await fetch(`${c.base}/webservice.php`, {
    method: 'POST',
    body: encode({ operation: 'login', username: c.userName, accessKey: md5(challenge.result.token + c.userKey) }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  }).then((r) => r.json());
  if (!res.success) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return res.result.sessionName;
}

/** Ids of other modules, out of range, or not ids; `other` marks one made of another module's record number. */
const BAD_IDS: [string, (c: Ctx) => string][] = [
  ['a negative number', () => '12x-1'],
  ['zero', () => '12x0'],
  ['2^31', () => '12x2147483648'],
  ['2^63-1', () => '12x9223372036854775807'],
  ['2^63', () => '12x9223372036854775808'],
  ['2^64', () => '12x18446744073709551616'],
  ['an exponent', () => '12x1e3'],
  ['a fraction', () => '12x1.5'],
  ['hex', () => '12x0x1f'],
  ['Arabic-Indic digits', () => '12x١٢'],
  ['no number', () => '12x'],
  ['no module', () => 'x1'],
  ['an unknown module', () => '99x1'],
  ['a user id', () => '19x1'],
  ["the contact's number with the Accounts prefix", (c) => `11x${c.ids.contact.split('x')[1]}`],
  ["the lead's number with the Contacts prefix", (c) => `12x${c.ids.lead.split('x')[1]}`],
  ['SQL', (c) => `${c.ids.lead}' OR '1'='1`],
  ['two ids', (c) => `${c.ids.lead}x1`],
];

function idCases(): Case[] {
  const cases: Case[] = [];
  const nothingDone = (key: string) => (r: any) => {
    if (!Array.isArray(r?.[key]) || r[key].length !== 0) throw new Error(`${key}: ${JSON.stringify(r?.[key])}`);
  };
  for (const [what, id] of BAD_IDS) {
    cases.push(
      { name: `retrieve an id: ${what}`, request: (c) => get({ operation: 'retrieve', sessionName: c.admin, id: id(c) }), expect: { codes: ID } },
      { name: `delete an id: ${what}`, request: (c) => post({ operation: 'delete', sessionName: c.admin, id: id(c) }), expect: { codes: ID } },
      {
        name: `revise an id: ${what}`,
        request: (c) => post({ operation: 'revise', sessionName: c.admin, element: { id: id(c), lastname: 'Wrong id' } }),
        expect: { codes: union(ID, ELEMENT) },
      },
      {
        name: `MassDelete an id: ${what}`,
        request: (c) => post({ operation: 'MassDelete', sessionName: c.admin, ids: id(c) }),
        expect: { codes: ID, success: nothingDone('success_deletes') },
      },
      {
        name: `MassUpdate an id: ${what}`,
        request: (c) => post({ operation: 'MassUpdate', sessionName: c.admin, elements: [{ id: id(c), lastname: 'Wrong id' }] }),
        expect: { codes: union(ID, ELEMENT), success: nothingDone('success_updates') },
      },
    );
  }
  return cases;
}

/** A plain user where only admins may act, and a user's attempts at others' things. */
function roleCases(): Case[] {
  return [
    {
      name: 'a plain user deletes an account (admins only)',
      request: (c) => post({ operation: 'delete', sessionName: c.user, id: c.ids.account }),
      expect: { codes: ['ACCESS_DENIED'] },
    },
    {
      name: 'a plain user MassDeletes an account (admins only)',
      request: (c) => post({ operation: 'MassDelete', sessionName: c.user, ids: c.ids.account }),
      expect: {
        codes: ['ACCESS_DENIED'],
        success: (r) => {
          if (r?.success_deletes?.length !== 0) throw new Error('deleted');
        },
      },
    },
    {
      name: 'a plain user asks for isAdmin in a create',
      request: (c) => post({ operation: 'create', sessionName: c.user, elementType: 'Contacts', element: { lastname: 'x', isAdmin: true } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a plain user assigns a record to a user that does not exist',
      request: (c) => post({ operation: 'create', sessionName: c.user, elementType: 'Contacts', element: { lastname: 'x', assigned_user_id: '19x999999' } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a plain user assigns a record to 19x-1',
      request: (c) => post({ operation: 'create', sessionName: c.user, elementType: 'Contacts', element: { lastname: 'x', assigned_user_id: '19x-1' } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with a field named __proto__',
      request: (c) =>
        rawForm(`operation=create&sessionName=${c.user}&elementType=Contacts&element=${encodeURIComponent('{"lastname":"x","__proto__":{"isAdmin":true}}')}`),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with a field named constructor',
      request: (c) =>
        post({ operation: 'create', sessionName: c.user, elementType: 'Contacts', element: { lastname: 'x', constructor: { prototype: { polluted: 1 } } } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create referring to a contact as an account',
      request: (c) => post({ operation: 'create', sessionName: c.user, elementType: 'Contacts', element: { lastname: 'x', account_id: c.ids.contact } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with a picklist value not in the list',
      request: (c) =>
        post({ operation: 'create', sessionName: c.admin, elementType: 'Accounts', element: { accountname: 'x', industry: "Banking' OR '1'='1" } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with a lastname over its maxlength',
      request: (c) => post({ operation: 'create', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'l'.repeat(81) } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with an email of 100 KB',
      request: (c) =>
        post({ operation: 'create', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'x', email: `${'e'.repeat(100_000)}@x.io` } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with a datetime of year 275760',
      request: (c) =>
        post({ operation: 'create', sessionName: c.admin, elementType: 'Leads', element: { lastname: 'x', company: 'y', followup: '275760-09-13 00:00:01' } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'a create with donotcall "maybe"',
      request: (c) => post({ operation: 'create', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'x', donotcall: 'maybe' } }),
      expect: { codes: ELEMENT },
    },
    {
      name: 'an upsert searching on a field the module lacks',
      request: (c) => post({ operation: 'upsert', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'x' }, searchOn: 'lastname,data' }),
      expect: { codes: union(PARAM, ELEMENT) },
    },
    {
      name: 'an upsert searching on a field the element lacks',
      request: (c) => post({ operation: 'upsert', sessionName: c.admin, elementType: 'Contacts', element: { lastname: 'x' }, searchOn: 'email' }),
      expect: { codes: ['SEARCH_VALUE_NOT_PROVIDED'] },
    },
    {
      name: 'an upsert updating a field the module lacks',
      request: (c) =>
        post({
          operation: 'upsert',
          sessionName: c.admin,
          elementType: 'Contacts',
          element: { lastname: 'Corpus contact' },
          searchOn: 'lastname',
          updatedfields: 'owner_id',
        }),
      expect: { codes: union(PARAM, ELEMENT) },
    },
    {
      name: 'MassCreate with elements an object, not a list',
      request: (c) => post({ operation: 'MassCreate', sessionName: c.admin, elements: { a: 1 } }),
      expect: { codes: PARAM },
    },
    {
      name: 'describe of a module named __proto__',
      request: (c) => get({ operation: 'describe', sessionName: c.admin, elementType: '__proto__' }),
      expect: { codes: MODULE },
    },
    {
      name: 'describe of a module named constructor',
      request: (c) => get({ operation: 'describe', sessionName: c.admin, elementType: 'constructor' }),
      expect: { codes: MODULE },
    },
    {
      name: 'describe of a module named hasOwnProperty',
      request: (c) => get({ operation: 'describe', sessionName: c.admin, elementType: 'hasOwnProperty' }),
      expect: { codes: MODULE },
    },
    {
      name: 'describe of the Users module',
      request: (c) => get({ operation: 'describe', sessionName: c.admin, elementType: 'Users' }),
      expect: { codes: MODULE },
    },
  ];
}

/** Operation names that are not operations. */
function operationCases(): Case[] {
  const names = [
    '',
    ' ',
    'getchallenge ',
    ' getchallenge',
    'getchallenge\u0000',
    'get challenge',
    'getchallenge;drop',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'convertlead',
    'extendsession',
    'loginPortal',
    'webservice.php',
    '../getchallenge',
    'o'.repeat(100_000),
    'ｇｅｔｃｈａｌｌｅｎｇｅ',
    'GETCHALLENGE\u0130',
  ];
  return names.map(
    (op): Case => ({
      name: `operation named ${JSON.stringify(op.length > 40 ? `${op.slice(0, 10)}... (${op.length} characters)` : op)}`,
      request: (c) => post({ operation: op, sessionName: c.admin, username: 'admin' }),
      expect: { codes: UNKNOWN_OP },
    }),
  );
}

/** Duplicate and PHP-bracket parameter names, prototype keys among them (the decoder must not pollute). */
function nameCases(): Case[] {
  const retrieve = (c: Ctx) => `operation=retrieve&id=${c.ids.contact}`;
  const unauth: [string, (c: Ctx) => string][] = [
    ['__proto__[sessionName]', (c) => `${retrieve(c)}&__proto__[sessionName]=${c.admin}`],
    ['__proto__[isAdmin]', (c) => `${retrieve(c)}&__proto__[isAdmin]=1&__proto__[polluted]=1`],
    ['constructor[prototype][sessionName]', (c) => `${retrieve(c)}&constructor[prototype][sessionName]=${c.admin}&constructor[prototype][polluted]=1`],
    ['sessionName[]', (c) => `${retrieve(c)}&sessionName[]=${c.admin}`],
    ['sessionName[__proto__]', (c) => `${retrieve(c)}&sessionName[__proto__]=${c.admin}`],
    ['sessionName[0]', (c) => `${retrieve(c)}&sessionName[0]=${c.admin}`],
    ['a[__proto__][polluted]', (c) => `${retrieve(c)}&a[__proto__][polluted]=1`],
    ['a[constructor][prototype][polluted]', (c) => `${retrieve(c)}&a[constructor][prototype][polluted]=1`],
    ['brackets 10,000 deep', (c) => `${retrieve(c)}&a${'[x]'.repeat(10_000)}=1`],
    ['an index of 2^32-2', (c) => `${retrieve(c)}&a[4294967294]=1`],
    ['100,000 appended elements', (c) => `${retrieve(c)}&${'a[]=1&'.repeat(100_000)}`],
    ['a name that is only brackets', (c) => `${retrieve(c)}&[]=1&[=2&]=3`],
    ['encoded brackets %5B%5D', (c) => `${retrieve(c)}&sessionName%5B%5D=${c.admin}`],
    ['a key of __proto__ alone', (c) => `${retrieve(c)}&__proto__=${c.admin}`],
    ['hasOwnProperty as a name', (c) => `${retrieve(c)}&hasOwnProperty=1&toString=1&valueOf=1`],
  ];
  // Prototype keys, nesting past 64 levels and more than 1,000 parameters are refused before anything else.
  const refused = (what: string) => /__proto__|constructor|10,000 deep|100,000 appended/.test(what);
  const cases: Case[] = unauth.map(([what, body]) => ({
    name: `form names: ${what}`,
    finding: 12,
    request: (c) => rawForm(body(c)),
    expect: { codes: refused(what) ? PARAM : SESSION },
  }));
  cases.push(
    {
      name: 'form names: operation[] (a list of operations)',
      finding: 12,
      request: (c) => rawForm(`operation[]=delete&operation[]=getchallenge&sessionName=${c.admin}&id=${c.ids.lead}`),
      expect: { codes: UNKNOWN_OP },
    },
    {
      name: 'form names: id[] for a delete',
      finding: 12,
      request: (c) => rawForm(`operation=delete&sessionName=${c.admin}&id[]=${c.ids.lead}&id[]=${c.ids.contact}`),
      expect: { codes: union(PARAM, ID) },
    },
    {
      name: 'form names: elements at index 2^32-2 (no sparse list of four billion)',
      finding: 12,
      request: (c) => rawForm(`operation=MassUpdate&sessionName=${c.admin}&elements[4294967294][id]=${c.ids.contact}&elements[4294967294][firstname]=Sparse`),
      expect: {
        codes: union(PARAM, ELEMENT, LIMIT),
        success: (r) => {
          if (r?.success_updates?.length !== 0) throw new Error('updated');
        },
      },
    },
    {
      name: 'form names: element[__proto__][lastname] in a create',
      finding: 12,
      request: (c) => rawForm(`operation=create&sessionName=${c.admin}&elementType=Contacts&element[__proto__][lastname]=Proto`),
      expect: { codes: union(PARAM, ELEMENT) },
    },
    {
      name: 'form names: element[lastname] both a value and a list',
      finding: 12,
      request: (c) => rawForm(`operation=create&sessionName=${c.admin}&elementType=Contacts&element[lastname]=x&element[lastname][]=y&element[lastname][a]=z`),
      expect: { codes: union(PARAM, ELEMENT) },
    },
    {
      name: 'form names: a JSON element then element[lastname]',
      finding: 12,
      request: (c) =>
        rawForm(`operation=create&sessionName=${c.admin}&elementType=Contacts&element=${encodeURIComponent('{"lastname":"x"}')}&element[lastname][]=y`),
      expect: { codes: union(PARAM, ELEMENT) },
    },
    // Duplicates without brackets: the last one counts, as in PHP.
    {
      name: 'duplicate operation: getchallenge then retrieve',
      request: () => rawForm('operation=getchallenge&username=admin&operation=retrieve&id=12x1'),
      expect: { codes: SESSION },
    },
    {
      name: 'duplicate sessionName: the admin session then a bad one',
      request: (c) => rawForm(`operation=delete&id=${c.ids.lead}&sessionName=${c.admin}&sessionName=bad`),
      expect: { codes: SESSION },
    },
    {
      name: 'duplicate cbwsOptions: a deferral then garbage',
      request: (c) =>
        rawForm(
          `operation=create&sessionName=${c.admin}&elementType=Contacts&element=${encodeURIComponent('{"lastname":"dup"}')}&cbwsOptions=${encodeURIComponent(JSON.stringify(DEFER))}&cbwsOptions=%7B`,
        ),
      expect: { codes: PARAM },
    },
    {
      name: 'duplicate element: a good one then garbage',
      request: (c) => rawForm(`operation=create&sessionName=${c.admin}&elementType=Contacts&element=${encodeURIComponent('{"lastname":"dup"}')}&element=%7B`),
      expect: { codes: PARAM },
    },
    {
      name: 'a parameter in the query string and a bad one in the JSON body',
      request: (c) => ({
        ...json({ operation: 'create', sessionName: c.admin, elementType: 'NoSuchModule' }),
        path: `/webservice.php?elementType=Contacts&element=${encodeURIComponent('{"lastname":"qs"}')}`,
      }),
      expect: { codes: union(MODULE, PARAM) },
    },
  );
  return cases;
}

export function optionsCases(): Case[] {
  return [...optionCases(), ...sessionCases(), ...idCases(), ...roleCases(), ...operationCases(), ...nameCases()];
}

export type { Params };
