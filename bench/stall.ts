// Issue "hardening": no request stalls the gateway. While one client repeats a heavy call (a like pattern
// over long text fields, the largest MassUpdate, MassCreate + MassDelete of the largest lists), another
// calls getchallenge and retrieve one after the other; its p99 latency is compared with the same gateway
// running those operations on its event loop (WSGATE_CALL_WORKERS=0, the old way) in the same run. Also:
// sequential query throughput with and without call workers (the cost of sending a call to a thread).
import { Worker } from 'node:worker_threads';
import type { Databases, System } from './databases.js';
import { login, startGateway, type Gateway } from './wsgate.js';
import type { ClientJob, ClientResult } from './stall-client.js';

export interface StallSettings {
  seconds: number;
  /** Largest list a mass operation takes (WSGATE_MASS_MAX_ELEMENTS' default). */
  massElements: number;
}

export interface StallRow {
  metric: string;
  unit: string;
  /** With call workers. */
  wsgate: number;
  /** On the event loop. */
  baseline: number;
  /** Higher is better. */
  ratio: number;
  problems: { wsgate: string[]; baseline: string[] };
  details: { wsgate: unknown; baseline: unknown };
}

const clientUrl = new URL('./stall-client.js', import.meta.url);

function runClient(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(clientUrl, { workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function call(gw: Gateway, params: Record<string, string>) {
  const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(params) });
  const envelope = (await res.json()) as { success: boolean; result: any; error?: { code: string; message: string } };
  if (!envelope.success) throw new Error(`${params.operation} failed: ${JSON.stringify(envelope.error)}`);
  return envelope.result;
}

interface Measured {
  probe: { p50: number; p99: number; max: number; calls: number; errors: string[] };
  attackCalls: number;
  attackCodes: string[];
}

async function underAttack(gw: Gateway, _session: string, attack: string[], seconds: number, probeBodies: string[]): Promise<Measured> {
  const [probe, attacker] = await Promise.all([
    runClient({ kind: 'probe', url: gw.url, bodies: probeBodies, seconds }),
    attack.length ? runClient({ kind: 'attack', url: gw.url, bodies: attack, seconds }) : Promise.resolve({ latenciesMs: [], errors: [] }),
  ]);
  return {
    probe: {
      p50: percentile(probe.latenciesMs, 50),
      p99: percentile(probe.latenciesMs, 99),
      max: Math.max(...probe.latenciesMs),
      calls: probe.latenciesMs.length,
      errors: [...new Set(probe.errors)],
    },
    attackCalls: attacker.latenciesMs.length,
    attackCodes: [...new Set(attacker.errors)],
  };
}

async function measureMode(system: System, dbs: Databases, s: StallSettings, callWorkers: number, log: (m: string) => void) {
  const gw = await startGateway(await dbs.fresh(system, `stall${callWorkers}`), dbs.dataDir(), {
    WSGATE_CALL_WORKERS: String(callWorkers),
  });
  try {
    const session = await login(gw.url);
    const sessionName = session;
    // Five Accounts with 65,000-character descriptions (the finding), Contacts for the mass operations.
    for (let i = 0; i < 5; i++) {
      await call(gw, {
        operation: 'create',
        sessionName,
        elementType: 'Accounts',
        element: JSON.stringify({ accountname: `Long ${i}`, description: 'a'.repeat(65_000) }),
      });
    }
    const ids: string[] = [];
    for (let i = 0; i < s.massElements; i += 500) {
      const elements = Array.from({ length: Math.min(500, s.massElements - i) }, (_, k) => ({
        elementType: 'Contacts',
        referenceId: `r${k}`,
        element: { lastname: `Mass${i + k}` },
      }));
      const created = await call(gw, { operation: 'MassCreate', sessionName, elements: JSON.stringify(elements) });
      ids.push(...created.success_creates.map((r: { id: string }) => r.id));
    }
    const target = ids[0]!;
    const probeBodies = [form({ operation: 'getchallenge', username: 'admin' }), form({ operation: 'retrieve', sessionName, id: target })];
    const pattern = `%${'a'.repeat(990)}b`;
    const attacks: Record<string, string[]> = {
      idle: [],
      'a like over 65,000-character texts': [
        form({ operation: 'query', sessionName, query: `select accountname from Accounts where description like '${pattern}';` }),
      ],
      [`MassUpdate of ${s.massElements}`]: [
        form({ operation: 'MassUpdate', sessionName, elements: JSON.stringify(ids.map((id, k) => ({ id, firstname: `U${k}` }))) }),
      ],
      [`MassCreate of ${s.massElements}`]: [
        form({
          operation: 'MassCreate',
          sessionName,
          elements: JSON.stringify(
            Array.from({ length: s.massElements }, (_, k) => ({ elementType: 'Leads', referenceId: `l${k}`, element: { lastname: `L${k}`, company: 'C' } })),
          ),
        }),
      ],
    };
    const out: Record<string, Measured> = {};
    for (const [name, list] of Object.entries(attacks)) {
      const m = await underAttack(gw, session, list, s.seconds, probeBodies);
      out[name] = m;
      log(
        `${system} ${callWorkers ? `${callWorkers} call workers` : 'event loop'}: ${name}: probe p50 ${m.probe.p50.toFixed(1)} ms, p99 ${m.probe.p99.toFixed(1)} ms, max ${m.probe.max.toFixed(0)} ms (${m.probe.calls} calls), ${m.attackCalls} attack calls ${m.attackCodes.join(',')}`,
      );
    }
    // MassDelete of the largest list: the first call deletes, the rest find nothing left to delete.
    {
      const leads = await call(gw, {
        operation: 'MassCreate',
        sessionName,
        elements: JSON.stringify(
          Array.from({ length: s.massElements }, (_, k) => ({ elementType: 'Leads', referenceId: `d${k}`, element: { lastname: `D${k}`, company: 'C' } })),
        ),
      });
      const leadIds = leads.success_creates.map((r: { id: string }) => r.id).join(',');
      const m = await underAttack(gw, session, [form({ operation: 'MassDelete', sessionName, ids: leadIds })], Math.min(3, s.seconds), probeBodies);
      out[`MassDelete of ${s.massElements}`] = m;
      log(`${system} ${callWorkers ? `${callWorkers} call workers` : 'event loop'}: MassDelete of ${s.massElements}: probe p99 ${m.probe.p99.toFixed(1)} ms`);
    }
    return { attacks: out };
  } finally {
    await gw.close();
  }
}

/**
 * Sequential `query` calls from one client, the two ways side by side: both gateways run at once over equal
 * data, and blocks of calls alternate between them, so that the machine's drift falls on both alike.
 */
async function measureQueryCalls(system: System, dbs: Databases, log: (m: string) => void) {
  const loop = await startGateway(await dbs.fresh(system, 'calls0'), dbs.dataDir(), { WSGATE_CALL_WORKERS: '0' });
  const workers = await startGateway(await dbs.fresh(system, 'calls2'), dbs.dataDir(), { WSGATE_CALL_WORKERS: '2' });
  try {
    const gateways = [loop, workers];
    const sessions: string[] = [];
    for (const gw of gateways) {
      const sessionName = await login(gw.url);
      sessions.push(sessionName);
      const elements = Array.from({ length: 1000 }, (_, k) => ({
        elementType: 'Contacts',
        referenceId: `r${k}`,
        element: { lastname: `Q${k % 100}`, firstname: `F${k}` },
      }));
      await call(gw, { operation: 'MassCreate', sessionName, elements: JSON.stringify(elements) });
    }
    // The client runs in a thread of its own, as a real client is another process: blocks of 2 s alternate.
    const bodies = (i: number) =>
      Array.from({ length: 100 }, (_, k) => form({ operation: 'query', sessionName: sessions[i]!, query: `select * from Contacts where lastname = 'Q${k}';` }));
    const block = async (side: number, seconds: number) => {
      const r = await runClient({ kind: 'probe', url: gateways[side]!.url, bodies: bodies(side), seconds });
      if (r.errors.length) throw new Error(`query failed: ${r.errors[0]}`);
      return r.latenciesMs.length;
    };
    for (const side of [0, 1]) await block(side, 1);
    const calls = [0, 0];
    const rounds = 6;
    const seconds = 2;
    for (let r = 0; r < rounds; r++) {
      // ABBA order, so that neither side always goes first.
      for (const side of r % 2 ? [1, 0] : [0, 1]) calls[side]! += await block(side, seconds);
    }
    const perSecond = calls.map((n) => n / (rounds * seconds));
    log(`${system}: sequential queries: event loop ${perSecond[0]!.toFixed(0)}/s, call workers ${perSecond[1]!.toFixed(0)}/s`);
    return { loop: perSecond[0]!, workers: perSecond[1]! };
  } finally {
    await loop.close();
    await workers.close();
  }
}

export async function measureStall(system: System, dbs: Databases, s: StallSettings, log: (m: string) => void): Promise<StallRow[]> {
  const loop = await measureMode(system, dbs, s, 0, log);
  const workers = await measureMode(system, dbs, s, 2, log);
  const calls = await measureQueryCalls(system, dbs, log);
  const rows: StallRow[] = [];
  for (const name of Object.keys(workers.attacks)) {
    const w = workers.attacks[name]!;
    const b = loop.attacks[name]!;
    rows.push({
      metric: `getchallenge/retrieve p99 during ${name} (baseline: on the event loop)`,
      unit: 'ms, ratio = baseline/wsgate',
      wsgate: w.probe.p99,
      baseline: b.probe.p99,
      ratio: b.probe.p99 / w.probe.p99,
      problems: { wsgate: w.probe.errors.map((e) => `probe error ${e}`), baseline: b.probe.errors.map((e) => `probe error ${e}`) },
      details: { wsgate: w, baseline: b },
    });
  }
  rows.push({
    metric: 'sequential query calls, interleaved (baseline: on the event loop)',
    unit: 'queries/s',
    wsgate: calls.workers,
    baseline: calls.loop,
    ratio: calls.workers / calls.loop,
    problems: { wsgate: [], baseline: [] },
    details: { wsgate: null, baseline: null },
  });
  return rows;
}
