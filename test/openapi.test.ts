// openapi.yaml against the code and against a real gateway: its x-operations and parameters are the
// registry's, its error codes are src/errors.ts's, and every answer of a real gateway (both backends)
// validates against the envelope schema, the documented response of its HTTP status, and the result
// schema of its operation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../src/errors.js';
import { operations } from '../src/operations/registry.js';
import { NOT_QUEUED_OR_NOT_FINISHED } from '../src/queue/store.js';
import { ADMIN_KEY, backends, login, md5, rawCall, startGateway, type CallOptions, type Envelope, type Gateway, runPass } from './support.js';
import { addUser } from '../src/auth/users.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ajv, assertValid, deref, rebase, schemaNamed, spec } from './openapi-spec.js';
import { assertProblem, door } from './doors-client.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const xOperation = (name: string): any => {
  const entry = spec['x-operations'].find((o: any) => o.name === name);
  assert.ok(entry, `x-operations has no ${name}`);
  return entry;
};

/** The schema of `result` of a successful `operation` (its x-operations resultSchema). */
const resultSchemaOf = (operation: string) => schemaNamed(xOperation(operation).resultSchema);

const webservice = (p = '/webservice.php') => deref(spec.paths[p]);

/** The documented response schema for an HTTP status of a method (exact status, then NXX, then default). */
const responseValidators = new Map<string, ValidateFunction>();
function responseSchema(method: 'GET' | 'POST', status: number): ValidateFunction {
  const key = `${method} ${status}`;
  let v = responseValidators.get(key);
  if (!v) {
    const responses = webservice()[method.toLowerCase()].responses;
    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
    assert.ok(documented, `openapi.yaml documents no ${status} response for ${method}`);
    const schema = deref(documented).content?.['application/json']?.schema;
    assert.ok(schema, `the ${status} response of ${method} has no application/json schema`);
    v = ajv.compile(rebase(schema) as object);
    responseValidators.set(key, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Calls whose answers are checked against the document

interface Expect {
  /** The HTTP status expected (200 unless said). */
  status?: number;
  /** A queueable operation called with launchfromqueue: the result is a DeferredResult. */
  deferred?: boolean;
  /** The error code expected; without it, success is expected. */
  error?: ErrorCode;
}

/**
 * Sends a web-service call and checks its answer: HTTP status, JSON content type, the Envelope schema, the
 * documented response schema of that status, and (on success) the operation's result schema.
 */
async function ws(url: string, params: Record<string, unknown>, options: CallOptions = {}, expect: Expect = {}): Promise<Envelope> {
  return checkResponse(await rawCall(url, params, options), String(params.operation), options.method ?? 'POST', expect);
}

async function checkResponse(res: Response, operation: string, method: 'GET' | 'POST', expect: Expect): Promise<Envelope> {
  const text = await res.text();
  assert.equal(res.status, expect.status ?? 200, `${operation}: HTTP ${res.status} ${text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/, `${operation}: content type`);
  const body = JSON.parse(text) as Envelope;
  assertValid(schemaNamed('Envelope'), body, `${operation}: the envelope`);
  if (expect.error) {
    assert.equal(body.success, false, `${operation}: expected ${expect.error}, got ${text}`);
    assert.equal(body.error!.code, expect.error, `${operation}: ${body.error!.message}`);
  } else {
    assert.equal(body.success, true, `${operation}: expected success, got ${text}`);
    const validate = expect.deferred ? schemaNamed('DeferredResult') : resultSchemaOf(operation);
    assertValid(validate, body.result, `${operation}: the result`);
  }
  // And what the path documents for this method and status (the union of all envelopes and results).
  assertValid(responseSchema(method, res.status), body, `${operation}: the ${method} ${res.status} response`);
  return body;
}

/** The envelope a getQueuedOperationResult answered, decoded and checked as the queued operation's. */
function decodeQueued(result: unknown, queuedOperation: string, expect: { error?: ErrorCode } = {}): Envelope {
  assert.equal(typeof result, 'string');
  assert.notEqual(result, NOT_QUEUED_OR_NOT_FINISHED, 'the operation should have finished');
  const inner = JSON.parse(result as string) as Envelope;
  assertValid(schemaNamed('Envelope'), inner, `${queuedOperation} (queued): the stored envelope`);
  if (expect.error) {
    assert.equal(inner.success, false);
    assert.equal(inner.error!.code, expect.error, inner.error!.message);
  } else {
    assert.equal(inner.success, true, JSON.stringify(inner));
    assertValid(resultSchemaOf(queuedOperation), inner.result, `${queuedOperation} (queued): the result`);
  }
  return inner;
}

async function logIn(url: string, userName = 'admin', accessKey = ADMIN_KEY) {
  const challenge = await ws(url, { operation: 'getchallenge', username: userName }, { method: 'GET' });
  const res = await ws(url, { operation: 'login', username: userName, accessKey: md5(challenge.result.token + accessKey) });
  return res.result as { sessionName: string; userId: string };
}

const sameSet = (a: Iterable<string>, b: Iterable<string>) => assert.deepEqual([...new Set(a)].sort(), [...new Set(b)].sort());

// ---------------------------------------------------------------------------------------------------------
// The document against the code

describe('openapi.yaml', () => {
  test('is OpenAPI 3.1 with /webservice.php and /webservice, by GET and POST', () => {
    assert.match(String(spec.openapi), /^3\.1\.\d+$/);
    for (const p of ['/webservice.php', '/webservice']) {
      const item = webservice(p);
      assert.ok(item.get, `${p} GET`);
      assert.ok(item.post, `${p} POST`);
      assert.ok(item.post.requestBody.content['application/x-www-form-urlencoded'], `${p} form body`);
      assert.ok(item.post.requestBody.content['application/json'], `${p} JSON body`);
      assert.ok(item.get.responses['200'] && item.post.responses['200'], `${p} 200`);
      assert.ok(item.post.responses['413'], `${p} documents 413`);
    }
  });

  test("x-operations is the built-in registry (the suite's own operations, test/fixtures/operations, are not in the file)", () => {
    const documented = spec['x-operations'] as any[];
    assert.ok(Array.isArray(documented));
    assert.equal(new Set(documented.map((o) => o.name)).size, documented.length, 'an operation is listed twice');
    sameSet(
      documented.map((o) => o.name),
      operations.map((o) => o.name),
    );
    assert.ok(!documented.some((o) => o.name.startsWith('wsgatetest_')), "the suite's operations are its own, not shipped");
    for (const op of operations) {
      const d = xOperation(op.name);
      assert.deepEqual(
        { method: d.method, prelogin: d.prelogin, queueable: d.queueable, summary: d.summary },
        { method: op.method, prelogin: op.prelogin, queueable: op.queueable, summary: op.summary },
        op.name,
      );
      assert.deepEqual(
        d.params ?? [],
        op.params.map((p) => ({ name: p.name, type: p.type, required: p.required })),
        `${op.name}: params`,
      );
      assert.ok(d.resultSchema && spec.components.schemas[d.resultSchema], `${op.name}: resultSchema ${d.resultSchema} exists`);
    }
  });

  test('every declared parameter of every operation is documented, in the query and in both bodies', () => {
    for (const p of ['/webservice.php', '/webservice']) {
      const item = webservice(p);
      const params = (item.parameters as any[]).map(deref);
      const query = new Set(params.filter((x) => x.in === 'query').map((x) => x.name));
      const headers = new Set(params.filter((x) => x.in === 'header').map((x) => x.name.toLowerCase()));
      for (const x of params) assert.ok(x.schema || x.content, `${x.name}: a schema or content`);
      const form = deref(item.post.requestBody.content['application/x-www-form-urlencoded'].schema).properties;
      const json = deref(item.post.requestBody.content['application/json'].schema).properties;
      const declared = new Set(['operation', 'sessionName', 'cbwsOptions', ...operations.flatMap((o) => o.params.map((x) => x.name))]);
      for (const name of declared) {
        assert.ok(query.has(name), `${p}: query parameter ${name}`);
        assert.ok(form[name], `${p}: form parameter ${name}`);
        assert.ok(json[name], `${p}: JSON parameter ${name}`);
      }
      assert.ok(headers.has('corebos-authorization'), `${p}: corebos-authorization header`);
      // Nothing documented that no operation declares (the testing-only `ms`, for one).
      sameSet(query, declared);
    }
  });

  test('the doors (/jobs, /api/v1) are documented: each method with Bearer security and problem answers', () => {
    const doors: Record<string, string[]> = {
      '/jobs/add': ['post'],
      '/jobs/status': ['get'],
      '/jobs/status/{id}': ['get'],
      '/api/v1/operations/{target}': ['post', 'get', 'delete'],
      '/api/v1/operations/{id}/result': ['get'],
    };
    for (const [p, methods] of Object.entries(doors)) {
      for (const m of methods) {
        const op = spec.paths[p]?.[m];
        assert.ok(op, `${m.toUpperCase()} ${p}`);
        assert.deepEqual(op.security, [{ bearer: [] }], `${m.toUpperCase()} ${p}: Bearer`);
        assert.ok(deref(op.responses['4XX']).content['application/problem+json'], `${m.toUpperCase()} ${p}: problems`);
      }
    }
    assert.equal(spec.components.securitySchemes.bearer.scheme, 'bearer');
    const problem = spec.components.schemas.Problem.properties.code;
    assert.equal(deref(problem), spec.components.schemas.ErrorCode);
  });

  test('the error codes are exactly src/errors.ts', () => {
    sameSet(spec.components.schemas.ErrorCode.enum, Object.values(ErrorCode));
    const envelopeCode = deref(spec.components.schemas.ErrorEnvelope.properties.error.properties.code);
    assert.equal(envelopeCode, spec.components.schemas.ErrorCode);
  });

  test('every schema compiles, and the schemas reject shapes that are not the documented ones', () => {
    for (const name of Object.keys(spec.components.schemas)) schemaNamed(name);
    const rejects = (schema: string, value: unknown) => assert.equal(schemaNamed(schema)(value), false, `${schema} accepted ${JSON.stringify(value)}`);
    const accepts = (schema: string, value: unknown) => assertValid(schemaNamed(schema), value, schema);
    // The samples the rejections are mutations of.
    accepts('LoginResult', { sessionName: 'ab12', userId: '19x1', version: '0.22', vtigerVersion: '5.4.0' });
    accepts('Record', { id: '12x1', assigned_user_id: '19x1', createdtime: '2024-01-02 03:04:05', modifiedtime: '2024-01-02 03:04:05', lastname: 'X' });
    accepts('Envelope', { success: false, error: { code: 'RECORD_NOT_FOUND', message: 'm' }, moreinfo: null });
    accepts('Envelope', { success: true, result: 1, moreinfo: null });
    rejects('LoginResult', { sessionName: 'ab12', userId: '19x1', version: '0.22', vtigerVersion: '5.4.0', extra: 1 });
    rejects('LoginResult', { sessionName: 'ab12', userId: '19x1', version: '0.22' });
    rejects('GetchallengeResult', { token: 'ab', serverTime: '1', expireTime: 2 });
    rejects('Record', { id: '12x1', assigned_user_id: '19x1', createdtime: '2024-01-02 03:04:05', modifiedtime: '2024-01-02 03:04:05', n: 1 });
    rejects('Record', { id: '12x1', assigned_user_id: '19x1', createdtime: '2024-01-02 03:04:05' });
    rejects('DeleteResult', { status: 'ok' });
    const rec = { id: '12x1', assigned_user_id: '19x1', createdtime: '2024-01-02 03:04:05', modifiedtime: '2024-01-02 03:04:05', lastname: 'X' };
    accepts('MassRetrieveResult', { '12x1': rec });
    accepts('MassRetrieveResult', []);
    rejects('MassRetrieveResult', {});
    rejects('MassRetrieveResult', [rec]);
    rejects('MassRetrieveResult', { junk: rec });
    rejects('DeferredResult', { operationTrackingID: 'abc', queued: true });
    rejects('QueuedOperationResult', { success: true });
    rejects('QueuedOperationResult', 'Operation not finished');
    rejects('LogoutResult', { message: 'successful' });
    rejects('ListtypesResult', { types: ['A'], information: { A: { isEntity: true, label: 'A' } } });
    rejects('Envelope', { success: false, error: { code: 'NO_SUCH_CODE', message: 'm' }, moreinfo: null });
    rejects('Envelope', { success: true, result: 1 });
    rejects('Envelope', { success: true, result: 1, moreinfo: null, error: null });
    rejects('Envelope', { success: false, error: { code: 'RECORD_NOT_FOUND' }, moreinfo: null });
    accepts('Problem', { type: 'about:blank', title: 'Gone', status: 410, detail: 'd', code: 'RESULT_ALREADY_READ' });
    rejects('Problem', { type: 'about:blank', title: 'OK', status: 200, detail: 'd', code: 'NOT_FOUND' });
    rejects('Problem', { type: 'about:blank', title: 'Gone', status: 410, detail: 'd', code: 'NO_SUCH_CODE' });
    rejects('JobsStatusAnswer', { status: 200, data: { waiting: 1, working: 0, max_threads: 1 } });
    rejects('JobAddAnswer', { status: 200, data: {} });
    rejects('JobAddRequest', { command: { type: 'exec', cmd: 'ls' } });
  });
});

// ---------------------------------------------------------------------------------------------------------
// A real gateway's answers against the document

for (const backend of backends) {
  describe(`answers of a gateway on ${backend.name} match openapi.yaml`, () => {
    let gw: Gateway;
    let url: string;
    let session: string;
    let userId: string;

    before(async () => {
      gw = await startGateway(backend);
      url = gw.url;
    });
    after(() => gw.close());

    test('getchallenge and login (and a wrong access key)', async () => {
      const challenge = await ws(url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
      assert.ok(challenge.result.expireTime > challenge.result.serverTime);
      assert.equal(challenge.moreinfo, null);
      await ws(url, { operation: 'login', username: 'admin', accessKey: md5('wrong') }, {}, { error: 'INVALID_USER_CREDENTIALS' });
      const res = await ws(url, { operation: 'login', username: 'admin', accessKey: md5(challenge.result.token + ADMIN_KEY) });
      session = res.result.sessionName;
      userId = res.result.userId;
      // Over /webservice and with a JSON body too.
      const again = await ws(`${url.replace(/\.php$/, '')}`, { operation: 'getchallenge', username: 'admin' }, { json: true });
      assert.notEqual(again.result.token, challenge.result.token, 'the login used the token up');
      const third = await ws(url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
      assert.equal(third.result.token, again.result.token, 'an unused one is handed out again');
    });

    test('listtypes, with and without fieldTypeList', async () => {
      const all = await ws(url, { operation: 'listtypes', sessionName: session }, { method: 'GET' });
      sameSet(Object.keys(all.result.information), all.result.types);
      assert.ok(all.result.types.includes('Contacts'));
      const withEmail = await ws(url, { operation: 'listtypes', sessionName: session, fieldTypeList: ['email'] }, { method: 'GET' });
      assert.ok(withEmail.result.types.length > 0);
      const none = await ws(url, { operation: 'listtypes', sessionName: session, fieldTypeList: ['nosuchtype'] }, { json: true });
      assert.deepEqual(none.result, { types: [], information: {} });
      await ws(url, { operation: 'listtypes', sessionName: session, fieldTypeList: '{"a":1}' }, { method: 'GET' }, { error: 'INVALID_PARAMETER' });
    });

    test('describe every listed module', async () => {
      const types = (await ws(url, { operation: 'listtypes', sessionName: session }, { method: 'GET' })).result.types as string[];
      for (const t of types) {
        const res = await ws(url, { operation: 'describe', sessionName: session, elementType: t }, { method: 'GET' });
        assert.equal(res.result.name, t);
        for (const system of ['id', 'assigned_user_id', 'createdtime', 'modifiedtime']) {
          assert.ok(
            res.result.fields.some((f: { name: string }) => f.name === system),
            `${t}: ${system}`,
          );
        }
      }
      await ws(url, { operation: 'describe', sessionName: session, elementType: 'NoSuchModule' }, { method: 'GET' }, { error: 'INVALID_MODULE' });
    });

    test('create, retrieve, update, delete', async () => {
      // create: JSON body, element as an object.
      const created = await ws(
        url,
        { operation: 'create', sessionName: session, elementType: 'Contacts', element: { firstname: 'Ada', lastname: 'Lovelace', donotcall: true } },
        { json: true },
      );
      const record = created.result;
      assert.equal(record.assigned_user_id, userId);
      assert.equal(record.donotcall, '1');
      // retrieve: GET, the session in the corebos-authorization header.
      const got = await ws(url, { operation: 'retrieve', id: record.id }, { method: 'GET', headers: { 'corebos-authorization': session } });
      assert.deepEqual(got.result, record);
      // update: form body, element as JSON text.
      const updated = await ws(url, {
        operation: 'update',
        sessionName: session,
        element: JSON.stringify({ id: record.id, lastname: 'Byron', email: 'ada@example.com' }),
      });
      assert.equal(updated.result.lastname, 'Byron');
      assert.equal(updated.result.firstname, '');
      assert.equal(updated.result.id, record.id);
      // delete: JSON body.
      const deleted = await ws(url, { operation: 'delete', sessionName: session, id: record.id }, { json: true });
      assert.deepEqual(deleted.result, { status: 'successful' });
      await ws(url, { operation: 'retrieve', sessionName: session, id: record.id }, { method: 'GET' }, { error: 'RECORD_NOT_FOUND' });
      await ws(url, { operation: 'delete', sessionName: session, id: record.id }, {}, { error: 'RECORD_NOT_FOUND' });
      await ws(url, { operation: 'update', sessionName: session, element: { id: record.id, lastname: 'X' } }, { json: true }, { error: 'RECORD_NOT_FOUND' });
    });

    test('revise, upsert, query, the mass operations, getRelatedModulesInfomation, idempotent requests', async () => {
      const S = { sessionName: session };
      const acme = (await ws(url, { operation: 'create', ...S, elementType: 'Accounts', element: { accountname: 'Spec Corp' } }, { json: true })).result;
      const c = (await ws(url, { operation: 'create', ...S, elementType: 'Contacts', element: { lastname: 'Spec', account_id: acme.id } }, { json: true }))
        .result;
      await ws(url, { operation: 'revise', ...S, element: JSON.stringify({ id: c.id, phone: '1' }) });
      await ws(url, { operation: 'revise', ...S, element: { id: c.id, account_id: '11x999999' } }, { json: true }, { error: 'REFERENCE_INVALID' });
      const element = { lastname: 'SpecUp', email: 'spec@example.com', phone: '1' };
      await ws(url, { operation: 'upsert', ...S, elementType: 'Contacts', element, searchOn: 'email', updatedfields: 'phone' }, { json: true });
      await ws(
        url,
        { operation: 'upsert', ...S, elementType: 'Contacts', element: { ...element, phone: '2' }, searchOn: 'email', updatedfields: 'phone' },
        { json: true },
      );
      await ws(
        url,
        { operation: 'upsert', ...S, elementType: 'Contacts', element: { lastname: 'x' }, searchOn: 'email' },
        { json: true },
        { error: 'SEARCH_VALUE_NOT_PROVIDED' },
      );
      await ws(url, { operation: 'create', ...S, elementType: 'Contacts', element: element }, { json: true });
      await ws(
        url,
        { operation: 'upsert', ...S, elementType: 'Contacts', element, searchOn: 'email', updatedfields: 'phone' },
        { json: true },
        { error: 'MULTIPLE_RECORDS_FOUND' },
      );
      await ws(
        url,
        { operation: 'query', ...S, query: "select lastname, account_id from Contacts where lastname like 'Spec%' order by lastname;" },
        { method: 'GET' },
      );
      await ws(url, { operation: 'query', ...S, query: 'select * from Contacts limit 3;' }, { method: 'GET' });
      await ws(url, { operation: 'query', ...S, query: 'select count(*) from Contacts;' }, { method: 'GET' });
      await ws(url, { operation: 'query', ...S, query: 'select from Contacts;' }, { method: 'GET' }, { error: 'QUERY_SYNTAX_ERROR' });
      const mass = await ws(
        url,
        {
          operation: 'MassCreate',
          ...S,
          elements: [
            { elementType: 'Accounts', referenceId: 'a', element: { accountname: 'Mass Spec' } },
            { elementType: 'Contacts', element: { lastname: 'M', account_id: '@{a}' } },
            { elementType: 'Contacts', element: {} },
          ],
        },
        { json: true },
      );
      assert.equal(mass.result.failed_creates.length, 1);
      await ws(url, {
        operation: 'MassUpdate',
        ...S,
        elements: JSON.stringify([
          { id: c.id, phone: '3' },
          { id: '12x999999', phone: '4' },
        ]),
      });
      const retrieved = await ws(url, { operation: 'MassRetrieve', ...S, ids: `${c.id},12x999999` });
      assert.deepEqual(Object.keys(retrieved.result as object), [c.id]);
      await ws(url, { operation: 'MassRetrieve', ...S, ids: '12x999999' }, { method: 'GET' });
      await ws(url, { operation: 'MassDelete', ...S, ids: `${mass.result.success_creates[1].id},12x999999` });
      await ws(url, { operation: 'getRelatedModulesInfomation', ...S, module: 'Accounts' });
      const generated = await ws(
        url,
        { operation: 'revise', ...S, element: { id: c.id, phone: '5' }, cbwsOptions: { ClientRequestIdentifier: 'generate' } },
        { json: true },
      );
      assert.equal(typeof (generated.moreinfo as { ClientRequestIdentifier: string }).ClientRequestIdentifier, 'string');
      const queued = await ws(
        url,
        {
          operation: 'MassCreate',
          ...S,
          elements: [{ elementType: 'Leads', element: { lastname: 'Q', company: 'C' } }],
          cbwsOptions: { launchfromqueue: 1, ClientRequestIdentifier: 'spec-mass' },
        },
        { json: true },
        { deferred: true },
      );
      await runPass(gw.rt);
      const done = await ws(url, { operation: 'getQueuedOperationResult', ...S, operationTrackingID: queued.result.operationTrackingID }, { method: 'GET' });
      decodeQueued(done.result, 'MassCreate');
      await ws(url, { operation: 'convertlead', ...S }, {}, { error: 'UNKNOWN_OPERATION' });
    });

    test('a deferred create; getQueuedOperationResult before and after an executor pass', async () => {
      const queued = await ws(
        url,
        {
          operation: 'create',
          sessionName: session,
          elementType: 'Accounts',
          element: JSON.stringify({ accountname: 'Analytical Engines', industry: 'Technology', employees: 12 }),
          cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0 }),
        },
        {},
        { deferred: true },
      );
      assert.equal(queued.moreinfo, null);
      const id = queued.result.operationTrackingID as string;
      const fetchResult = () => ws(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id }, { method: 'GET' });

      const before = await fetchResult();
      assert.equal(before.result, NOT_QUEUED_OR_NOT_FINISHED);

      const pass = await runPass(gw.rt);
      assert.equal(pass.run, 1);
      assert.equal(pass.failed, 0);

      const afterPass = await fetchResult();
      const inner = decodeQueued(afterPass.result, 'create');
      assert.equal(inner.result.accountname, 'Analytical Engines');
      assert.equal(inner.moreinfo, null);
      const stored = await ws(url, { operation: 'retrieve', sessionName: session, id: inner.result.id }, { method: 'GET' });
      assert.deepEqual(stored.result, inner.result);

      // Read once: the second read is "not queued".
      assert.equal((await fetchResult()).result, NOT_QUEUED_OR_NOT_FINISHED);
      // Unknown ids answer the same.
      assert.equal(
        (await ws(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: 'nosuchid' }, { method: 'GET' })).result,
        NOT_QUEUED_OR_NOT_FINISHED,
      );
    });

    test('deferred describe and a deferred update that fails when it runs (stored error envelope)', async () => {
      const described = await ws(
        url,
        { operation: 'describe', sessionName: session, elementType: 'Leads', cbwsOptions: { launchfromqueue: true } },
        { json: true },
        { deferred: true },
      );
      const created = await ws(
        url,
        { operation: 'create', sessionName: session, elementType: 'Leads', element: { lastname: 'L', company: 'C' } },
        { json: true },
      );
      const update = await ws(
        url,
        {
          operation: 'update',
          sessionName: session,
          element: JSON.stringify({ id: created.result.id, lastname: 'M', company: 'D' }),
          cbwsOptions: '{"launchfromqueue":"1","queuedelay":"0"}',
        },
        {},
        { deferred: true },
      );
      await ws(url, { operation: 'delete', sessionName: session, id: created.result.id });
      const pass = await runPass(gw.rt);
      assert.deepEqual(
        { run: pass.run, errors: pass.errors, failed: pass.failed },
        { run: 2, errors: 1, failed: 0 },
        "the update's RECORD_NOT_FOUND is a protocol error, not the failed store",
      );

      const get = (id: string) => ws(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id }, { json: true });
      const d = decodeQueued((await get(described.result.operationTrackingID)).result, 'describe');
      assert.equal(d.result.name, 'Leads');
      decodeQueued((await get(update.result.operationTrackingID)).result, 'update', { error: 'RECORD_NOT_FOUND' });
    });

    test('getQueuedOperationStatus and cancelQueuedOperation, with queue and priority; owner only', async () => {
      const queued = await ws(
        url,
        {
          operation: 'create',
          sessionName: session,
          elementType: 'Contacts',
          element: { lastname: 'Routed' },
          cbwsOptions: { launchfromqueue: 1, queuedelay: 600, queue: 'reports', priority: 900, futureoption: 'ignored' },
        },
        { json: true },
        { deferred: true },
      );
      const id = queued.result.operationTrackingID as string;
      const status = (sessionName = session) => ws(url, { operation: 'getQueuedOperationStatus', sessionName, operationTrackingID: id }, { method: 'GET' });
      const s = (await status()).result;
      assert.deepEqual([s.status, s.queue, s.priority, s.attempts, s.errors, s.startedtime], ['delayed', 'reports', 900, 0, [], null]);
      assert.ok(Date.parse(s.duetime) - Date.parse(s.submittedtime) === 600_000);

      const other = await addUser(gw.rt.db.raw, gw.rt.services.secret, { userName: 'stranger' }, gw.rt.services.clock.now());
      const strangerSession = (await login(url, 'stranger', other.accessKey)).sessionName;
      await ws(
        url,
        { operation: 'getQueuedOperationStatus', sessionName: strangerSession, operationTrackingID: id },
        { method: 'GET' },
        { error: 'RECORD_NOT_FOUND' },
      );
      await ws(url, { operation: 'cancelQueuedOperation', sessionName: strangerSession, operationTrackingID: id }, {}, { error: 'RECORD_NOT_FOUND' });

      const cancelled = await ws(url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: id });
      assert.deepEqual(cancelled.result, { operationTrackingID: id, status: 'cancelled' });
      assert.equal((await status()).result.status, 'cancelled');
      await ws(url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: id }, {}, { error: 'NOT_CANCELLABLE' });
      const got = await ws(url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id }, { method: 'GET' });
      decodeQueued(got.result, 'create', { error: 'OPERATION_CANCELLED' });

      for (const bad of [{ queue: 'no spaces' }, { queue: 7 }, { priority: 1.5 }, { priority: 'high' }]) {
        await ws(
          url,
          { operation: 'create', sessionName: session, elementType: 'Contacts', element: { lastname: 'X' }, cbwsOptions: { launchfromqueue: 1, ...bad } },
          { json: true },
          { error: 'INVALID_PARAMETER' },
        );
      }
    });

    test('a non-queueable operation with launchfromqueue runs at once and says so in moreinfo', async () => {
      const res = await ws(url, { operation: 'listtypes', sessionName: session, cbwsOptions: '{"launchfromqueue":1}' }, { method: 'GET' });
      assert.equal(typeof res.moreinfo, 'string');
      const pre = await ws(url, { operation: 'getchallenge', username: 'admin', cbwsOptions: '{"launchfromqueue":1}' }, { method: 'GET' });
      assert.equal(typeof pre.moreinfo, 'string');
      // An empty list (PHP clients) means no options.
      const plain = await ws(url, { operation: 'listtypes', sessionName: session, cbwsOptions: '[]' }, { method: 'GET' });
      assert.equal(plain.moreinfo, null);
    });

    test('error answers', async () => {
      const s = { sessionName: session };
      await ws(url, { operation: 'nosuchoperation', ...s }, { method: 'GET' }, { error: 'UNKNOWN_OPERATION' });
      await ws(url, { ...s }, {}, { error: 'UNKNOWN_OPERATION' });
      await ws(url, { operation: 'listtypes' }, { method: 'GET' }, { error: 'AUTHENTICATION_REQUIRED' });
      await ws(url, { operation: 'listtypes', sessionName: 'nosuchsession' }, { method: 'GET' }, { error: 'INVALID_SESSIONID' });
      await ws(url, { operation: 'listtypes' }, { method: 'GET', headers: { 'corebos-authorization': 'nosuchsession' } }, { error: 'INVALID_SESSIONID' });
      for (const cbwsOptions of ['{not json', '"a string"', '{"launchfromqueue":2}', '{"launchfromqueue":1,"queuedelay":-1}', '{"queuedelay":1.5}']) {
        await ws(url, { operation: 'describe', ...s, elementType: 'Contacts', cbwsOptions }, {}, { error: 'INVALID_PARAMETER' });
      }
      await ws(
        url,
        { operation: 'describe', ...s, elementType: 'Contacts', cbwsOptions: { launchfromqueue: 'yes' } },
        { json: true },
        { error: 'INVALID_PARAMETER' },
      );
      await ws(url, { operation: 'retrieve', ...s }, { method: 'GET' }, { error: 'INVALID_PARAMETER' });
      await ws(url, { operation: 'retrieve', ...s, id: 'abc' }, { method: 'GET' }, { error: 'INVALID_ID_ATTRIBUTE' });
      await ws(url, { operation: 'retrieve', ...s, id: '99x1' }, { method: 'GET' }, { error: 'INVALID_MODULE' });
      await ws(url, { operation: 'create', ...s, elementType: 'Contacts', element: '{bad' }, {}, { error: 'INVALID_PARAMETER' });
      await ws(url, { operation: 'create', ...s, elementType: 'Contacts', element: { firstname: 'x' } }, { json: true }, { error: 'MANDATORY_FIELDS_MISSING' });
      await ws(
        url,
        { operation: 'create', ...s, elementType: 'Contacts', element: { lastname: 'x', email: 'not-an-email' } },
        { json: true },
        { error: 'VALIDATION_FAILED' },
      );
      await ws(
        url,
        { operation: 'create', ...s, elementType: 'Contacts', element: { lastname: 'x', nosuchfield: 1 } },
        { json: true },
        { error: 'VALIDATION_FAILED' },
      );
      await ws(
        url,
        { operation: 'create', ...s, elementType: 'Contacts', element: { lastname: 'x', assigned_user_id: '19x999' } },
        { json: true },
        { error: 'REFERENCE_INVALID' },
      );
      await ws(url, { operation: 'update', ...s, element: { lastname: 'x' } }, { json: true }, { error: 'INVALID_ID_ATTRIBUTE' });
      // A deferred call bound to fail is rejected when submitted.
      await ws(
        url,
        { operation: 'create', ...s, elementType: 'Contacts', element: { firstname: 'x' }, cbwsOptions: { launchfromqueue: 1 } },
        { json: true },
        { error: 'MANDATORY_FIELDS_MISSING' },
      );
      await ws(
        url,
        { operation: 'create', ...s, elementType: 'Contacts', element: { lastname: 'x', assigned_user_id: '19x999' }, cbwsOptions: { launchfromqueue: 1 } },
        { json: true },
        { error: 'REFERENCE_INVALID' },
      );
      await ws(url, { operation: 'describe', ...s, elementType: 'Nope', cbwsOptions: '{"launchfromqueue":1}' }, {}, { error: 'INVALID_MODULE' });
      await ws(url, { operation: 'login', username: 'nobody', accessKey: 'x' }, {}, { error: 'INVALID_USER_CREDENTIALS' });
      // Bodies that are not parameters.
      const post = (body: string, contentType: string) =>
        fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } }).then((r) =>
          checkResponse(r, 'listtypes', 'POST', { error: 'INVALID_PARAMETER' }),
        );
      await post('{"operation":', 'application/json');
      await post('["listtypes"]', 'application/json');
      await post('null', 'application/json');
    });

    test('the doors answer as documented: /jobs/status, the 202 flow, problems', async () => {
      // door() checks each answer against the documented response of its path, method and status.
      const base = gw.server.url;
      const target = '/api/v1/operations/{target}';
      const none = await door(base, 'GET', '/jobs/status', { template: '/jobs/status' });
      assertProblem(none, 401, 'AUTHENTICATION_REQUIRED');
      assert.equal((await door(base, 'GET', '/jobs/status', { template: '/jobs/status', bearer: session })).status, 200);
      const accepted = await door(base, 'POST', '/api/v1/operations/describe', { template: target, bearer: session, json: { elementType: 'Contacts' } });
      assert.equal(accepted.status, 202);
      const id = accepted.body.operationTrackingID;
      assert.equal((await door(base, 'GET', `/jobs/status/${id}`, { template: '/jobs/status/{id}', bearer: session })).status, 200);
      assert.equal((await door(base, 'GET', `/api/v1/operations/${id}`, { template: target, bearer: session })).status, 200);
      await runPass(gw.rt);
      assert.equal((await door(base, 'GET', `/jobs/status/${id}`, { template: '/jobs/status/{id}', bearer: session })).body.data.output.success, true);
      assert.equal((await door(base, 'GET', `/api/v1/operations/${id}`, { template: target, bearer: session })).status, 303);
      const result = await door(base, 'GET', `/api/v1/operations/${id}/result`, { template: '/api/v1/operations/{id}/result', bearer: session });
      assertValid(resultSchemaOf('describe'), result.body, 'the 202 result of describe');
      assertProblem(
        await door(base, 'GET', `/api/v1/operations/${id}/result`, { template: '/api/v1/operations/{id}/result', bearer: session }),
        410,
        'RESULT_ALREADY_READ',
      );
      assertProblem(
        await door(base, 'POST', '/jobs/add', { template: '/jobs/add', bearer: session, json: { command: { type: 'ftp' } } }),
        400,
        'INVALID_PARAMETER',
        'command.type',
      );
    });

    test('logout ends the session', async () => {
      const other = await logIn(url);
      const res = await ws(url, { operation: 'logout' }, { headers: { 'corebos-authorization': other.sessionName } });
      assert.deepEqual(res.result, { message: 'successfull' });
      await ws(url, { operation: 'listtypes', sessionName: other.sessionName }, { method: 'GET' }, { error: 'INVALID_SESSIONID' });
      await ws(url, { operation: 'logout', sessionName: session });
      await ws(url, { operation: 'logout', sessionName: session }, {}, { error: 'INVALID_SESSIONID' });
    });
  });

  describe(`a body over the limit on ${backend.name} is the documented 413`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend, { WSGATE_BODY_LIMIT: '1kb' });
    });
    after(() => gw.close());

    test('413 for form and JSON bodies over 1kb; bodies under it are served', async () => {
      const { sessionName } = await logIn(gw.url);
      const big = { lastname: 'L', description: 'x'.repeat(2000) };
      const params = { operation: 'create', sessionName, elementType: 'Contacts', element: big };
      const form = await ws(gw.url, { ...params, element: JSON.stringify(big) }, {}, { status: 413, error: 'INVALID_PARAMETER' });
      assert.match(form.error!.message, /1kb/);
      await ws(gw.url, params, { json: true }, { status: 413, error: 'INVALID_PARAMETER' });
      // A chunked body (no Content-Length) over the limit.
      const chunked = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(`operation=create&sessionName=${sessionName}&elementType=Contacts&element=`));
          c.enqueue(new TextEncoder().encode(encodeURIComponent(JSON.stringify(big))));
          c.close();
        },
      });
      const res = await fetch(gw.url, {
        method: 'POST',
        body: chunked,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        duplex: 'half',
      } as RequestInit);
      await checkResponse(res, 'create', 'POST', { status: 413, error: 'INVALID_PARAMETER' });
      // Under the limit: served.
      await ws(gw.url, { ...params, element: { lastname: 'L', description: 'short' } }, { json: true });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Answers outside the endpoint's GET and POST: the documented NotFound and MethodNotAllowed responses

for (const backend of backends) {
  describe(`answers of other paths and methods on ${backend.name} match openapi.yaml`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw.close());

    test('404, 405, 501 and OPTIONS', async () => {
      const documented = (name: string) => ajv.compile(rebase(deref(spec.components.responses[name]).content['application/json'].schema) as object);
      const base = gw.url.replace(/\/webservice\.php$/, '');
      const cases: [string, string, number, string, ErrorCode][] = [
        ['/nope', 'GET', 404, 'NotFound', 'NOT_FOUND'],
        ['/webservice.php/extra', 'POST', 404, 'NotFound', 'NOT_FOUND'],
        ['/webservice.php', 'PUT', 405, 'MethodNotAllowed', 'METHOD_NOT_ALLOWED'],
        ['/webservice', 'DELETE', 405, 'MethodNotAllowed', 'METHOD_NOT_ALLOWED'],
        ['/webservice.php', 'PROPFIND', 501, 'MethodNotAllowed', 'METHOD_NOT_ALLOWED'],
      ];
      for (const [p, method, status, response, code] of cases) {
        const res = await fetch(`${base}${p}`, { method });
        assert.equal(res.status, status);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
        const body = await res.json();
        assertValid(schemaNamed('Envelope'), body, `${method} ${p}`);
        assertValid(documented(response), body, `${method} ${p}`);
        assert.equal(body.error.code, code);
        if (status !== 404) assert.equal(res.headers.get('allow'), 'GET, POST, OPTIONS');
      }
      const options = await fetch(gw.url, { method: 'OPTIONS' });
      assert.equal(options.status, 204);
      assert.equal(options.headers.get('allow'), deref(webservice().options.responses['204']).headers.Allow.schema.const);
    });
  });
}
