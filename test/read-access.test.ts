// Answers never carry what the role may not read (issue 10, finding 4), on every backend: with a module
// whose records only admins may read but any role may create and update, a `user` role's create, update,
// revise, MassCreate and MassUpdate (synchronous and deferred) answer each record of that module with its
// id and times only; an admin gets every field. upsert needs read, so the user role is refused it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addTestUser, backends, call, login, runPass, startGateway, type Envelope, type Gateway, tmpDir } from './support.js';
import { packageRoot } from '../src/config.js';

const SECRET = 'TOPSECRET-value';

/** The sample modules plus Ledger: only admins read it, every role creates and updates it. */
function modulesFile(): string {
  const sample = JSON.parse(fs.readFileSync(path.join(packageRoot, 'config', 'modules.json'), 'utf8'));
  sample.modules.push({
    name: 'Ledger',
    idPrefix: '43',
    access: { read: ['admin'] },
    fields: [
      { name: 'title', type: 'string', mandatory: true },
      { name: 'secret', type: 'string' },
      { name: 'amount', type: 'integer' },
      { name: 'contact_id', type: 'reference', references: ['Contacts'] },
    ],
  });
  const file = path.join(tmpDir('readacl'), 'modules.json');
  fs.writeFileSync(file, JSON.stringify(sample));
  return file;
}

/** openapi.yaml's WrittenRecord schema (what create, update, revise, upsert and the mass lists answer). */
const writtenRecord = (() => {
  const spec = parse(fs.readFileSync(path.join(packageRoot, 'openapi.yaml'), 'utf8'));
  const base = 'https://wsgate.invalid/openapi.json';
  const rebase = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rebase);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? `${base}#/$defs/${v.slice('#/components/schemas/'.length)}` : rebase(v),
      ]),
    );
  };
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  ajv.addSchema({ $id: base, $defs: rebase(spec.components.schemas) as object });
  return ajv.compile({ $ref: `${base}#/$defs/WrittenRecord` });
})();

const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The answer is the record's id and times, nothing else (and openapi.yaml allows it). */
function assertStamp(answer: Record<string, string>, id?: string) {
  assert.deepEqual(Object.keys(answer).sort(), ['createdtime', 'id', 'modifiedtime'], JSON.stringify(answer));
  assert.match(answer.id!, /^43x\d+$/);
  if (id) assert.equal(answer.id, id);
  assert.match(answer.createdtime!, DATETIME);
  assert.match(answer.modifiedtime!, DATETIME);
  assert.ok(!JSON.stringify(answer).includes(SECRET));
  assert.ok(writtenRecord(answer), JSON.stringify(writtenRecord.errors));
}

/** The answer is the whole record (every field and the system fields). */
function assertWhole(answer: Record<string, string>, fields: Record<string, string>) {
  for (const name of ['title', 'secret', 'amount', 'contact_id', 'assigned_user_id', 'createdtime', 'modifiedtime', 'id']) {
    assert.ok(name in answer, `${name} in ${JSON.stringify(answer)}`);
  }
  for (const [k, v] of Object.entries(fields)) assert.equal(answer[k], v, k);
  assert.ok(writtenRecord(answer), JSON.stringify(writtenRecord.errors));
}

const defer = JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });

