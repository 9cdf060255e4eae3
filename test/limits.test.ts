// Limits answered as limits: each bound of a query, of JSON parameters, of the mass operations and of
// numeric field values, just below (accepted) and just above (the named error, never INTERNAL_SERVER_ERROR),
// on a real gateway over each database; and query's moreinfo.totalrows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, call, login, startGateway, type CallOptions, type Envelope, type Gateway } from './support.js';

const list = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const nested = (depth: number, inner: unknown = 'x'): unknown => {
  let v = inner;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

for (const backend of backends) {
  describe(`limits on ${backend.name}`, () => {
    let gw: Gateway;
    let session: string;
    let contact: string;
    const ws = (params: Record<string, unknown>, options?: CallOptions) => call(gw.url, { sessionName: session, ...params }, options);
    const query = (q: string) => ws({ operation: 'query', query: q });
    const queued = () => gw.rt.db.prisma.queuedOperation.count();

    const ok = (res: Envelope, what: string) => {
      assert.equal(res.success, true, `${what}: ${JSON.stringify(res.error)}`);
      return res;
    };
    const refused = (res: Envelope, code: string, message: RegExp) => {
      assert.equal(res.success, false, 'refused');
      assert.equal(res.error!.code, code, res.error!.message);
      assert.match(res.error!.message, message);
    };

    before(async () => {
      gw = await startGateway(backend);
      session = (await login(gw.url)).sessionName;
      // A long text, so that like patterns are matched against something.
      const created = ok(
        await ws({ operation: 'create', elementType: 'Contacts', element: { lastname: 'x7', description: 'a'.repeat(60_000) } }, { json: true }),
        'create',
      );
      contact = created.result.id;
    });
    after(() => gw.close());

    test('a NUL character in a field value, a key or a string parameter is refused (PostgreSQL jsonb cannot hold it); nothing is stored', async () => {
      const before = await gw.rt.db.prisma.record.count();
      refused(await ws({ operation: 'create', elementType: 'Contacts', element: { lastname: 'a\u0000b' } }), 'INVALID_PARAMETER', /NUL/);
      refused(
        await ws({ operation: 'create', elementType: 'Contacts', element: { lastname: 'ok', 'x\u0000': 1 } }, { json: true }),
        'INVALID_PARAMETER',
        /NUL/,
      );
      refused(
        await ws({ operation: 'MassCreate', elements: [{ elementType: 'Contacts', referenceId: 'r', element: { lastname: '\u0000' } }] }),
        'INVALID_PARAMETER',
        /NUL/,
      );
      refused(await ws({ operation: 'retrieve', id: '12x1\u0000' }), 'INVALID_PARAMETER', /NUL/);
      assert.equal(await gw.rt.db.prisma.record.count(), before);
      ok(await query("select id from Contacts where lastname = 'x7';"), 'queries still read every record');
    });

    test('1,000 conditions joined with or / and pass (SQLite failed from about 997); 1,001 are refused naming the limit', async () => {
      // lastname is indexed: each term is an index comparison.
      const or = (n: number) => `select id from Contacts where ${list(n, (i) => `lastname = 'x${i}'`).join(' or ')};`;
      assert.deepEqual(ok(await query(or(1000)), 'or 1000').result, [{ id: contact }]);
      refused(await query(or(1001)), 'QUERY_SYNTAX_ERROR', /more than 1000 conditions.*WSGATE_QUERY_MAX_TERMS/);
      // Conditions without values count too.
      const isNull = (n: number) => `select id from Contacts where ${list(n, () => 'firstname is null').join(' and ')};`;
      assert.deepEqual(ok(await query(isNull(1000)), 'is null 1000').result, [{ id: contact }]);
      refused(await query(isNull(1001)), 'QUERY_SYNTAX_ERROR', /more than 1000 conditions.*WSGATE_QUERY_MAX_TERMS/);
      // Mixed kinds, nested groups.
      const mixed = list(250, (i) => `(lastname != 'y${i}' and (email like 'z${i}%' or lastname not in ('q${i}') or donotcall = 1))`).join(' and ');
      assert.deepEqual(ok(await query(`select id from Contacts where ${mixed};`), 'mixed 1000').result, [{ id: contact }]);
    });

    test('1,000 values in an in-list pass; 1,001 are refused naming the limit', async () => {
      const inList = (n: number) => `select id from Contacts where lastname in (${list(n, (i) => `'x${i}'`).join(', ')});`;
      assert.deepEqual(ok(await query(inList(1000)), 'in 1000').result, [{ id: contact }]);
      refused(await query(inList(1001)), 'QUERY_SYNTAX_ERROR', /more than 1000 values.*WSGATE_QUERY_MAX_VALUES/);
    });

    test('32 order by terms pass; 33, and 2,000 (SQLite failed), are refused', async () => {
      const orderBy = (n: number) => `select id from Contacts order by ${list(n, (i) => (i % 2 ? 'lastname desc' : 'firstname')).join(', ')};`;
      ok(await query(orderBy(32)), 'order by 32');
      refused(await query(orderBy(33)), 'QUERY_SYNTAX_ERROR', /more than 32 order by terms/);
      refused(await query(orderBy(2000)), 'QUERY_SYNTAX_ERROR', /more than 32 order by terms/);
    });

    test('a like pattern of 1,000 characters passes; 1,001 are refused, as are more than 10 % wildcards', async () => {
      const like = (pattern: string) => `select id from Contacts where description like '${pattern}';`;
      assert.deepEqual(ok(await query(like(`%${'a'.repeat(998)}%`)), 'pattern 1000').result, [{ id: contact }]);
      assert.deepEqual(ok(await query(like(`%${'a'.repeat(998)}b`)), 'pattern 1000').result, []);
      refused(await query(like(`%${'a'.repeat(999)}b`)), 'QUERY_SYNTAX_ERROR', /like pattern of 1001 characters.*WSGATE_QUERY_MAX_PATTERN_LENGTH/);
      // 50,001 bytes failed inside SQLite (SQLITE_LIMIT_LIKE_PATTERN_LENGTH).
      refused(await query(like(`%${'a'.repeat(50_000)}b`)), 'QUERY_SYNTAX_ERROR', /WSGATE_QUERY_MAX_PATTERN_LENGTH/);
      assert.deepEqual(ok(await query(like('%a'.repeat(10))), '10 wildcards').result, [{ id: contact }]);
      refused(await query(like('%a'.repeat(11))), 'QUERY_SYNTAX_ERROR', /more than 10 % wildcards/);
      // An escaped % is no wildcard.
      ok(await query(like(`${'\\%'.repeat(20)}%`)), 'escaped %');
    });

    test('a query of 100,000 characters passes; a longer one is refused naming the limit', async () => {
      const text = (length: number) => {
        const head = "select id from Contacts where lastname != '";
        const tail = "';";
        return head + 'b'.repeat(length - head.length - tail.length) + tail;
      };
      assert.deepEqual(ok(await query(text(100_000)), 'query of 100,000').result, [{ id: contact }]);
      refused(await query(text(100_001)), 'QUERY_SYNTAX_ERROR', /longer than 100000.*WSGATE_QUERY_MAX_LENGTH/);
    });

    test('JSON nested deeper than 32 is refused, synchronous and deferred, form and JSON body; nothing is queued', async () => {
      // 32 deep passes the parameter check: the element's value is then refused, per element.
      const atLimit = [{ id: contact, lastname: nested(30) }];
      const res = ok(await ws({ operation: 'MassUpdate', elements: JSON.stringify(atLimit) }), 'depth 32');
      assert.equal(res.result.failed_updates[0].code, 'VALIDATION_FAILED');
      const tooDeep = [{ id: contact, lastname: nested(31) }];
      refused(await ws({ operation: 'MassUpdate', elements: JSON.stringify(tooDeep) }), 'INVALID_PARAMETER', /elements nests JSON deeper than 32/);
      refused(await ws({ operation: 'MassUpdate', elements: tooDeep }, { json: true }), 'INVALID_PARAMETER', /deeper than 32/);
      const before = await queued();
      // As text: JSON.stringify itself overflows the stack on it (what made the deferred call fail).
      const deep = `[{"id":"${contact}","lastname":${'['.repeat(10_000)}"x"${']'.repeat(10_000)}}]`;
      const deferred = { launchfromqueue: 1, queuedelay: 0 };
      refused(await ws({ operation: 'MassUpdate', elements: deep, cbwsOptions: JSON.stringify(deferred) }), 'INVALID_PARAMETER', /deeper than 32/);
      refused(
        await ws({ operation: 'revise', element: JSON.stringify({ id: contact, lastname: nested(40) }), cbwsOptions: JSON.stringify(deferred) }),
        'INVALID_PARAMETER',
        /element nests JSON deeper than 32/,
      );
      assert.equal(await queued(), before);
    });

    test('MassCreate of 1,000 elements passes; 1,001 elements, or MassUpdate / MassDelete beyond, are refused, deferred too', async () => {
      const items = (n: number) => list(n, (i) => ({ elementType: 'Contacts', referenceId: `r${i}`, element: { lastname: `Bulk ${i}` } }));
      const created = ok(await ws({ operation: 'MassCreate', elements: items(1000) }, { json: true }), 'MassCreate 1000');
      assert.equal(created.result.success_creates.length, 1000);
      refused(
        await ws({ operation: 'MassCreate', elements: items(1001) }, { json: true }),
        'INVALID_PARAMETER',
        /1001 elements, more than 1000.*WSGATE_MASS_MAX_ELEMENTS/,
      );
      const before = await queued();
      const deferred = JSON.stringify({ launchfromqueue: 1 });
      refused(
        await ws({ operation: 'MassCreate', elements: JSON.stringify(items(1001)), cbwsOptions: deferred }),
        'INVALID_PARAMETER',
        /WSGATE_MASS_MAX_ELEMENTS/,
      );
      const updates = list(1001, (i) => ({ id: created.result.success_creates[i % 1000].id, firstname: 'B' }));
      refused(
        await ws({ operation: 'MassUpdate', elements: JSON.stringify(updates), cbwsOptions: deferred }),
        'INVALID_PARAMETER',
        /1001 elements.*WSGATE_MASS_MAX_ELEMENTS/,
      );
      refused(
        await ws({ operation: 'MassDelete', ids: list(1001, (i) => `12x${i + 1_000_000}`).join(','), cbwsOptions: deferred }),
        'INVALID_PARAMETER',
        /1001 ids.*WSGATE_MASS_MAX_ELEMENTS/,
      );
      assert.equal(await queued(), before);
      refused(await ws({ operation: 'MassDelete', ids: list(1001, (i) => `12x${i + 1_000_000}`).join(',') }), 'INVALID_PARAMETER', /1001 ids/);
      refused(await ws({ operation: 'MassRetrieve', ids: list(1001, (i) => `12x${i + 1_000_000}`).join(',') }), 'INVALID_PARAMETER', /MassRetrieve: 1001 ids/);
      // Repeats count once: 1,000 distinct ids, each sent twice.
      const ids = created.result.success_creates.map((r: { id: string }) => r.id);
      const retrieved = ok(await ws({ operation: 'MassRetrieve', ids: [...ids, ...ids].join(',') }), 'MassRetrieve 1000');
      assert.equal(Object.keys(retrieved.result).length, 1000);
      const deleted = ok(await ws({ operation: 'MassDelete', ids: [...ids, ...ids].join(',') }), 'MassDelete 1000');
      assert.equal(deleted.result.success_deletes.length, 1000);
    });

    test('integers beyond 2^53-1 and decimals beyond 10^15 are VALIDATION_FAILED naming the field; 2^53-1 is kept exactly', async () => {
      const create = (element: string) => ws({ operation: 'create', elementType: 'Accounts', element: `{"accountname":"Numbers",${element}}` });
      // JSON numbers (parsed from the element's text) and text, as forms send them.
      refused(await create('"employees":123456789012345678901234567890'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"employees":"123456789012345678901234567890"'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"employees":9007199254740992'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"employees":"9007199254740992"'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"employees":-9007199254740992'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"employees":1e300'), 'VALIDATION_FAILED', /employees/);
      refused(await create('"annual_revenue":1.7976931348623157e308'), 'VALIDATION_FAILED', /annual_revenue/);
      refused(await create('"annual_revenue":1e309'), 'VALIDATION_FAILED', /annual_revenue/);
      refused(await create('"annual_revenue":1000000000000000'), 'VALIDATION_FAILED', /annual_revenue/);
      refused(await create('"annual_revenue":"1.7976931348623157e308"'), 'VALIDATION_FAILED', /annual_revenue/);
      for (const [element, employees, revenue] of [
        ['"employees":9007199254740991,"annual_revenue":999999999999999.5', '9007199254740991', '999999999999999.5'],
        ['"employees":"9007199254740991","annual_revenue":"999999999999999.99999999"', '9007199254740991', '999999999999999.99999999'],
        ['"employees":-9007199254740991,"annual_revenue":-12.5', '-9007199254740991', '-12.5'],
      ] as const) {
        const made = ok(await create(element), element);
        assert.equal(made.result.employees, employees);
        assert.equal(made.result.annual_revenue, revenue);
        const back = ok(await ws({ operation: 'retrieve', id: made.result.id }), 'retrieve');
        assert.equal(back.result.employees, employees);
      }
      // update and revise validate the same way.
      const made = ok(await create('"employees":1'), 'create');
      refused(
        await ws({ operation: 'revise', element: `{"id":"${made.result.id}","employees":123456789012345678901234567890}` }),
        'VALIDATION_FAILED',
        /employees/,
      );
    });

    test('query answers moreinfo.totalrows: every matching record, whatever the limit and offset', async () => {
      for (let i = 1; i <= 5; i++)
        ok(await ws({ operation: 'create', elementType: 'Contacts', element: { lastname: `Total ${i}` } }, { json: true }), 'create');
      const total = async (q: string, rows: number, totalrows: number) => {
        const res = ok(await query(q), q);
        assert.equal(res.result.length, rows, q);
        assert.deepEqual(res.moreinfo, { totalrows }, q);
      };
      const T = "select lastname from Contacts where lastname like 'Total%' order by lastname";
      await total(`${T};`, 5, 5);
      await total(`${T} limit 2;`, 2, 5);
      await total(`${T} limit 5;`, 5, 5);
      await total(`${T} limit 2, 2;`, 2, 5);
      await total(`${T} limit 4, 10;`, 1, 5);
      await total(`${T} limit 10, 2;`, 0, 5);
      await total(`${T} limit 0;`, 0, 5);
      await total("select * from Contacts where lastname = 'nobody';", 0, 0);
      await total("select lastname from Contacts where lastname = 'nobody' limit 5, 5;", 0, 0);
      const counted = ok(await query("select count(*) from Contacts where lastname like 'Total%' limit 1;"), 'count');
      assert.deepEqual(counted.result, [{ count: '5' }]);
      assert.deepEqual(counted.moreinfo, { totalrows: 5 });
      // More than WSGATE_QUERY_MAX_LIMIT (100) records: the page is cut, the total is not.
      ok(
        await ws(
          { operation: 'MassCreate', elements: list(120, (i) => ({ elementType: 'Leads', element: { lastname: `Many ${i}`, company: 'C' } })) },
          { json: true },
        ),
        'MassCreate',
      );
      const many = ok(await query("select id from Leads where lastname like 'Many%' limit 500;"), 'many');
      assert.equal(many.result.length, 100);
      assert.deepEqual(many.moreinfo, { totalrows: 120 });
      // A query asked to be deferred runs at once: the note joins totalrows.
      const noted = ok(await ws({ operation: 'query', query: `${T} limit 1;`, cbwsOptions: '{"launchfromqueue":1}' }), 'noted');
      assert.equal((noted.moreinfo as { totalrows: number }).totalrows, 5);
      assert.match((noted.moreinfo as { message: string }).message, /cannot be queued/);
    });
  });
}
