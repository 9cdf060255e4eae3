// Filters on indexed fields are answered through their index, on both databases: the plans of the query
// statements name wsgate's field indexes (no scan of the module's records, in the database or in memory).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { addLiveCheck } from '../src/db/sqlite-connection.js';
import pg from 'pg';
import { backends, call, login, startGateway, type Gateway } from './support.js';
import { compileQuery } from '../src/vtql/index.js';
import { wantedIndexes } from '../src/vtql/indexes.js';
import { dialectOf, postgresql, sqlite } from '../src/db/dialect.js';
import { parseDatabaseUrl } from '../src/db/url.js';

const INDEXED = [
  "select * from Contacts where lastname = 'Plan0042';",
  "select id from Contacts where lastname like 'plan004%';",
  "select id from Contacts where lastname in ('Plan0001', 'Plan0002');",
  "select count(*) from Contacts where email = 'p42@example.com';",
  "select lastname from Contacts where lastname like 'Plan%' and firstname = 'x' order by lastname limit 10;",
];

for (const backend of backends) {
  describe(`query plans on ${backend.name}`, () => {
    let gw: Gateway;
    let plan: (text: string) => Promise<string>;
    let close: () => Promise<void>;

    before(async () => {
      gw = await startGateway(backend);
      const { sessionName } = await login(gw.url);
      const elements = Array.from({ length: 3000 }, (_, i) => ({
        elementType: 'Contacts',
        element: { lastname: `Plan${String(i).padStart(4, '0')}`, email: `p${i}@example.com` },
      }));
      // Three calls: a MassCreate takes at most WSGATE_MASS_MAX_ELEMENTS (1,000) elements.
      for (let from = 0; from < elements.length; from += 1000) {
        const res = await call(gw.url, { operation: 'MassCreate', sessionName, elements: elements.slice(from, from + 1000) });
        assert.equal(res.result.success_creates.length, 1000);
      }
      const location = parseDatabaseUrl(gw.env.DATABASE_URL!);
      if (location.provider === 'sqlite') {
        const db = new BetterSqlite3(location.file, { readonly: true });
        addLiveCheck(db, () => Number.POSITIVE_INFINITY);
        plan = async (text) => {
          const { sql } = compileQuery(text, gw.rt.services.modules, sqlite);
          const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql.sql}`).all(...sql.values.map((v) => (v instanceof Date ? v.getTime() : v))) as { detail: string }[];
          return rows.map((r) => r.detail).join('\n');
        };
        close = async () => void db.close();
      } else {
        const client = new pg.Client({ connectionString: location.url });
        await client.connect();
        await client.query('ANALYZE ws_record');
        plan = async (text) => {
          const { sql } = compileQuery(text, gw.rt.services.modules, postgresql);
          const rows = await client.query(`EXPLAIN ${sql.text}`, sql.values as unknown[]);
          return rows.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        };
        close = () => client.end();
      }
    });
    after(async () => {
      await close?.();
      await gw.close();
    });

    test('the indexes the module file asks for exist', async () => {
      const wanted = wantedIndexes(gw.rt.services.modules, dialectOf(backend.name)).map((i) => i.name);
      assert.ok(wanted.some((n) => n.startsWith('wsx_contacts_lastname_')));
      const plans = await plan("select id from Contacts where lastname = 'x';");
      assert.match(plans, /wsx_contacts_lastname_/);
    });

    for (const text of INDEXED) {
      test(`uses a field index: ${text}`, async () => {
        assert.match(await plan(text), /wsx_contacts_(lastname|email)_/);
      });
    }

    test('and gives the same rows as without it', async () => {
      const { sessionName } = await login(gw.url);
      const q = async (query: string) => (await call(gw.url, { operation: 'query', sessionName, query }, { method: 'GET' })).result;
      assert.deepEqual(
        (await q("select lastname from Contacts where lastname like 'PLAN004%' order by lastname;")).map((r: any) => r.lastname),
        Array.from({ length: 10 }, (_, i) => `Plan004${i}`),
      );
      assert.deepEqual(await q("select count(*) from Contacts where lastname = 'plan0042';"), [{ count: '0' }], 'equality stays case-sensitive');
      assert.deepEqual(await q("select count(*) from Contacts where lastname in ('Plan0001', 'plan0002', 'Plan0003');"), [{ count: '2' }]);
    });
  });
}
