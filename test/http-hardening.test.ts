// HTTP hardening against a real gateway: JSON for every path and method, OPTIONS and CORS, aborted and
// malformed requests logged as JSON lines only, owner-only SQLite files, the server secret from a file,
// and PHP-style bracketed parameters (the PHP WSClient's cbwsOptions array) honoured end to end.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { backends, call, login, runCli, runPass, spawnCli, startGateway, testEnv, until, type Envelope, type Gateway, shown, tmpDir } from './support.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request by node:http, which (unlike fetch) sends any method. */
function request(url: string, method: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function assertEnvelope(answer: Answer, status: number, code: string): Envelope {
  assert.equal(answer.status, status, answer.text);
  assert.match(String(answer.headers['content-type']), /^application\/json/);
  const body = JSON.parse(answer.text) as Envelope;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'moreinfo', 'success']);
  assert.equal(body.success, false);
  assert.equal(body.error!.code, code);
  assert.equal(typeof body.error!.message, 'string');
  return body;
}

const ORIGIN = 'https://app.example.com';

/** The form body PHP's http_build_query makes of an array parameter (brackets percent-encoded). */
const phpForm = (params: Record<string, string | Record<string, string | number>>) =>
  Object.entries(params)
    .flatMap(([k, v]) =>
      typeof v === 'string'
        ? [`${encodeURIComponent(k)}=${encodeURIComponent(v)}`]
        : Object.entries(v).map(([i, x]) => `${encodeURIComponent(`${k}[${i}]`)}=${encodeURIComponent(String(x))}`),
    )
    .join('&');

const postForm = (url: string, body: string) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((r) => r.json() as Promise<Envelope>);

