// Callbacks (cbwsOptions.callback) against a real receiver on 127.0.0.1: a signed POST of the final outcome
// that verifies with README's snippet, tries again after its backoff (the clock is moved, not waited for)
// with the same Idempotency-Key until a 2xx, leaves the result readable once, records each try for
// getQueuedOperationStatus, and never holds up other operations when the receiver is down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { packageRoot } from '../src/config.js';
import { claimDeliveries } from '../src/queue/callbacks.js';
import { backends, call, login, runPass, startGateway, until, type Gateway, tmpDir } from './support.js';
import { engineOf } from '../src/runtime.js';
import type http from 'node:http';
import { startReceiver, type Receiver } from './receiver.js';
import { assertMatchesSchema } from './openapi-schema.js';

const SECRET = 'callback-secret-for-tests';
const snippetFile = path.join(packageRoot, 'test', 'fixtures', 'verify-signature.mjs');
const { verifyWsgateSignature } = (await import(snippetFile)) as {
  verifyWsgateSignature(secret: string, header: string, rawBody: string, toleranceSeconds?: number): boolean;
};

/** A port nothing listens on: a receiver that is down. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

test("README's verification snippet is the one these tests run", () => {
  const readme = fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8');
  const snippet = fs.readFileSync(snippetFile, 'utf8').replace('export function', 'function').trim();
  assert.ok(readme.includes(snippet), 'README carries test/fixtures/verify-signature.mjs (without `export`)');
});

for (const backend of backends) {
  describe(`callbacks on ${backend.name}`, () => {
    let receiver: Receiver;
    let gw: Gateway;
    let noSecret: Gateway;
    let session: string;
    let flakyCalls = 0;
    /** Answers of /hang, held until the test lets them go. */
    const hanging: http.ServerResponse[] = [];

    before(async () => {
      receiver = await startReceiver((req, res) => {
        if (req.url === '/flaky') return void res.writeHead(++flakyCalls <= 2 ? 500 : 200).end();
        if (req.url === '/hang') return void hanging.push(res);
        res.writeHead(200).end('thanks');
      });
      gw = await startGateway(backend, { WSGATE_HTTP_ALLOW: '127.0.0.1', WSGATE_CALLBACK_SECRET: SECRET });
      noSecret = await startGateway(backend, { WSGATE_HTTP_ALLOW: '127.0.0.1' });
      session = (await login(gw.url)).sessionName;
    });
    after(async () => {
      await gw?.close();
      await noSecret?.close();
      await receiver?.close();
    });

    const create = async (lastname: string, callback?: unknown, target = gw, s = session) => {
      const res = await call(target.url, {
        operation: 'create',
        sessionName: s,
        elementType: 'Contacts',
        element: JSON.stringify({ lastname }),
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, ...(callback === undefined ? {} : { callback }) }),
      });
      return res;
    };
    const queue = async (lastname: string, callback?: unknown) => {
      const res = await create(lastname, callback);
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const status = async (id: string) => (await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: session, operationTrackingID: id })).result;
    const result = async (id: string) => (await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id })).result;
    const deliveriesTo = (p: string, id: string) => receiver.to(p).filter((r) => JSON.parse(r.body).operationTrackingID === id);

    test('the outcome is POSTed signed, with an Idempotency-Key; the snippet verifies it; the result is still read once', async () => {
      const id = await queue('Called', receiver.url('/ok'));
      await runPass(gw.rt);
      const [delivery, ...more] = deliveriesTo('/ok', id);
      assert.ok(delivery, 'delivered');
      assert.equal(more.length, 0);
      assert.equal(delivery.method, 'POST');
      assert.equal(delivery.headers['content-type'], 'application/json');
      assert.match(String(delivery.headers['idempotency-key']), /^[0-9a-f]{32}$/);
      const signature = String(delivery.headers['x-wsgate-signature']);
      assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
      assert.equal(verifyWsgateSignature(SECRET, signature, delivery.body), true);
      assert.equal(verifyWsgateSignature(SECRET, signature, delivery.body.replace('Called', 'Calked')), false, 'a changed body fails');
      assert.equal(verifyWsgateSignature('another secret', signature, delivery.body), false);

      const body = JSON.parse(delivery.body);
      assert.deepEqual(Object.keys(body), ['operationTrackingID', 'status', 'result']);
      assert.equal(body.status, 'done');
      assert.equal(body.result.success, true);
      assert.equal(body.result.result.lastname, 'Called');

      const s = await status(id);
      assertMatchesSchema('QueuedOperationStatus', s);
      assert.deepEqual(s.callback, { url: receiver.url('/ok'), method: 'POST' });
      assert.equal(s.callbackdeliveries.length, 1);
      const d = s.callbackdeliveries[0];
      assert.deepEqual(
        [d.idempotencyKey, d.outcome, d.status, d.attempts, d.tries.map((t: { httpStatus: number }) => t.httpStatus)],
        [delivery.headers['idempotency-key'], 'done', 'delivered', 1, [200]],
      );
      assert.ok(d.finishedtime);

      assert.deepEqual(JSON.parse(await result(id)), body.result, 'the stored result is the one the callback carried');
      assert.equal(await result(id), 'Operation not queued or not finished yet', 'read once');
    });

    test('a receiver answering 500 twice then 200 gets three deliveries with one Idempotency-Key, after each backoff', async () => {
      const clock = gw.rt.services.clock;
      const id = await queue('Flaky', { type: 'http', url: receiver.url('/flaky'), method: 'post' });
      /** A pass whose try fails: the next try is exactly `backoffMs` after the try, which lies within the pass. */
      const failedTry = async (deliveries: number, backoffMs: number) => {
        const start = clock.now().getTime();
        await runPass(gw.rt);
        const end = clock.now().getTime();
        assert.equal(deliveriesTo('/flaky', id).length, deliveries);
        const d = (await status(id)).callbackdeliveries[0];
        assert.deepEqual([d.status, d.attempts], ['pending', deliveries]);
        const next = Date.parse(d.nexttime);
        assert.ok(next >= start + backoffMs && next <= end + backoffMs, `the next try ${backoffMs / 1000} s after the try: ${d.nexttime}`);
        // Not before it: a pass with the clock a minute earlier (however long this machine took in
        // wall-clock time, the clock is then before the next try) sends nothing.
        clock.advance(-60_000);
        try {
          await runPass(gw.rt);
        } finally {
          clock.advance(60_000);
        }
        assert.equal(deliveriesTo('/flaky', id).length, deliveries, 'not before its backoff');
        return next;
      };
      let next = await failedTry(1, 10_000);
      clock.advance(next - clock.now().getTime() + 1_000);
      next = await failedTry(2, 20_000);
      clock.advance(next - clock.now().getTime() + 1_000);
      await runPass(gw.rt);
      const all = deliveriesTo('/flaky', id);
      assert.equal(all.length, 3);
      assert.equal(new Set(all.map((r) => r.headers['idempotency-key'])).size, 1, 'the same Idempotency-Key each time');
      for (const r of all) assert.equal(verifyWsgateSignature(SECRET, String(r.headers['x-wsgate-signature']), r.body), true);

      session = (await login(gw.url)).sessionName;
      const d = (await status(id)).callbackdeliveries[0];
      assert.deepEqual([d.status, d.attempts, d.tries.map((t: { httpStatus: number }) => t.httpStatus)], ['delivered', 3, [500, 500, 200]]);
      clock.advance(3_600_000);
      await runPass(gw.rt);
      assert.equal(deliveriesTo('/flaky', id).length, 3, 'delivered: never sent again');
      session = (await login(gw.url)).sessionName;
      assert.equal(JSON.parse(await result(id)).result.lastname, 'Flaky');
    });

    test('a dead receiver does not stop the next operations; its delivery waits for its next try', async () => {
      const dead = `http://127.0.0.1:${await deadPort()}/hook`;
      const first = await queue('ToDeadReceiver', dead);
      const second = await queue('Next', receiver.url('/ok'));
      const third = await queue('NoCallback');
      const summary = await runPass(gw.rt);
      assert.equal(summary.run, 3, JSON.stringify(summary));
      assert.equal(deliveriesTo('/ok', second).length, 1);
      const pending = await status(first);
      assertMatchesSchema('QueuedOperationStatus', pending);
      const d = pending.callbackdeliveries[0];
      assert.deepEqual([d.status, d.attempts], ['pending', 1]);
      assert.match(d.tries[0].error, /ECONNREFUSED/);
      for (const [id, name] of [
        [first, 'ToDeadReceiver'],
        [second, 'Next'],
        [third, 'NoCallback'],
      ]) {
        assert.equal(JSON.parse(await result(id!)).result.lastname, name, 'the result is kept for its caller');
      }
    });

    test('a listening executor delivers beside its operations: a receiver that never answers holds up neither operations nor other deliveries', async () => {
      const hung = await queue('Hung', receiver.url('/hang'));
      const engine = engineOf(gw.rt);
      const listening = engine.listen();
      try {
        await until('the silent receiver was called', async () => deliveriesTo('/hang', hung).length === 1);
        const next = await queue('AfterHang', receiver.url('/ok'));
        await until('the next operation ran and its callback was delivered', async () => deliveriesTo('/ok', next).length === 1);
        assert.equal(hanging.length, 1, 'the first receiver still has not answered');
        assert.equal(JSON.parse(await result(next)).result.lastname, 'AfterHang');
      } finally {
        for (const res of hanging.splice(0)) res.writeHead(503).end();
        await engine.close();
        await listening;
      }
      const d = (await status(hung)).callbackdeliveries[0];
      assert.deepEqual([d.status, d.tries[0].httpStatus], ['pending', 503]);
    });

    test('cancelled and failed outcomes are reported too', async () => {
      const cancelled = await queue('Cancelled', receiver.url('/ok'));
      const c = await call(gw.url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: cancelled });
      assert.equal(c.success, true, JSON.stringify(c));
      const failing = await call(gw.url, {
        operation: 'wsgatetest_misbehave',
        sessionName: session,
        how: 'flaky',
        marker: path.join(tmpDir('cb'), 'm'),
        succeedAt: '99',
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, callback: receiver.url('/ok') }),
      });
      const failed = failing.result.operationTrackingID as string;
      await runPass(gw.rt);
      const [cb] = deliveriesTo('/ok', cancelled);
      assert.deepEqual(JSON.parse(cb!.body), {
        operationTrackingID: cancelled,
        status: 'cancelled',
        result: JSON.parse(await result(cancelled)),
      });
      const [fb] = deliveriesTo('/ok', failed);
      const fbody = JSON.parse(fb!.body);
      assert.equal(fbody.status, 'failed');
      assert.equal(fbody.result.error.code, 'INTERNAL_SERVER_ERROR');
    });

    test('executors claim a delivery with a lease: a second claim gets nothing until the lease has run out', async () => {
      const dead = `http://127.0.0.1:${await deadPort()}/hook`;
      const id = await queue('Leased', dead);
      await runPass(gw.rt);
      const clock = gw.rt.services.clock;
      clock.advance(3_600_000);
      const mine = (await claimDeliveries(gw.rt.db, clock.now(), 60, 100)).filter((d) => d.operationTrackingID === id);
      assert.equal(mine.length, 1);
      const other = (await claimDeliveries(gw.rt.db, clock.now(), 60, 100)).filter((d) => d.operationTrackingID === id);
      assert.equal(other.length, 0, 'held by the first claim');
      clock.advance(61_000);
      const again = (await claimDeliveries(gw.rt.db, clock.now(), 60, 100)).filter((d) => d.operationTrackingID === id);
      assert.equal(again.length, 1, 'taken again once its lease ran out (its executor died)');
      assert.equal(again[0]!.id, mine[0]!.id);
      assert.equal(again[0]!.attempts, mine[0]!.attempts + 1, 'the lost try counts');
      session = (await login(gw.url)).sessionName;
    });

    test('bad callbacks are refused with the field named, and nothing is queued', async () => {
      session = (await login(gw.url)).sessionName;
      const before = await gw.rt.db.prisma.queuedOperation.count();
      const cases: [unknown, string, RegExp][] = [
        ['ftp://127.0.0.1/x', 'INVALID_PARAMETER', /callback.url: the scheme ftp/],
        ['http://u:p@127.0.0.1/x', 'INVALID_PARAMETER', /callback.url: a user name or password/],
        ['https://example.com/hook', 'ACCESS_DENIED', /callback.url: the host example.com is not allowed/],
        [{ type: 'mail', url: receiver.url('/ok') }, 'INVALID_PARAMETER', /callback.type must be http/],
        [{ type: 'http', url: receiver.url('/ok'), method: 'GET' }, 'INVALID_PARAMETER', /callback.method must be POST, PUT or PATCH/],
        [{ type: 'http' }, 'INVALID_PARAMETER', /callback.url must be a URL/],
        [42, 'INVALID_PARAMETER', /callback must be a URL/],
      ];
      for (const [callback, code, message] of cases) {
        const res = await create('Bad', callback);
        assert.equal(res.error?.code, code, `${JSON.stringify(callback)}: ${JSON.stringify(res)}`);
        assert.match(res.error!.message, message);
      }
      const sync = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: '{"lastname":"Sync"}',
        cbwsOptions: JSON.stringify({ callback: receiver.url('/ok') }),
      });
      assert.equal(sync.error?.code, 'INVALID_PARAMETER');
      assert.match(sync.error!.message, /callback is for deferred calls only/);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), before);

      const other = (await login(noSecret.url)).sessionName;
      const off = await create('NoSecret', receiver.url('/ok'), noSecret, other);
      assert.equal(off.error?.code, 'INVALID_PARAMETER');
      assert.match(off.error!.message, /callbacks are off on this server \(WSGATE_CALLBACK_SECRET is not set\)/);
      assert.equal(await noSecret.rt.db.prisma.queuedOperation.count(), 0);
    });
  });
}
