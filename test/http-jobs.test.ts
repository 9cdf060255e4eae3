// httpRequest jobs against a real HTTP server on 127.0.0.1: __JOBID__ replaced, the answer stored, slow
// answers stopped at the timeout, 5xx retried, 4xx final, redirects followed only where allowed; and what the
// allow list refuses (loopback, private and metadata addresses, a name resolving to 127.0.0.1) refused
// before any connection, with nothing queued for what is known wrong at submit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, call, login, runPass, startGateway, type Gateway } from './support.js';
import { startReceiver, type Receiver } from './receiver.js';
import { assertMatchesSchema } from './openapi-schema.js';

const NOT_YET = 'Operation not queued or not finished yet';

for (const backend of backends) {
  describe(`httpRequest jobs on ${backend.name}`, () => {
    let server: Receiver;
    /** WSGATE_HTTP_ALLOW=127.0.0.1: the test server's address is listed. */
    let listed: Gateway;
    /** WSGATE_HTTP_ALLOW=*: any host at a public address, nothing listed. */
    let publicOnly: Gateway;
    /** No WSGATE_HTTP_ALLOW: httpRequest is off. */
    let off: Gateway;
    const sessions = new Map<Gateway, string>();
    const flaky = new Map<string, number>();

    before(async () => {
      server = await startReceiver((req, res) => {
        const path = req.url.split('?')[0]!;
        if (path === '/slow') return void setTimeout(() => res.end('late'), 5_000).unref();
        if (path === '/missing') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
        if (path === '/down') return void res.writeHead(500).end('down');
        if (path.startsWith('/flaky/')) {
          const n = (flaky.get(path) ?? 0) + 1;
          flaky.set(path, n);
          return void (n <= 2 ? res.writeHead(503).end('busy') : res.writeHead(200).end(`ok after ${n}`));
        }
        if (path === '/to-localhost') return void res.writeHead(302, { location: `http://localhost:${server.port}/hit` }).end();
        if (path === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        if (path === '/to-echo') return void res.writeHead(302, { location: '/echo?via=redirect' }).end();
        if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
        res.writeHead(200, { 'content-type': 'application/json', 'x-answer': 'yes' });
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            body: req.body,
            contentType: req.headers['content-type'] ?? null,
            token: req.headers['x-token'] ?? null,
          }),
        );
      });
      listed = await startGateway(backend, { WSGATE_HTTP_ALLOW: '127.0.0.1' });
      publicOnly = await startGateway(backend, { WSGATE_HTTP_ALLOW: '*' });
      off = await startGateway(backend);
      for (const gw of [listed, publicOnly, off]) sessions.set(gw, (await login(gw.url)).sessionName);
    });
    after(async () => {
      await Promise.all([listed, publicOnly, off].map((gw) => gw?.close()));
      await server?.close();
    });

    const submit = (gw: Gateway, params: Record<string, unknown>, cbwsOptions?: Record<string, unknown>) =>
      call(gw.url, {
        operation: 'httpRequest',
        sessionName: sessions.get(gw),
        ...params,
        ...(cbwsOptions ? { cbwsOptions: JSON.stringify(cbwsOptions) } : {}),
      });
    const queue = async (gw: Gateway, params: Record<string, unknown>) => {
      const res = await submit(gw, params);
      assert.equal(res.success, true, JSON.stringify(res));
      assertMatchesSchema('DeferredResult', res.result);
      return res.result.operationTrackingID as string;
    };
    const result = async (gw: Gateway, id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: sessions.get(gw), operationTrackingID: id });
      assert.notEqual(r.result, NOT_YET, `no result for ${id}`);
      return JSON.parse(r.result);
    };
    const status = async (gw: Gateway, id: string) =>
      (await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: sessions.get(gw), operationTrackingID: id })).result;
    const queued = (gw: Gateway) => gw.rt.db.prisma.queuedOperation.count();

    test('a call is always deferred; __JOBID__ in the URL and the body is the operationTrackingID; the answer is the result', async () => {
      const get = await queue(listed, { url: server.url('/echo/__JOBID__'), params: { job: '__JOBID__', list: [1, 2] }, headers: { 'X-Token': 't1' } });
      const post = await queue(listed, { url: server.url('/echo'), method: 'post', params: { id: '__JOBID__', n: 1 } });
      const form = await queue(listed, {
        url: server.url('/echo'),
        method: 'PUT',
        params: { id: '__JOBID__' },
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const summary = await runPass(listed.rt);
      assert.equal(summary.run, 3, JSON.stringify(summary));

      const g = await result(listed, get);
      assert.equal(g.success, true);
      assertMatchesSchema('HttpRequestJobResult', g.result);
      assert.equal(g.result.status, 200);
      assert.equal(g.result.headers['x-answer'], 'yes');
      const echoed = JSON.parse(g.result.body);
      assert.equal(echoed.method, 'GET');
      assert.equal(echoed.url, `/echo/${get}?job=${get}&list=1&list=2`);
      assert.equal(echoed.token, 't1');
      assert.equal(g.result.truncated, false);

      const p = JSON.parse((await result(listed, post)).result.body);
      assert.deepEqual([p.method, JSON.parse(p.body), p.contentType], ['POST', { id: post, n: 1 }, 'application/json']);
      const f = JSON.parse((await result(listed, form)).result.body);
      assert.deepEqual([f.method, f.body], ['PUT', `id=${form}`]);
    });

    test('a slow answer hits the timeout: a TIMEOUT attempt, in the failed store with tries 1', async () => {
      const id = await queue(listed, { url: server.url('/slow'), timeout: '0.5' });
      await runPass(listed.rt);
      const s = await status(listed, id);
      assert.equal(s.status, 'failed');
      assert.equal(s.errors[0].code, 'TIMEOUT');
      assert.match(s.errors[0].message, /within 0.5 s/);
      assert.equal(server.to('/slow').length, 1);
    });

    test('a 5xx is retried per tries; a 4xx is the final result, not retried', async () => {
      const recovers = await queue(listed, { url: server.url('/flaky/a') });
      const down = await queue(listed, { url: server.url('/down') });
      const missing = await queue(listed, { url: server.url('/missing') });
      const summary = await runPass(listed.rt, { tries: 3 });
      assert.equal(summary.retried, 4, JSON.stringify(summary));

      const r = await status(listed, recovers);
      assert.equal(r.status, 'done');
      assert.deepEqual(
        r.errors.map((e: { code: string }) => e.code),
        ['HTTP_REQUEST_FAILED', 'HTTP_REQUEST_FAILED'],
      );
      assert.match(r.errors[0].message, /answered 503/);
      assert.equal((await result(listed, recovers)).result.body, 'ok after 3');

      const d = await status(listed, down);
      assert.equal(d.status, 'failed');
      assert.equal(d.errors.length, 3);
      assert.equal((await result(listed, down)).error.code, 'HTTP_REQUEST_FAILED');

      const m = await status(listed, missing);
      assert.deepEqual([m.status, m.errors], ['done', []]);
      const answer = await result(listed, missing);
      assert.deepEqual([answer.success, answer.result.status, answer.result.body], [true, 404, 'no such thing']);
      assert.equal(server.to('/missing').length, 1);
    });

    test('a redirect is followed when its target is allowed, not when it is refused; more than 5 are refused', async () => {
      const ok = await queue(listed, { url: server.url('/to-echo') });
      const toLocalhost = await queue(listed, { url: server.url('/to-localhost') });
      const toMetadata = await queue(listed, { url: server.url('/to-metadata') });
      const loop = await queue(listed, { url: server.url('/loop') });
      await runPass(listed.rt, { tries: 3 });
      const followed = await result(listed, ok);
      assert.equal(JSON.parse(followed.result.body).url, '/echo?via=redirect');
      for (const id of [toLocalhost, toMetadata]) {
        const r = await result(listed, id);
        assert.equal(r.error.code, 'ACCESS_DENIED', JSON.stringify(r));
      }
      assert.equal(server.to('/hit').length, 0, 'the refused redirect was not followed');
      assert.equal((await result(listed, loop)).error.code, 'TOO_MANY_REDIRECTS');
      assert.equal(server.to('/loop').length, 6, 'the first request and 5 redirects');
    });

    test('without an allow entry, loopback, private, link-local and metadata addresses are refused at submit, nothing queued', async () => {
      const before = await queued(publicOnly);
      for (const url of [
        server.url('/echo'),
        'http://10.0.0.1/',
        'http://192.168.1.1/',
        'http://169.254.169.254/latest/meta-data/',
        'http://[::1]/',
        'http://[fd00:ec2::254]/',
        'http://[::ffff:127.0.0.1]/',
        'http://0.0.0.0/',
      ]) {
        const res = await submit(publicOnly, { url });
        assert.equal(res.error?.code, 'ACCESS_DENIED', `${url}: ${JSON.stringify(res)}`);
        assert.match(res.error!.message, /url/);
      }
      assert.equal(await queued(publicOnly), before);
    });

    test('a name that resolves to 127.0.0.1 is refused at the connection, before anything is sent', async () => {
      const seen = server.requests.length;
      const id = await queue(publicOnly, { url: `http://localhost:${server.port}/echo` });
      await runPass(publicOnly.rt, { tries: 3 });
      const s = await status(publicOnly, id);
      assert.deepEqual([s.status, s.errors], ['done', []], 'final, not retried');
      const r = await result(publicOnly, id);
      assert.equal(r.error.code, 'ACCESS_DENIED', JSON.stringify(r));
      assert.match(r.error.message, /localhost resolves to .*not allowed/);
      assert.equal(server.requests.length, seen, 'the server got nothing');
    });

    test('bad input: each a clear error naming the field, and nothing queued', async () => {
      const before = await queued(listed);
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{}, 'INVALID_PARAMETER', /url is required/],
        [{ url: 'http://user:pw@127.0.0.1/' }, 'INVALID_PARAMETER', /url: a user name or password/],
        [{ url: 'ftp://127.0.0.1/' }, 'INVALID_PARAMETER', /url: the scheme ftp/],
        [{ url: 'file:///etc/passwd' }, 'INVALID_PARAMETER', /url: the scheme file/],
        [{ url: 'not a url' }, 'INVALID_PARAMETER', /url is not a valid URL/],
        [{ url: 'https://example.com/' }, 'ACCESS_DENIED', /url: the host example.com is not allowed/],
        [{ url: `http://localhost:${server.port}/` }, 'ACCESS_DENIED', /url: the host localhost is not allowed/],
        [{ url: server.url('/'), method: 'CONNECT' }, 'INVALID_PARAMETER', /method must be/],
        [{ url: server.url('/'), headers: '[1]' }, 'INVALID_PARAMETER', /headers must be a JSON object/],
        [{ url: server.url('/'), headers: { Host: 'x' } }, 'INVALID_PARAMETER', /headers.Host is set by wsgate/],
        [{ url: server.url('/'), headers: { 'X-A': 'a\r\nX-B: b' } }, 'INVALID_PARAMETER', /headers.X-A must be text on one line/],
        [{ url: server.url('/'), timeout: '-1' }, 'INVALID_PARAMETER', /timeout must be seconds/],
        [{ url: server.url('/'), params: '[1]' }, 'INVALID_PARAMETER', /params of a GET request must be a JSON object/],
      ];
      for (const [params, code, message] of cases) {
        const res = await submit(listed, params);
        assert.equal(res.error?.code, code, `${JSON.stringify(params)}: ${JSON.stringify(res)}`);
        assert.match(res.error!.message, message);
      }
      assert.equal(await queued(listed), before);
    });

    test('off until configured: without WSGATE_HTTP_ALLOW every httpRequest is ACCESS_DENIED at submit', async () => {
      const res = await submit(off, { url: 'https://example.com/' });
      assert.equal(res.error?.code, 'ACCESS_DENIED');
      assert.match(res.error!.message, /WSGATE_HTTP_ALLOW is not set/);
      assert.equal(await queued(off), 0);
    });
  });
}
