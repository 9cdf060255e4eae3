// The coreBOS operation set over HTTP, on every backend: revise, upsert, the mass operations, reference
// fields, getRelatedModulesInfomation, query, and the operations wsgate does not implement.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, call, login, runPass, startGateway, type Envelope, type Gateway } from './support.js';

const defer = () => JSON.stringify({ launchfromqueue: 1, queuedelay: 0 });

for (const backend of backends) {
  describe(`operations on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    const ws = (params: Record<string, unknown>, method: 'GET' | 'POST' = 'POST') => call(gw.url, { sessionName: session, ...params }, { method });
    const ok = async (params: Record<string, unknown>, method: 'GET' | 'POST' = 'POST') => {
      const res = await ws(params, method);
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result;
    };
    const fails = async (params: Record<string, unknown>, code: string, method: 'GET' | 'POST' = 'POST') => {
      const res = await ws(params, method);
      assert.equal(res.success, false, `expected ${code}, got ${JSON.stringify(res)}`);
      assert.equal(res.error!.code, code, JSON.stringify(res));
      return res.error!.message;
    };
    const create = (elementType: string, element: Record<string, unknown>) => ok({ operation: 'create', elementType, element });
    const countWhere = async (text: string) => await gw.rt.db.prisma.record.count({ where: { data: { contains: text } } });
    /** Queues the call, runs an executor pass, and answers the deferred call's envelope. */
    const deferred = async (params: Record<string, unknown>): Promise<Envelope> => {
      const { operationTrackingID } = await ok({ ...params, cbwsOptions: defer() });
      await runPass(gw.rt);
      const res = await ok({ operation: 'getQueuedOperationResult', operationTrackingID });
      return JSON.parse(res) as Envelope;
    };

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('revise changes only the fields given; the others keep their values', async () => {
      const c = await create('Contacts', { firstname: 'Ann', lastname: 'Revise', email: 'ann@example.com', phone: '123' });
      const revised = await ok({ operation: 'revise', element: { id: c.id, phone: '456' } });
      assert.equal(revised.phone, '456');
      assert.equal(revised.firstname, 'Ann');
      assert.equal(revised.email, 'ann@example.com');
      assert.equal(revised.lastname, 'Revise');
      assert.deepEqual(await ok({ operation: 'retrieve', id: c.id }, 'GET'), revised);
      // update, by contrast, empties what it is not given
      const updated = await ok({ operation: 'update', element: { id: c.id, lastname: 'Revise' } });
      assert.equal(updated.email, '');
    });

    test('revise: a mandatory field cannot be emptied, unknown fields and bad ids are refused, nothing changes', async () => {
      const c = await create('Contacts', { firstname: 'Bo', lastname: 'Keep' });
      await fails({ operation: 'revise', element: { id: c.id, lastname: '' } }, 'MANDATORY_FIELDS_MISSING');
      await fails({ operation: 'revise', element: { id: c.id, nosuch: 'x' } }, 'VALIDATION_FAILED');
      await fails({ operation: 'revise', element: { id: c.id, email: 'not-an-email' } }, 'VALIDATION_FAILED');
      await fails({ operation: 'revise', element: { phone: '1' } }, 'INVALID_ID_ATTRIBUTE');
      await fails({ operation: 'revise', element: { id: '12x999999', phone: '1' } }, 'RECORD_NOT_FOUND');
      assert.deepEqual(await ok({ operation: 'retrieve', id: c.id }, 'GET'), c);
    });

    test('revise deferred: the queued call runs the same partial update', async () => {
      const c = await create('Contacts', { firstname: 'Di', lastname: 'Later', phone: '1' });
      const res = await deferred({ operation: 'revise', element: { id: c.id, phone: '2' } });
      assert.equal(res.success, true, JSON.stringify(res));
      const now = await ok({ operation: 'retrieve', id: c.id }, 'GET');
      assert.deepEqual([now.firstname, now.phone], ['Di', '2']);
    });

    test('upsert: creates when nothing matches, updates only updatedfields of the one match, refuses several matches', async () => {
      const element = { lastname: 'Upsert', firstname: 'Una', email: 'una@example.com', phone: '100' };
      const created = await ok({ operation: 'upsert', elementType: 'Contacts', element, searchOn: 'email', updatedfields: 'phone' });
      assert.match(created.id, /^12x\d+$/);
      assert.equal(created.phone, '100');

      const changed = { ...element, firstname: 'Other', phone: '200' };
      const updated = await ok({ operation: 'upsert', elementType: 'Contacts', element: changed, searchOn: 'email', updatedfields: 'phone' });
      assert.equal(updated.id, created.id, 'the matching record is updated, not a new one created');
      assert.equal(updated.phone, '200');
      assert.equal(updated.firstname, 'Una', 'a field outside updatedfields keeps its value');
      assert.equal(await countWhere('una@example.com'), 1);

      const none = await ok({
        operation: 'upsert',
        elementType: 'Contacts',
        element: { ...changed, phone: '300' },
        searchOn: 'email, lastname',
        updatedfields: '',
      });
      assert.equal(none.id, created.id);
      assert.equal(none.phone, '200', 'empty updatedfields changes nothing (coreBOS)');

      await create('Contacts', { lastname: 'Twin', email: 'twin@example.com' });
      await create('Contacts', { lastname: 'Twin', email: 'twin@example.com' });
      const message = await fails(
        {
          operation: 'upsert',
          elementType: 'Contacts',
          element: { lastname: 'Twin', email: 'twin@example.com', phone: '9' },
          searchOn: 'email',
          updatedfields: 'phone',
        },
        'MULTIPLE_RECORDS_FOUND',
      );
      assert.match(message, /email/);
      assert.equal(await countWhere('"phone":"9"'), 0, 'neither twin changed');
    });

    test('upsert refuses a search field the element does not give, and fields the module lacks', async () => {
      await fails(
        { operation: 'upsert', elementType: 'Contacts', element: { lastname: 'X' }, searchOn: 'email', updatedfields: '' },
        'SEARCH_VALUE_NOT_PROVIDED',
      );
      await fails({ operation: 'upsert', elementType: 'Contacts', element: { lastname: 'X' }, searchOn: 'nosuch', updatedfields: '' }, 'INVALID_PARAMETER');
      await fails(
        { operation: 'upsert', elementType: 'Contacts', element: { lastname: 'X' }, searchOn: 'lastname', updatedfields: 'nosuch' },
        'INVALID_PARAMETER',
      );
      await fails({ operation: 'upsert', elementType: 'Nope', element: { lastname: 'X' }, searchOn: 'lastname' }, 'INVALID_MODULE');
    });

    test('concurrent upserts of the same values create one record', async () => {
      const element = { lastname: 'Racer', email: 'racer@example.com', phone: '1' };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => ws({ operation: 'upsert', elementType: 'Contacts', element, searchOn: 'email', updatedfields: 'phone' })),
      );
      for (const a of answers) assert.equal(a.success, true, JSON.stringify(a));
      assert.equal(new Set(answers.map((a) => a.result.id)).size, 1);
      assert.equal(await countWhere('racer@example.com'), 1);
    });

    test('MassCreate: @{referenceId} values point at records of the same call; bad elements fail alone', async () => {
      const elements = [
        { elementType: 'Contacts', referenceId: 'c1', element: { lastname: 'MassOne', account_id: '@{a1}' } },
        { elementType: 'Accounts', referenceId: 'a1', element: { accountname: 'MassCorp' } },
        { elementType: 'Contacts', referenceId: 'bad', element: { firstname: 'No last name' } },
        { elementType: 'Contacts', referenceId: 'c2', element: { lastname: 'MassTwo', account_id: '@{nosuch}' } },
        { elementType: 'Contacts', referenceId: 'x', element: { lastname: 'Cycle X', account_id: '@{y}' } },
        { elementType: 'Accounts', referenceId: 'y', element: { accountname: 'Cycle Y', description: '@{x}' } },
        { elementType: 'Nope', referenceId: 'n', element: { a: 1 } },
        { elementType: 'Contacts', referenceId: 'c3', element: { lastname: 'MassThree', account_id: '@{bad}' } },
        { elementType: 'Contacts', element: { lastname: 'MassFour', email: 'four@example.com' } },
      ];
      const result = await ok({ operation: 'MassCreate', elements });
      assert.deepEqual(
        result.success_creates.map((r: any) => r.lastname ?? r.accountname),
        ['MassOne', 'MassCorp', 'MassFour'],
      );
      const [one, corp] = result.success_creates;
      assert.equal(one.account_id, corp.id, 'the reference got the id of the record created by the same call');
      assert.match(corp.id, /^11x\d+$/);
      const failed = Object.fromEntries(result.failed_creates.map((f: any) => [f.record.referenceId, f.code]));
      assert.deepEqual(failed, {
        bad: 'MANDATORY_FIELDS_MISSING',
        c2: 'REFERENCE_INVALID',
        x: 'REFERENCE_INVALID',
        y: 'REFERENCE_INVALID',
        n: 'INVALID_MODULE',
        c3: 'REFERENCE_INVALID',
      });
      for (const f of result.failed_creates) assert.equal(typeof f.message, 'string');
      assert.equal(await countWhere('Cycle'), 0);
      assert.deepEqual(await ok({ operation: 'retrieve', id: one.id }, 'GET'), one);
    });

    test('MassCreate: a referenceId used twice refers to the first element; the second fails', async () => {
      const result = await ok({
        operation: 'MassCreate',
        elements: [
          { elementType: 'Contacts', referenceId: 'c', element: { lastname: 'DupRef', account_id: '@{a}' } },
          { elementType: 'Accounts', referenceId: 'a', element: { accountname: 'DupRef First' } },
          { elementType: 'Accounts', referenceId: 'a', element: { accountname: 'DupRef Second' } },
        ],
      });
      assert.deepEqual(
        result.success_creates.map((r: any) => r.lastname ?? r.accountname),
        ['DupRef', 'DupRef First'],
      );
      assert.equal(result.success_creates[0].account_id, result.success_creates[1].id);
      assert.deepEqual(
        result.failed_creates.map((f: any) => [f.record.element.accountname, f.code]),
        [['DupRef Second', 'INVALID_PARAMETER']],
      );
    });

    test('MassCreate refuses elements that are not a list; deferred, it answers the same shape', async () => {
      await fails({ operation: 'MassCreate', elements: { elementType: 'Contacts' } }, 'INVALID_PARAMETER');
      const res = await deferred({
        operation: 'MassCreate',
        elements: [
          { elementType: 'Contacts', referenceId: 'd', element: { lastname: 'DeferredMass' } },
          { elementType: 'Contacts', element: {} },
        ],
      });
      assert.equal(res.success, true, JSON.stringify(res));
      const result = res.result as any;
      assert.equal(result.success_creates.length, 1);
      assert.equal(result.failed_creates[0].code, 'MANDATORY_FIELDS_MISSING');
    });

    test('MassUpdate revises each element; bad ones are reported by id and the others applied', async () => {
      const a = await create('Contacts', { lastname: 'MuA', phone: '1', firstname: 'Keep' });
      const b = await create('Contacts', { lastname: 'MuB', phone: '1' });
      const result = await ok({
        operation: 'MassUpdate',
        elements: [{ id: a.id, phone: '2' }, { id: '12x999999', phone: '3' }, { id: b.id, email: 'bad' }, { phone: '4' }, { id: b.id, phone: '5' }],
      });
      assert.deepEqual(
        result.success_updates.map((r: any) => [r.id, r.phone]),
        [
          [a.id, '2'],
          [b.id, '5'],
        ],
      );
      assert.equal(result.success_updates[0].firstname, 'Keep');
      assert.deepEqual(
        result.failed_updates.map((f: any) => [f.id, f.code]),
        [
          ['12x999999', 'RECORD_NOT_FOUND'],
          [b.id, 'VALIDATION_FAILED'],
          ['', 'INVALID_ID_ATTRIBUTE'],
        ],
      );
    });

    test('MassDelete deletes what it can and reports the rest per id', async () => {
      const a = await create('Contacts', { lastname: 'MdA' });
      const b = await create('Leads', { lastname: 'MdB', company: 'X' });
      const result = await ok({ operation: 'MassDelete', ids: `${a.id}, ${b.id},12x999999,junk,${a.id}` });
      assert.deepEqual(result.success_deletes, [a.id, b.id]);
      assert.deepEqual(
        result.failed_deletes.map((f: any) => [f.id, f.code]),
        [
          ['12x999999', 'RECORD_NOT_FOUND'],
          ['junk', 'INVALID_ID_ATTRIBUTE'],
        ],
      );
      await fails({ operation: 'retrieve', id: a.id }, 'RECORD_NOT_FOUND', 'GET');
    });

    test("MassRetrieve answers the records of the first existing id's module, keyed by id in the order given, as coreBOS does", async () => {
      const a = await create('Contacts', { lastname: 'MrA' });
      const b = await create('Contacts', { lastname: 'MrB', email: 'mrb@example.com' });
      const lead = await create('Leads', { lastname: 'MrL', company: 'X' });
      const found = await ok({ operation: 'MassRetrieve', ids: ` ${b.id},12x999999,${lead.id}, ${a.id},${b.id},` });
      assert.deepEqual(Object.keys(found), [b.id, a.id], 'other modules and missing records left out; repeats once');
      assert.deepEqual(found[b.id], await ok({ operation: 'retrieve', id: b.id }, 'GET'));
      assert.deepEqual(found[a.id], await ok({ operation: 'retrieve', id: a.id }, 'GET'));
      // The module is that of the first id whose record exists, whatever comes before it.
      assert.deepEqual(Object.keys(await ok({ operation: 'MassRetrieve', ids: `12x999999,${lead.id},${a.id}` }, 'GET')), [lead.id]);
      assert.deepEqual(await ok({ operation: 'MassRetrieve', ids: '12x999999,12x999998' }), [], 'nothing retrieved: an empty list');
      await fails({ operation: 'MassRetrieve', ids: '' }, 'INVALID_PARAMETER');
      await fails({ operation: 'MassRetrieve', ids: `${a.id},junk` }, 'INVALID_ID_ATTRIBUTE');
      await fails({ operation: 'MassRetrieve', ids: `${a.id},99x1` }, 'INVALID_MODULE');
      await fails({ operation: 'MassRetrieve' }, 'INVALID_PARAMETER');
    });

    test('reference fields: ids of the wrong module or of missing records are REFERENCE_INVALID, on create, revise and update', async () => {
      const acme = await create('Accounts', { accountname: 'RefAcme' });
      const lead = await create('Leads', { lastname: 'L', company: 'C' });
      const c = await create('Contacts', { lastname: 'Referrer', account_id: acme.id });
      assert.equal(c.account_id, acme.id);
      assert.equal((await ok({ operation: 'retrieve', id: c.id }, 'GET')).account_id, acme.id);
      await fails({ operation: 'create', elementType: 'Contacts', element: { lastname: 'R', account_id: lead.id } }, 'REFERENCE_INVALID');
      await fails({ operation: 'create', elementType: 'Contacts', element: { lastname: 'R', account_id: '11x999999' } }, 'REFERENCE_INVALID');
      await fails({ operation: 'create', elementType: 'Contacts', element: { lastname: 'R', account_id: 'Acme' } }, 'VALIDATION_FAILED');
      await fails({ operation: 'revise', element: { id: c.id, account_id: '11x999999' } }, 'REFERENCE_INVALID');
      await fails({ operation: 'update', element: { id: c.id, lastname: 'R', account_id: lead.id } }, 'REFERENCE_INVALID');
      await fails(
        { operation: 'create', elementType: 'Contacts', element: { lastname: 'R', account_id: '11x999999' }, cbwsOptions: defer() },
        'REFERENCE_INVALID',
      );
      await fails({ operation: 'revise', element: { id: c.id, account_id: '11x999999' }, cbwsOptions: defer() }, 'REFERENCE_INVALID');
      await fails({ operation: 'update', element: { id: c.id, lastname: 'R', account_id: lead.id }, cbwsOptions: defer() }, 'REFERENCE_INVALID');
      const found = await ok({ operation: 'query', query: `select lastname, account_id from Contacts where account_id = '${acme.id}';` }, 'GET');
      assert.deepEqual(found, [{ lastname: 'Referrer', account_id: acme.id, id: c.id }]);
      const d = await ok({ operation: 'describe', elementType: 'Contacts' }, 'GET');
      assert.deepEqual(d.fields.find((f: any) => f.name === 'account_id').type, { name: 'reference', refersTo: ['Accounts'] });
    });

    test('record numbers beyond 32 bits are refused as ids, per element in the mass operations, never an internal error', async () => {
      const huge = '99999999999';
      await fails({ operation: 'retrieve', id: `12x${huge}` }, 'INVALID_ID_ATTRIBUTE', 'GET');
      await fails({ operation: 'query', query: `select id from Contacts where id = '12x${huge}';` }, 'INVALID_ID_ATTRIBUTE', 'GET');
      await fails({ operation: 'create', elementType: 'Contacts', element: { lastname: 'Huge', assigned_user_id: `19x${huge}` } }, 'INVALID_ID_ATTRIBUTE');
      const created = await ok({
        operation: 'MassCreate',
        elements: [
          { elementType: 'Contacts', element: { lastname: 'HugeRef', account_id: `11x${huge}` } },
          { elementType: 'Contacts', element: { lastname: 'HugeOk' } },
        ],
      });
      assert.deepEqual(
        created.failed_creates.map((f: any) => f.code),
        ['REFERENCE_INVALID'],
      );
      assert.equal(created.success_creates.length, 1);
      const deleted = await ok({ operation: 'MassDelete', ids: `12x${huge},${created.success_creates[0].id}` });
      assert.deepEqual(deleted.success_deletes, [created.success_creates[0].id]);
      assert.deepEqual(
        deleted.failed_deletes.map((f: any) => f.code),
        ['INVALID_ID_ATTRIBUTE'],
      );
      const updated = await ok({ operation: 'MassUpdate', elements: [{ id: `12x${huge}`, phone: '1' }] });
      assert.deepEqual(
        updated.failed_updates.map((f: any) => f.code),
        ['INVALID_ID_ATTRIBUTE'],
      );
    });

    test('a reference to a record deleted since is kept by an update that sends it back unchanged', async () => {
      const gone = await create('Accounts', { accountname: 'Gone Corp' });
      const c = await create('Contacts', { lastname: 'Dangling', account_id: gone.id });
      await ok({ operation: 'delete', id: gone.id });
      const echoed = await ok({ operation: 'retrieve', id: c.id }, 'GET');
      const updated = await ok({ operation: 'update', element: { ...echoed, phone: '123' } });
      assert.deepEqual([updated.account_id, updated.phone], [gone.id, '123']);
      await ok({ operation: 'revise', element: { id: c.id, account_id: gone.id } });
      await fails({ operation: 'update', element: { ...echoed, account_id: '11x999999' } }, 'REFERENCE_INVALID');
    });

    test('getRelatedModulesInfomation lists the modules referring to a module', async () => {
      const related = await ok({ operation: 'getRelatedModulesInfomation', module: 'Accounts' });
      assert.deepEqual(Object.keys(related), ['Contacts']);
      assert.equal(related.Contacts.related_module, 'Contacts');
      assert.equal(related.Contacts.relatedfield, 'account_id');
      assert.equal(related.Contacts.relationtype, '1:N');
      assert.deepEqual(related.Contacts.filterFields.linkfields, ['firstname', 'lastname']);
      assert.deepEqual(await ok({ operation: 'getRelatedModulesInfomation', module: 'Leads' }), {});
      await fails({ operation: 'getRelatedModulesInfomation', module: 'Nope' }, 'INVALID_MODULE');
      const res = await deferred({ operation: 'getRelatedModulesInfomation', module: 'Accounts' });
      assert.deepEqual(res.result, related);
    });

    test('query over HTTP: rows, count, errors in the envelope, and an injection that matches nothing', async () => {
      await create('Leads', { lastname: "O'Hara", company: 'Quote Co', leadstatus: 'New' });
      await create('Leads', { lastname: 'Hara', company: '100% Pure', leadstatus: 'Lost' });
      const q = (query: string) => ok({ operation: 'query', query }, 'GET');
      assert.deepEqual(
        (await q("select lastname from Leads where lastname = 'O\\'Hara';")).map((r: any) => r.lastname),
        ["O'Hara"],
      );
      assert.deepEqual(
        (await q("select lastname from Leads where company like '100\\%%';")).map((r: any) => r.lastname),
        ['Hara'],
      );
      assert.deepEqual(
        (await q("select lastname from leads where lastname like '%hara' order by lastname desc;")).map((r: any) => r.lastname),
        ["O'Hara", 'Hara'],
      );
      assert.deepEqual(await q("select count(*) from Leads where leadstatus in ('New', 'Lost');"), [{ count: '2' }]);
      // A value spliced in by a careless client ends the string early: a syntax error, never more rows.
      await fails({ operation: 'query', query: "select lastname from Leads where lastname = '' or 1=1 --';" }, 'QUERY_SYNTAX_ERROR', 'GET');
      assert.deepEqual(await q("select lastname from Leads where lastname = 'x'' or ''1''=''1';"), []);
      await fails({ operation: 'query', query: 'select lastname from Leads where;' }, 'QUERY_SYNTAX_ERROR', 'GET');
      await fails({ operation: 'query', query: 'select nosuch from Leads;' }, 'ACCESS_DENIED', 'GET');
      await fails({ operation: 'query', query: 'select * from Nope;' }, 'INVALID_MODULE', 'GET');
      await fails({ operation: 'query' }, 'INVALID_PARAMETER', 'GET');
    });

    test('query answers 100 records at most (coreBOS), pages with limit offset, count', async () => {
      const elements = Array.from({ length: 130 }, (_, i) => ({
        elementType: 'Leads',
        element: { lastname: `Page${String(i).padStart(3, '0')}`, company: 'Paging' },
      }));
      assert.equal((await ok({ operation: 'MassCreate', elements })).success_creates.length, 130);
      const q = (query: string) => ok({ operation: 'query', query }, 'GET');
      assert.equal((await q("select id from Leads where company = 'Paging';")).length, 100);
      assert.equal((await q("select id from Leads where company = 'Paging' limit 500;")).length, 100);
      const page2 = await q("select lastname from Leads where company = 'Paging' order by lastname limit 100, 100;");
      assert.deepEqual(
        page2.map((r: any) => r.lastname),
        Array.from({ length: 30 }, (_, i) => `Page${String(i + 100).padStart(3, '0')}`),
      );
      assert.deepEqual(await q("select count(*) from Leads where company = 'Paging';"), [{ count: '130' }]);
    });

    test('operations wsgate does not implement answer UNKNOWN_OPERATION and say so', async () => {
      for (const operation of ['convertlead', 'gendoc_convert', 'ValidateInformation', 'loginSession']) {
        const message = await fails({ operation }, 'UNKNOWN_OPERATION');
        assert.match(message, /does not implement/);
      }
    });
  });
}
