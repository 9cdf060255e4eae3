// Idempotent requests (cbwsOptions ClientRequestIdentifier) on every backend: one execution however many
// repeats, in one gateway or across two gateway processes, synchronous and deferred; expiry; misuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addTestUser, backends, call, login, runPass, spawnCli, startGateway, until, type Gateway } from './support.js';

for (const backend of backends) {
  describe(`idempotent requests on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const ws = (params: Record<string, unknown>, url = gw.url) => call(url, { sessionName: session, ...params });
    const records = (text: string) => gw.rt.db.prisma.record.count({ where: { data: { contains: text } } });
    const options = (o: Record<string, unknown>) => JSON.stringify(o);

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('20 concurrent creates with one ClientRequestIdentifier: one record, 20 equal answers', async () => {
      const params = {
        operation: 'create',
        elementType: 'Contacts',
        element: { lastname: 'Idem20' },
        cbwsOptions: options({ ClientRequestIdentifier: 'req-20' }),
      };
      const answers = await Promise.all(Array.from({ length: 20 }, () => ws(params)));
      assert.equal(answers[0]!.success, true, JSON.stringify(answers[0]));
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(await records('Idem20'), 1);
      // later, too
      assert.deepEqual(await ws(params), answers[0]);
      assert.equal(await records('Idem20'), 1);
    });

    test('deferred: 20 concurrent submits queue one operation and answer the same operationTrackingID', async () => {
      const params = {
        operation: 'create',
        elementType: 'Contacts',
        element: { lastname: 'IdemQ' },
        cbwsOptions: options({ launchfromqueue: 1, queuedelay: 0, ClientRequestIdentifier: 'req-q' }),
      };
      const queuedBefore = await gw.rt.db.prisma.queuedOperation.count();
      const answers = await Promise.all(Array.from({ length: 20 }, () => ws(params)));
      assert.equal(answers[0]!.success, true, JSON.stringify(answers[0]));
      const id = answers[0]!.result.operationTrackingID;
      assert.match(id, /^[A-Za-z0-9_-]{21}$/);
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), queuedBefore + 1);
      await runPass(gw.rt);
      assert.equal(await records('IdemQ'), 1);
      assert.deepEqual(await ws(params), answers[0], 'after the run, still the same operationTrackingID, nothing queued again');
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), queuedBefore + 1);
    });

    test('two gateway processes racing with one identifier run it once', async () => {
      const second = spawnCli(['serve'], { ...gw.env, WSGATE_LOG_LEVEL: 'info' });
      let out = '';
      second.child.stdout!.on('data', (d) => (out += d));
      try {
        const url2 = await until('the second gateway to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1]);
        const params = {
          operation: 'MassCreate',
          elements: [{ elementType: 'Contacts', element: { lastname: 'IdemTwo' } }],
          cbwsOptions: options({ ClientRequestIdentifier: 'req-two' }),
        };
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => ws(params, i % 2 ? url2 : gw.url)));
        assert.equal(answers[0]!.success, true, JSON.stringify(answers[0]));
        for (const a of answers) assert.deepEqual(a, answers[0]);
        assert.equal(await records('IdemTwo'), 1);
      } finally {
        second.child.kill('SIGTERM');
        await second.done;
      }
    });

    test('"generate" makes an identifier, returned in moreinfo; repeating with it answers the first answer', async () => {
      const params = { operation: 'revise', element: {}, cbwsOptions: options({ ClientRequestIdentifier: 'generate' }) };
      const c = (await ws({ operation: 'create', elementType: 'Contacts', element: { lastname: 'IdemGen', phone: '1' } })).result;
      const first = await ws({ ...params, element: { id: c.id, phone: '2' } });
      assert.equal(first.success, true, JSON.stringify(first));
      const generated = (first.moreinfo as { ClientRequestIdentifier: string }).ClientRequestIdentifier;
      assert.match(generated, /^[A-Za-z0-9_-]{21}$/);
      await ws({ operation: 'revise', element: { id: c.id, phone: '3' } });
      const repeat = await ws({ operation: 'revise', element: { id: c.id, phone: '2' }, cbwsOptions: options({ ClientRequestIdentifier: generated }) });
      assert.deepEqual(repeat, first, 'the earlier answer, and the revise did not run again');
      assert.equal((await ws({ operation: 'retrieve', id: c.id })).result.phone, '3');
    });

    test('identifiers belong to their user; reuse for another request is refused; bad identifiers are refused', async () => {
      const { accessKey } = await addTestUser(gw, 'idem-other');
      const other = (await login(gw.url, 'idem-other', accessKey)).sessionName;
      const params = {
        operation: 'create',
        elementType: 'Contacts',
        element: { lastname: 'IdemUser' },
        cbwsOptions: options({ ClientRequestIdentifier: 'shared' }),
      };
      const mine = await ws(params);
      const theirs = await call(gw.url, { ...params, sessionName: other });
      assert.notEqual(mine.result.id, theirs.result.id, 'the same identifier of another user is another request');
      assert.equal(await records('IdemUser'), 2);

      const misuse = await ws({ ...params, element: { lastname: 'IdemOther' } });
      assert.equal(misuse.error?.code, 'INVALID_PARAMETER', JSON.stringify(misuse));
      assert.match(misuse.error!.message, /another request/);
      const bad = await ws({ ...params, cbwsOptions: options({ ClientRequestIdentifier: 'x'.repeat(256) }) });
      assert.equal(bad.error?.code, 'INVALID_PARAMETER');
      const notString = await ws({ ...params, cbwsOptions: options({ ClientRequestIdentifier: { a: 1 } }) });
      assert.equal(notString.error?.code, 'INVALID_PARAMETER');
    });

    test('a failed call is not remembered: the repeat runs (and can succeed)', async () => {
      const opts = options({ ClientRequestIdentifier: 'req-fail' });
      const first = await ws({ operation: 'create', elementType: 'Contacts', element: { firstname: 'NoLast' }, cbwsOptions: opts });
      assert.equal(first.error?.code, 'MANDATORY_FIELDS_MISSING');
      const again = await ws({ operation: 'create', elementType: 'Contacts', element: { firstname: 'NoLast' }, cbwsOptions: opts });
      assert.equal(again.error?.code, 'MANDATORY_FIELDS_MISSING', 'ran again, failed again');
      assert.equal(await gw.rt.db.prisma.idempotentRequest.count({ where: { requestId: 'req-fail' } }), 0);
      // The identifier was not used up: the repeat with the element corrected runs and succeeds, and from then
      // on the identifier answers that success without running again.
      const corrected = { operation: 'create', elementType: 'Contacts', element: { firstname: 'NoLast', lastname: 'Idem-Corrected' }, cbwsOptions: opts };
      const fixed = await ws(corrected);
      assert.equal(fixed.success, true, JSON.stringify(fixed));
      assert.equal(fixed.result.lastname, 'Idem-Corrected');
      assert.equal(await records('Idem-Corrected'), 1);
      assert.deepEqual(await ws(corrected), fixed, 'remembered once it succeeded');
      assert.equal(await records('Idem-Corrected'), 1, 'not run a second time');
    });

    test('identifiers expire after WSGATE_IDEMPOTENCY_HOURS: then the call runs again; the purge removes them', async () => {
      const params = {
        operation: 'create',
        elementType: 'Contacts',
        element: { lastname: 'IdemExp' },
        cbwsOptions: options({ ClientRequestIdentifier: 'req-exp' }),
      };
      const first = await ws(params);
      // Sessions go idle long before: log in again after each move.
      const move = async (hours: number) => {
        gw.rt.services.clock.advance(hours * 3600_000);
        session = (await login(gw.url)).sessionName;
      };
      await move(23);
      assert.deepEqual(await ws(params), first);
      assert.equal(await records('IdemExp'), 1);
      await move(2);
      const later = await ws(params);
      assert.notEqual(later.result.id, first.result.id);
      assert.equal(await records('IdemExp'), 2);
      await move(25);
      const { purgeExpired } = await import('../src/executor/maintenance.js');
      const { retentionOf } = await import('../src/runtime.js');
      const purged = await purgeExpired(gw.rt.db, gw.rt.services.clock.now(), retentionOf(gw.rt));
      assert.ok(purged.requestIds >= 1);
      assert.equal(await gw.rt.db.prisma.idempotentRequest.count({ where: { requestId: 'req-exp' } }), 0);
    });

    test('operations not marked idempotent ignore the identifier, as in coreBOS', async () => {
      const c = (await ws({ operation: 'create', elementType: 'Leads', element: { lastname: 'IdemQ2', company: 'X' } })).result;
      const params = {
        operation: 'query',
        query: "select count(*) from Leads where lastname = 'IdemQ2';",
        cbwsOptions: options({ ClientRequestIdentifier: 'req-query' }),
      };
      assert.deepEqual((await call(gw.url, { sessionName: session, ...params }, { method: 'GET' })).result, [{ count: '1' }]);
      await ws({ operation: 'delete', id: c.id });
      assert.deepEqual((await call(gw.url, { sessionName: session, ...params }, { method: 'GET' })).result, [{ count: '0' }]);
    });
  });
}
