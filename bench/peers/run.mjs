// Runs one peer on a fresh database: creates it, runs graphile.mjs or pgboss.mjs with the Node 22
// binary, drops it, and passes the runner's JSON line through to stdout.
//   node bench/peers/run.mjs --admin-url postgres://postgres@127.0.0.1:55499/postgres \
//     --system graphile|pgboss -- --mode throughput --jobs 20000 --concurrency 4
// Everything after `--` goes to the runner as is (--url is added here). Any Node version runs this.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { node22Path, peersDir } from './common.mjs';

const scripts = { graphile: 'graphile.mjs', pgboss: 'pgboss.mjs', wsgate: 'wsgate.mjs' };

/** Creates an empty database next to adminUrl's and returns its URL and a function dropping it. */
export async function freshDatabase(adminUrl, prefix = 'peer') {
  const name = `${prefix}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  return { name, url: url.toString(), drop };
}

async function main() {
  const dash = process.argv.indexOf('--');
  const own = dash === -1 ? process.argv.slice(2) : process.argv.slice(2, dash);
  const rest = dash === -1 ? [] : process.argv.slice(dash + 1);
  const { values } = parseArgs({
    args: own,
    options: { 'admin-url': { type: 'string' }, system: { type: 'string' } },
  });
  const script = scripts[values.system];
  if (!values['admin-url'] || !script) {
    throw new Error('usage: run.mjs --admin-url URL --system graphile|pgboss|wsgate -- [runner options]');
  }
  const db = await freshDatabase(values['admin-url'], values.system);
  let code;
  try {
    code = await new Promise((resolve, reject) => {
      const child = spawn(node22Path(), [join(peersDir, script), '--url', db.url, ...rest], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(signal ? 1 : c));
    });
  } finally {
    await db.drop();
  }
  return code;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${err?.stack ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
