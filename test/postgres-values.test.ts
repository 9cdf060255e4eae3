// Lists of strings reach PostgreSQL as array literals made by JSON.stringify (src/db/postgres-raw.ts): each
// must read back as it was sent, and as node-postgres's own array literal reads back, whatever it holds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { postgresRaw } from '../src/db/postgres-raw.js';
import * as SQL from '../src/db/sql.js';

const url = process.env.WSGATE_TEST_PG_URL;

const lists: Record<string, unknown[]> = {
  plain: ['a', 'b c', ''],
  empty: [],
  quotes: ['"', '""', 'say "hi"', '\\', '\\\\', '\\"', 'end\\'],
  'literal syntax': ['{a,b}', '{', '}', ',', ' padded ', 'NULL', 'null', '(1,2)'],
  unicode: ['é', '日本', '😀', 'a\u2028b', '\u007f'],
  envelopes: [JSON.stringify({ success: true, result: { text: 'a "quoted" \\ line\nnext', list: [1, null] } }), JSON.stringify({ success: false })],
  'control characters': ['tab\there', 'line\nbreak', '\u0001', 'cr\r'],
  'a lone surrogate': ['\ud800x', 'x\udc00'],
  'not only strings': ['a', null, 'b'],
};

describe('lists of strings sent to PostgreSQL', { skip: url ? false : 'no PostgreSQL (WSGATE_TEST_PG_URL)' }, () => {
  let pool: pg.Pool;
  before(() => {
    pool = new pg.Pool({ connectionString: url, max: 1 });
  });
  after(() => pool?.end());

  test('read back as they were sent, and as the driver alone sends them', async () => {
    const raw = postgresRaw(pool);
    for (const [name, list] of Object.entries(lists)) {
      const [ours] = await raw.query<{ a: unknown[] }>(SQL.sql`SELECT ${list}::text[] AS a`);
      const { rows } = await pool.query('SELECT $1::text[] AS a', [list]);
      assert.deepEqual(ours!.a, rows[0].a, name);
      // The driver sends a lone surrogate as U+FFFD (UTF-8 has none).
      if (name !== 'a lone surrogate') assert.deepEqual(ours!.a, list, name);
    }
  });

  test('the ids and envelopes of a completion find each other', async () => {
    const raw = postgresRaw(pool);
    const keys = ['id-1', 'id-"2"', 'id-3'];
    const values = ['{"success":true,"result":"\\\\"}', '{"success":true,"result":"{,}"}', '{"success":true,"result":"\\"x\\""}'];
    const rows = await raw.query<{ k: string; v: string }>(
      SQL.sql`SELECT k, (${values}::text[])[array_position(${keys}::text[], k)] AS v FROM unnest(${keys}::text[]) AS k`,
    );
    assert.deepEqual(
      rows.map((r) => [r.k, r.v]),
      keys.map((k, i) => [k, values[i]]),
    );
  });
});
