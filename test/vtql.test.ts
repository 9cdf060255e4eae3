// VTQL: each query is parsed, translated and run against a real database seeded with ws_record rows
// (in-memory SQLite always; PostgreSQL when WSGATE_TEST_PG_URL is set), and the answered records checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { addLiveCheck } from '../src/db/sqlite-connection.js';
import pg from 'pg';
import type { Prisma } from '../src/db/generated/sqlite/client.js';
import { WsError } from '../src/errors.js';
import { ModuleRegistry } from '../src/records/modules.js';
import { compileQuery, parseQuery, toRecords, type Limits, type VtqlRecord } from '../src/vtql/index.js';
import { dialectOf, postgresql, sqlite } from '../src/db/dialect.js';
import type { Provider } from '../src/db/url.js';

const modules = new ModuleRegistry([
  {
    name: 'Contacts',
    label: 'Contacts',
    singular: 'Contact',
    idPrefix: '12',
    labelFields: ['lastname'],
    fields: [
      { name: 'firstname', type: 'string', label: 'First Name' },
      { name: 'lastname', type: 'string', label: 'Last Name', mandatory: true },
      { name: 'age', type: 'integer', label: 'Age' },
      { name: 'score', type: 'decimal', label: 'Score' },
      { name: 'donotcall', type: 'boolean', label: 'Do Not Call' },
      { name: 'birthday', type: 'date', label: 'Birthday' },
      { name: 'status', type: 'picklist', label: 'Status', values: ['Active', 'Inactive'] },
      { name: 'description', type: 'text', label: 'Description' },
    ],
  },
  {
    name: 'Accounts',
    label: 'Accounts',
    singular: 'Account',
    idPrefix: '11',
    labelFields: ['accountname'],
    fields: [{ name: 'accountname', type: 'string', label: 'Name' }],
  },
]);

/** The same modules with every field indexed: equality, in-lists and prefix patterns take other SQL, same rows. */
const indexedModules = new ModuleRegistry(modules.modules.map((m) => ({ ...m, fields: m.fields.map((f) => ({ ...f, indexed: true })) })));

const contact = (
  firstname: string,
  lastname: string,
  age: string,
  score: string,
  donotcall: string,
  birthday: string,
  status: string,
  description: string,
) => ({ firstname, lastname, age, score, donotcall, birthday, status, description });

// id, module, owner, created, modified (UTC), fields
const seed: [number, string, number, string, string, Record<string, string>][] = [
  [
    1,
    'Contacts',
    1,
    '2024-01-01 10:00:00',
    '2024-03-01 08:00:00',
    contact('Ada', 'Lovelace', '36', '99.5', '1', '1815-12-10', 'Active', "Analyst; wrote 'notes'"),
  ],
  [2, 'Contacts', 2, '2024-02-01 00:00:00', '2024-02-01 00:00:00', contact('Grace', 'Hopper', '85', '88.25', '0', '1906-12-09', 'Active', '100% COBOL')],
  [3, 'Contacts', 1, '2024-02-15 12:30:00', '2024-02-15 12:30:00', contact('Alan', 'Turing', '41', '', '0', '1912-06-23', 'Inactive', "O'Brien's friend")],
  [4, 'Contacts', 2, '2024-03-10 09:00:00', '2024-03-10 09:00:00', contact('Édith', 'Piaf', '', '70', '', '', '', 'under_score')],
  [5, 'Contacts', 1, '2024-03-20 18:45:10', '2024-03-20 18:45:10', contact('ada', "O'Hara", '9', '5', '1', '', 'Active', 'back\\slash')],
  [6, 'Accounts', 1, '2024-03-21 00:00:00', '2024-03-21 00:00:00', { accountname: 'Ada Corp' }],
  [7, 'Contacts', 3, '2024-04-01 00:00:00', '2024-04-01 00:00:00', contact('', "' or 1=1 --", '', '', '', '', '', '')],
];

