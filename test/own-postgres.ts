// A PostgreSQL server of a test's own, to stop under a gateway and start again (never the suite's shared
// server): initdb in a temporary folder, pg_ctl as the postgres user, a free port. Needs Debian's PostgreSQL
// server binaries and root (or the postgres user).
import { after, before } from 'node:test';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { tmpDir } from './support.js';

const run = promisify(execFile);

const pgBin = (() => {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).sort((a, b) => Number(a) - Number(b));
  const bin = versions.length ? path.join(root, versions.at(-1)!, 'bin') : null;
  return bin && fs.existsSync(path.join(bin, 'pg_ctl')) ? bin : null;
})();
const isRoot = process.getuid?.() === 0;
const isPostgres = os.userInfo().username === 'postgres';
const asPostgres = (cmd: string, args: string[]): [string, string[]] => (isPostgres ? [cmd, args] : ['runuser', ['-u', 'postgres', '--', cmd, ...args]]);

/** The `skip` of a suite that uses ownPostgres(): why it cannot run here, or false. */
export const ownPostgresSkip = !pgBin || (!isRoot && !isPostgres) ? 'needs PostgreSQL server binaries and root' : false;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface OwnPostgres {
  /** Its `postgres` database, as the postgres user. */
  url(): string;
  /** pg_ctl stop -m fast: the connections are closed, the server is gone until start(). */
  stop(): Promise<unknown>;
  start(): Promise<unknown>;
}

/**
 * A server started before the calling suite's tests and stopped after them (its folder, a tmpDir(), goes when the test
 * file ends). Call it in the describe, after registering any `after` that stops a gateway
 * using it: `after` hooks run in the order they are registered.
 */
export function ownPostgres(): OwnPostgres {
  let dir: string | undefined;
  let port = 0;
  const pgCtl = (...args: string[]) => run(...asPostgres(path.join(pgBin!, 'pg_ctl'), ['-D', dir!, ...args]), { timeout: 60_000 });
  const start = () => pgCtl('-l', path.join(dir!, 'server.log'), '-w', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`, 'start');

  before(async () => {
    dir = tmpDir('own-postgres');
    fs.chmodSync(dir, 0o755);
    if (isRoot) spawnSync('chown', ['postgres', dir]);
    await run(...asPostgres(path.join(pgBin!, 'initdb'), ['-D', dir, '--auth=trust', '-U', 'postgres']), { timeout: 60_000 });
    port = await freePort();
    await start();
  });

  after(async () => {
    if (dir) await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
  });

  return { url: () => `postgresql://postgres@127.0.0.1:${port}/postgres`, stop: () => pgCtl('-m', 'fast', 'stop'), start };
}
