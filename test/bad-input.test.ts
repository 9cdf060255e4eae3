// The bad-input suite (issue 10): every case of test/corpus, replayed against a real gateway on each
// database. For each: a JSON envelope (where a body can be had), a code among the right ones, never a server
// fault or a 5xx, nothing queued, no record created, changed or deleted, Object.prototype untouched, no
// plain-text output, and the gateway still answering getchallenge and a retrieve afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ADMIN_KEY, addTestUser, backends, call, login, startGateway, until, type Gateway } from './support.js';
import { corpus } from './corpus/index.js';
import { SERVER_FAULTS, type Answer, type Ctx, type Harness, type Req } from './corpus/types.js';

const cases = corpus();
/** A concurrent getchallenge answered slower than this while a case runs means the case stalled everyone. */
const PROBE_LIMIT_MS = 5000;
const USER = 'corpus_user';

/** One request on its own connection, bytes exactly as the case gives them. */
function send(base: string, req: Req): Promise<Answer> {
  const url = new URL(base);
  const method = req.method ?? 'POST';
  const headers: Record<string, string> = { host: url.host, connection: 'close' };
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  let body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  const chunked = headers['transfer-encoding'] === 'chunked';
  if (chunked) {
    const parts: Buffer[] = [];
    for (let i = 0; i < body.length; i += 65_536) {
      const piece = body.subarray(i, i + 65_536);
      parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    }
    if (!req.abort) parts.push(Buffer.from('0\r\n\r\n'));
    body = Buffer.concat(parts);
  } else if (!('content-length' in headers) && (req.body !== undefined || method === 'POST')) {
    headers['content-length'] = String(body.length);
  }
  const head = `${method} ${req.path ?? '/webservice.php'} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    let done = false;
    const timer = setTimeout(() => finish(new Error('no answer within 60 s')), 60_000);
    const finish = (error?: Error, answer?: Answer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer!);
    };
    const parse = (final: boolean): Answer | undefined => {
      const data = Buffer.concat(chunks);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const lines = data.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const h: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let rest = data.subarray(end + 4);
      if (method === 'HEAD' || status === 204 || status === 304) rest = Buffer.alloc(0);
      else if (h['content-length'] !== undefined) {
        if (rest.length < Number(h['content-length'])) return undefined;
        rest = rest.subarray(0, Number(h['content-length']));
      } else if (h['transfer-encoding'] === 'chunked') {
        const out: Buffer[] = [];
        let at = 0;
        for (;;) {
          const eol = rest.indexOf('\r\n', at);
          if (eol < 0) return final ? undefined : undefined;
          const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
          if (size === 0) break;
          if (rest.length < eol + 2 + size) return undefined;
          out.push(rest.subarray(eol + 2, eol + 2 + size));
          at = eol + 4 + size;
        }
        rest = Buffer.concat(out);
      } else if (!final) return undefined;
      const text = rest.toString('utf8');
      const answer: Answer = { status, contentType: h['content-type'] ?? '', text };
      try {
        answer.json = text ? JSON.parse(text) : undefined;
      } catch {
        // left undefined: the assertion says the body is not JSON
      }
      return answer;
    };
    socket.on('data', (d) => {
      chunks.push(d);
      const answer = parse(false);
      if (answer) finish(undefined, answer);
    });
    socket.on('end', () => {
      const answer = parse(true);
      if (answer) finish(undefined, answer);
      else finish(undefined, { status: 0, contentType: '', text: Buffer.concat(chunks).toString('latin1') });
    });
    socket.on('error', (error) => {
      // The server may refuse (413) and close while a large body is still being written.
      const answer = parse(true);
      if (answer) finish(undefined, answer);
      else finish(error);
    });
    socket.on('connect', () => {
      socket.write(head);
      if (req.abort) {
        socket.write(body, () => finish(undefined, { status: 0, contentType: '', text: '' }));
        return;
      }
      if (body.length) socket.write(body);
    });
  });
}

/** Collects what the process prints outside the JSON log (console, stderr) while `fn` runs. */
async function capturingOutput<T>(fn: () => Promise<T>): Promise<{ value: T; printed: string[] }> {
  const printed: string[] = [];
  const saved = { log: console.log, error: console.error, warn: console.warn, write: process.stderr.write };
  const keep = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  console.log = console.error = console.warn = keep;
  process.stderr.write = ((chunk: unknown) => (printed.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { value: await fn(), printed };
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn });
    process.stderr.write = saved.write;
  }
}

const pollutionProbe = () => {
  const o = {} as Record<string, unknown>;
  return { keys: Object.getOwnPropertyNames(Object.prototype).join(','), polluted: o.polluted, isAdmin: o.isAdmin, sessionName: o.sessionName, id: o.id };
};

for (const backend of backends) {
  describe(`bad input on ${backend.name} (${cases.length} cases)`, () => {
    let gw: Gateway;
    let ctx: Ctx;
    let harness: Harness;
    const started = Date.now();

    const sql = async <T = Record<string, unknown>>(text: string) => (await gw.rt.db.prisma.$queryRawUnsafe(text)) as T[];
    const queued = async () => Number((await sql<{ n: unknown }>('SELECT count(*) AS n FROM ws_queued_operation'))[0].n);
    /** What a refused case must leave as it was: the queue's size, and the records (count, bytes, last change). */
    const state = async () => {
      const [r] = await sql<Record<string, unknown>>(
        `SELECT (SELECT count(*) FROM ws_queued_operation) AS queued, count(*) AS n, coalesce(sum(length(data)), 0) AS bytes, max(modified_at) AS m FROM ws_record`,
      );
      return { queued: Number(r.queued), records: `${r.n}/${r.bytes}/${r.m instanceof Date ? r.m.getTime() : r.m}` };
    };
    const connections = () => new Promise<number>((resolve, reject) => gw.server.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));

    /** The gateway answers others: a getchallenge and a retrieve of a seeded record. */
    const alive = async () => {
      const challenge = await send(ctx.base, { method: 'GET', path: '/webservice.php?operation=getchallenge&username=admin' });
      assert.equal(challenge.json?.success, true, `getchallenge afterwards: ${challenge.status} ${challenge.text.slice(0, 300)}`);
      const record = await send(ctx.base, { method: 'GET', path: `/webservice.php?operation=retrieve&sessionName=${ctx.admin}&id=${ctx.ids.contact}` });
      assert.equal(record.json?.success, true, `retrieve afterwards: ${record.status} ${record.text.slice(0, 300)}`);
    };

    before(async () => {
      gw = await startGateway(backend);
      const base = new URL(gw.url).origin;
      const { accessKey } = await addTestUser(gw, USER);
      const admin = (await login(gw.url)).sessionName;
      const user = (await login(gw.url, USER, accessKey)).sessionName;
      const create = async (elementType: string, element: Record<string, unknown>) => {
        const res = await call(gw.url, { operation: 'create', sessionName: admin, elementType, element });
        assert.equal(res.success, true, JSON.stringify(res).slice(0, 300));
        return res.result.id as string;
      };
      const account = await create('Accounts', { accountname: 'Corpus account', employees: 10 });
      const contact = await create('Contacts', { lastname: 'Corpus contact', account_id: account });
      const lead = await create('Leads', { lastname: 'Corpus lead', company: 'Corpus' });
      // Finding 1's data: five records with a 65,000-character text.
      for (let i = 0; i < 5; i++) await create('Contacts', { lastname: `Long ${i}`, description: 'a'.repeat(65_000) });
      ctx = { base, admin, user, adminKey: ADMIN_KEY, userName: USER, userKey: accessKey, ids: { account, contact, lead } };
      harness = { sql, send: (req) => send(base, req) };
    });
    after(async () => {
      await gw?.close();
    });

    for (const kase of cases) {
      test(`${kase.finding ? `[finding ${kase.finding}] ` : ''}${kase.name}`, async () => {
        const before = await state();
        const proto = pollutionProbe();
        const req = await kase.request(ctx);
        const connectionsBefore = await connections();

        // The case, with a concurrent caller measuring how long it waits (finding 1).
        const run = async () => {
          let pending = true;
          const answer = send(ctx.base, req).finally(() => (pending = false));
          let slowest = 0;
          if (kase.probe) {
            while (pending) {
              const t = performance.now();
              const res = await send(ctx.base, { method: 'GET', path: '/webservice.php?operation=getchallenge&username=admin' });
              slowest = Math.max(slowest, performance.now() - t);
              assert.equal(res.json?.success, true, 'the probe getchallenge is answered');
            }
          }
          return { answer: await answer, slowest };
        };
        const {
          value: { answer, slowest },
          printed,
        } = await capturingOutput(async () => {
          const out = await run();
          // An aborted body is noticed by the server after the client is gone: wait for its side to close.
          if (req.abort) await until('the server to close the aborted connection', async () => (await connections()) <= connectionsBefore, 10_000);
          await alive();
          return out;
        });

        const what = `${answer.status} ${answer.text.slice(0, 400)}`;
        const statuses = kase.expect.status ?? [200];
        assert.ok(answer.status < 500 || statuses.includes(answer.status), `a server error: ${what}`);
        assert.ok(statuses.includes(answer.status), `HTTP status ${answer.status}, expected ${statuses.join('|')}: ${what}`);
        if (!kase.expect.noBody || answer.text) {
          assert.match(answer.contentType, /^application\/json/, `not JSON: ${answer.contentType} ${what}`);
          const env = answer.json;
          assert.ok(env && typeof env === 'object' && typeof env.success === 'boolean' && 'moreinfo' in env, `not an envelope: ${what}`);
          if (env.success) {
            assert.ok(kase.expect.success, `answered success where an error was due: ${what}`);
            kase.expect.success(env.result, ctx);
          } else {
            assert.equal(typeof env.error?.code, 'string', what);
            assert.equal(typeof env.error?.message, 'string', what);
            assert.ok(!SERVER_FAULTS.includes(env.error.code), `a server fault: ${what}`);
            const codes = kase.expect.codes;
            if (codes !== 'client') assert.ok(codes.includes(env.error.code), `code ${env.error.code}, expected ${codes.join('|')}: ${what}`);
          }
        }
        if (kase.probe) assert.ok(slowest < PROBE_LIMIT_MS, `a concurrent getchallenge waited ${Math.round(slowest)} ms while the case ran`);
        const plain = printed
          .join('')
          .split('\n')
          .filter((line) => line.trim() && !/^\s*\{.*\}\s*$/.test(line));
        assert.deepEqual(plain.slice(0, 5), [], 'the process printed plain text (not JSON log lines)');
        const now = await state();
        assert.equal(now.queued, before.queued, 'the case queued something');
        assert.equal(now.records, before.records, 'the case created, changed or deleted records');
        assert.deepEqual(pollutionProbe(), proto, 'Object.prototype changed');
        await kase.check?.(ctx, harness);
      });
    }

    test('afterwards: the gateway answers, nothing was queued, the seeded records are intact', async () => {
      await alive();
      assert.equal(await queued(), 0);
      const res = await call(gw.url, { operation: 'query', sessionName: ctx.admin, query: 'select count(*) from Contacts;' });
      assert.deepEqual(res.result, [{ count: '6' }]);
      const lead = await call(gw.url, { operation: 'retrieve', sessionName: ctx.admin, id: ctx.ids.lead });
      assert.equal(lead.result?.lastname, 'Corpus lead');
      const contact = await call(gw.url, { operation: 'retrieve', sessionName: ctx.admin, id: ctx.ids.contact });
      assert.equal(contact.result?.firstname, '', 'no case revised the contact');
      console.log(`# bad input on ${backend.name}: ${cases.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  });
}