interface Case {
  q: string;
  ids?: number[];
  records?: VtqlRecord[];
  count?: string;
  error?: { code: string; at?: number; message?: RegExp };
  limits?: Limits;
}

const all = [1, 2, 3, 4, 5, 7];
const C = 'select * from Contacts';

const cases: Case[] = [
  // selection, count(*), record shape
  { q: `${C};`, ids: all },
  { q: 'select count(*) from Contacts;', count: '6' },
  { q: 'select count(*) from contacts;', count: '6' },
  { q: "SELECT COUNT(*) FROM Contacts WHERE status = 'Active';", count: '3' },
  { q: 'select count(*) from Contacts where age > 0 order by lastname desc limit 1, 1;', count: '4' },
  { q: "select firstname from Contacts where lastname = 'Hopper';", records: [{ firstname: 'Grace', id: '12x2' }] },
  { q: "select id, lastname, lastname from Contacts where id = '12x3';", records: [{ id: '12x3', lastname: 'Turing' }] },
  {
    q: `${C} where id = 1;`,
    records: [
      {
        firstname: 'Ada',
        lastname: 'Lovelace',
        age: '36',
        score: '99.5',
        donotcall: '1',
        birthday: '1815-12-10',
        status: 'Active',
        description: "Analyst; wrote 'notes'",
        assigned_user_id: '19x1',
        createdtime: '2024-01-01 10:00:00',
        modifiedtime: '2024-03-01 08:00:00',
        id: '12x1',
      },
    ],
  },
  { q: 'SeLeCt * FrOm Contacts WhErE age > 40 OrDeR bY age DeSc LiMiT 1;', ids: [2] },
  // numbers, decimals, booleans, empty values
  { q: `${C} where age > 40;`, ids: [2, 3] },
  { q: `${C} where age >= 41;`, ids: [2, 3] },
  { q: `${C} where age < 36;`, ids: [5] },
  { q: `${C} where age <= 36;`, ids: [1, 5] },
  { q: `${C} where age != 41;`, ids: [1, 2, 5] },
  { q: `${C} where age <> 41;`, ids: [1, 2, 5] },
  { q: `${C} where age = '85';`, ids: [2] },
  { q: `${C} where score > 80.5;`, ids: [1, 2] },
  { q: `${C} where score = 99.5;`, ids: [1] },
  { q: `${C} where score > -1 and score < 6;`, ids: [5] },
  { q: `${C} where donotcall = 1;`, ids: [1, 5] },
  { q: `${C} where donotcall = 'false';`, ids: [2, 3] },
  { q: `${C} where donotcall = '';`, ids: [4, 7] },
  // Unquoted true/false, as README says booleans compare (they were a syntax error).
  { q: `${C} where donotcall = true;`, ids: [1, 5] },
  { q: `${C} where donotcall = FALSE;`, ids: [2, 3] },
  { q: `${C} where donotcall != true and donotcall in (false, true);`, ids: [2, 3] },
  { q: `${C} where age = '';`, ids: [4, 7] },
  { q: `${C} where firstname = '';`, ids: [7] },
  // like: wildcards, case, quotes, escapes
  { q: `${C} where firstname like 'A%';`, ids: [1, 3, 5] },
  { q: `${C} where firstname like 'a%';`, ids: [1, 3, 5] },
  { q: `${C} where firstname like 'Ad_';`, ids: [1, 5] },
  { q: `${C} where lastname like '%o%';`, ids: [1, 2, 5, 7] },
  { q: `${C} where lastname not like '%o%';`, ids: [3, 4] },
  { q: `${C} where lastname like 'O''H%';`, ids: [5] },
  { q: `${C} where lastname like 'O\\'H%';`, ids: [5] },
  { q: `${C} where description like '100\\%%';`, ids: [2] },
  { q: `${C} where description like '%\\_%';`, ids: [4] },
  { q: `${C} where description like '%_%';`, ids: [1, 2, 3, 4, 5] },
  { q: `${C} where description like 'back\\\\\\\\slash';`, ids: [5] },
  { q: `${C} where description like 'Analyst; wrote ''notes''';`, ids: [1] },
  { q: `${C} where firstname like 'É%';`, ids: [4] },
  { q: `${C} where firstname like 'é%';`, ids: [] },
  { q: `${C} where age like '3%';`, ids: [1] },
  // in, is null
  { q: `${C} where status in ('Active', 'Inactive');`, ids: [1, 2, 3, 5] },
  { q: `${C} where age in (36, 41);`, ids: [1, 3] },
  { q: `${C} where status not in ('Active');`, ids: [3, 4, 7] },
  { q: `${C} where age not in (36, '');`, ids: [2, 3, 5] },
  // Only the empty value (found by the property test: it answered INTERNAL_SERVER_ERROR).
  { q: `${C} where donotcall in ('');`, ids: [4, 7] },
  { q: `${C} where age not in ('');`, ids: [1, 2, 3, 5] },
  { q: `${C} where age is null;`, ids: [4, 7] },
  { q: `${C} where age is not null;`, ids: [1, 2, 3, 5] },
  { q: `${C} where status is null;`, ids: [4, 7] },
  { q: `${C} where birthday IS NOT NULL;`, ids: [1, 2, 3] },
  // and/or/parentheses: and binds tighter than or
  { q: `${C} where firstname = 'Ada' and age > 30 or lastname = 'Turing';`, ids: [1, 3] },
  { q: `${C} where lastname = 'Turing' or firstname = 'Ada' and age > 100;`, ids: [3] },
  { q: `${C} where (lastname = 'Turing' or firstname = 'Ada') and age > 40;`, ids: [3] },
  { q: `${C} where ((age > 40) and (status = 'Active' or status = 'Inactive'));`, ids: [2, 3] },
  // order by, limit
  { q: `${C} order by age desc;`, ids: [2, 3, 1, 5, 4, 7] },
  { q: `${C} order by age;`, ids: [4, 7, 5, 1, 3, 2] },
  { q: `${C} order by lastname;`, ids: [7, 2, 1, 5, 4, 3] },
  // text compares byte-wise on both databases: upper case before lower case, accented letters last
  { q: `${C} order by firstname;`, ids: [7, 1, 3, 2, 5, 4] },
  { q: `${C} where firstname > 'Z';`, ids: [4, 5] },
  { q: `${C} order by status asc, lastname desc;`, ids: [4, 7, 5, 1, 2, 3] },
  { q: `${C} order by score desc, id desc;`, ids: [1, 2, 4, 5, 7, 3] },
  { q: `${C} order by createdtime desc limit 1;`, ids: [7] },
  { q: `${C} limit 2;`, ids: [1, 2] },
  { q: `${C} limit 2, 2;`, ids: [3, 4] },
  { q: `${C} limit 0;`, ids: [] },
  { q: `${C} where lastname like '%' limit 10, 5;`, ids: [] },
  { q: `${C};`, ids: [1, 2, 3], limits: { defaultLimit: 3, maxLimit: 4 } },
  { q: `${C} limit 10;`, ids: [1, 2, 3, 4], limits: { defaultLimit: 3, maxLimit: 4 } },
  { q: `${C} limit 4, 10;`, ids: [5, 7], limits: { defaultLimit: 3, maxLimit: 4 } },
  // system fields
  { q: `${C} where id in ('12x1', 2, 12x5);`, ids: [1, 2, 5] },
  { q: `${C} where id > '12x4';`, ids: [5, 7] },
  { q: `${C} where id = 12x3;`, ids: [3] },
  { q: `${C} where id like '12x%';`, ids: all },
  { q: `${C} where id like '%5';`, ids: [5] },
  { q: `${C} where assigned_user_id = '19x2';`, ids: [2, 4] },
  { q: `${C} where assigned_user_id in (1, '19x3');`, ids: [1, 3, 5, 7] },
  { q: `${C} where createdtime >= '2024-02-15';`, ids: [3, 4, 5, 7] },
  { q: `${C} where createdtime like '2024-01%';`, ids: [1] },
  { q: `${C} where modifiedtime = '2024-03-01 08:00:00';`, ids: [1] },
  // injection attempts end up as values or as syntax errors
  { q: `${C} where lastname = ''' or 1=1 --';`, ids: [7] },
  { q: `${C} where lastname = 'x'' or ''1''=''1';`, ids: [] },
  { q: `${C} where firstname = 'Ada\\' or 1=1 --';`, ids: [] },
  { q: `${C} where lastname like '%'')) or 1=1 --%';`, ids: [] },
  { q: `${C} where age = '1 or 1=1';`, error: { code: 'QUERY_SYNTAX_ERROR', at: 35, message: /age holds numbers/ } },
  { q: `${C}; drop table ws_record;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 24, message: /expected end of query after ';', found 'drop'/ } },
  { q: `${C} where lastname = 'a' -- comment;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 44, message: /unexpected character '-'/ } },
  { q: `${C} where lastname) or (1=1;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 37, message: /expected a comparison operator/ } },
  // syntax errors name the offset, what was expected and what was found
  { q: C, error: { code: 'QUERY_SYNTAX_ERROR', at: 22, message: /expected 'where', 'order by', 'limit' or ';', found end of query/ } },
  { q: 'select * Contacts;', error: { code: 'QUERY_SYNTAX_ERROR', at: 9, message: /expected 'from', found 'Contacts'/ } },
  { q: `${C} where;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 28, message: /expected a field name or '\(', found ';'/ } },
  { q: `${C} where lastname = 'abc;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 40, message: /string is not terminated/ } },
  { q: `${C} where age = ;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 35, message: /expected a value .*, found ';'/ } },
  { q: `${C} limit -1;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 29, message: /expected a non-negative integer, found '-1'/ } },
  { q: `${C} limit 1.5;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 29, message: /expected a non-negative integer/ } },
  { q: `${C} where lastname = "x";`, error: { code: 'QUERY_SYNTAX_ERROR', at: 40, message: /unexpected character '"' \(strings are in single quotes\)/ } },
  { q: `${C} where (age = 1;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 37, message: /expected 'and', 'or' or '\)', found ';'/ } },
  { q: 'update Contacts set age = 1;', error: { code: 'QUERY_SYNTAX_ERROR', at: 0, message: /expected 'select', found 'update'/ } },
  { q: `${C} where age in ();`, error: { code: 'QUERY_SYNTAX_ERROR', at: 37, message: /expected a value/ } },
  { q: 'select from Contacts;', error: { code: 'QUERY_SYNTAX_ERROR', at: 7, message: /expected a field name, '\*' or count\(\*\), found 'from'/ } },
  { q: 'select lastname firstname from Contacts;', error: { code: 'QUERY_SYNTAX_ERROR', at: 16, message: /expected ',' or 'from', found 'firstname'/ } },
  { q: `${C} where age = 1 limt 5;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 37, message: /expected 'and', 'or', 'order by', 'limit' or ';', found 'limt'/ } },
  { q: `${C} where age is 5;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 36, message: /expected 'null' or 'not', found '5'/ } },
  { q: `${C} where age = 5 order age;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 43, message: /expected 'by', found 'age'/ } },
  { q: `${C} where id = 12abc;`, error: { code: 'QUERY_SYNTAX_ERROR', at: 36, message: /unexpected 'a' after '12'/ } },
  { q: `${C} where ${'('.repeat(40)}age = 1${')'.repeat(40)};`, error: { code: 'QUERY_SYNTAX_ERROR', at: 61, message: /nested deeper than 32/ } },
  // unknown modules and fields, wrong values
  { q: 'select * from Nope;', error: { code: 'INVALID_MODULE', message: /Nope/ } },
  { q: 'select foo from Contacts;', error: { code: 'ACCESS_DENIED', message: /Permission to access foo attribute denied/ } },
  { q: `${C} where foo = 1;`, error: { code: 'ACCESS_DENIED', message: /no field foo \(offset 29\)/ } },
  { q: `${C} order by foo;`, error: { code: 'ACCESS_DENIED', message: /foo/ } },
  { q: 'select accountname from Contacts;', error: { code: 'ACCESS_DENIED', message: /accountname/ } },
  { q: `${C} where id = '11x6';`, error: { code: 'INVALID_ID_ATTRIBUTE', message: /not a 12x\.\.\. id/ } },
  { q: `${C} where assigned_user_id = '12x1';`, error: { code: 'INVALID_ID_ATTRIBUTE', message: /not a 19x\.\.\. id/ } },
  { q: `${C} where firstname = true;`, error: { code: 'QUERY_SYNTAX_ERROR', message: /true compares with boolean fields only/ } },
  { q: `${C} where firstname like false;`, error: { code: 'QUERY_SYNTAX_ERROR', message: /like pattern is a 'quoted string'/ } },
  { q: `${C} where donotcall = 'maybe';`, error: { code: 'QUERY_SYNTAX_ERROR', message: /donotcall holds 1\/0/ } },
];

