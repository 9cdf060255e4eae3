// The user story over HTTP against a real gateway, on every backend, and every error code a request can earn.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, addTestUser, backends, call, login, md5, type Gateway, startGateway, runPass } from './support.js';
import { retentionOf } from '../src/runtime.js';

const NOT_YET = 'Operation not queued or not finished yet';
const defer = (queuedelay = 0) => JSON.stringify({ launchfromqueue: 1, queuedelay });

for (const backend of backends) {
  describe(`protocol on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const countQueued = () => gw.rt.db.prisma.queuedOperation.count();
    const pass = () => runPass(gw.rt);
    const expectError = async (params: Record<string, unknown>, code: string, options = {}) => {
      const res = await call(gw.url, params, options);
      assert.equal(res.success, false, `expected ${code}, got ${JSON.stringify(res)}`);
      assert.equal(res.error!.code, code, JSON.stringify(res));
      assert.equal(typeof res.error!.message, 'string');
      assert.ok('moreinfo' in res);
      return res;
    };

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('the user story: login, queued create, result once', async () => {
      const challenge = await call(gw.url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
      assert.equal(challenge.success, true);
      assert.match(challenge.result.token, /^[0-9a-f]{32}$/);
      assert.ok(challenge.result.expireTime > challenge.result.serverTime);
      const again = await call(gw.url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
      assert.equal(again.result.token, challenge.result.token, 'an unexpired token is handed out again');
      const loggedIn = await call(gw.url, { operation: 'login', username: 'admin', accessKey: md5(challenge.result.token + ADMIN_KEY) });
      assert.equal(loggedIn.success, true);
      assert.equal(loggedIn.result.userId, '19x1');
      assert.equal(loggedIn.result.version, '0.22');
      const s = loggedIn.result.sessionName;

      const before = await countQueued();
      const queued = await call(gw.url, {
        operation: 'create',
        sessionName: s,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname: 'Smith', firstname: 'Ann', assigned_user_id: '19x1' }),
        cbwsOptions: defer(30),
      });
      assert.equal(queued.success, true, JSON.stringify(queued));
      const id = queued.result.operationTrackingID;
      assert.match(id, /^[A-Za-z0-9_-]{21}$/);
      assert.equal(await countQueued(), before + 1);
      assert.equal(await gw.rt.db.prisma.record.count({ where: { data: { contains: 'Smith' } } }), 0, 'not run yet');

      const early = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: s, operationTrackingID: id });
      assert.deepEqual(early, { success: true, result: NOT_YET, moreinfo: null });
      assert.equal((await pass()).run, 0, 'a delayed operation does not run before its time');
      gw.rt.services.clock.advance(31_000);
      const summary = await pass();
      assert.equal(summary.run, 1);
      assert.equal(summary.failed, 0);

      const done = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: s, operationTrackingID: id });
      assert.equal(done.success, true);
      assert.equal(typeof done.result, 'string', 'the result is the envelope as a JSON string');
      const inner = JSON.parse(done.result);
      assert.equal(inner.success, true);
      assert.equal(inner.moreinfo, null);
      assert.equal(inner.result.lastname, 'Smith');
      assert.equal(inner.result.assigned_user_id, '19x1');
      assert.match(inner.result.id, /^12x\d+$/);
      const record = await call(gw.url, { operation: 'retrieve', sessionName: s, id: inner.result.id }, { method: 'GET' });
      assert.deepEqual(record.result, inner.result);
      const twice = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: s, operationTrackingID: id });
      assert.equal(twice.result, NOT_YET, 'a result is read once');
    });

    test('records: listtypes, describe, create, retrieve, update, delete', async () => {
      const types = await call(gw.url, { operation: 'listtypes', sessionName: session }, { method: 'GET' });
      assert.deepEqual(types.result.types, ['Accounts', 'Contacts', 'Leads']);
      assert.equal(types.result.information.Contacts.isEntity, true);
      const withEmail = await call(gw.url, { operation: 'listtypes', sessionName: session, fieldTypeList: '["datetime"]' });
      assert.deepEqual(withEmail.result.types, ['Leads']);
      const d = await call(gw.url, { operation: 'describe', sessionName: session, elementType: 'Contacts' }, { method: 'GET' });
      assert.equal(d.result.idPrefix, '12');
      const lastname = d.result.fields.find((f: { name: string }) => f.name === 'lastname');
      assert.equal(lastname.mandatory, true);
      assert.ok(d.result.fields.some((f: { name: string }) => f.name === 'assigned_user_id'));

      const created = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Accounts',
        element: JSON.stringify({ accountname: 'Acme', employees: 12, industry: 'Retail' }),
      });
      assert.equal(created.success, true, JSON.stringify(created));
      assert.equal(created.result.employees, '12', 'values come back as strings, as coreBOS answers');
      assert.equal(created.result.assigned_user_id, '19x1', 'the owner defaults to the caller');
      assert.match(created.result.createdtime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      gw.rt.services.clock.advance(2000);
      const updated = await call(gw.url, {
        operation: 'update',
        sessionName: session,
        element: JSON.stringify({ id: created.result.id, accountname: 'Acme Ltd' }),
      });
      assert.equal(updated.result.accountname, 'Acme Ltd');
      assert.equal(updated.result.employees, '', 'update replaces the whole record');
      assert.equal(updated.result.createdtime, created.result.createdtime);
      assert.notEqual(updated.result.modifiedtime, created.result.modifiedtime);

      const deleted = await call(gw.url, { operation: 'delete', sessionName: session, id: created.result.id });
      assert.deepEqual(deleted.result, { status: 'successful' });
      await expectError({ operation: 'retrieve', sessionName: session, id: created.result.id }, 'RECORD_NOT_FOUND');
    });

    test('transport: GET, JSON bodies, case-insensitive names, the authorization header, /webservice', async () => {
      const viaJson = await call(
        gw.url,
        { operation: 'CREATE', sessionName: session, elementType: 'Contacts', element: { lastname: 'Json' }, cbwsOptions: { launchfromqueue: true } },
        { json: true },
      );
      assert.equal(viaJson.success, true, JSON.stringify(viaJson));
      assert.ok(viaJson.result.operationTrackingID);
      const header = await call(gw.url, { operation: 'ListTypes' }, { method: 'GET', headers: { 'corebos-authorization': session } });
      assert.equal(header.success, true);
      const emptyHeader = await call(gw.url, { operation: 'listtypes', sessionName: session }, { headers: { 'corebos-authorization': '' } });
      assert.equal(emptyHeader.success, true, 'an empty header does not override sessionName');
      const plain = await call(gw.url.replace('/webservice.php', '/webservice'), { operation: 'listtypes', sessionName: session });
      assert.equal(plain.success, true);
      // corebos-ws-lib sends JSON unencoded: `+` arrives as a space and a lone % must not break decoding.
      const raw = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', 'corebos-authorization': session },
        body: 'operation=create&elementType=Contacts&element={"lastname":"100% Smith+Jones"}',
      });
      const unencoded = await raw.json();
      assert.equal(unencoded.result.lastname, '100% Smith Jones');
    });

    test('bodies that are neither form nor JSON are refused with 415, HEAD runs nothing', async () => {
      const multipart = new FormData();
      multipart.set('operation', 'listtypes');
      multipart.set('sessionName', session);
      const m = await fetch(gw.url, { method: 'POST', body: multipart });
      assert.equal(m.status, 415);
      assert.equal((await m.json()).error.code, 'INVALID_PARAMETER');
      const gz = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        body: (await import('node:zlib')).gzipSync(`operation=listtypes&sessionName=${session}`),
      });
      assert.equal(gz.status, 415);
      const plusJson = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.api+json' },
        body: JSON.stringify({ operation: 'listtypes', sessionName: session }),
      });
      assert.equal((await plusJson.json()).success, true, 'a +json type is JSON');
      const before = await gw.rt.db.prisma.challenge.count();
      const head = await fetch(`${gw.url}?operation=getchallenge&username=headonly`, { method: 'HEAD' });
      assert.equal(head.status, 405);
      assert.equal(await gw.rt.db.prisma.challenge.count(), before, 'HEAD did not run getchallenge');
    });

    test('a non-queueable operation asked to defer runs at once and says so', async () => {
      const before = await countQueued();
      const res = await call(gw.url, { operation: 'listtypes', sessionName: session, cbwsOptions: defer() });
      assert.equal(res.success, true);
      assert.ok(Array.isArray(res.result.types));
      assert.match(String(res.moreinfo), /cannot be queued/);
      assert.equal(await countQueued(), before);
    });

    test('queued describe runs later; failed operations still give a stored envelope', async () => {
      const d = await call(gw.url, { operation: 'describe', sessionName: session, elementType: 'Leads', cbwsOptions: defer() });
      const boom = await call(gw.url, { operation: 'wsgatetest_throw', sessionName: session, cbwsOptions: defer() });
      // Valid at submit, wrong at run time: the record is gone when the update runs.
      const c = await call(gw.url, { operation: 'create', sessionName: session, elementType: 'Contacts', element: '{"lastname":"Gone"}' });
      const upd = await call(gw.url, {
        operation: 'update',
        sessionName: session,
        element: JSON.stringify({ id: c.result.id, lastname: 'Later' }),
        cbwsOptions: defer(),
      });
      await call(gw.url, { operation: 'delete', sessionName: session, id: c.result.id });
      const summary = await pass();
      assert.ok(summary.run >= 3 && summary.errors >= 1 && summary.failed >= 1, JSON.stringify(summary));
      const get = async (id: string) =>
        JSON.parse((await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id })).result);
      assert.equal((await get(d.result.operationTrackingID)).result.name, 'Leads');
      const internal = await get(boom.result.operationTrackingID);
      assert.deepEqual(internal.error.code, 'INTERNAL_SERVER_ERROR');
      assert.doesNotMatch(internal.error.message, /TypeError/, 'internals do not leak into the envelope');
      assert.equal((await get(upd.result.operationTrackingID)).error.code, 'RECORD_NOT_FOUND');
    });

    test('results belong to the user who queued them, and expire unread', async () => {
      const other = await addTestUser(gw, `bob${backend.name}`);
      const bob = (await login(gw.url, `bob${backend.name}`, other.accessKey)).sessionName;
      const q = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: '{"lastname":"Mine"}',
        cbwsOptions: defer(),
      });
      const stale = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: '{"lastname":"Old"}',
        cbwsOptions: defer(),
      });
      await pass();
      const id = q.result.operationTrackingID;
      const asBob = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: bob, operationTrackingID: id });
      assert.equal(asBob.result, NOT_YET, 'another user cannot read it, nor learn that it exists');
      const mine = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      assert.equal(JSON.parse(mine.result).result.lastname, 'Mine', 'and cannot consume it either');

      gw.rt.services.clock.advance(gw.rt.config.resultTtlSeconds * 1000 + 1000);
      session = (await login(gw.url)).sessionName;
      const expired = await call(gw.url, {
        operation: 'getQueuedOperationResult',
        sessionName: session,
        operationTrackingID: stale.result.operationTrackingID,
      });
      assert.equal(expired.result, NOT_YET);
      const { purgeExpired } = await import('../src/executor/maintenance.js');
      const purged = await purgeExpired(gw.rt.db, gw.rt.services.clock.now(), retentionOf(gw.rt));
      assert.ok(purged.results >= 1);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: stale.result.operationTrackingID } }), 0);
    });

    test('login variants and session errors', async () => {
      const pw = await addTestUser(gw, `carol${backend.name}`, 'correct horse');
      const ch = await call(gw.url, { operation: 'getchallenge', username: `carol${backend.name}` });
      const withPassword = await call(gw.url, { operation: 'login', username: `carol${backend.name}`, accessKey: ch.result.token + 'correct horse' });
      assert.equal(withPassword.success, true, 'token + password for a user with a password');
      await expectError({ operation: 'login', username: `carol${backend.name}`, accessKey: ch.result.token + 'wrong' }, 'INVALID_USER_CREDENTIALS');
      const adminCh = await call(gw.url, { operation: 'getchallenge', username: 'admin' });
      await expectError({ operation: 'login', username: 'admin', accessKey: adminCh.result.token + ADMIN_KEY }, 'INVALID_USER_CREDENTIALS');
      await expectError({ operation: 'login', username: 'admin', accessKey: md5('x' + ADMIN_KEY) }, 'INVALID_USER_CREDENTIALS');
      // Without a token too: the answer does not tell whether the name exists or has a token (login-defences.test.ts).
      await expectError({ operation: 'login', username: 'nobody', accessKey: md5(ADMIN_KEY) }, 'INVALID_USER_CREDENTIALS');
      // As many characters as an md5 digest, but more bytes: still just wrong credentials.
      const adminCh2 = await call(gw.url, { operation: 'getchallenge', username: 'admin' });
      assert.equal(adminCh2.result.token, adminCh.result.token, 'an unexpired token is handed out again');
      await expectError({ operation: 'login', username: 'admin', accessKey: 'é'.repeat(32) }, 'INVALID_USER_CREDENTIALS');
      const ghost = await call(gw.url, { operation: 'getchallenge', username: 'ghost' });
      assert.equal(ghost.success, true, 'unknown users get a token too');
      await expectError({ operation: 'login', username: 'ghost', accessKey: md5(ghost.result.token + ADMIN_KEY) }, 'INVALID_USER_CREDENTIALS');
      assert.ok(pw.accessKey);

      await expectError({ operation: 'listtypes' }, 'AUTHENTICATION_REQUIRED');
      await expectError({ operation: 'listtypes', sessionName: 'nope' }, 'INVALID_SESSIONID');
      const s1 = (await login(gw.url)).sessionName;
      gw.rt.services.clock.advance((gw.rt.config.sessionIdleSeconds + 1) * 1000);
      await expectError({ operation: 'listtypes', sessionName: s1 }, 'SESSION_LEFT_IDLE');
      const s2 = (await login(gw.url)).sessionName;
      // Stay active (under the idle limit) until just past the absolute lifetime.
      const step = (gw.rt.config.sessionIdleSeconds - 60) * 1000;
      const lifetime = gw.rt.config.sessionLifetimeSeconds * 1000;
      let elapsed = 0;
      while (elapsed + step <= lifetime) {
        gw.rt.services.clock.advance(step);
        elapsed += step;
        const alive = await call(gw.url, { operation: 'listtypes', sessionName: s2 });
        assert.equal(alive.success, true, JSON.stringify(alive));
      }
      gw.rt.services.clock.advance(lifetime - elapsed + 1000);
      await expectError({ operation: 'listtypes', sessionName: s2 }, 'SESSION_EXPIRED');
      const s3 = (await login(gw.url)).sessionName;
      const out = await call(gw.url, { operation: 'logout', sessionName: s3 });
      assert.equal(out.success, true);
      await expectError({ operation: 'listtypes', sessionName: s3 }, 'INVALID_SESSIONID');
      gw.rt.services.clock.advance((gw.rt.config.challengeTtlSeconds + 1) * 1000);
      const fresh = await call(gw.url, { operation: 'getchallenge', username: 'admin' });
      assert.notEqual(fresh.result.token, adminCh.result.token, 'an expired token is replaced');
      session = (await login(gw.url)).sessionName;
    });

    test('concurrent getchallenge calls all get the same token, also once the old one has expired', async () => {
      const userName = `racer${backend.name}`;
      const all = async () => {
        const answers = await Promise.all(Array.from({ length: 20 }, () => call(gw.url, { operation: 'getchallenge', username: userName })));
        assert.ok(
          answers.every((a) => a.success),
          JSON.stringify(answers[0]),
        );
        const tokens = new Set(answers.map((a) => a.result.token as string));
        assert.equal(tokens.size, 1, `${tokens.size} different tokens handed out`);
        return [...tokens][0]!;
      };
      const first = await all();
      gw.rt.services.clock.advance((gw.rt.config.challengeTtlSeconds + 1) * 1000);
      const second = await all();
      assert.notEqual(second, first);
      session = (await login(gw.url)).sessionName;
    });

    test('bad input is rejected at submit with the right code, and nothing is queued', async () => {
      const s = session;
      const before = await countQueued();
      const q = defer();
      const queuedCreate = (element: string, elementType = 'Contacts') => ({ operation: 'create', sessionName: s, elementType, element, cbwsOptions: q });
      await expectError({ operation: 'nosuchop', sessionName: s }, 'UNKNOWN_OPERATION');
      await expectError({ operation: 'convertlead', sessionName: s }, 'UNKNOWN_OPERATION');
      await expectError({ sessionName: s }, 'UNKNOWN_OPERATION');
      await expectError({ operation: 'create', elementType: 'Contacts', element: '{"lastname":"x"}', cbwsOptions: q }, 'AUTHENTICATION_REQUIRED');
      await expectError({ operation: 'create', sessionName: s, elementType: 'Contacts', cbwsOptions: q }, 'INVALID_PARAMETER');
      await expectError(queuedCreate('{"lastname":'), 'INVALID_PARAMETER');
      await expectError(queuedCreate('["x"]'), 'INVALID_PARAMETER');
      for (const bad of [
        '{"launchfromqueue":1',
        '"x"',
        '{"launchfromqueue":2}',
        '{"launchfromqueue":1,"queuedelay":-1}',
        '{"launchfromqueue":1,"queuedelay":1.5}',
        '{"launchfromqueue":1,"queuedelay":"soon"}',
        '{"launchfromqueue":1,"queuedelay":8700000000000}',
      ]) {
        await expectError({ ...queuedCreate('{"lastname":"x"}'), cbwsOptions: bad }, 'INVALID_PARAMETER');
      }
      await expectError(queuedCreate('{"lastname":"x"}', 'Nope'), 'INVALID_MODULE');
      await expectError({ operation: 'describe', sessionName: s, elementType: 'Nope', cbwsOptions: q }, 'INVALID_MODULE');
      await expectError(queuedCreate('{"firstname":"x"}'), 'MANDATORY_FIELDS_MISSING');
      await expectError(queuedCreate('{"lastname":"  "}'), 'MANDATORY_FIELDS_MISSING');
      await expectError(queuedCreate('{"lastname":"x","email":"not-an-email"}'), 'VALIDATION_FAILED');
      await expectError(queuedCreate('{"lastname":"x","shoesize":"9"}'), 'VALIDATION_FAILED');
      await expectError(queuedCreate('{"accountname":"x","industry":"Piracy"}', 'Accounts'), 'VALIDATION_FAILED');
      await expectError(queuedCreate('{"lastname":"x","assigned_user_id":"banana"}'), 'INVALID_ID_ATTRIBUTE');
      await expectError({ operation: 'update', sessionName: s, element: '{"lastname":"x"}', cbwsOptions: q }, 'INVALID_ID_ATTRIBUTE');
      await expectError({ operation: 'update', sessionName: s, element: '{"id":"77x1","lastname":"x"}', cbwsOptions: q }, 'INVALID_MODULE');
      await expectError({ operation: 'update', sessionName: s, element: '{"id":"12x999999","lastname":"x"}', cbwsOptions: q }, 'RECORD_NOT_FOUND');
      await expectError(queuedCreate('{"lastname":"x","assigned_user_id":"19x999"}'), 'REFERENCE_INVALID');
      await expectError(queuedCreate('{"lastname":"x","assigned_user_id":"12x1"}'), 'REFERENCE_INVALID');
      assert.equal(await countQueued(), before, 'nothing was queued by a rejected call');

      await expectError({ operation: 'retrieve', sessionName: s, id: 'abc' }, 'INVALID_ID_ATTRIBUTE');
      await expectError({ operation: 'retrieve', sessionName: s, id: '12x999999' }, 'RECORD_NOT_FOUND');
      await expectError({ operation: 'retrieve', sessionName: s, id: '99x1' }, 'INVALID_MODULE');
      await expectError({ operation: 'delete', sessionName: s, id: '12x999999' }, 'RECORD_NOT_FOUND');
      await expectError(
        { operation: 'create', sessionName: s, elementType: 'Contacts', element: '{"lastname":"x","assigned_user_id":"19x999"}' },
        'REFERENCE_INVALID',
      );
      await expectError({ operation: 'wsgatetest_throw', sessionName: s }, 'INTERNAL_SERVER_ERROR');
      const notJson = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"operation":' });
      const notJsonBody = await notJson.json();
      assert.equal(notJsonBody.error.code, 'INVALID_PARAMETER');
    });
  });
}