for (const backend of backends) {
  describe(`HTTP hardening on ${backend.name}`, () => {
    let gw: Gateway;
    let plain: Gateway;
    let base: string;
    let session: string;

    before(async () => {
      gw = await startGateway(backend, { WSGATE_CORS_ORIGINS: `${ORIGIN}, https://other.example.com:8443` });
      plain = await startGateway(backend);
      base = gw.url.replace(/\/webservice\.php$/, '');
      session = (await login(gw.url)).sessionName;
    });
    after(async () => {
      await gw.close();
      await plain.close();
    });

    test('other paths answer 404, other methods 405 or 501, in the envelope; HEAD runs nothing', async () => {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
        for (const p of ['/', '/nope', '/webservice.php.bak', '/api/webservice.php']) {
          assertEnvelope(await request(`${base}${p}?operation=getchallenge&username=admin`, method), 404, 'NOT_FOUND');
        }
      }
      for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE']) {
        for (const p of ['/webservice.php', '/webservice']) {
          const answer = await request(`${base}${p}`, method);
          assertEnvelope(answer, 405, 'METHOD_NOT_ALLOWED');
          assert.equal(answer.headers.allow, 'GET, POST, OPTIONS');
        }
      }
      for (const method of ['PROPFIND', 'MKCOL', 'PURGE']) {
        const answer = await request(gw.url, method);
        assertEnvelope(answer, 501, 'METHOD_NOT_ALLOWED');
        assert.equal(answer.headers.allow, 'GET, POST, OPTIONS');
      }
      const head = await request(`${gw.url}?operation=getchallenge&username=headonly`, 'HEAD');
      assert.equal(head.status, 405);
      assert.equal(head.text, '');
      assert.equal(await gw.rt.db.prisma.challenge.count({ where: { userName: 'headonly' } }), 0);
      // The endpoint itself is unchanged, with or without a trailing slash.
      const ok = JSON.parse((await request(`${base}/webservice/?operation=getchallenge&username=admin`, 'GET')).text) as Envelope;
      assert.equal(ok.success, true);
    });

    test('OPTIONS and CORS: listed origins only; without WSGATE_CORS_ORIGINS no CORS header at all', async () => {
      const preflight = (url: string, origin: string) =>
        request(url, 'OPTIONS', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, corebos-authorization' });
      const allowed = await preflight(gw.url, ORIGIN);
      assert.equal(allowed.status, 204);
      assert.equal(allowed.text, '');
      assert.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(allowed.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
      assert.equal(allowed.headers['access-control-allow-headers'], 'content-type, corebos-authorization');
      assert.match(String(allowed.headers['access-control-max-age']), /^\d+$/);
      assert.match(String(allowed.headers.vary), /Origin/);
      assert.equal(allowed.headers.allow, 'GET, POST, OPTIONS');
      assert.equal((await preflight(gw.url, 'https://other.example.com:8443')).headers['access-control-allow-origin'], 'https://other.example.com:8443');

      const refused = await preflight(gw.url, 'https://evil.example.com');
      assert.equal(refused.status, 204);
      assert.equal(refused.headers['access-control-allow-origin'], undefined);
      assert.equal(refused.headers['access-control-allow-methods'], undefined);

      // Actual answers: success, protocol error, 404, all carry the origin when listed.
      const answered = await request(`${gw.url}?operation=getchallenge&username=admin`, 'GET', { origin: ORIGIN });
      assert.equal(answered.headers['access-control-allow-origin'], ORIGIN);
      assert.match(String(answered.headers.vary), /Origin/);
      const posted = await request(
        gw.url,
        'POST',
        { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'corebos-authorization': session },
        'operation=listtypes',
      );
      assert.equal(JSON.parse(posted.text).success, true);
      assert.equal(posted.headers['access-control-allow-origin'], ORIGIN);
      assert.equal((await request(`${base}/nope`, 'GET', { origin: ORIGIN })).headers['access-control-allow-origin'], ORIGIN);
      assert.equal((await request(gw.url, 'GET', { origin: 'https://evil.example.com' })).headers['access-control-allow-origin'], undefined);

      // The doors: their own methods (DELETE of the 202 API) and headers (Bearer, Prefer), and what a script may read.
      const doorPreflight = (path: string, method: string) =>
        request(`${base}${path}`, 'OPTIONS', {
          origin: ORIGIN,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, prefer',
        });
      const cancel = await doorPreflight('/api/v1/operations/V1StGXR8_Z5jdHi6B-myT', 'DELETE');
      assert.equal(cancel.status, 204);
      assert.equal(cancel.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(cancel.headers['access-control-allow-methods'], 'POST, GET, DELETE, OPTIONS');
      assert.equal(cancel.headers['access-control-allow-headers'], 'authorization, content-type, prefer, idempotency-key, traceparent');
      assert.equal((await doorPreflight('/jobs/add', 'POST')).headers['access-control-allow-methods'], 'POST, OPTIONS');
      const read = await request(`${base}/api/v1/operations/V1StGXR8_Z5jdHi6B-myT`, 'GET', { origin: ORIGIN, authorization: `Bearer ${session}` });
      assert.equal(read.status, 404, read.text);
      assert.equal(read.headers['access-control-allow-origin'], ORIGIN);
      assert.equal(read.headers['access-control-expose-headers'], 'location, retry-after, preference-applied');
      assert.equal((await doorPreflight('/api/v1/operations/x', 'DELETE')).headers['access-control-allow-origin'], ORIGIN);
      const foreign = await request(`${base}/api/v1/operations/x`, 'OPTIONS', {
        origin: 'https://evil.example.com',
        'access-control-request-method': 'DELETE',
      });
      assert.equal(foreign.headers['access-control-allow-methods'], undefined);

      const none = await preflight(plain.url, ORIGIN);
      assert.equal(none.status, 204);
      assert.equal(none.headers.allow, 'GET, POST, OPTIONS');
      const get = await request(`${plain.url}?operation=getchallenge&username=admin`, 'GET', { origin: ORIGIN });
      for (const answer of [none, get]) {
        assert.deepEqual(
          Object.keys(answer.headers).filter((h) => h.startsWith('access-control-') || h === 'vary'),
          [],
        );
      }
    });

    test('a deferred create sent PHP-style (cbwsOptions[...], element[...]) is queued and creates the record', async () => {
      const queuedBefore = await gw.rt.db.prisma.queuedOperation.count();
      const queued = await postForm(
        gw.url,
        phpForm({
          operation: 'create',
          sessionName: session,
          elementType: 'Contacts',
          element: { lastname: 'Php-Queued', firstname: 'Wsclient' },
          cbwsOptions: { launchfromqueue: 1, queuedelay: 0 },
        }),
      );
      assert.equal(queued.success, true, JSON.stringify(queued));
      assert.match(queued.result.operationTrackingID, /^[A-Za-z0-9_-]{21}$/);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), queuedBefore + 1);
      assert.equal((await runPass(gw.rt)).run, 1);
      const done = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: queued.result.operationTrackingID });
      const envelope = JSON.parse(done.result);
      assert.equal(envelope.success, true, done.result);
      assert.equal(envelope.result.lastname, 'Php-Queued');
      assert.equal(envelope.result.firstname, 'Wsclient');

      // At once, by GET too, with the element's fields; a list parameter with [].
      const now = await postForm(
        gw.url,
        phpForm({ operation: 'create', sessionName: session, elementType: 'Contacts', element: { lastname: 'Php-Now', email: 'a+b@example.org' } }),
      );
      assert.equal(now.success, true, JSON.stringify(now));
      assert.equal(now.result.lastname, 'Php-Now');
      assert.equal(now.result.email, 'a+b@example.org');
      const got = await call(gw.url, { operation: 'retrieve', sessionName: session, id: now.result.id }, { method: 'GET' });
      assert.equal(got.result.lastname, 'Php-Now');
      const listed = (await (await fetch(`${gw.url}?operation=listtypes&sessionName=${session}&fieldTypeList%5B%5D=email`)).json()) as Envelope;
      assert.equal(listed.success, true, JSON.stringify(listed));
      assert.ok(listed.result.types.includes('Contacts'));

      // The PHP client's "no options" (nothing sent) runs at once; a bad value is refused and nothing is queued.
      const count = await gw.rt.db.prisma.queuedOperation.count();
      const bad = await postForm(
        gw.url,
        phpForm({ operation: 'create', sessionName: session, elementType: 'Contacts', element: { lastname: 'X' }, cbwsOptions: { launchfromqueue: 2 } }),
      );
      assert.equal(bad.error?.code, 'INVALID_PARAMETER');
      assert.match(bad.error!.message, /launchfromqueue/);
      const list = await postForm(gw.url, `operation=create&sessionName=${session}&elementType=Contacts&element[lastname]=X&cbwsOptions[]=1`);
      assert.equal(list.error?.code, 'INVALID_PARAMETER');
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), count);
    });

    test('bracketed parameters: prototype keys, nesting and parameter count are INVALID_PARAMETER', async () => {
      // Each body is otherwise a valid create: only the bracketed names make it fail.
      const start = `operation=create&sessionName=${session}&elementType=Contacts&element={"lastname":"Bracket-Limits"}`;
      for (const [junk, message] of [
        ['x[__proto__][polluted]=1', /"__proto__" is not allowed/],
        ['x[constructor][prototype][polluted]=1', /"constructor" is not allowed/],
        ['__proto__[polluted]=1', /"__proto__" is not allowed/],
        [`x${'[a]'.repeat(65)}=1`, /more than 64 levels/],
        [Array.from({ length: 1000 }, (_, i) => `x[f${i}]=1`).join('&'), /more than 1000 parameters/i],
      ] as const) {
        const res = await postForm(gw.url, `${start}&${junk}`);
        assert.equal(res.error?.code, 'INVALID_PARAMETER', JSON.stringify(res));
        assert.match(res.error!.message, message);
      }
      assert.equal(await gw.rt.db.prisma.record.count({ where: { data: { contains: 'Bracket-Limits' } } }), 0);
      // At the limits: served.
      const within = await postForm(gw.url, `${start}&x${'[a]'.repeat(64)}=1&${Array.from({ length: 990 }, (_, i) => `y[f${i}]=1`).join('&')}`);
      assert.equal(within.success, true, JSON.stringify(within));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      const deep = await fetch(`${gw.url}?operation=getchallenge&username[a]=1`).then((r) => r.json() as Promise<Envelope>);
      assert.equal(deep.error?.code, 'INVALID_PARAMETER', 'an object where a string is expected');
    });

    test('aborted and malformed requests: the server logs JSON lines only, no stack, no parameters', async () => {
      const env = testEnv(await backend.freshUrl(), { WSGATE_LOG_LEVEL: 'debug' });
      const server = spawnCli(['serve'], env);
      let out = '';
      server.child.stdout!.on('data', (d) => (out += d));
      const MARK = 'Param-Marker-4711';
      try {
        const url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1]);
        const { port } = new URL(url);
        /** Sends `text` on a raw connection, then ends or resets it; resolves with what came back. */
        const raw = (text: string, how: 'end' | 'reset') =>
          new Promise<string>((resolve) => {
            let got = '';
            const socket = net.connect(Number(port), '127.0.0.1', () => {
              socket.write(text, () => (how === 'reset' ? socket.resetAndDestroy() : socket.end()));
            });
            socket.on('data', (d) => (got += d));
            socket.on('error', () => undefined);
            socket.on('close', () => resolve(got));
          });
        const head = (length: number) =>
          `POST /webservice.php HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`;
        const partial = `operation=create&element={"lastname":"${MARK}"`;
        await raw(head(1000) + partial, 'end');
        await raw(head(1000) + partial, 'reset');
        await raw(`GET /webservice.php?operation=getchallenge&username=${MARK} HTTP/1.1\r\nHo`, 'reset');
        await raw(`POST /webservice.php?x=${MARK} HTTP/1.1\r\nHost: x\r\nContent-Le`, 'end');
        const garbage = await raw(`GARBAGE ${MARK}\r\n\r\n`, 'end');
        assert.match(garbage, /^HTTP\/1\.1 400 /);
        const body = JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)) as Envelope;
        assert.equal(body.error?.code, 'INVALID_PARAMETER');
        // Still serving.
        const challenge = await call(url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
        assert.equal(challenge.success, true);
        await until('the aborted requests to be logged', async () => (out.match(/client went away/g) ?? []).length >= 3);
      } finally {
        server.child.kill('SIGTERM');
      }
      const stopped = await server.done;
      assert.equal(stopped.code, 0, shown(stopped));
      assert.equal(stopped.stderr, '', `nothing on stderr\n${shown(stopped)}`);
      const lines = stopped.stdout.split('\n').filter((l) => l !== '');
      for (const line of lines) {
        let entry: { level?: number; msg?: string };
        try {
          entry = JSON.parse(line);
        } catch {
          assert.fail(`not a JSON log line: ${line}`);
        }
        assert.equal(typeof entry.level, 'number', line);
        assert.ok(!line.includes(MARK), `parameters in the log: ${line}`);
        assert.ok(!/\n\s+at /.test(line), `a stack in the log: ${line}`);
      }
      const aborts = lines.map((l) => JSON.parse(l)).filter((e) => /client went away/.test(e.msg));
      assert.ok(aborts.length >= 3, shown(stopped));
      assert.ok(
        aborts.every((e) => e.level === 20),
        'client aborts are debug lines',
      );
      assert.ok(
        lines.some((l) => /"level":40.*malformed HTTP request/.test(l)),
        'a malformed request is a warning',
      );
    });
  });
}

