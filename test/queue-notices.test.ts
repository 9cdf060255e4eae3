// The coalesced wake-ups of PostgreSQL's listeners after a submit (src/db/queue-notices.ts): the first notice
// of a queue goes at once, the rest of its window as one notice with the earliest due time, and a flush sends
// what is pending. The clock is node:test's (no waiting); the notifications' delivery by PostgreSQL is tested
// in listener.test.ts.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { queueNotices, WINDOW_MS } from '../src/db/queue-notices.js';

test('one notice at once, then at most one per window per queue with the earliest due time; flush sends the rest', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const sent: [string, number][] = [];
    const n = queueNotices(async (queue, dueAtMs) => sent.push([queue, dueAtMs]));
    n.notice('default', new Date(5_000));
    n.notice('default', new Date(3_000));
    n.notice('default', new Date(4_000));
    n.notice('mail', new Date(9_000));
    assert.deepEqual(sent, [
      ['default', 5_000],
      ['mail', 9_000],
    ]);
    mock.timers.tick(WINDOW_MS);
    assert.deepEqual(sent.slice(2), [['default', 3_000]], 'the window closes with the earliest due time');
    mock.timers.tick(WINDOW_MS);
    assert.equal(sent.length, 3, 'nothing pending: nothing sent');
    n.notice('default', new Date(7_000));
    assert.deepEqual(sent.slice(3), [['default', 7_000]], 'a quiet queue is told at once again');
    n.notice('default', new Date(6_000));
    await n.flush();
    assert.deepEqual(sent.slice(4), [['default', 6_000]]);
    mock.timers.tick(WINDOW_MS * 3);
    assert.equal(sent.length, 5);
  } finally {
    mock.timers.reset();
  }
});

test('a notice that cannot be sent is dropped (the poll makes up for it), and flush still ends', async () => {
  const n = queueNotices(async () => {
    throw new Error('database away');
  });
  n.notice('default', new Date());
  await n.flush();
});
