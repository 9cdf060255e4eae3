// Access rules on every backend: per module, the roles that may read, create, update and delete; each rule
// denied and allowed, synchronously and deferred (checked at submit, and again when the run happens).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { addTestUser, backends, call, login, runPass, startGateway, type Envelope, type Gateway, tmpDir } from './support.js';
import { packageRoot } from '../src/config.js';

/** The sample modules plus Notes (everyone reads, only admins change) and Vault (admins only). */
function modulesFile(): string {
  const sample = JSON.parse(fs.readFileSync(path.join(packageRoot, 'config', 'modules.json'), 'utf8'));
  const admins = ['admin'];
  sample.modules.push(
    {
      name: 'Notes',
      idPrefix: '40',
      access: { read: ['admin', 'user'], create: admins, update: admins, delete: admins },
      fields: [{ name: 'title', type: 'string', mandatory: true }],
    },
    { name: 'Vault', idPrefix: '41', access: { read: admins, create: admins, update: admins, delete: admins }, fields: [{ name: 'secret', type: 'string' }] },
    {
      name: 'Memo',
      idPrefix: '42',
      fields: [
        { name: 'text', type: 'string' },
        { name: 'vault_id', type: 'reference', references: ['Vault'] },
      ],
    },
  );
  const file = path.join(tmpDir('access'), 'modules.json');
  fs.writeFileSync(file, JSON.stringify(sample));
  return file;
}

const defer = JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });

for (const backend of backends) {
  describe(`access rules on ${backend.name}`, () => {
    let gw: Gateway;
    let admin: string;
    let plain: string;
    let note: { id: string };
    let vault: { id: string };
    const as = (session: string, params: Record<string, unknown>) => call(gw.url, { sessionName: session, ...params });
    const allowed = async (session: string, params: Record<string, unknown>) => {
      const res = await as(session, params);
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result;
    };
    const denied = async (session: string, params: Record<string, unknown>) => {
      const res = await as(session, params);
      assert.equal(res.error?.code, 'ACCESS_DENIED', JSON.stringify(res));
      assert.match(res.error!.message, /^Permission to perform the operation is denied/);
    };
    const queued = () => gw.rt.db.prisma.queuedOperation.count();
    /** Submits a deferred call, runs the executor, answers the stored envelope. */
    const runDeferred = async (session: string, params: Record<string, unknown>): Promise<Envelope> => {
      const { operationTrackingID } = await allowed(session, { ...params, cbwsOptions: defer });
      await runPass(gw.rt);
      return JSON.parse(await allowed(session, { operation: 'getQueuedOperationResult', operationTrackingID }));
    };
    /** A denied deferred call is refused at submit: nothing is queued. */
    const deniedDeferred = async (session: string, params: Record<string, unknown>) => {
      const before = await queued();
      await denied(session, { ...params, cbwsOptions: defer });
      assert.equal(await queued(), before, 'nothing queued');
    };

    before(async () => {
      gw = await startGateway(backend, { WSGATE_MODULES_FILE: modulesFile() });
      admin = (await login(gw.url)).sessionName;
      const { accessKey } = await addTestUser(gw, 'plain');
      plain = (await login(gw.url, 'plain', accessKey)).sessionName;
      note = await allowed(admin, { operation: 'create', elementType: 'Notes', element: { title: 'first' } });
      vault = await allowed(admin, { operation: 'create', elementType: 'Vault', element: { secret: 's' } });
    });
    after(() => gw.close());

    test('read: denied to a role not listed (retrieve, query, describe, getRelatedModulesInfomation), allowed to one listed', async () => {
      await denied(plain, { operation: 'retrieve', id: vault.id });
      await denied(plain, { operation: 'query', query: 'select * from Vault;' });
      await denied(plain, { operation: 'describe', elementType: 'Vault' });
      await denied(plain, { operation: 'getRelatedModulesInfomation', module: 'Vault' });
      assert.equal((await allowed(admin, { operation: 'retrieve', id: vault.id })).secret, 's');
      assert.equal((await allowed(admin, { operation: 'query', query: 'select secret from Vault;' }))[0].secret, 's');
      assert.equal((await allowed(plain, { operation: 'retrieve', id: note.id })).title, 'first');
      assert.equal((await allowed(plain, { operation: 'query', query: 'select count(*) from Notes;' }))[0].count, '1');
      assert.ok(!(await allowed(plain, { operation: 'listtypes' })).types.includes('Vault'));
      assert.ok((await allowed(admin, { operation: 'listtypes' })).types.includes('Vault'));
      const d = await allowed(plain, { operation: 'describe', elementType: 'Notes' });
      assert.deepEqual([d.createable, d.updateable, d.deleteable, d.retrieveable], [false, false, false, true]);
    });

    test('read: a reference to a module the role may not read is refused as if the record did not exist', async () => {
      const plainAnswer = await as(plain, { operation: 'create', elementType: 'Memo', element: { text: 'x', vault_id: vault.id } });
      const missing = await as(plain, { operation: 'create', elementType: 'Memo', element: { text: 'x', vault_id: '41x999999' } });
      assert.equal(plainAnswer.error?.code, 'REFERENCE_INVALID', JSON.stringify(plainAnswer));
      assert.equal(
        plainAnswer.error!.message.replace(vault.id, 'ID'),
        missing.error!.message.replace('41x999999', 'ID'),
        'nothing tells an existing record apart',
      );
      assert.equal((await allowed(admin, { operation: 'create', elementType: 'Memo', element: { text: 'x', vault_id: vault.id } })).vault_id, vault.id);
    });

    test('read, deferred: describe is refused at submit to the role not listed, and runs for the one listed', async () => {
      await deniedDeferred(plain, { operation: 'describe', elementType: 'Vault' });
      const res = await runDeferred(admin, { operation: 'describe', elementType: 'Vault' });
      assert.equal((res.result as { name: string }).name, 'Vault');
    });

    test('create: denied and allowed, synchronous and deferred (and per element in MassCreate)', async () => {
      await denied(plain, { operation: 'create', elementType: 'Notes', element: { title: 'x' } });
      await deniedDeferred(plain, { operation: 'create', elementType: 'Notes', element: { title: 'x' } });
      await allowed(admin, { operation: 'create', elementType: 'Notes', element: { title: 'by admin' } });
      const res = await runDeferred(admin, { operation: 'create', elementType: 'Notes', element: { title: 'by admin, later' } });
      assert.equal(res.success, true, JSON.stringify(res));
      const mass = await runDeferred(plain, {
        operation: 'MassCreate',
        elements: [
          { elementType: 'Notes', element: { title: 'x' } },
          { elementType: 'Contacts', element: { lastname: 'AllowedToPlain' } },
        ],
      });
      const result = mass.result as { success_creates: { lastname: string }[]; failed_creates: { code: string }[] };
      assert.deepEqual(
        result.success_creates.map((r) => r.lastname),
        ['AllowedToPlain'],
      );
      assert.deepEqual(
        result.failed_creates.map((f) => f.code),
        ['ACCESS_DENIED'],
      );
      assert.equal(await gw.rt.db.prisma.record.count({ where: { module: 'Notes', data: { contains: '"x"' } } }), 0);
    });

    test('update: denied and allowed for update, revise, upsert and MassUpdate, synchronous and deferred', async () => {
      await denied(plain, { operation: 'update', element: { id: note.id, title: 'x' } });
      await denied(plain, { operation: 'revise', element: { id: note.id, title: 'x' } });
      await denied(plain, { operation: 'upsert', elementType: 'Notes', element: { title: 'first' }, searchOn: 'title', updatedfields: 'title' });
      await deniedDeferred(plain, { operation: 'revise', element: { id: note.id, title: 'x' } });
      await deniedDeferred(plain, { operation: 'update', element: { id: note.id, title: 'x' } });
      const mass = await runDeferred(plain, { operation: 'MassUpdate', elements: [{ id: note.id, title: 'x' }] });
      assert.deepEqual(
        (mass.result as { failed_updates: { code: string }[] }).failed_updates.map((f) => f.code),
        ['ACCESS_DENIED'],
      );
      assert.equal((await allowed(admin, { operation: 'retrieve', id: note.id })).title, 'first', 'unchanged');
      await allowed(admin, { operation: 'revise', element: { id: note.id, title: 'second' } });
      const res = await runDeferred(admin, { operation: 'revise', element: { id: note.id, title: 'third' } });
      assert.equal((res.result as { title: string }).title, 'third');
    });

    test('MassRetrieve leaves out the records of modules the caller may not read, as coreBOS does', async () => {
      const memo = await allowed(plain, { operation: 'create', elementType: 'Memo', element: { text: 'm' } });
      const mine = await allowed(plain, { operation: 'MassRetrieve', ids: `${vault.id},${memo.id}` });
      assert.deepEqual(Object.keys(mine), [memo.id], 'the Vault record is left out for a plain user');
      assert.deepEqual(await allowed(plain, { operation: 'MassRetrieve', ids: vault.id }), []);
      const admins = await allowed(admin, { operation: 'MassRetrieve', ids: `${vault.id},${memo.id}` });
      assert.deepEqual(Object.keys(admins), [vault.id], 'an admin reads Vault: its module comes first');
    });

    test('delete: denied and allowed, synchronous and deferred (MassDelete)', async () => {
      const victim = await allowed(admin, { operation: 'create', elementType: 'Notes', element: { title: 'victim' } });
      await denied(plain, { operation: 'delete', id: victim.id });
      const mass = await runDeferred(plain, { operation: 'MassDelete', ids: victim.id });
      const [refused, ...more] = (mass.result as { failed_deletes: { id: string; code: string; message: string }[] }).failed_deletes;
      assert.deepEqual(more, []);
      assert.deepEqual([refused!.id, refused!.code], [victim.id, 'ACCESS_DENIED']);
      assert.match(refused!.message, /^Permission to perform the operation is denied: role user may not delete Notes records/);
      assert.equal((await allowed(admin, { operation: 'retrieve', id: victim.id })).title, 'victim', 'still there');
      const ok = await runDeferred(admin, { operation: 'MassDelete', ids: victim.id });
      assert.deepEqual((ok.result as { success_deletes: string[] }).success_deletes, [victim.id]);
      assert.equal((await as(admin, { operation: 'retrieve', id: victim.id })).error?.code, 'RECORD_NOT_FOUND', 'the deferred MassDelete deleted it');
      const other = await allowed(admin, { operation: 'create', elementType: 'Notes', element: { title: 'other' } });
      assert.deepEqual(await allowed(admin, { operation: 'delete', id: other.id }), { status: 'successful' });
      assert.equal((await as(admin, { operation: 'retrieve', id: other.id })).error?.code, 'RECORD_NOT_FOUND', 'the delete deleted it');
    });

    test('checked again at run time, as the queuing user: a role lost after submit is denied then', async () => {
      const { accessKey } = await addTestUser(gw, 'demoted', undefined, true);
      const session = (await login(gw.url, 'demoted', accessKey)).sessionName;
      const { operationTrackingID } = await allowed(session, { operation: 'create', elementType: 'Notes', element: { title: 'too late' }, cbwsOptions: defer });
      await gw.rt.db.prisma.user.update({ where: { userName: 'demoted' }, data: { isAdmin: false } });
      await runPass(gw.rt);
      const res = JSON.parse(await allowed(session, { operation: 'getQueuedOperationResult', operationTrackingID })) as Envelope;
      assert.equal(res.error?.code, 'ACCESS_DENIED', JSON.stringify(res));
      assert.equal(await gw.rt.db.prisma.record.count({ where: { data: { contains: 'too late' } } }), 0);
    });
  });
}