interface Backend {
  name: Provider;
  run(sql: Prisma.Sql): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const db = new Database(':memory:');
  addLiveCheck(db, () => Number.POSITIVE_INFINITY);
  db.exec(`CREATE TABLE ws_record (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, module TEXT NOT NULL, owner_id INTEGER NOT NULL,
    data TEXT NOT NULL, created_at DATETIME NOT NULL, modified_at DATETIME NOT NULL)`);
  const insert = db.prepare('INSERT INTO ws_record VALUES (?, ?, ?, ?, ?, ?)');
  const ms = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`);
  for (const [id, module, owner, created, modified, data] of seed) insert.run(id, module, owner, JSON.stringify(data), ms(created), ms(modified));
  return {
    name: 'sqlite',
    run: async (sql) => db.prepare(sql.sql).all(...sql.values) as Record<string, unknown>[],
    close: async () => void db.close(),
  };
}

async function postgresBackend(url: string): Promise<Backend> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // A temporary table: private to this connection, shadows any ws_record, gone when it closes.
  await client.query(`CREATE TEMP TABLE ws_record (id SERIAL PRIMARY KEY, module TEXT NOT NULL, owner_id INTEGER NOT NULL,
    data TEXT NOT NULL, created_at TIMESTAMP(3) NOT NULL, modified_at TIMESTAMP(3) NOT NULL)`);
  for (const [id, module, owner, created, modified, data] of seed) {
    await client.query('INSERT INTO ws_record VALUES ($1, $2, $3, $4, $5, $6)', [id, module, owner, JSON.stringify(data), created, modified]);
  }
  return {
    name: 'postgresql',
    run: async (sql) => (await client.query({ text: sql.text, values: sql.values as unknown[] })).rows,
    close: () => client.end(),
  };
}

const idNumbers = (records: VtqlRecord[]) => records.map((r) => Number(r.id!.split('x')[1]));

function expectError(run: () => unknown, expected: NonNullable<Case['error']>) {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof WsError, `a WsError, not ${String(e)}`);
    assert.equal(e.code, expected.code, e.message);
    if (expected.at !== undefined) assert.match(e.message, new RegExp(`^Syntax error at offset ${expected.at}: `));
    if (expected.message) assert.match(e.message, expected.message);
    return true;
  });
}

const pgUrl = process.env.WSGATE_TEST_PG_URL;
const backends: [Provider, () => Promise<Backend>, string | false][] = [
  ['sqlite', sqliteBackend, false],
  ['postgresql', () => postgresBackend(pgUrl!), !pgUrl && 'WSGATE_TEST_PG_URL is not set'],
];

for (const [name, open, skip] of backends) {
  describe(`vtql on ${name}`, { skip }, () => {
    let db: Backend;
    before(async () => {
      db = await open();
    });
    after(() => db.close());

    for (const [registry, how] of [
      [modules, ''],
      [indexedModules, ' (fields indexed)'],
    ] as const) {
      for (const c of cases) {
        test(`${c.q}${how}`, async () => {
          if (c.error) return expectError(() => compileQuery(c.q, registry, dialectOf(name), c.limits), c.error);
          const query = compileQuery(c.q, registry, dialectOf(name), c.limits);
          const records = toRecords(query, await db.run(query.sql));
          if (c.count !== undefined) assert.deepEqual(records, [{ count: c.count }]);
          if (c.records) assert.deepEqual(records, c.records);
          if (c.ids) assert.deepEqual(idNumbers(records), c.ids);
        });
      }
    }

    test('select * answers the fields in store.ts order: module fields, owner, times, id', async () => {
      const query = compileQuery(`${C} where id = 2;`, modules, dialectOf(name));
      const [record] = toRecords(query, await db.run(query.sql));
      assert.deepEqual(Object.keys(record!), [...modules.get('Contacts')!.fields.map((f) => f.name), 'assigned_user_id', 'createdtime', 'modifiedtime', 'id']);
    });

    test('an injection attempt leaves the table as it was', async () => {
      assert.throws(() => compileQuery(`${C} where lastname = 'x'; delete from ws_record; --';`, modules, dialectOf(name)));
      const query = compileQuery('select count(*) from Contacts;', modules, dialectOf(name));
      assert.deepEqual(toRecords(query, await db.run(query.sql)), [{ count: '6' }]);
    });
  });
}

