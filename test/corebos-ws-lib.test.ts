// The official JavaScript client, corebos-ws-lib from npm, unchanged, against a real gateway: login and a
// queued create. It is written for browsers, so it gets a `window` (an EventTarget) and Node's CustomEvent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ADMIN_KEY, backends, call, startGateway, type Gateway, runPass, tmpDir } from './support.js';

type Client = {
  setURL(url: string): void;
  setSession(login: { sessionName: string; userId: string }): void;
  doLogin(user: string, key: string, withPassword?: boolean): Promise<{ result: { sessionName: string; userId: string } } | false>;
  doCreate(module: string, values: Record<string, unknown>): Promise<Record<string, string>>;
  doRetrieve(id: string): Promise<Record<string, string>>;
  doMassRetrieve(ids: string[] | string): Promise<Record<string, Record<string, string>> | []>;
  doDescribe(module: string): Promise<{ name: string }>;
  doInvoke(method: string, params: Record<string, string>, type?: string): Promise<unknown>;
  doQuery(query: string): Promise<Record<string, string>[]>;
  doQueryWithTotal(query: string): Promise<{ result: Record<string, string>[]; totalrows: number }>;
  doLogout(): Promise<unknown>;
};

async function loadClient(): Promise<Client> {
  (globalThis as Record<string, unknown>).window ??= new EventTarget();
  // The package ships ES module syntax in a .js file without "type": "module": load a copy as .mjs.
  const source = createRequire(import.meta.url).resolve('corebos-ws-lib/WSClientm.js');
  const copy = path.join(tmpDir('cbws'), `WSClientm-${Math.random()}.mjs`);
  fs.copyFileSync(source, copy);
  return (await import(pathToFileURL(copy).href)) as Client;
}

for (const backend of backends) {
  describe(`corebos-ws-lib on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend);
    });
    after(() => gw.close());

    test('login, create, retrieve, a queued create and its result, logout', async () => {
      const client = await loadClient();
      client.setURL(gw.url.replace(/\/webservice\.php$/, ''));
      const loggedIn = await client.doLogin('admin', ADMIN_KEY);
      assert.ok(loggedIn, 'doLogin succeeded');
      assert.equal(loggedIn.result.userId, '19x1');
      // As applications using the library do after doLogin: it then sends the session in its
      // corebos-authorization header on every call.
      client.setSession(loggedIn.result);

      const created = await client.doCreate('Contacts', { firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.org' });
      assert.equal(created.lastname, 'Lovelace');
      assert.equal(created.assigned_user_id, '19x1');
      assert.deepEqual(await client.doRetrieve(created.id!), created);
      // The library joins an array of ids with commas (its body is `ids=` + ids).
      assert.deepEqual(await client.doMassRetrieve([created.id!, '12x999999']), { [created.id!]: created });
      assert.deepEqual(await client.doMassRetrieve('12x999999'), []);
      assert.equal((await client.doDescribe('Contacts')).name, 'Contacts');

      // The library keeps cbwsOptions private; a queued call goes through doInvoke, unencoded like all its bodies.
      const queued = (await client.doInvoke('create', {
        elementType: 'Contacts',
        element: JSON.stringify({ lastname: 'Queued via client', assigned_user_id: '19x1' }),
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0 }),
      })) as { operationTrackingID: string };
      assert.match(queued.operationTrackingID, /^[A-Za-z0-9_-]{21}$/);
      const pending = await client.doInvoke('getQueuedOperationResult', { operationTrackingID: queued.operationTrackingID }, 'GET');
      assert.equal(pending, 'Operation not queued or not finished yet');
      assert.equal((await runPass(gw.rt)).run, 1);
      const done = await client.doInvoke('getQueuedOperationResult', { operationTrackingID: queued.operationTrackingID }, 'GET');
      const envelope = JSON.parse(done as string);
      assert.equal(envelope.success, true);
      assert.equal(envelope.result.lastname, 'Queued via client');
      assert.deepEqual(await client.doLogout(), { message: 'successfull' });
      const after = await call(gw.url, { operation: 'listtypes', sessionName: loggedIn.result.sessionName }, { method: 'GET' });
      assert.equal(after.error?.code, 'INVALID_SESSIONID', 'the session ended');
    });

    test('doQueryWithTotal reads moreinfo.totalrows: every matching record, whatever the limit', async () => {
      const client = await loadClient();
      client.setURL(gw.url.replace(/\/webservice\.php$/, ''));
      const loggedIn = await client.doLogin('admin', ADMIN_KEY);
      assert.ok(loggedIn);
      client.setSession(loggedIn.result);
      for (const n of [1, 2, 3]) await client.doCreate('Contacts', { lastname: `Total ${n}` });
      // The library sends the query unencoded in the URL, as coreBOS's own clients do.
      const page = await client.doQueryWithTotal("select lastname from Contacts where lastname like 'Total%' order by lastname limit 2;");
      assert.deepEqual(
        page.result.map((r) => r.lastname),
        ['Total 1', 'Total 2'],
      );
      assert.equal(page.totalrows, 3);
      const rest = await client.doQueryWithTotal("select lastname from Contacts where lastname like 'Total%' order by lastname limit 2, 2;");
      assert.deepEqual(
        rest.result.map((r) => r.lastname),
        ['Total 3'],
      );
      assert.equal(rest.totalrows, 3);
      assert.equal((await client.doQuery("select lastname from Contacts where lastname like 'Total%';")).length, 3);
      await client.doLogout();
    });
  });
}
