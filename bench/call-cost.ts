// What HTTP adds to one synchronous call (issue 13 item 4): the same call, after login, made over HTTP
// (keep-alive, one client, sequential) and in process through the dispatcher the HTTP layer calls, in
// alternating blocks inside one run. Also the basis of the `--cpu-prof` profile in BENCHMARKS.md.
//   node dist/bench/call-cost.js [sqlite|postgresql] [calls per block, 2000] [rounds, 4] [sides: http,fetch,inprocess]
//     [operation: query (an indexed equality matching one record, as issue 13's row), retrieve or listtypes]
// Side `inserver`: in process through the dispatcher as `wsgate serve` builds it (metrics, span, call workers).
// Side `bare`: the same client against a bare Koa app in this process that answers the same envelope from
// memory: the floor of HTTP itself (client and server), which no change to wsgate's HTTP layer can go under.
// Side `barefetch`: the same bare app called with fetch, as bench/records.ts calls wsgate.
// PostgreSQL needs WSGATE_BENCH_PG_URL. WSGATE_BENCH_PROFILE=PREFIX: a CPU profile of each measured block
// (what `node --cpu-prof` writes, without start-up, warm-up and the other sides). Prints one JSON object: per side, calls/s and µs per call (median
// of the rounds), and HTTP / in process.
import fs from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Databases, type System } from './databases.js';
import { login, startGateway } from './wsgate.js';
import { createDispatcher } from '../src/protocol/dispatch.js';
import { observedDispatcher } from '../src/protocol/observe.js';

type Envelope = { success: boolean; result?: any; error?: unknown };