describe('vtql statements', () => {
  test('values are bound parameters, never SQL text', () => {
    const hostile = ["' or 1=1 --", "'); DROP TABLE ws_record; --", '%\'"\\', "Robert'); --"];
    for (const dialect of ['sqlite', 'postgresql'] as const) {
      for (const value of hostile) {
        const quoted = `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
        const { sql } = compileQuery(`${C} where lastname = ${quoted} or firstname like ${quoted} or status in (${quoted});`, modules, dialectOf(dialect));
        assert.ok(sql.values.includes(value), `${value} is bound`);
        for (const text of [sql.sql, sql.text]) {
          assert.ok(!text.includes('1=1') && !text.includes('DROP') && !text.includes('Robert'), text);
        }
      }
    }
  });

  test('placeholders follow the database: ? for SQLite, $n for PostgreSQL', () => {
    const q = `${C} where firstname like 'A%' and age > 3;`;
    const lite = compileQuery(q, modules, sqlite).sql;
    const post = compileQuery(q, modules, postgresql).sql;
    assert.match(lite.sql, /json_extract\(data, '\$\.firstname'\).* LIKE \? ESCAPE '\\'/);
    assert.match(post.text, /data::jsonb ->> 'firstname'.* ILIKE \$1 ESCAPE '\\'/);
    assert.match(post.text, /::numeric\) > \$2/);
    // The module is written into the statement (a partial index is used only for its own condition).
    assert.match(post.text, /WHERE module = 'Contacts' AND/);
    assert.deepEqual(lite.values, post.values);
  });

  test('and binds tighter than or; parentheses group', () => {
    const flat = parseQuery(`${C} where a = 1 or b = 2 and c = 3;`).where!;
    assert.equal(flat.kind, 'or');
    assert.deepEqual(flat.kind === 'or' && flat.items.map((i) => i.kind), ['compare', 'and']);
    const grouped = parseQuery(`${C} where (a = 1 or b = 2) and c = 3;`).where!;
    assert.deepEqual(grouped.kind === 'and' && grouped.items.map((i) => i.kind), ['or', 'compare']);
  });

  test('strings: doubled quotes and backslash escapes', () => {
    const where = parseQuery(`${C} where a in ('it''s', 'it\\'s', 'a\\\\b', 'x\\%', '');`).where!;
    assert.deepEqual(where.kind === 'in' && where.values.map((v) => v.value), ["it's", "it's", 'a\\b', 'x\\%', '']);
  });
});
