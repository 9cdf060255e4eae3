// .cpuprofile files (node --cpu-prof, or bench/call-cost.ts's WSGATE_BENCH_PROFILE) as text.
//   node dist/bench/profile-summary.js [--calls N] FILE... [--minus FILE...] [--minus FILE...]
// Self time by area (node's http and streams, Koa, wsgate's layers, the database driver, GC, idle) and the
// functions with the most self time, in µs per call when --calls gives the calls the files hold (per
// group). After --minus, each group's times are subtracted from the first's: what one side spends that
// the others do not (HTTP minus the same call in process minus a bare Koa round trip, say).
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, name: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'program (native, outside JS)';
  if (
    /node_modules\/(koa|@koa|koa-compose|on-finished|statuses|type-is|mime|content-type|accepts|negotiator|http-errors|cookies|vary|delegates|fresh|encodeurl|escape-html|only|content-disposition|path-to-regexp|parseurl|ee-first)\//.test(
      url,
    )
  ) {
    return 'Koa, its router and helpers';
  }
  if (/node_modules\/(raw-body|iconv-lite|bytes)\//.test(url)) return 'body reading';
  if (/node_modules\/(@prisma|\.prisma)|db\/generated/.test(url)) return 'prisma';
  if (url.startsWith('wasm:')) return "prisma's query compiler (wasm)";
  if (/node_modules\/(better-sqlite3|pg|pg-[a-z]+)\//.test(url)) return 'database driver (JS)';
  if (/node_modules\/pino/.test(url)) return 'logging (pino)';
  if (/node_modules\/(prom-client|@opentelemetry)/.test(url)) return 'metrics and traces';
  if (/node_modules\/undici|internal\/deps\/undici/.test(url)) return 'fetch (undici, the client)';
  if (/node:(_http|http|net|stream|internal\/(http|net|stream|url|timers|async_hooks|process\/task_queues|streams|stream_base))|node:events/.test(url))
    return 'node http, net, streams, events';
  if (url.startsWith('node:')) return 'node, other';
  if (/dist\/src\/http\//.test(url)) return 'wsgate src/http';
  if (/dist\/src\/(ws|auth)\//.test(url)) return 'wsgate src/ws, src/auth';
  if (/dist\/src\/observe\//.test(url)) return 'metrics and traces';
  if (/dist\/src\//.test(url)) return 'wsgate, other (operations, VTQL, db)';
  if (/dist\/bench\//.test(url)) return 'the bench client';
  if (url === '') return 'native (SQLite statements, socket writes, ...)';
  return url.replace(/.*node_modules\//, '').split('/')[0] ?? url;
}

/** Self time (µs, per call when `calls` is given) by area and by function, over the group's files. */
function load(files: string[], calls: number) {
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const file of files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const { functionName, url, lineNumber } = byId.get(id)!;
      const us = (profile.timeDeltas[i] ?? 0) / calls;
      const a = area(url, functionName);
      areas.set(a, (areas.get(a) ?? 0) + us);
      const where = url ? ` ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
      const key = `${functionName || '(anonymous)'}${where}`;
      fns.set(key, (fns.get(key) ?? 0) + us);
    });
  }
  return { areas, fns };
}

const args = process.argv.slice(2);
let calls = 0;
const groups: string[][] = [[]];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--calls') calls = Number(args[++i]);
  else if (args[i] === '--minus') groups.push([]);
  else groups[groups.length - 1]!.push(args[i]!);
}
if (groups[0]!.length === 0) throw new Error('usage: profile-summary [--calls N] FILE... [--minus FILE...]');
const loaded = groups.map((g) => load(g, calls || 1));
const diff = (pick: 'areas' | 'fns') => {
  const out = new Map(loaded[0]![pick]);
  for (const other of loaded.slice(1)) for (const [k, v] of other[pick]) out.set(k, (out.get(k) ?? 0) - v);
  return out;
};
const unit = calls ? 'µs per call' : 'µs';
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const totals = loaded.map((l) => sum(l.areas).toFixed(0));
console.log(`sampled: ${totals.join(' - ')} = ${sum(diff('areas')).toFixed(0)} ${unit}`);
console.log('\nself time by area:');
for (const [a, us] of [...diff('areas')].sort((x, y) => y[1] - x[1])) if (Math.abs(us) >= 0.5) console.log(`  ${us.toFixed(1).padStart(8)}  ${a}`);
console.log('\nfunctions with the most self time:');
for (const [f, us] of [...diff('fns')].sort((x, y) => y[1] - x[1]).slice(0, 30)) console.log(`  ${us.toFixed(1).padStart(8)}  ${f}`);
