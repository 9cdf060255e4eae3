// The findings of issue 10, each as the request that showed it, and the limits next to them.
import { DEFER, ELEMENT, LIMIT, LOGIN, PARAM, QUERY, encode, json, md5, nested, post, rawForm, union, type Case, type Ctx, type Harness } from './types.js';

/** A statement over its time limit (WSGATE_STATEMENT_TIMEOUT_MS), or no room to run it: clear errors. */
export const STATEMENT_LIMIT = ['STATEMENT_TIMEOUT', 'SERVER_BUSY'];

/** Names getchallenge may keep: a stored name longer than this is anonymous growth (finding 2). */
const LONGEST_KEPT_NAME = 4096;

const noLongChallengeNames = async (_c: Ctx, h: Harness) => {
  const [row] = await h.sql<{ m: unknown }>('SELECT coalesce(max(length(user_name)), 0) AS m FROM ws_challenge');
  if (Number(row.m) > LONGEST_KEPT_NAME) throw new Error(`getchallenge kept a ${row.m}-character user name for an anonymous caller`);
};

const tokenOk = (r: any) => {
  if (typeof r?.token !== 'string') throw new Error('a getchallenge success carries a token');
};

const orTerms = (n: number) => `select id from Contacts where ${Array.from({ length: n }, (_, i) => `lastname = 'n${i}'`).join(' or ')};`;
const emptyList = (key: string) => (r: any) => {
  if (!Array.isArray(r?.[key]) || r[key].length !== 0) throw new Error(`${key} is not empty: ${JSON.stringify(r?.[key])?.slice(0, 200)}`);
};
const rows = (r: any) => {
  if (!Array.isArray(r)) throw new Error('a query answers a list');
};