const system = (process.argv[2] ?? 'sqlite') as System;
const calls = Number(process.argv[3] ?? 2000);
const rounds = Number(process.argv[4] ?? 4);
const sides = (process.argv[5] ?? 'http,fetch,inprocess').split(',');
const operation = process.argv[6] ?? 'query';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dbs = new Databases(process.env.WSGATE_BENCH_PG_URL);
  const extra = process.env.WSGATE_CALL_WORKERS ? { WSGATE_CALL_WORKERS: process.env.WSGATE_CALL_WORKERS } : undefined;
  const gw = await startGateway(await dbs.fresh(system, 'callcost'), dbs.dataDir(), extra);
  try {
    const session = await login(gw.url);
    const createContact = async (element: Record<string, string>) => {
      const created = (await (
        await fetch(gw.url, {
          method: 'POST',
          body: new URLSearchParams({ operation: 'create', sessionName: session, elementType: 'Contacts', element: JSON.stringify(element) }),
        })
      ).json()) as Envelope;
      if (!created.success) throw new Error(`create failed: ${JSON.stringify(created)}`);
      return created.result.id as string;
    };
    const id = await createContact({ lastname: 'Cost', firstname: 'Call' });
    // WSGATE_BENCH_ROWS=N: the query answers N records (as bench/records.ts's answers 10), the first one created above.
    for (let more = Number(process.env.WSGATE_BENCH_ROWS ?? 1) - 1; more > 0; more--) {
      await createContact({ lastname: 'Cost', firstname: `Call${more}`, email: `call${more}@example.com` });
    }
    const params: Record<string, string> = {
      query: { operation, sessionName: session, query: "select * from Contacts where lastname = 'Cost';" },
      retrieve: { operation, sessionName: session, id },
      listtypes: { operation, sessionName: session },
    }[operation]!;
    const query = new URLSearchParams(params).toString();
    const check = (e: Envelope) => {
      const ok = e.success && (operation === 'listtypes' || (Array.isArray(e.result) ? e.result[0]?.id === id : e.result.id === id));
      if (!ok) throw new Error(`${operation} failed: ${JSON.stringify(e)}`);
    };

    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const bareAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const viaHttp = (url = gw.url, through = agent) =>
      new Promise<void>((resolve, reject) => {
        http
          .get(`${url}?${query}`, { agent: through }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (text += d));
            res.on('end', () => {
              try {
                check(JSON.parse(text));
                resolve();
              } catch (error) {
                reject(error);
              }
            });
          })
          .on('error', reject);
      });
    // fetch (undici) as bench/records.ts calls: its client costs more than node:http's.
    const viaFetch = async () => check((await (await fetch(`${gw.url}?${query}`)).json()) as Envelope);
    const dispatcher = createDispatcher(gw.rt.db, gw.rt.registry, gw.rt.services, gw.rt.log);
    const inProcess = async () => check((await dispatcher.dispatch({ params: { ...params } })).envelope);
    const answer = (await (await fetch(`${gw.url}?${query}`)).json()) as Envelope;
    const bareApp = new Koa();
    bareApp.use((ctx) => {
      ctx.body = answer;
    });
    const bare = http.createServer(bareApp.callback());
    bare.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/webservice.php`;
    // The dispatcher as `wsgate serve` builds it (src/server.ts): metrics and a span per call, call workers.
    const served = observedDispatcher(
      createDispatcher(gw.rt.db, gw.rt.registry, gw.rt.services, gw.rt.log, gw.server.calls ?? undefined, gw.rt.health),
      gw.rt.metrics,
      gw.rt.registry,
    );
    const inServer = async () => {
      const { envelope, body } = await served.dispatch({ params: { ...params } });
      check(body === undefined ? envelope : (JSON.parse(body) as Envelope));
    };
    const all: Record<string, () => Promise<void>> = {
      http: () => viaHttp(),
      fetch: viaFetch,
      inprocess: inProcess,
      inserver: inServer,
      bare: () => viaHttp(bareUrl, bareAgent),
      // fetch against the bare app: the floor of bench/records.ts's client, whatever the gateway does.
      barefetch: async () => check((await (await fetch(`${bareUrl}?${query}`)).json()) as Envelope),
    };

    const perCall: Record<string, number[]> = {};
    // CPU time of this process (client and server both) per call: steadier than wall time on a loaded machine.
    const cpuPerCall: Record<string, number[]> = {};
    for (const side of sides) for (let i = 0; i < calls / 2; i++) await all[side]!();
    // WSGATE_BENCH_PROFILE=PREFIX: a CPU profile of each measured block, PREFIX.<side>.<round>.cpuprofile.
    const profilePrefix = process.env.WSGATE_BENCH_PROFILE;
    const profiler = profilePrefix ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
    }
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        if (profiler) await profiler.post('Profiler.start');
        const started = process.hrtime.bigint();
        const cpu = process.cpuUsage();
        for (let i = 0; i < calls; i++) await all[side]!();
        (perCall[side] ??= []).push(Number(process.hrtime.bigint() - started) / 1e3 / calls);
        const used = process.cpuUsage(cpu);
        (cpuPerCall[side] ??= []).push((used.user + used.system) / calls);
        if (profiler) {
          const { profile } = await profiler.post('Profiler.stop');
          fs.writeFileSync(`${profilePrefix}.${side}.${r}.cpuprofile`, JSON.stringify(profile));
        }
      }
    }
    profiler?.disconnect();
    agent.destroy();
    bareAgent.destroy();
    bare.close();
    const out: Record<string, unknown> = { system, operation, calls, rounds, node: process.version };
    for (const side of sides)
      out[side] = {
        perSecond: Math.round(1e6 / median(perCall[side]!)),
        usPerCall: Math.round(median(perCall[side]!)),
        cpuUsPerCall: Math.round(median(cpuPerCall[side]!)),
        rounds: perCall[side]!.map(Math.round),
      };
    if (perCall.inprocess) {
      for (const side of ['http', 'fetch', 'bare', 'barefetch', 'inserver']) {
        if (perCall[side]) out[`${side}/inprocess`] = Number((median(perCall.inprocess) / median(perCall[side]!)).toFixed(3));
        if (perCall[side]) out[`${side} - inprocess (us)`] = Math.round(median(perCall[side]!) - median(perCall.inprocess));
        if (perCall[side]) out[`${side} - inprocess (cpu us)`] = Math.round(median(cpuPerCall[side]!) - median(cpuPerCall.inprocess!));
      }
    }
    console.log(JSON.stringify(out, null, 1));
  } finally {
    await gw.close();
    await dbs.cleanup();
  }
}

await main();
