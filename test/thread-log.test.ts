// A worker thread's log lines (src/thread-log.ts): filtered by level in the worker, passed as a message (a
// structured clone here), and written by the main thread's pino: its redaction, an error's type, message,
// stack and own properties as pino shows an error, the worker's bindings and its children's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/log.js';
import { threadLogger, writeLogLine } from '../src/thread-log.js';

test("a worker's lines are written by the main thread's logger as its own would have been", () => {
  const written: Record<string, unknown>[] = [];
  const main = createLogger('trace', { write: (s: string) => void written.push(JSON.parse(s) as Record<string, unknown>) });
  const log = threadLogger('info', (line) => writeLogLine(main, structuredClone(line)), { worker: true });

  log.debug({ operation: 'x' }, 'not at info');
  assert.equal(log.isLevelEnabled('debug'), false);
  assert.equal(log.isLevelEnabled('error'), true);
  log.info('started');
  const failure = Object.assign(new TypeError('boom', { cause: new Error('underneath') }), { code: 'E_BOOM' });
  log.child({ operation: 'greet' }).error({ err: failure, params: { password: 'p' }, sessionName: 's3cr3t' }, 'operation failed');
  log.warn(new RangeError('out of range'));

  assert.equal(written.length, 3, JSON.stringify(written));
  const [info, error, warn] = written as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  assert.deepEqual([info.level, info.worker, info.msg], [30, true, 'started']);
  assert.deepEqual([error.level, error.worker, error.operation, error.msg], [50, true, 'greet', 'operation failed']);
  assert.equal(error.params, '[hidden]');
  assert.equal(error.sessionName, '[hidden]');
  const err = error.err as Record<string, unknown>;
  assert.equal(err.type, 'TypeError');
  assert.equal(err.code, 'E_BOOM');
  assert.match(String(err.message), /^boom: underneath$/);
  assert.match(String(err.stack), /TypeError: boom\n\s+at /);
  assert.match(String(err.stack), /caused by: Error: underneath/);
  assert.equal(warn.level, 40);
  assert.deepEqual([(warn.err as Record<string, unknown>).type, (warn.err as Record<string, unknown>).message], ['RangeError', 'out of range']);
  assert.equal(threadLogger('silent', () => assert.fail('nothing at silent')).isLevelEnabled('fatal'), false);
  threadLogger('silent', () => assert.fail('nothing at silent')).fatal('x');
});
