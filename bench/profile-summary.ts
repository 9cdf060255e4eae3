// A .cpuprofile (node --cpu-prof) as text: the functions with the most self time, and self time by area
// (node's http and streams, Koa and its router, the protocol's code, the database driver, GC, idle).
//   node dist/bench/profile-summary.js FILE.cpuprofile [top, 30]
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: profile-summary FILE.cpuprofile [top]');
const top = Number(process.argv[3] ?? 30);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

function area(url: string, name: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return 'program (native, outside JS)';
  if (/node_modules\/(koa|@koa|koa-compose|on-finished|statuses|type-is|mime|content-type|accepts|negotiator|http-errors|cookies|vary|delegates|fresh|encodeurl|escape-html|only|content-disposition)\//.test(url)) return 'koa and its helpers';
  if (/node_modules\/(raw-body|iconv-lite|bytes)\//.test(url)) return 'body reading';
  if (/node_modules\/(@prisma|\.prisma)|db\/generated/.test(url)) return 'prisma';
  if (url.startsWith('wasm:')) return "prisma's query compiler (wasm)";
  if (/node_modules\/(better-sqlite3|pg|pg-[a-z]+)\//.test(url)) return 'database driver';
  if (/node_modules\/pino/.test(url)) return 'logging (pino)';
  if (/node_modules\/ajv/.test(url)) return 'ajv';
  if (/node_modules\/undici|internal\/deps\/undici/.test(url)) return 'fetch (undici, the client)';
  if (/node:_http|node:http|_http_|node:net|node:stream|internal\/streams|node:internal\/(http|net|stream|tcp|dns|timers|async_hooks|process\/task_queues)/.test(url)) return 'node http, net, streams';
  if (url.startsWith('node:')) return 'node, other';
  if (/dist\/src\/http\//.test(url)) return 'wsgate src/http';
  if (/dist\/src\/(ws|auth)\//.test(url)) return 'wsgate src/ws, src/auth';
  if (/dist\/src\//.test(url)) return 'wsgate, other (operations, records, db)';
  if (/dist\/bench\//.test(url)) return 'the bench client';
  if (url === '') return 'native (outside a script)';
  return url.replace(/.*node_modules\//, '').split('/')[0] ?? url;
}

const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
}
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
console.log('\nself time by area:');
for (const [a, us] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(us).padStart(6)}  ${a}`);
console.log(`\ntop ${top} functions by self time:`);
for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(us).padStart(6)}  ${f}`);