describe('owner-only files and the secret file', () => {
  test('the SQLite file, its -wal and -shm are 0600 whatever the umask', async () => {
    const previous = process.umask(0o022);
    let gw: Gateway | undefined;
    try {
      gw = await startGateway(backends.find((b) => b.name === 'sqlite')!);
      const s = await login(gw.url);
      const created = await call(gw.url, { operation: 'create', sessionName: s.sessionName, elementType: 'Contacts', element: '{"lastname":"Mode"}' });
      assert.equal(created.success, true);
      const file = gw.env.DATABASE_URL!.slice('file:'.length);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        assert.equal((fs.statSync(f).mode & 0o777).toString(8), '600', f);
      }
    } finally {
      await gw?.close();
      process.umask(previous);
    }
  });

  test('a SQLite file left 0644 by an older version is made 0600 at start, with its -wal and -shm', async () => {
    const first = await startGateway(backends.find((b) => b.name === 'sqlite')!);
    const url = first.env.DATABASE_URL!;
    const file = url.slice('file:'.length);
    await first.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o644);
    const reopened = await openRuntime(loadConfig(testEnv(url)));
    try {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        if (fs.existsSync(f)) assert.equal((fs.statSync(f).mode & 0o777).toString(8), '600', f);
      }
    } finally {
      await reopened.close();
    }
  });

  test('WSGATE_SECRET_FILE: the secret from a file, trimmed; unreadable, empty or beside WSGATE_SECRET refused', async () => {
    const dir = tmpDir('secret');
    const file = path.join(dir, 'secret');
    fs.writeFileSync(file, '  from-a-mounted-file-0123456789\n', { mode: 0o600 });
    const env = testEnv('file::memory:', { WSGATE_SECRET: '', WSGATE_SECRET_FILE: file });
    const config = loadConfig(env);
    assert.equal(config.secret, 'from-a-mounted-file-0123456789');
    assert.throws(() => loadConfig({ ...env, WSGATE_SECRET: 'x' }), /WSGATE_SECRET and WSGATE_SECRET_FILE are both set/);
    assert.throws(() => loadConfig({ ...env, WSGATE_SECRET_FILE: path.join(dir, 'missing') }), /WSGATE_SECRET_FILE: cannot read .*ENOENT/);
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    assert.throws(() => loadConfig({ ...env, WSGATE_SECRET_FILE: path.join(dir, 'empty') }), /is empty/);
    // `wsgate config` shows that a secret is set and where from, never the secret.
    const listed = await runCli(['config'], env);
    assert.equal(listed.code, 0, shown(listed));
    assert.match(listed.stdout, /^WSGATE_SECRET=\(set\)$/m, shown(listed));
    assert.match(listed.stdout, new RegExp(`^WSGATE_SECRET_FILE=${file}$`, 'm'), shown(listed));
    assert.ok(!listed.stdout.includes('from-a-mounted-file'), shown(listed));

    // A gateway whose secret comes from the file reads the access keys sealed with the same secret.
    const sqlite = backends.find((b) => b.name === 'sqlite')!;
    const url = await sqlite.freshUrl();
    const first = await startGateway(sqlite, { DATABASE_URL: url, WSGATE_SECRET: 'from-a-mounted-file-0123456789' });
    await first.close();
    const second = await startGateway(sqlite, { DATABASE_URL: url, WSGATE_SECRET: '', WSGATE_SECRET_FILE: file });
    try {
      assert.equal((await login(second.url)).userId, '19x1');
    } finally {
      await second.close();
    }
  });

  test('WSGATE_CORS_ORIGINS takes exact origins or *', () => {
    const env = testEnv('file::memory:');
    assert.deepEqual(loadConfig(env).corsOrigins, []);
    assert.deepEqual(loadConfig({ ...env, WSGATE_CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).corsOrigins, [
      'https://a.example',
      'http://localhost:3000',
    ]);
    assert.deepEqual(loadConfig({ ...env, WSGATE_CORS_ORIGINS: '*' }).corsOrigins, ['*']);
    for (const bad of ['https://a.example/', 'a.example', 'https://a.example/path', 'https://a.example:443']) {
      assert.throws(() => loadConfig({ ...env, WSGATE_CORS_ORIGINS: bad }), /WSGATE_CORS_ORIGINS=.*: ".*" is not an origin/, bad);
    }
  });
});
