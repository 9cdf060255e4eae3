// The endpoint's middleware (src/http/webservice.ts and its parts) on a real gateway's dispatcher and
// database, served by createApp on an ephemeral port with a logger the test reads: one request-log line per
// call that never holds parameters or keys, and unexpected failures answered in the envelope without a stack.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createApp } from '../src/http/app.js';
import { createDispatcher, type Dispatcher } from '../src/protocol/dispatch.js';
import { backends, call, login, md5, rawCall, startGateway, type Gateway } from './support.js';

interface Served {
  url: string;
  lines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** createApp over `dispatcher`, logging at debug into `lines`. */
async function serve(dispatcher: (log: Logger) => Dispatcher): Promise<Served> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  const server = http.createServer(createApp(dispatcher(log), { bodyLimit: '1kb', log }).callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webservice.php`,
    lines,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

for (const backend of backends) {
  describe(`endpoint middleware (${backend.name})`, () => {
    let gw: Gateway;
    let served: Served;
    before(async () => {
      gw = await startGateway(backend);
      served = await serve((log) => createDispatcher(gw.rt.db, gw.rt.registry, gw.rt.services, log));
    });
    after(async () => {
      await served.close();
      await gw.close();
    });

    test('the request log writes one line per call: operation, outcome, time; never parameters or keys', async () => {
      const { sessionName } = await login(served.url);
      const challenge = await call(served.url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
      const wrongKey = md5(`${challenge.result.token}not-the-key`);
      const refused = await call(served.url, { operation: 'login', username: 'admin', accessKey: wrongKey });
      assert.equal(refused.error?.code, 'INVALID_USER_CREDENTIALS');
      const listed = await call(served.url, { operation: 'listtypes', sessionName }, { method: 'GET' });
      assert.equal(listed.success, true, JSON.stringify(listed));
      const calls = served.lines.filter((l) => l.msg === 'webservice call');
      assert.deepEqual(
        calls.map((l) => [l.operation, l.success, l.code]),
        [
          ['getchallenge', true, undefined],
          ['login', true, undefined],
          ['getchallenge', true, undefined],
          ['login', false, 'INVALID_USER_CREDENTIALS'],
          ['listtypes', true, undefined],
        ],
      );
      for (const l of calls) assert.equal(typeof l.ms, 'number');
      const text = JSON.stringify(served.lines);
      for (const secret of [sessionName, wrongKey, challenge.result.token as string]) assert.ok(!text.includes(secret), 'no session, key or token logged');
    });

    test('a refused body is answered with its status in the envelope, and logged as a failed call', async () => {
      const before = served.lines.length;
      const res = await rawCall(served.url, { operation: 'getchallenge', username: 'x'.repeat(2000) });
      assert.equal(res.status, 413);
      const body = (await res.json()) as { success: boolean; error: { code: string } };
      assert.deepEqual([body.success, body.error.code], [false, 'INVALID_PARAMETER']);
      const logged = served.lines.slice(before).filter((l) => l.msg === 'webservice call');
      assert.deepEqual(
        logged.map((l) => [l.operation, l.success, l.code]),
        [[undefined, false, 'INVALID_PARAMETER']],
      );
    });
  });
}

describe('endpoint middleware: an unexpected failure', () => {
  let served: Served;
  before(async () => {
    served = await serve(() => ({
      dispatch: async () => {
        throw new Error('boom in /srv/secret/path.ts');
      },
    }));
  });
  after(() => served.close());

  test('is a 500 in the envelope, its message and stack logged, never answered', async () => {
    const res = await rawCall(served.url, { operation: 'listtypes' });
    assert.equal(res.status, 500);
    assert.match(String(res.headers.get('content-type')), /^application\/json/);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), {
      success: false,
      error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' },
      moreinfo: null,
    });
    assert.ok(!text.includes('boom') && !text.includes('.ts'), text);
    const failed = served.lines.find((l) => l.msg === 'request failed') as { err?: { message: string; stack: string } } | undefined;
    assert.equal(failed?.err?.message, 'boom in /srv/secret/path.ts');
    assert.match(failed!.err!.stack, /boom/);
    const logged = served.lines.filter((l) => l.msg === 'webservice call');
    assert.deepEqual(
      logged.map((l) => [l.success, l.code]),
      [[false, 'INTERNAL_SERVER_ERROR']],
    );
  });
});