for (const backend of backends) {
  describe(`answers to a role that may not read, on ${backend.name}`, () => {
    let gw: Gateway;
    let admin: string;
    let plain: string;
    const as = (session: string, params: Record<string, unknown>) => call(gw.url, { sessionName: session, ...params });
    const ok = async (session: string, params: Record<string, unknown>) => {
      const res = await as(session, params);
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result;
    };
    /** A Ledger record written by an admin, with the secret in it. */
    const ledger = (title: string) => ok(admin, { operation: 'create', elementType: 'Ledger', element: { title, secret: SECRET, amount: 7 } });
    const stored = async (id: string) => ok(admin, { operation: 'retrieve', id });
    /** Submits a deferred call, runs the executor; answers the stored result (raw) and the envelope read once. */
    const runDeferred = async (session: string, params: Record<string, unknown>) => {
      const { operationTrackingID } = await ok(session, { ...params, cbwsOptions: defer });
      await runPass(gw.rt);
      const row = await gw.rt.db.prisma.queuedOperation.findUniqueOrThrow({ where: { id: operationTrackingID } });
      const envelope = JSON.parse(await ok(session, { operation: 'getQueuedOperationResult', operationTrackingID })) as Envelope;
      assert.equal(envelope.success, true, JSON.stringify(envelope));
      return { storedResult: row.result ?? '', envelope };
    };

    before(async () => {
      gw = await startGateway(backend, { WSGATE_MODULES_FILE: modulesFile() });
      admin = (await login(gw.url)).sessionName;
      const { accessKey } = await addTestUser(gw, 'plain');
      plain = (await login(gw.url, 'plain', accessKey)).sessionName;
    });
    after(() => gw.close());

    test('create: the user role gets id and times only, an admin every field', async () => {
      const mine = await ok(plain, { operation: 'create', elementType: 'Ledger', element: { title: 'by plain', secret: SECRET, amount: 3 } });
      assertStamp(mine);
      assert.equal((await stored(mine.id)).secret, SECRET, 'the record was written whole');
      assertWhole(await ledger('by admin'), { title: 'by admin', secret: SECRET, amount: '7' });
    });

    test('update: the user role gets id and times only, an admin every field', async () => {
      const rec = await ledger('to update');
      const answer = await ok(plain, { operation: 'update', element: { id: rec.id, title: 'updated', secret: SECRET, amount: 9 } });
      assertStamp(answer, rec.id);
      assert.equal((await stored(rec.id)).title, 'updated');
      assertWhole(await ok(admin, { operation: 'update', element: { id: rec.id, title: 'again', secret: SECRET } }), {
        title: 'again',
        secret: SECRET,
        amount: '',
      });
    });

    test('revise with the id only: the user role gets id and times only, an admin every field', async () => {
      const rec = await ledger('to revise');
      assertStamp(await ok(plain, { operation: 'revise', element: { id: rec.id } }), rec.id);
      assertStamp(await ok(plain, { operation: 'revise', element: { id: rec.id, amount: 11 } }), rec.id);
      assert.equal((await stored(rec.id)).amount, '11');
      assertWhole(await ok(admin, { operation: 'revise', element: { id: rec.id } }), { title: 'to revise', secret: SECRET, amount: '11' });
    });

    test('upsert: refused to the user role whether it would create or update (its search is a read); an admin gets every field', async () => {
      const rec = await ledger('upsert target');
      for (const title of ['upsert target', 'upsert new']) {
        const res = await as(plain, {
          operation: 'upsert',
          elementType: 'Ledger',
          element: { title, secret: 'x' },
          searchOn: 'title',
          updatedfields: 'secret',
        });
        assert.equal(res.error?.code, 'ACCESS_DENIED', JSON.stringify(res));
      }
      assert.equal((await stored(rec.id)).secret, SECRET, 'unchanged');
      assert.equal(await gw.rt.db.prisma.record.count({ where: { data: { contains: 'upsert new' } } }), 0, 'nothing created');
      const updated = await ok(admin, {
        operation: 'upsert',
        elementType: 'Ledger',
        element: { title: 'upsert target', amount: 5 },
        searchOn: 'title',
        updatedfields: 'amount',
      });
      assertWhole(updated, { id: rec.id, secret: SECRET, amount: '5' });
      const created = await ok(admin, { operation: 'upsert', elementType: 'Ledger', element: { title: 'upsert new', secret: SECRET }, searchOn: 'title' });
      assertWhole(created, { title: 'upsert new', secret: SECRET });
      assert.notEqual(created.id, rec.id);
    });

    test('MassUpdate: per element, id and times only for the module the role may not read; an admin every field', async () => {
      const a = await ledger('mass a');
      const b = await ledger('mass b');
      const contact = await ok(admin, { operation: 'create', elementType: 'Contacts', element: { lastname: 'Readable' } });
      const res = await ok(plain, {
        operation: 'MassUpdate',
        elements: [{ id: a.id }, { id: contact.id, firstname: 'Ann' }, { id: b.id, amount: 2 }, { id: '43x999999' }],
      });
      assert.equal(res.success_updates.length, 3, JSON.stringify(res));
      assertStamp(res.success_updates[0], a.id);
      assert.equal(res.success_updates[1].lastname, 'Readable', 'a module the role may read is answered whole');
      assert.equal(res.success_updates[1].firstname, 'Ann');
      assertStamp(res.success_updates[2], b.id);
      assert.deepEqual(
        res.failed_updates.map((f: { code: string }) => f.code),
        ['RECORD_NOT_FOUND'],
      );
      assert.equal((await stored(b.id)).amount, '2');
      const mine = await ok(admin, { operation: 'MassUpdate', elements: [{ id: a.id }, { id: b.id, amount: 4 }] });
      assertWhole(mine.success_updates[0], { id: a.id, secret: SECRET });
      assertWhole(mine.success_updates[1], { id: b.id, secret: SECRET, amount: '4' });
    });

    test('MassCreate: per element, id and times only for the module the role may not read; references still resolve', async () => {
      const elements = [
        { elementType: 'Contacts', referenceId: 'c', element: { lastname: 'Owner' } },
        { elementType: 'Ledger', referenceId: 'l', element: { title: 'mass created', secret: SECRET, contact_id: '@{c}' } },
        { elementType: 'Ledger', element: { secret: SECRET } },
      ];
      const res = await ok(plain, { operation: 'MassCreate', elements });
      assert.equal(res.success_creates.length, 2, JSON.stringify(res));
      assert.equal(res.success_creates[0].lastname, 'Owner', 'a module the role may read is answered whole');
      assertStamp(res.success_creates[1]);
      assert.deepEqual(
        res.failed_creates.map((f: { code: string }) => f.code),
        ['MANDATORY_FIELDS_MISSING'],
      );
      const written = await stored(res.success_creates[1].id);
      assert.equal(written.contact_id, res.success_creates[0].id);
      assert.equal(written.secret, SECRET);
      const mine = await ok(admin, { operation: 'MassCreate', elements });
      assertWhole(mine.success_creates[1], { title: 'mass created', secret: SECRET, contact_id: mine.success_creates[0].id });
    });

    test("deferred: what the user role queued stores and answers id and times only; an admin's every field", async () => {
      const rec = await ledger('deferred');
      const update = await runDeferred(plain, { operation: 'update', element: { id: rec.id, title: 'deferred update', secret: SECRET } });
      assert.ok(!update.storedResult.includes(SECRET) && !update.storedResult.includes('deferred update'), update.storedResult);
      assertStamp(update.envelope.result, rec.id);
      assert.equal((await stored(rec.id)).title, 'deferred update');

      const revise = await runDeferred(plain, { operation: 'revise', element: { id: rec.id } });
      assert.ok(!revise.storedResult.includes(SECRET), revise.storedResult);
      assertStamp(revise.envelope.result, rec.id);

      const created = await runDeferred(plain, { operation: 'create', elementType: 'Ledger', element: { title: 'deferred create', secret: SECRET } });
      assert.ok(!created.storedResult.includes(SECRET), created.storedResult);
      assertStamp(created.envelope.result);

      const mass = await runDeferred(plain, { operation: 'MassUpdate', elements: [{ id: rec.id, amount: 1 }] });
      assert.ok(!mass.storedResult.includes(SECRET), mass.storedResult);
      assertStamp((mass.envelope.result as { success_updates: Record<string, string>[] }).success_updates[0]!, rec.id);

      const massCreate = await runDeferred(plain, {
        operation: 'MassCreate',
        elements: [{ elementType: 'Ledger', element: { title: 'deferred mass', secret: SECRET } }],
      });
      assert.ok(!massCreate.storedResult.includes(SECRET), massCreate.storedResult);
      assertStamp((massCreate.envelope.result as { success_creates: Record<string, string>[] }).success_creates[0]!);

      const byAdmin = await runDeferred(admin, { operation: 'update', element: { id: rec.id, title: 'admin later', secret: SECRET } });
      assertWhole(byAdmin.envelope.result as Record<string, string>, { id: rec.id, title: 'admin later', secret: SECRET });
    });
  });
}
