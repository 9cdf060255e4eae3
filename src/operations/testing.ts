// Operations that exist only when WSGATE_TEST_OPERATIONS=on: the test suite and the benchmark use them to
// hold an executor inside a running operation, to misbehave in every way a worker must survive (never
// return, exhaust memory, exit the thread, throw), and to record the order and time operations start in.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRecord, moduleOf } from '../records/store.js';
import { validateElement } from '../records/validate.js';
import { WsError } from '../errors.js';
import { callerOf, type OperationDefinition } from './types.js';

export const testOperations: OperationDefinition[] = [
  {
    name: 'wsgatetest_slowcreate',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary:
      'Testing only: create, append this process id to the file `marker`, wait until the file `release` exists, then succeed (or fail, with `fail`).',
    params: [
      { name: 'elementType', type: 'string', required: true, description: 'Module name' },
      { name: 'element', type: 'encoded', required: true, description: 'JSON object of field values' },
      { name: 'marker', type: 'string', required: true, description: 'File written once the record is created' },
      { name: 'release', type: 'string', required: true, description: 'File whose existence lets the operation finish' },
      { name: 'fail', type: 'string', required: false, description: '`1`: fail once released, rolling the record back' },
    ],
    async run(ctx, p) {
      const module = moduleOf(ctx.services.modules, p.elementType);
      const record = await createRecord(ctx.db, ctx.services.modules, module, validateElement(module, p.element), callerOf(ctx), ctx.services.clock.now());
      fs.appendFileSync(String(p.marker), `${process.pid}\n`);
      while (!fs.existsSync(String(p.release))) await sleep(20);
      if (p.fail === '1') throw new WsError('VALIDATION_FAILED', 'wsgatetest_slowcreate: failed on request');
      return record;
    },
  },
  {
    name: 'wsgatetest_throw',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary: 'Testing only: fails with an unexpected exception.',
    params: [],
    async run() {
      throw new TypeError('wsgatetest_throw: an unexpected failure');
    },
  },
  {
    name: 'wsgatetest_noop',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary: 'Testing and benchmarks only: does nothing; its result is the time it started (epoch ms) and its `tag`.',
    params: [{ name: 'tag', type: 'string', required: false, description: 'Returned as given' }],
    async run(_ctx, p) {
      return { startedAt: performance.timeOrigin + performance.now(), tag: p.tag ?? null };
    },
  },
  {
    name: 'wsgatetest_record',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary: 'Testing only: appends `tag` to the file `marker` (the order operations ran in), then waits `ms` milliseconds.',
    params: [
      { name: 'marker', type: 'string', required: true, description: 'File appended to' },
      { name: 'tag', type: 'string', required: true, description: 'Line appended' },
      { name: 'ms', type: 'string', required: false, description: 'Milliseconds to wait after appending (default 0)' },
    ],
    async run(_ctx, p) {
      fs.appendFileSync(String(p.marker), `${p.tag}\n`);
      if (p.ms) await sleep(Number(p.ms));
      return { tag: p.tag };
    },
  },
  {
    name: 'wsgatetest_misbehave',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary:
      'Testing only: appends to `marker`, then `spin` (a loop that never returns), `hang` (a promise that never settles), `allocate` (memory until the heap limit), `exit` (process.exit), or `flaky` (INTERNAL_SERVER_ERROR until `marker` has `succeedAt` lines).',
    params: [
      { name: 'how', type: 'string', required: true, description: 'spin, hang, allocate, exit or flaky' },
      { name: 'marker', type: 'string', required: true, description: 'File appended to as the operation starts' },
      { name: 'succeedAt', type: 'string', required: false, description: 'flaky: the attempt that succeeds' },
    ],
    async run(_ctx, p) {
      fs.appendFileSync(String(p.marker), `${process.pid}\n`);
      switch (p.how) {
        case 'spin':
          for (;;);
        case 'hang':
          return new Promise(() => undefined);
        case 'allocate': {
          const hoard: number[][] = [];
          for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
        }
        case 'exit':
          process.exit(3);
        case 'flaky': {
          const attempts = fs.readFileSync(String(p.marker), 'utf8').split('\n').filter(Boolean).length;
          if (attempts < Number(p.succeedAt)) throw new WsError('INTERNAL_SERVER_ERROR', `wsgatetest_misbehave: attempt ${attempts} fails`);
          return { attempts };
        }
        default:
          throw new WsError('INVALID_PARAMETER', `wsgatetest_misbehave: unknown how ${JSON.stringify(p.how)}`);
      }
    },
  },
  {
    name: 'wsgatetest_spin',
    method: 'POST',
    prelogin: false,
    queueable: false,
    isolated: true,
    summary: 'Testing only: keeps its thread busy (no await) for `ms` milliseconds, then answers how long it spun.',
    params: [{ name: 'ms', type: 'string', required: true, description: 'Milliseconds to spin' }],
    async run(_ctx, p) {
      const end = Date.now() + Number(p.ms);
      let turns = 0;
      while (Date.now() < end) turns++;
      return { spun: Number(p.ms), turns };
    },
  },
  {
    name: 'wsgatetest_slowsql',
    method: 'POST',
    prelogin: false,
    queueable: false,
    isolated: true,
    summary: 'Testing only: one statement that runs for about `seconds` (pg_sleep on PostgreSQL, a counting scan on SQLite).',
    params: [{ name: 'seconds', type: 'string', required: true, description: 'How long the statement would run' }],
    async run(ctx, p) {
      const seconds = Number(p.seconds);
      if (ctx.services.provider === 'postgresql') {
        await ctx.db.$queryRaw`SELECT pg_sleep(${seconds})::text AS slept`;
      } else {
        // About 10 million rows a second here; wsgate_live() as VTQL's scans ask it.
        await ctx.db.$queryRaw`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE wsgate_live() AND x < ${seconds * 10_000_000})
          SELECT count(*) AS n FROM c`;
      }
      return { slept: seconds };
    },
  },
];