export function findingCases(): Case[] {
  const user = (c: Ctx) => c.user;
  return [
    // 1: statements that stall everyone (the probe measures a concurrent getchallenge).
    {
      name: "query: like '%<32,000 a's>b' over 65,000-character texts",
      finding: 1,
      probe: true,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: `select id from Contacts where description like '%${'a'.repeat(32_000)}b';` }),
      expect: { codes: union(LIMIT, STATEMENT_LIMIT), success: rows },
    },
    {
      name: 'MassUpdate of 10,001 ids (over the element limit)',
      finding: 1,
      probe: true,
      request: (c) =>
        post({
          operation: 'MassUpdate',
          sessionName: c.admin,
          elements: Array.from({ length: 10_001 }, (_, i) => ({ id: `12x${900_000 + i}`, firstname: 'x' })),
        }),
      expect: { codes: LIMIT },
    },
    {
      name: 'MassDelete of 90,000 ids that do not exist',
      finding: 1,
      probe: true,
      request: (c) => rawForm(`operation=MassDelete&sessionName=${c.admin}&ids=${Array.from({ length: 90_000 }, (_, i) => `12x${900_000 + i}`).join(',')}`),
      expect: { codes: union(LIMIT, STATEMENT_LIMIT), success: emptyList('success_deletes') },
    },
    // 2: anonymous growth.
    {
      name: 'getchallenge with a 1 MB user name',
      finding: 2,
      request: () => rawForm(`operation=getchallenge&username=${'n'.repeat(1_000_000)}`),
      expect: { codes: PARAM, success: tokenOk },
      check: noLongChallengeNames,
    },
    {
      name: 'getchallenge with a 1 MB user name in a JSON body',
      finding: 2,
      request: () => json({ operation: 'getchallenge', username: 'j'.repeat(1_000_000) }),
      expect: { codes: PARAM, success: tokenOk },
      check: noLongChallengeNames,
    },
    // 3: quotas and the priority ceiling.
    {
      name: 'deferred describe with priority 2^31-1 by a plain user',
      finding: 3,
      request: (c) => post({ operation: 'describe', sessionName: user(c), elementType: 'Contacts', cbwsOptions: { ...DEFER, priority: 2 ** 31 - 1 } }),
      expect: { codes: LIMIT },
    },
    {
      name: 'deferred create with queuedelay of ten years by a plain user',
      finding: 3,
      request: (c) =>
        post({
          operation: 'create',
          sessionName: user(c),
          elementType: 'Contacts',
          element: { lastname: 'Ten years' },
          cbwsOptions: { launchfromqueue: 1, queuedelay: 10 * 365 * 24 * 3600 },
        }),
      expect: { codes: LIMIT },
    },
    {
      name: 'deferred describe with queuedelay of ten years and a second',
      finding: 3,
      request: (c) =>
        post({
          operation: 'describe',
          sessionName: c.admin,
          elementType: 'Contacts',
          cbwsOptions: { launchfromqueue: 1, queuedelay: 10 * 365 * 24 * 3600 + 1 },
        }),
      expect: { codes: LIMIT },
    },
    // 5: a login proof used twice.
    {
      name: 'login proof replayed',
      finding: 5,
      phase: 0,
      request: async (c) => {
        const challenge = await fetch(`${c.base}/webservice.php?operation=getchallenge&username=${c.userName}`).then((r) => r.json());
        const proof = md5(challenge.result.token + c.userKey);
        const first = await fetch(`${c.base}/webservice.php`, {
          method: 'POST',
          body: encode({ operation: 'login', username: c.userName, accessKey: proof }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }).then((r) => r.json());
        if (!first.success) throw new Error(`the first login with the proof failed: ${JSON.stringify(first)}`);
        return post({ operation: 'login', username: c.userName, accessKey: proof });
      },
      expect: { codes: LOGIN },
    },
    // 7: limits answered as limits.
    {
      name: 'query with 1,001 or-terms',
      finding: 7,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: orTerms(1001) }),
      expect: { codes: LIMIT },
    },
    {
      name: 'query with 997 or-terms (within the 1,000 values README allows)',
      finding: 7,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: orTerms(997) }),
      expect: { codes: STATEMENT_LIMIT, success: rows },
    },
    {
      name: 'query with 1,000 in-values (README allows 1,000)',
      finding: 7,
      request: (c) =>
        post({
          operation: 'query',
          sessionName: c.admin,
          query: `select id from Contacts where lastname in (${Array.from({ length: 1000 }, (_, i) => `'v${i}'`).join(',')});`,
        }),
      expect: { codes: STATEMENT_LIMIT, success: rows },
    },
    {
      name: 'query with 2,000 order-by terms',
      finding: 7,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: `select id from Contacts order by ${Array(2000).fill('lastname').join(', ')};` }),
      expect: { codes: LIMIT },
    },
    {
      name: 'query with a like pattern of 50,001 bytes',
      finding: 7,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: `select id from Contacts where lastname like '%${'a'.repeat(50_001)}%';` }),
      expect: { codes: LIMIT, success: rows },
    },
    {
      name: 'query with a like pattern of 100,000 multi-byte characters',
      finding: 7,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: `select id from Contacts where lastname like '%${'é'.repeat(100_000)}%';` }),
      expect: { codes: LIMIT, success: rows },
    },
    {
      name: 'deferred MassUpdate with JSON nested 10,000 deep',
      finding: 7,
      request: (c) =>
        rawForm(
          `operation=MassUpdate&sessionName=${c.admin}&cbwsOptions=${encodeURIComponent(JSON.stringify(DEFER))}&elements=${encodeURIComponent(`[{"id":"${c.ids.contact}","description":${nested(10_000)}}]`)}`,
        ),
      expect: { codes: union(LIMIT, ELEMENT) },
    },
    {
      name: 'MassUpdate with JSON nested 10,000 deep',
      finding: 7,
      request: (c) =>
        rawForm(`operation=MassUpdate&sessionName=${c.admin}&elements=${encodeURIComponent(`[{"id":"${c.ids.contact}","description":${nested(10_000)}}]`)}`),
      expect: { codes: union(LIMIT, ELEMENT), success: emptyList('success_updates') },
    },
    {
      name: 'deferred create with an element nested 10,000 deep',
      finding: 7,
      request: (c) =>
        rawForm(
          `operation=create&sessionName=${c.admin}&elementType=Contacts&cbwsOptions=${encodeURIComponent(JSON.stringify(DEFER))}&element=${encodeURIComponent(`{"lastname":"deep","description":${nested(10_000)}}`)}`,
        ),
      expect: { codes: union(LIMIT, ELEMENT) },
    },
    {
      name: 'create with an element nested 100,000 deep in a JSON body',
      finding: 7,
      request: (c) => ({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"operation":"create","sessionName":"${c.admin}","elementType":"Contacts","element":{"lastname":"deep","description":${nested(100_000)}}}`,
      }),
      expect: { codes: union(LIMIT, ELEMENT) },
    },
    {
      name: 'deferred MassCreate with 10,001 elements',
      finding: 7,
      // Unencoded JSON (as corebos-ws-lib sends it), to stay under the body limit.
      request: (c) =>
        rawForm(
          `operation=MassCreate&sessionName=${c.admin}&cbwsOptions=${encodeURIComponent(JSON.stringify(DEFER))}&elements=${JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ elementType: 'Contacts', referenceId: `r${i}`, element: { lastname: `m${i}` } })))}`,
        ),
      expect: { codes: LIMIT },
    },
    {
      name: 'listtypes with a fieldTypeList nested 10,000 deep',
      finding: 7,
      request: (c) => rawForm(`operation=listtypes&sessionName=${c.admin}&fieldTypeList=${encodeURIComponent(nested(10_000, '"email"'))}`),
      expect: {
        codes: LIMIT,
        success: (r) => {
          if (!Array.isArray(r?.types)) throw new Error('listtypes answers types');
        },
      },
    },
    // 9: numbers beyond the safe range.
    ...bigNumberCases(),
    // 12b: the PHP client's array cbwsOptions, malformed.
    ...[
      ['launchfromqueue]=1&cbwsOptions[queuedelay]=-5', 'a negative queuedelay'],
      ['launchfromqueue]=maybe', 'launchfromqueue maybe'],
      ['launchfromqueue]=1&cbwsOptions[priority]=high', 'priority high'],
      ['launchfromqueue]=1&cbwsOptions[queue]=../../etc', 'a queue name with slashes'],
      ['launchfromqueue]=1&cbwsOptions[queuedelay][]=5', 'queuedelay as an array'],
      ['launchfromqueue][]=1', 'launchfromqueue as an array'],
    ].map(
      ([tail, what]): Case => ({
        name: `create with PHP-style cbwsOptions[...]: ${what}`,
        finding: 12,
        request: (c) =>
          rawForm(`operation=create&sessionName=${c.admin}&elementType=Contacts&element=${encodeURIComponent('{"lastname":"php array"}')}&cbwsOptions[${tail}`),
        expect: { codes: PARAM },
      }),
    ),
  ];
}

function bigNumberCases(): Case[] {
  const account = (fields: string) => `{"accountname":"Big numbers",${fields}}`;
  const variants: [string, string][] = [
    ['employees 123456789012345678901234567890', '"employees":123456789012345678901234567890'],
    ['employees 2^53+1', '"employees":9007199254740993'],
    ['employees -2^63', '"employees":-9223372036854775808'],
    ['employees 1e21', '"employees":1e21'],
    ['employees as the text 123456789012345678901234567890', '"employees":"123456789012345678901234567890"'],
    ['annual_revenue 1.7976931348623157e308', '"annual_revenue":1.7976931348623157e308'],
    ['annual_revenue 1e309 (Infinity)', '"annual_revenue":1e309'],
    ['annual_revenue -1e309', '"annual_revenue":-1e309'],
    ['annual_revenue as the text Infinity', '"annual_revenue":"Infinity"'],
    ['annual_revenue as the text NaN', '"annual_revenue":"NaN"'],
    ['annual_revenue as the text 1e400', '"annual_revenue":"1e400"'],
  ];
  const cases: Case[] = variants.map(([what, fields]) => ({
    name: `create Accounts with ${what}`,
    finding: 9,
    request: (c: Ctx) => rawForm(`operation=create&sessionName=${c.admin}&elementType=Accounts&element=${encodeURIComponent(account(fields))}`),
    expect: { codes: union(ELEMENT, PARAM) },
  }));
  cases.push(
    {
      name: 'revise an account to annual_revenue 1.7976931348623157e308',
      finding: 9,
      request: (c) =>
        rawForm(`operation=revise&sessionName=${c.admin}&element=${encodeURIComponent(`{"id":"${c.ids.account}","annual_revenue":1.7976931348623157e308}`)}`),
      expect: { codes: union(ELEMENT, PARAM) },
    },
    {
      name: 'MassCreate an account with 123456789012345678901234567890 employees',
      finding: 9,
      request: (c) =>
        rawForm(
          `operation=MassCreate&sessionName=${c.admin}&elements=${encodeURIComponent(`[{"elementType":"Accounts","referenceId":"a","element":${account('"employees":123456789012345678901234567890')}}]`)}`,
        ),
      expect: { codes: union(ELEMENT, PARAM), success: emptyList('success_creates') },
    },
    {
      name: 'deferred create of an account with 2^53+1 employees',
      finding: 9,
      request: (c) =>
        rawForm(
          `operation=create&sessionName=${c.admin}&elementType=Accounts&cbwsOptions=${encodeURIComponent(JSON.stringify(DEFER))}&element=${encodeURIComponent(account('"employees":9007199254740993'))}`,
        ),
      expect: { codes: union(ELEMENT, PARAM) },
    },
    {
      name: 'query comparing employees with 123456789012345678901234567890',
      finding: 9,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query: 'select id from Accounts where employees = 123456789012345678901234567890;' }),
      expect: { codes: QUERY, success: rows },
    },
  );
  return cases;
}
