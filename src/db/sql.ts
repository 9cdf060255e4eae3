// Statements as values: the text with placeholders and the values apart, so that no value is ever spliced
// into SQL; `sql` renders SQLite's `?` placeholders, `text` PostgreSQL's `$n`. sql-template-tag is the
// library Prisma's own `Prisma.sql` is a copy of: taking it directly keeps Prisma's runtime (~10 MB a
// thread) out of the worker threads, which run only these statements on the driver.
import sqlTag from 'sql-template-tag';

export { Sql, join, raw, empty } from 'sql-template-tag';
export const sql = sqlTag;
