// HTTP itself: other paths and methods, bodies of other types or encodings, malformed and oversized
// bodies, aborted bodies, odd headers. Every answer with a body is a JSON envelope.
import { PARAM, SESSION, UNKNOWN_OP, encode, json, nested, rawForm, union, type Case, type Ctx, type Req } from './types.js';

const tokenOk = (r: any) => {
  if (typeof r?.token !== 'string') throw new Error('a getchallenge success carries a token');
};

/** The codes of HTTP-level refusals: an unknown path, a method the endpoint does not take. */
const ROUTE = ['NOT_FOUND', 'METHOD_NOT_ALLOWED'];

/** Other paths and methods: JSON with the right status (finding 10). */
function routeCases(): Case[] {
  const paths = [
    '/',
    '/index.php',
    '/webservice.php/extra',
    '/webservice.phpx',
    '/webservice.php.bak',
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/webservice.php%00',
    '/webservice.php;jsessionid=1',
    '/.env',
    '/favicon.ico',
    `/${'a'.repeat(6000)}`,
    '/%ff%fe',
    '/webservice.php/..%2f..%2fdata/wsgate.db',
  ];
  const cases: Case[] = [];
  for (const path of paths) {
    for (const method of ['GET', 'POST']) {
      cases.push({
        name: `${method} ${path.length > 60 ? `${path.slice(0, 20)}... (${path.length} characters)` : path}`,
        finding: 10,
        request: () => ({
          method,
          path: `${path}${method === 'GET' ? '?operation=getchallenge&username=admin' : ''}`,
          body: method === 'POST' ? 'operation=getchallenge&username=admin' : undefined,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        expect: { status: [404], codes: ROUTE },
      });
    }
  }
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    cases.push({
      name: `${method} /webservice.php`,
      finding: 10,
      request: (c) => ({
        method,
        path: '/webservice.php',
        body: encode({ operation: 'delete', sessionName: c.admin, id: c.ids.contact }),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      expect: { status: [405], codes: ROUTE },
    });
  }
  for (const method of ['PROPFIND', 'MKCOL', 'LOCK', 'TRACE', 'PURGE']) {
    cases.push({
      name: `${method} /webservice.php`,
      finding: 10,
      request: () => ({ method, path: '/webservice.php?operation=getchallenge&username=admin' }),
      expect: { status: [405, 501], codes: ROUTE },
    });
  }
  cases.push(
    { name: 'DELETE /nope', finding: 10, request: () => ({ method: 'DELETE', path: '/nope' }), expect: { status: [404, 405], codes: ROUTE } },
    {
      name: 'HEAD /webservice.php (no operation may run)',
      finding: 10,
      request: (c) => ({ method: 'HEAD', path: `/webservice.php?${encode({ operation: 'delete', sessionName: c.admin, id: c.ids.lead })}` }),
      expect: { status: [405], codes: 'client', noBody: true },
    },
    { name: 'HEAD /nope', finding: 10, request: () => ({ method: 'HEAD', path: '/nope' }), expect: { status: [404, 405], codes: 'client', noBody: true } },
  );
  return cases;
}

/** Bodies that are not what they say, or not what the protocol takes. */
function bodyCases(): Case[] {
  const getchallenge = 'operation=getchallenge&username=admin';
  const typed = (type: string, body: string | Buffer, extra: Record<string, string> = {}): Req => ({
    method: 'POST',
    body,
    headers: { 'content-type': type, ...extra },
  });
  const c415 = { status: [415], codes: PARAM };
  const cases: Case[] = [
    { name: 'text/plain body', request: () => typed('text/plain', getchallenge), expect: c415 },
    {
      name: 'multipart/form-data body',
      request: () => typed('multipart/form-data; boundary=XX', '--XX\r\nContent-Disposition: form-data; name="operation"\r\n\r\ngetchallenge\r\n--XX--\r\n'),
      expect: c415,
    },
    { name: 'application/xml body', request: () => typed('application/xml', '<operation>getchallenge</operation>'), expect: c415 },
    {
      name: 'a gzip Content-Encoding',
      request: () => typed('application/x-www-form-urlencoded', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), { 'content-encoding': 'gzip' }),
      expect: c415,
    },
    { name: 'a br, gzip Content-Encoding', request: () => typed('application/json', '{}', { 'content-encoding': 'br, gzip' }), expect: c415 },
    { name: 'a Content-Type of garbage', request: () => typed(';;;=/', getchallenge), expect: { status: [415, 400], codes: PARAM } },
    { name: 'a form body sent as application/json', request: () => typed('application/json', getchallenge), expect: { codes: PARAM } },
    {
      name: 'a JSON body sent as a form',
      request: () => typed('application/x-www-form-urlencoded', '{"operation":"getchallenge","username":"admin"}'),
      expect: { codes: UNKNOWN_OP },
    },
    {
      name: 'a UTF-16 form body',
      request: () => typed('application/x-www-form-urlencoded; charset=utf-16le', Buffer.from(getchallenge, 'utf16le')),
      expect: { status: [200, 415], codes: union(UNKNOWN_OP, PARAM) },
    },
    {
      name: 'a UTF-16 JSON body',
      request: () => typed('application/json; charset=utf-16', Buffer.from('{"operation":"getchallenge","username":"admin"}', 'utf16le')),
      expect: { status: [200, 415], codes: PARAM },
    },
    {
      name: 'a JSON body with a byte-order mark',
      request: () => typed('application/json', `\ufeff{"operation":"getchallenge","username":"admin"}`),
      expect: { codes: PARAM, success: tokenOk },
    },
    {
      name: 'a Latin-1 JSON body',
      request: () => typed('application/json; charset=iso-8859-1', Buffer.from('{"operation":"getchallenge","username":"J\xe9r\xf4me"}', 'latin1')),
      expect: { status: [200, 415], codes: PARAM, success: tokenOk },
    },
    {
      name: 'a vnd+json body with a bad operation',
      request: () => typed('application/vnd.api+json', '{"operation":"getchallenge "}'),
      expect: { codes: UNKNOWN_OP },
    },
  ];
  const malformedJson: [string, string][] = [
    ['an opening brace', '{'],
    ['a truncated object', '{"operation":"getchallenge","username":'],
    ['an array', '[]'],
    ['an array of objects', '[{"operation":"getchallenge","username":"admin"}]'],
    ['a string', '"getchallenge"'],
    ['a number', '123'],
    ['null', 'null'],
    ['true', 'true'],
    ['an object followed by garbage', '{"operation":"getchallenge","username":"admin"}garbage'],
    ['two objects', '{"operation":"getchallenge"}{"username":"admin"}'],
    ['single quotes', "{'operation':'getchallenge'}"],
    ['a trailing comma', '{"operation":"getchallenge","username":"admin",}'],
    ['NaN', '{"operation":"getchallenge","username":NaN}'],
    ['an unescaped control character', '{"operation":"getchallenge","username":"a\u0001b"}'],
    ['an array nested 100,000 deep', nested(100_000)],
    ['an object nested 50,000 deep', `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`],
    ['only whitespace', '   \r\n\t '],
    ['a NUL byte', '\u0000'],
  ];
  for (const [what, body] of malformedJson) {
    // Deep nesting that the parser takes is an object without an operation.
    cases.push({
      name: `JSON body: ${what}`,
      request: () => typed('application/json', body),
      expect: { codes: what.includes('deep') ? union(PARAM, UNKNOWN_OP) : PARAM },
    });
  }
  const oddJson: [string, (c: Ctx) => unknown, readonly string[]][] = [
    ['operation as a number', () => ({ operation: 7 }), UNKNOWN_OP],
    ['operation as an array', () => ({ operation: ['getchallenge'], username: 'admin' }), UNKNOWN_OP],
    ['operation as an object', () => ({ operation: { toString: 'getchallenge' }, username: 'admin' }), UNKNOWN_OP],
    ['operation null', () => ({ operation: null }), UNKNOWN_OP],
    ['sessionName as an object', (c) => ({ operation: 'retrieve', sessionName: { valueOf: c.admin }, id: c.ids.contact }), SESSION],
    ['sessionName as an array of the admin session', (c) => ({ operation: 'retrieve', sessionName: [c.admin], id: c.ids.contact }), SESSION],
    ['sessionName true', (c) => ({ operation: 'retrieve', sessionName: true, id: c.ids.contact }), SESSION],
    [
      'the admin session under __proto__',
      (c) => JSON.parse(`{"operation":"retrieve","id":"${c.ids.contact}","__proto__":{"sessionName":"${c.admin}"}}`),
      SESSION,
    ],
    [
      'the admin session under constructor.prototype',
      (c) => ({ operation: 'retrieve', id: c.ids.contact, constructor: { prototype: { sessionName: c.admin } } }),
      SESSION,
    ],
    [
      'a delete whose id hides under __proto__',
      (c) => JSON.parse(`{"operation":"delete","sessionName":"${c.admin}","__proto__":{"id":"${c.ids.lead}"}}`),
      PARAM,
    ],
    ['duplicate operation keys, the last a retrieve', () => '{"operation":"getchallenge","username":"admin","operation":"retrieve"}', SESSION],
  ];
  for (const [what, body, codes] of oddJson) {
    cases.push({
      name: `JSON body: ${what}`,
      request: (c) => {
        const b = body(c);
        return typeof b === 'string' ? typed('application/json', b) : json(b);
      },
      expect: { codes },
    });
  }
  return cases;
}

/** Bodies over the limit (1 MB by default), declared or not; aborted bodies (finding 8). */
function sizeCases(): Case[] {
  const c413 = { status: [413], codes: PARAM };
  return [
    { name: 'a form body of 1 MB and a byte', request: () => rawForm(`operation=getchallenge&username=${'x'.repeat(1024 * 1024 + 1)}`), expect: c413 },
    { name: 'a JSON body of 3 MB', request: () => json({ operation: 'getchallenge', username: 'x'.repeat(3 * 1024 * 1024) }), expect: c413 },
    {
      name: 'a chunked body of 2 MB (no Content-Length)',
      request: () => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
        body: `operation=getchallenge&username=${'c'.repeat(2 * 1024 * 1024)}`,
      }),
      expect: c413,
    },
    {
      name: 'a declared Content-Length of 10 GB',
      request: () => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(10 * 1024 ** 3) },
        body: 'operation=getchallenge',
        partial: true,
      }),
      expect: c413,
    },
    {
      name: 'a 100,000-key form body',
      request: () => rawForm(Array.from({ length: 100_000 }, (_, i) => `k${i}=1`).join('&')),
      // More than 1,000 parameters (PHP's max_input_vars) is refused as such.
      expect: { codes: PARAM },
    },
    {
      name: 'a form body of 400,000 ampersands',
      request: () => rawForm('&'.repeat(400_000)),
      expect: { codes: UNKNOWN_OP },
    },
    {
      name: 'a form body of 200,000 equal names (duplicate parameters)',
      request: (c) => rawForm(`${'sessionName=x&'.repeat(70_000)}operation=retrieve&id=${c.ids.contact}`),
      expect: { codes: PARAM },
    },
    {
      name: 'a form body with a name of 900 KB',
      request: () => rawForm(`${'n'.repeat(900_000)}=1&operation=getchallenge&username=admin`),
      expect: { codes: PARAM, success: tokenOk },
    },
    {
      name: 'an aborted form body',
      finding: 8,
      request: (c) => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '100000' },
        body: `operation=create&sessionName=${c.admin}&elementType=Contacts&element=`,
        abort: true,
      }),
      expect: { status: [400, 0], codes: PARAM, noBody: true },
    },
    {
      name: 'an aborted JSON body',
      finding: 8,
      request: (c) => ({
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '5000' },
        body: `{"operation":"create","sessionName":"${c.admin}","elementType":"Contacts","element":{"lastname":"`,
        abort: true,
      }),
      expect: { status: [400, 0], codes: PARAM, noBody: true },
    },
    {
      name: 'an aborted chunked body',
      finding: 8,
      request: (c) => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
        body: `operation=MassDelete&sessionName=${c.admin}&ids=${c.ids.lead}`,
        abort: true,
      }),
      expect: { status: [400, 0], codes: PARAM, noBody: true },
    },
    {
      name: 'a request header of 20 KB',
      request: () => ({ method: 'GET', path: '/webservice.php?operation=getchallenge&username=admin', headers: { 'x-filler': 'f'.repeat(20_000) } }),
      expect: { status: [431], codes: PARAM, noBody: true },
    },
  ];
}

export function httpCases(): Case[] {
  return [...routeCases(), ...bodyCases(), ...sizeCases()];
}
