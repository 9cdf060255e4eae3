// Async request-reply (/api/v1/operations) on both databases, through a real gateway: Bearer authentication
// (tokens and sessions), 202 Accepted with Location and Retry-After, 303 See Other once done, the result
// once then 410 Gone, DELETE, Prefer: wait, problem details for bad input with nothing queued. Every answer
// is checked against openapi.yaml (doors-client.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Prisma } from '../src/db/generated/sqlite/client.js';
import { addToken, revokeToken } from '../src/auth/tokens.js';
import { setDisabled } from '../src/auth/users.js';
import { engineOf } from '../src/runtime.js';
import { addTestUser, backends, login, runPass, startGateway, type Gateway } from './support.js';
import { assertProblem, door, type DoorRequest } from './doors-client.js';
import { assertValid, schemaNamed } from './openapi-spec.js';

const OPS = '/api/v1/operations';
const T_TARGET = `${OPS}/{target}`;
const T_RESULT = `${OPS}/{id}/result`;

for (const backend of backends) {
  describe(`202 Accepted for queueable operations on ${backend.name}`, () => {
    let gw: Gateway;
    let base: string;
    let admin: string; // admin's session name
    let bob: string; // bob's API token
    let carol: string; // carol's API token

    const req = (method: string, path: string, r: DoorRequest) => door(base, method, path, r);
    const submit = (bearer: string, operation: string, json: unknown, headers?: Record<string, string>) =>
      req('POST', `${OPS}/${operation}`, { template: T_TARGET, bearer, json, headers });
    const state = (bearer: string, id: string, headers?: Record<string, string>) => req('GET', `${OPS}/${id}`, { template: T_TARGET, bearer, headers });
    const result = (bearer: string, id: string) => req('GET', `${OPS}/${id}/result`, { template: T_RESULT, bearer });
    const queuedRows = async () => Number((await gw.rt.db.raw.query<{ n: unknown }>(Prisma.sql`SELECT count(*) AS n FROM ws_queued_operation`))[0]!.n);
    const contact = (lastname: string) => ({ elementType: 'Contacts', element: { lastname, firstname: 'Ann' } });

    before(async () => {
      gw = await startGateway(backend, { WSGATE_BODY_LIMIT: '4kb' });
      base = gw.server.url;
      admin = (await login(gw.url)).sessionName;
      const now = gw.rt.services.clock.now();
      bob = (await addToken(gw.rt.db.raw, (await addTestUser(gw, 'bob')).id, now)).token;
      carol = (await addToken(gw.rt.db.raw, (await addTestUser(gw, 'carol')).id, now)).token;
    });
    after(() => gw.close());

    test('authentication: missing, malformed, unknown token or session, revoked token, disabled user: 401, nothing queued', async () => {
      const none = await req('POST', `${OPS}/create`, { template: T_TARGET, json: contact('X') });
      assertProblem(none, 401, 'AUTHENTICATION_REQUIRED', 'Authorization');
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
      const basic = await req('POST', `${OPS}/create`, { template: T_TARGET, json: contact('X'), headers: { authorization: 'Basic YWRtaW46eA==' } });
      assertProblem(basic, 401, 'AUTHENTICATION_REQUIRED', 'Authorization');
      assertProblem(await submit('wsg_not-a-token', 'create', contact('X')), 401, 'INVALID_AUTH_TOKEN', 'Authorization');
      assertProblem(await submit('no-such-session', 'create', contact('X')), 401, 'INVALID_SESSIONID', 'Authorization');
      const now = gw.rt.services.clock.now();
      const dave = await addTestUser(gw, 'dave');
      const token = (await addToken(gw.rt.db.raw, dave.id, now)).token;
      assert.equal((await submit(token, 'create', contact('Dave'))).status, 202);
      assert.equal(await revokeToken(gw.rt.db.raw, token, now), true);
      assertProblem(await submit(token, 'create', contact('X')), 401, 'INVALID_AUTH_TOKEN');
      const erin = await addTestUser(gw, 'erin');
      const erinToken = (await addToken(gw.rt.db.raw, erin.id, now)).token;
      await setDisabled(gw.rt.db.prisma, 'erin', true, now);
      assertProblem(await submit(erinToken, 'create', contact('X')), 401, 'INVALID_AUTH_TOKEN');
      // Only dave's accepted submit was queued.
      assert.equal(await queuedRows(), 1);
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_entry`);
      await gw.rt.db.raw.execute(Prisma.sql`DELETE FROM ws_queue_result`);
    });

    test('the flow: 202 with Location and Retry-After, 200 while queued, 303 once done, the result once, then 410', async () => {
      const accepted = await submit(bob, 'create', contact('Lovelace'));
      assert.equal(accepted.status, 202);
      const id = accepted.body.operationTrackingID as string;
      assert.equal(accepted.headers.get('location'), `${OPS}/${id}`);
      assert.equal(accepted.headers.get('retry-after'), '1');
      assert.equal(accepted.body.status, 'queued');
      assert.equal(accepted.body.operation, 'create');

      const waiting = await state(bob, id);
      assert.equal(waiting.status, 200);
      assert.equal(waiting.body.status, 'queued');
      assert.equal(waiting.headers.get('retry-after'), '1');

      const pass = await runPass(gw.rt);
      assert.equal(pass.run, 1);
      const done = await state(bob, id);
      assert.equal(done.status, 303);
      assert.equal(done.headers.get('location'), `${OPS}/${id}/result`);
      assert.equal(done.body.status, 'done');

      const first = await result(bob, id);
      assert.equal(first.status, 200);
      assert.equal(first.body.lastname, 'Lovelace');
      assert.match(first.body.id, /^\d+x\d+$/);
      assertProblem(await result(bob, id), 410, 'RESULT_ALREADY_READ');
      assertProblem(await state(bob, id), 410, 'RESULT_ALREADY_READ');
      assertProblem(await req('DELETE', `${OPS}/${id}`, { template: T_TARGET, bearer: bob }), 410, 'RESULT_ALREADY_READ');
    });

    test('a session name is a Bearer credential too; another user never sees the operation (404, admins included)', async () => {
      const accepted = await submit(carol, 'create', contact('Private'));
      const id = accepted.body.operationTrackingID as string;
      assertProblem(await state(bob, id), 404, 'RECORD_NOT_FOUND');
      assertProblem(await state(admin, id), 404, 'RECORD_NOT_FOUND');
      assertProblem(await result(admin, id), 404, 'RECORD_NOT_FOUND');
      assertProblem(await req('DELETE', `${OPS}/${id}`, { template: T_TARGET, bearer: bob }), 404, 'RECORD_NOT_FOUND');
      // Not finished yet: 409 with Retry-After, for its owner.
      const early = await result(carol, id);
      assertProblem(early, 409, 'RESULT_NOT_READY');
      assert.equal(early.headers.get('retry-after'), '1');
      const mine = await submit(admin, 'create', contact('Admin'));
      assert.equal(mine.status, 202);
      assert.equal((await state(admin, mine.body.operationTrackingID)).body.status, 'queued');
      await runPass(gw.rt);
      assert.equal((await result(carol, id)).body.lastname, 'Private');
      assert.equal((await result(admin, mine.body.operationTrackingID)).body.lastname, 'Admin');
      assertProblem(await result(bob, 'no-such-id'), 404, 'RECORD_NOT_FOUND');
    });

    test('a delayed operation: Retry-After until due; DELETE cancels it once; its result is OPERATION_CANCELLED once, then 410', async () => {
      const accepted = await submit(bob, 'create', { ...contact('Later'), cbwsOptions: { queuedelay: 3600 } });
      assert.equal(accepted.status, 202);
      assert.equal(accepted.body.status, 'delayed');
      const retryAfter = Number(accepted.headers.get('retry-after'));
      assert.ok(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
      const id = accepted.body.operationTrackingID as string;
      const cancelled = await req('DELETE', `${OPS}/${id}`, { template: T_TARGET, bearer: bob });
      assert.equal(cancelled.status, 200);
      assert.equal(cancelled.body.status, 'cancelled');
      assertProblem(await req('DELETE', `${OPS}/${id}`, { template: T_TARGET, bearer: bob }), 409, 'NOT_CANCELLABLE');
      const gone = await state(bob, id);
      assert.equal(gone.status, 303);
      assertProblem(await result(bob, id), 409, 'OPERATION_CANCELLED');
      assertProblem(await result(bob, id), 410, 'RESULT_ALREADY_READ');
    });

    test('an operation that failed: its result is its error as a problem, once', async () => {
      const accepted = await submit(bob, 'wsgatetest_throw', {});
      const id = accepted.body.operationTrackingID as string;
      await runPass(gw.rt);
      const s = await state(bob, id);
      assert.equal(s.status, 303);
      assert.equal(s.body.status, 'failed');
      assertProblem(await result(bob, id), 500, 'INTERNAL_SERVER_ERROR');
      assertProblem(await result(bob, id), 410, 'RESULT_ALREADY_READ');
    });

    test('Prefer: wait holds the answer for the outcome (303 with Preference-Applied), capped at 60 seconds', async () => {
      const engine = engineOf(gw.rt);
      const listening = engine.listen();
      try {
        const accepted = await submit(bob, 'create', contact('Waited'), { prefer: 'respond-async, wait=30' });
        assert.equal(accepted.status, 303, JSON.stringify(accepted.body));
        assert.equal(accepted.headers.get('preference-applied'), 'wait=30');
        const id = accepted.body.operationTrackingID as string;
        assert.equal(accepted.headers.get('location'), `${OPS}/${id}/result`);
        const again = await state(bob, id, { prefer: 'wait=600' });
        assert.equal(again.status, 303);
        assert.equal(again.headers.get('preference-applied'), 'wait=60');
        assert.equal((await result(bob, id)).body.lastname, 'Waited');
      } finally {
        await engine.stop();
        await listening;
        await engine.close();
      }
      // No executor: the wait ends without an outcome, and the state is answered as usual.
      const later = await submit(bob, 'create', { ...contact('NotYet'), cbwsOptions: { queuedelay: 3600 } });
      const held = await state(bob, later.body.operationTrackingID, { prefer: 'wait=1' });
      assert.equal(held.status, 200);
      assert.equal(held.body.status, 'delayed');
      assert.equal(held.headers.get('preference-applied'), 'wait=1');
      await req('DELETE', `${OPS}/${later.body.operationTrackingID}`, { template: T_TARGET, bearer: bob });
    });

    test("Idempotency-Key: a repeated submit answers the first one's id and queues nothing more", async () => {
      const before = await queuedRows();
      const a = await submit(bob, 'create', contact('Once'), { 'idempotency-key': 'order-42' });
      const b = await submit(bob, 'create', contact('Once'), { 'idempotency-key': 'order-42' });
      assert.equal(a.status, 202);
      assert.equal(b.body.operationTrackingID, a.body.operationTrackingID);
      assert.equal(await queuedRows(), before + 1);
    });

    test('bad input: a 4xx problem naming the field, and nothing queued', async () => {
      const before = await queuedRows();
      const raw = (operation: string, body: string, type = 'application/json') =>
        req('POST', `${OPS}/${operation}`, { template: T_TARGET, bearer: bob, raw: body, headers: { 'content-type': type } });
      assertProblem(await submit(bob, 'nosuchop', {}), 404, 'UNKNOWN_OPERATION', 'name');
      assertProblem(await submit(bob, 'retrieve', { id: '12x1' }), 422, 'OPERATION_NOT_SUPPORTED', 'name');
      assertProblem(await submit(bob, 'getchallenge', { username: 'bob' }), 422, 'OPERATION_NOT_SUPPORTED', 'name');
      assertProblem(await submit(bob, 'create', { ...contact('X'), colour: 'red' }), 400, 'INVALID_PARAMETER', 'colour');
      assertProblem(await submit(bob, 'create', { ...contact('X'), operation: 'delete' }), 400, 'INVALID_PARAMETER', 'operation');
      assertProblem(await submit(bob, 'create', { ...contact('X'), sessionName: 'x' }), 400, 'INVALID_PARAMETER', 'sessionName');
      assertProblem(await submit(bob, 'create', { elementType: 'Contacts' }), 400, 'INVALID_PARAMETER', 'element');
      assertProblem(await submit(bob, 'create', { ...contact('X'), cbwsOptions: [1] }), 400, 'INVALID_PARAMETER', 'cbwsOptions');
      assertProblem(await submit(bob, 'create', { ...contact('X'), cbwsOptions: { queueDelay: 60 } }), 400, 'INVALID_PARAMETER', 'cbwsOptions.queueDelay');
      assertProblem(await submit(bob, 'create', { ...contact('X'), cbwsOptions: { queuedelay: 'soon' } }), 400, 'INVALID_PARAMETER', 'cbwsOptions.queuedelay');
      assertProblem(
        await submit(bob, 'create', { ...contact('X'), cbwsOptions: { context: 'x'.repeat(300) } }),
        400,
        'INVALID_PARAMETER',
        'cbwsOptions.context',
      );
      assertProblem(await submit(bob, 'create', { ...contact('X'), cbwsOptions: { priority: 'high' } }), 400, 'INVALID_PARAMETER', 'cbwsOptions.priority');
      // This gateway has no WSGATE_CALLBACK_SECRET: callbacks are off.
      assertProblem(
        await submit(bob, 'create', { ...contact('X'), cbwsOptions: { callback: 'http://127.0.0.1:9/x' } }),
        400,
        'INVALID_PARAMETER',
        'cbwsOptions.callback',
      );
      assertProblem(await raw('create', '{"elementType": "Contacts",'), 400, 'INVALID_PARAMETER', 'body');
      assertProblem(await raw('create', '[1, 2]'), 400, 'INVALID_PARAMETER', 'body');
      assertProblem(await raw('create', 'elementType=Contacts', 'application/x-www-form-urlencoded'), 415, 'INVALID_PARAMETER', 'body');
      assertProblem(await raw('create', JSON.stringify({ ...contact('X'), element: { lastname: 'x'.repeat(5000) } })), 413, 'INVALID_PARAMETER', 'body');
      assert.equal(await queuedRows(), before, 'nothing was queued');
    });

    test('other paths and methods under the doors: 404, 405 with Allow, HEAD 405, OPTIONS 204, as problems', async () => {
      const check = async (method: string, path: string, status: number, code?: string) => {
        const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${bob}` } });
        assert.equal(res.status, status, `${method} ${path}`);
        if (code) {
          assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
          const body = await res.json();
          assertValid(schemaNamed('Problem'), body, `${method} ${path}`);
          assert.equal(body.code, code);
        }
        return res;
      };
      await check('GET', '/api/v1/nothing', 404, 'NOT_FOUND');
      await check('GET', `${OPS}/x/result/more`, 404, 'NOT_FOUND');
      const put = await check('PUT', `${OPS}/create`, 405, 'METHOD_NOT_ALLOWED');
      assert.equal(put.headers.get('allow'), 'POST, GET, DELETE, OPTIONS');
      await check('POST', `${OPS}/x/result`, 405, 'METHOD_NOT_ALLOWED');
      await check('HEAD', `${OPS}/x/result`, 405);
      const options = await check('OPTIONS', `${OPS}/x/result`, 204);
      assert.equal(options.headers.get('allow'), 'GET, OPTIONS');
      // The endpoint is untouched: /webservice.php still answers its envelope.
      const ws = await fetch(`${gw.url}?operation=getchallenge&username=admin`);
      assert.equal((await ws.json()).success, true);
    });
  });
}
