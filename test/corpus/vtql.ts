// Hostile VTQL: injection attempts, other tables, malformed syntax, limits. All values are bound
// parameters, so each must be a clean QUERY_SYNTAX_ERROR (or ACCESS_DENIED/INVALID_MODULE), or a query
// that finds nothing.
import { LIMIT, QUERY, post, rawForm, union, type Case } from './types.js';

const rows = (r: any) => {
  if (!Array.isArray(r)) throw new Error('a query answers a list');
};
const noRows = (r: any) => {
  if (!Array.isArray(r) || r.length !== 0) throw new Error(`the query found ${Array.isArray(r) ? r.length : '?'} records`);
};

const Q = union(QUERY, ['ACCESS_DENIED', 'INVALID_MODULE', 'INVALID_ID_ATTRIBUTE']);

/** [what, query, answer]: `refused` = an error only; `none` = an error or no records; `any` = an error or records. */
const QUERIES: [string, string, 'refused' | 'none' | 'any'][] = [
  ['classic injection in a string', "select * from Contacts where lastname = '' OR 1=1 --';", 'refused'],
  ['injection closing the quote with a backslash', "select * from Contacts where lastname = 'x\\' or 1=1;", 'refused'],
  ['a quoted injection (a value, not SQL)', "select * from Contacts where lastname = 'x'' OR ''1''=''1';", 'none'],
  ['a second statement', 'select * from Contacts; drop table ws_record;', 'refused'],
  ['union select', 'select id from Contacts union select user_name from ws_user;', 'refused'],
  ['a subquery in order by', 'select id from Contacts order by (select 1);', 'refused'],
  ['a subquery as a value', 'select id from Contacts where lastname = (select token from ws_challenge);', 'refused'],
  ['a table instead of a module', 'select * from ws_user;', 'refused'],
  ['the Users module', 'select * from Users;', 'refused'],
  ['a field with SQL', 'select lastname||access_key_enc from Contacts;', 'refused'],
  ['a double-quoted identifier', 'select "data" from Contacts;', 'refused'],
  ['a field of the record table', 'select data from Contacts;', 'refused'],
  ['a function other than count', 'select sqlite_version() from Contacts;', 'refused'],
  ['pg_sleep', 'select id from Contacts where lastname = pg_sleep(10);', 'refused'],
  ['a comment', 'select id from Contacts /* where 1 */;', 'refused'],
  ['a # comment', 'select id from Contacts # x\n;', 'refused'],
  ['no semicolon', 'select id from Contacts', 'refused'],
  ['text after the semicolon', 'select id from Contacts; x', 'refused'],
  ['only a semicolon', ';', 'refused'],
  ['only spaces', '     ', 'refused'],
  ['an unterminated string', "select id from Contacts where lastname = 'abc;", 'refused'],
  ['a trailing backslash in a string', "select id from Contacts where lastname = 'abc\\';", 'refused'],
  ['a NUL byte inside a string', "select id from Contacts where lastname = 'a\u0000b';", 'none'],
  ['a NUL byte in the syntax', 'select id from Contacts\u0000 where lastname = 1;', 'refused'],
  ['a dangling and', "select id from Contacts where lastname = 'a' and;", 'refused'],
  ['33 nested parentheses', `select id from Contacts where ${'('.repeat(33)}lastname = 'a'${')'.repeat(33)};`, 'refused'],
  ['10,000 nested parentheses', `select id from Contacts where ${'('.repeat(10_000)}lastname = 'a'${')'.repeat(10_000)};`, 'refused'],
  ['10,000 unbalanced parentheses', `select id from Contacts where ${'('.repeat(10_000)};`, 'refused'],
  ['a negative limit', 'select id from Contacts limit -1;', 'refused'],
  ['a limit of 2^64', 'select id from Contacts limit 18446744073709551616;', 'any'],
  ['an offset of 1e308', 'select id from Contacts limit 1e308, 10;', 'refused'],
  ['a limit with three numbers', 'select id from Contacts limit 1, 2, 3;', 'refused'],
  ['a limit of text', "select id from Contacts limit 'ten';", 'refused'],
  ['an id of another module', 'select id from Contacts where id = 11x1;', 'none'],
  ['a negative id', 'select id from Contacts where id = 12x-1;', 'none'],
  ['an id of 2^63', 'select id from Contacts where id = 12x9223372036854775808;', 'none'],
  ['an id beyond 64 bits', 'select id from Contacts where id = 99999999999999999999999;', 'none'],
  ['a text in an integer comparison', "select id from Accounts where employees = 'x';", 'refused'],
  ['a bad date', "select id from Contacts where birthday = '2020-13-45';", 'none'],
  ['a bad boolean', "select id from Contacts where donotcall = 'maybe';", 'refused'],
  ['an unknown field', 'select nosuchfield from Contacts;', 'refused'],
  ['a field of a related module', 'select Accounts.accountname from Contacts;', 'refused'],
  ['group by', 'select lastname from Contacts group by lastname;', 'refused'],
  ['an unknown module', 'select * from NoSuchModule;', 'refused'],
  ['__proto__ as a module', 'select * from __proto__;', 'refused'],
  ['constructor as a field', 'select constructor from Contacts;', 'refused'],
  ['__proto__ as a field', "select id from Contacts where __proto__ = 'x';", 'refused'],
  ['10,000 selected fields', `select ${Array(10_000).fill('lastname').join(',')} from Contacts;`, 'any'],
  ['like with an escape clause', "select id from Contacts where lastname like 'a' escape '\\';", 'refused'],
  ['a 1 MB string value', `select id from Contacts where lastname = '${'q'.repeat(900_000)}';`, 'none'],
  ['in with 100,000 values', `select id from Contacts where lastname in (${Array(100_000).fill("'v'").join(',')});`, 'refused'],
];

export function vtqlCases(): Case[] {
  const raw: Case[] = [
    {
      name: 'query: a value of invalid UTF-8',
      request: (c) =>
        rawForm(
          `operation=query&sessionName=${c.admin}&query=${encodeURIComponent("select id from Contacts where lastname = '")}%ED%A0%80%FF${encodeURIComponent("';")}`,
        ),
      expect: { codes: union(Q, LIMIT), success: noRows },
    },
    {
      name: 'query: invalid UTF-8 in the syntax',
      request: (c) => rawForm(`operation=query&sessionName=${c.admin}&query=select%FF%FEid from Contacts;`),
      expect: { codes: union(Q, LIMIT) },
    },
  ];
  return raw.concat(
    QUERIES.map(([what, query, answer]) => ({
      name: `query: ${what}`,
      request: (c) => post({ operation: 'query', sessionName: c.admin, query }),
      expect: {
        codes: answer === 'refused' ? union(Q, LIMIT) : union(Q, LIMIT),
        success: answer === 'refused' ? undefined : answer === 'none' ? noRows : rows,
      },
    })),
  );
}
