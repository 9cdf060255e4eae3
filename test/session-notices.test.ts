// The PostgreSQL session cache's change mark (src/db/session-notices.ts) when its LISTEN connection dies
// without a word: its own probes go unheard, and the mark is withheld until one is heard again. The listener
// here is a stand-in driven by the test (a half-open socket cannot be made on demand); the database side of
// the notices is tested against a real PostgreSQL in session-cache.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEARD_WITHIN_MS, PROBE_EVERY_MS, sessionNotices } from '../src/db/session-notices.js';

function harness() {
  let now = 1_000_000;
  const sent: string[] = [];
  const hooks: { payload?: (p: string) => void; up?: () => void; down?: () => void } = {};
  const notices = sessionNotices(
    (_channel, onPayload, onError, _onBack, onListening) => {
      hooks.payload = onPayload;
      hooks.down = onError;
      hooks.up = onListening;
      return { stop: async () => undefined };
    },
    async (_channel, payload) => sent.push(payload),
    () => now,
  );
  return { notices, sent, hooks, advance: (ms: number) => (now += ms) };
}

test('no mark before the listener is up; a notice moves the mark; a probe heard keeps it', async () => {
  const h = harness();
  assert.equal(await h.notices.mark(), undefined);
  h.hooks.up!();
  const first = await h.notices.mark();
  assert.equal(typeof first, 'number');
  assert.equal(h.sent.length, 1, 'a probe is sent');
  h.hooks.payload!(h.sent[0]!);
  assert.equal(await h.notices.mark(), first, 'a probe does not move the mark');
  h.hooks.payload!('');
  const second = await h.notices.mark();
  assert.notEqual(second, first);
  h.advance(PROBE_EVERY_MS);
  assert.equal(await h.notices.mark(), second);
  assert.equal(h.sent.length, 2, 'the next probe');
  h.hooks.payload!(h.sent[1]!);
  h.advance(HEARD_WITHIN_MS + 1);
  assert.equal(await h.notices.mark(), second);
});

test('a probe not heard in time withholds the mark until one is heard; a loss withholds it until back', async () => {
  const h = harness();
  await h.notices.mark();
  h.hooks.up!();
  await h.notices.mark();
  h.hooks.payload!(h.sent[0]!);
  h.advance(PROBE_EVERY_MS);
  const before = await h.notices.mark();
  assert.equal(h.sent.length, 2);
  // The connection died silently: the probe is never heard.
  h.advance(HEARD_WITHIN_MS + 1);
  assert.equal(await h.notices.mark(), undefined);
  h.advance(PROBE_EVERY_MS);
  assert.equal(await h.notices.mark(), undefined);
  assert.equal(h.sent.length, 3, 'probed again');
  h.hooks.payload!(h.sent[1]!);
  assert.equal(await h.notices.mark(), undefined, 'a late answer to an older probe does not count');
  h.hooks.payload!(h.sent[2]!);
  assert.equal(await h.notices.mark(), before);
  h.hooks.down!();
  assert.equal(await h.notices.mark(), undefined);
  h.hooks.up!();
  const after = await h.notices.mark();
  assert.equal(typeof after, 'number');
  assert.notEqual(after, before, 'what was kept before the loss is not used after it');
});
