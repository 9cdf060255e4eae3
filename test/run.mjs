// `npm test`: the whole suite, on SQLite and on PostgreSQL. PostgreSQL comes from WSGATE_TEST_PG_URL (an
// admin URL: each test file creates its own databases there and drops them when it ends) or, when unset,
// from scripts/pg-start, which starts Debian's PostgreSQL on 127.0.0.1 in a private folder on a free port,
// stopped and deleted when the suite ends. Without PostgreSQL the suite runs on SQLite only and says so,
// except under CI, where that is a failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const env = { ...process.env };
let pgFolder;
if (!env.WSGATE_TEST_PG_URL && env.WSGATE_TEST_PG !== 'off') {
  const started = spawnSync(path.join(root, 'scripts', 'pg-start'), { encoding: 'utf8' });
  if (started.status === 0) [env.WSGATE_TEST_PG_URL, pgFolder] = started.stdout.trim().split('\n');
  else {
    const why = (started.stderr || started.error?.message || '').trim();
    if (env.CI) {
      console.error(`PostgreSQL is required under CI and could not be started: ${why}`);
      process.exit(1);
    }
    console.error(`PostgreSQL not available (${why}): running the SQLite half of the suite only.`);
  }
}
const dir = path.join(root, 'dist', 'test');
const files = fs
  .readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js') && (!process.argv[2] || f.includes(process.argv[2])))
  .map((f) => path.join(dir, f))
  .sort();
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', env, cwd: root });
if (pgFolder) spawnSync(path.join(root, 'scripts', 'pg-stop'), [pgFolder], { stdio: 'inherit' });
process.exit(run.status ?? 1);
