// The typed client shipped as `wsgate/client`, imported through the package's own name (as a user's code
// would), against a real gateway: login, operations, typed errors, and deferred handles (status, cancel,
// result with and without waiting).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsgateClient, WsgateError, isWsgateError } from 'wsgate/client';
import { ADMIN_KEY, addTestUser, backends, runPass, startGateway, until, type Gateway } from './support.js';

for (const backend of backends)
  for (const useAsyncApi of [true, false]) {
    // Deferred results through the 202 API (wsgate) or by polling getQueuedOperationStatus (as against coreBOS).
    const readAgain = useAsyncApi ? 'RESULT_ALREADY_READ' : 'RECORD_NOT_FOUND';
    describe(`typed client on ${backend.name}, ${useAsyncApi ? 'through the 202 API' : 'polling'}`, () => {
      let gw: Gateway;
      let client: WsgateClient;
      before(async () => {
        gw = await startGateway(backend);
        client = new WsgateClient({ url: gw.url.replace('/webservice.php', ''), useAsyncApi });
        await client.login('admin', ADMIN_KEY);
      });
      after(() => gw.close());

      test('login makes a session; a wrong key is INVALID_USER_CREDENTIALS as a typed error', async () => {
        assert.match(client.sessionName!, /^[A-Za-z0-9_-]{10,}$/);
        assert.equal(client.userId, '19x1');
        const other = new WsgateClient({ url: gw.url, useAsyncApi });
        await assert.rejects(other.login('admin', 'f'.repeat(32)), (e: unknown) => isWsgateError(e, 'INVALID_USER_CREDENTIALS'));
        await assert.rejects(other.call('listtypes'), (e: unknown) => e instanceof WsgateError && e.code === 'AUTHENTICATION_REQUIRED');
      });

      test('create, retrieve, update, query and delete through the typed methods', async () => {
        const made = await client.create<{ id: string; lastname: string }>('Contacts', { lastname: 'Typed', email: 'typed@example.com' });
        assert.match(made.id, /^\d+x\d+$/);
        assert.equal((await client.retrieve<{ lastname: string }>(made.id)).lastname, 'Typed');
        await client.update({ ...(await client.retrieve(made.id)), id: made.id, lastname: 'Typed2' });
        const rows = await client.query<{ id: string }>("select id, lastname from Contacts where lastname = 'Typed2';");
        assert.deepEqual(
          rows.map((r) => r.id),
          [made.id],
        );
        await client.delete(made.id);
        await assert.rejects(client.retrieve(made.id), (e: unknown) => isWsgateError(e, 'RECORD_NOT_FOUND'));
      });

      test('an unknown operation and bad parameters answer their protocol codes', async () => {
        await assert.rejects(client.call('noSuchOperation'), (e: unknown) => isWsgateError(e, 'UNKNOWN_OPERATION'));
        await assert.rejects(client.create('NoSuchModule', { a: 1 }), (e: unknown) => isWsgateError(e, 'INVALID_MODULE'));
      });

      test('defer: status, then result({wait}) polls while an executor pass runs it; read once', async () => {
        const job = await client.defer('create', { elementType: 'Contacts', element: { lastname: 'Later' } }, { queue: 'default', priority: 7 });
        const first = await job.status();
        assert.equal(first.status, 'queued');
        assert.equal(first.priority, 7);
        await assert.rejects(job.result(), (e: unknown) => isWsgateError(e, 'NOT_FINISHED'));
        const waiting = job.result<{ lastname: string; id: string }>({ wait: 30, pollMs: 20 });
        await runPass(gw.rt);
        const result = await waiting;
        assert.equal(result.lastname, 'Later');
        // Read once: the entry is gone with its result.
        await assert.rejects(job.result(), (e: unknown) => isWsgateError(e, readAgain));
        assert.equal(client.asyncApi !== null, useAsyncApi, 'the 202 API is used where the gateway has it');
      });

      test('defer with a delay, then cancel: the result is OPERATION_CANCELLED; a protocol error of the run is thrown with its code', async () => {
        const later = await client.defer('create', { elementType: 'Contacts', element: { lastname: 'Never' } }, { delay: 3600 });
        assert.equal((await later.status()).status, 'delayed');
        assert.equal(await later.cancel(), 'cancelled');
        await assert.rejects(later.result(), (e: unknown) => isWsgateError(e, 'OPERATION_CANCELLED'));
        await assert.rejects(later.cancel(), (e: unknown) => e instanceof WsgateError);

        const doomed = await client.create<{ id: string }>('Contacts', { lastname: 'Doomed' });
        const bad = await client.defer('revise', { element: { id: doomed.id, lastname: 'Revived' } });
        await client.delete(doomed.id);
        await runPass(gw.rt);
        await assert.rejects(bad.result({ wait: 5 }), (e: unknown) => isWsgateError(e, 'RECORD_NOT_FOUND'));

        await assert.rejects(
          client.defer('listtypes'),
          (e: unknown) => isWsgateError(e, 'OPERATION_NOT_SUPPORTED') && /not deferred/.test((e as Error).message),
        );
      });

      test("another user's handle cannot see or take the result", async () => {
        const { accessKey } = await addTestUser(gw, 'typedother');
        const other = new WsgateClient({ url: gw.url, useAsyncApi });
        await other.login('typedother', accessKey);
        const mine = await client.defer('create', { elementType: 'Contacts', element: { lastname: 'Mine' } });
        await runPass(gw.rt);
        await assert.rejects(other.deferred(mine.operationTrackingID).status(), (e: unknown) => isWsgateError(e, 'RECORD_NOT_FOUND'));
        await assert.rejects(other.deferred(mine.operationTrackingID).result(), (e: unknown) => isWsgateError(e, 'RECORD_NOT_FOUND'));
        await until('result readable by its owner', async () => (await mine.status()).status === 'done');
        assert.equal((await mine.result<{ lastname: string }>()).lastname, 'Mine');
        await other.logout();
        assert.equal(other.sessionName, undefined);
      });
    });
  }
