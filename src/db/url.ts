import path from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export type DatabaseLocation = { provider: 'sqlite'; file: string } | { provider: 'postgresql'; url: string };

/** `file:PATH` (relative to the working directory) is SQLite; `postgres://` or `postgresql://` is PostgreSQL. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('file:')) {
    const file = url.slice('file:'.length).replace(/\?.*$/, '');
    if (!file) throw new Error('DATABASE_URL "file:" needs a path, e.g. file:./data/wsgate.db');
    return { provider: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { provider: 'postgresql', url };
  throw new Error('DATABASE_URL must start with file: (SQLite) or postgresql:// (PostgreSQL)');
}
