// The peer comparison of `npm run bench`, in one run on one PostgreSQL server with one Node 22 binary:
// wsgate, graphile-worker and pg-boss, each at concurrency 4 and 16, throughput (20,000 no-op jobs bulk-
// enqueued, then drained) and add-to-start latency (500 single adds at 200/s into an idle listener).
// Prints a markdown table with the ratios (wsgate / the faster peer) and writes the JSON lines to
// dist/bench-peers.json.
//   node bench/peers/compare.mjs --admin-url postgresql://postgres@127.0.0.1:55432/postgres [--jobs N] [--rounds R]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { node22Path, peersDir } from './common.mjs';

const { values } = parseArgs({
  options: { 'admin-url': { type: 'string' }, jobs: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '1' } },
});
if (!values['admin-url']) throw new Error('--admin-url is required');
if (!fs.existsSync(path.join(peersDir, 'node_modules', 'graphile-worker'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', peersDir], { stdio: 'inherit' });
}
const node22 = node22Path();
const systems = ['wsgate', 'graphile', 'pgboss'];
const lines = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const concurrency of [4, 16]) {
    for (const mode of ['throughput', 'latency']) {
      for (const system of systems) {
        const args = [
          path.join(peersDir, 'run.mjs'),
          '--admin-url',
          values['admin-url'],
          '--system',
          system,
          '--',
          '--mode',
          mode,
          '--concurrency',
          String(concurrency),
          '--jobs',
          values.jobs,
        ];
        const r = spawnSync(node22, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
        const last = r.stdout.trim().split('\n').at(-1) ?? '';
        let line;
        try {
          line = JSON.parse(last);
        } catch {
          line = { system, mode, concurrency, error: `exit ${r.status}: ${last.slice(0, 200)}` };
        }
        line.round = round;
        lines.push(line);
        process.stderr.write(
          `${system} ${mode} c${concurrency}: ${line.error ?? (mode === 'throughput' ? `${line.jobsPerSecond} jobs/s` : `p50 ${line.p50Ms} ms p99 ${line.p99Ms} ms`)} dup=${line.duplicates} missing=${line.missing}\n`,
        );
      }
    }
  }
}
const out = path.resolve(peersDir, '..', '..', 'dist', 'bench-peers.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ node: execFileSync(node22, ['--version'], { encoding: 'utf8' }).trim(), lines }, null, 2));

const pick = (system, mode, concurrency) =>
  lines.filter(
    (l) =>
      l.system.startsWith(system === 'graphile' ? 'graphile' : system === 'pgboss' ? 'pg-boss' : 'wsgate') &&
      l.mode === mode &&
      l.concurrency === concurrency &&
      !l.error,
  );
const median = (xs) => (xs.length ? xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : null);
const fmt = (x, d = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
// CPU per drained job (us): the runner's process (every thread) and the PostgreSQL server's processes.
const perJob = (t, key) => median(t.filter((x) => x.cpu?.[key] != null).map((x) => (x.cpu[key] * 1000) / x.jobs));
console.log('| concurrency | system | jobs/s | CPU per job, µs: runner / PostgreSQL | add-to-start p50 / p99 ms | duplicates | missing |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const c of [4, 16]) {
  const rate = {};
  for (const s of systems) {
    const t = pick(s, 'throughput', c);
    const l = pick(s, 'latency', c);
    rate[s] = median(t.map((x) => x.jobsPerSecond));
    const dup = [...t, ...l].reduce((n, x) => n + x.duplicates, 0);
    const miss = [...t, ...l].reduce((n, x) => n + x.missing, 0);
    console.log(
      `| ${c} | ${s} | ${fmt(rate[s])} | ${fmt(perJob(t, 'processMs'))} / ${fmt(perJob(t, 'postgresMs'))} | ${fmt(median(l.map((x) => x.p50Ms)), 2)} / ${fmt(median(l.map((x) => x.p99Ms)), 1)} | ${dup} | ${miss} |`,
    );
  }
  const best = Math.max(rate.graphile ?? 0, rate.pgboss ?? 0);
  console.log(`| ${c} | wsgate / faster peer | ${best ? (rate.wsgate / best).toFixed(2) : 'n/a'} | | | | |`);
}
