// Tracking IDs: the protocol's shape (21 URL-safe characters), never a leading "-", unique, ordered by the
// time they were made, byte by byte (as the primary keys compare them in C order), and random after that.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trackingId } from '../src/queue/tracking-id.js';

const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('tracking IDs', () => {
  test('21 characters of the URL-safe alphabet, starting with a digit', () => {
    for (const at of [0, Date.UTC(2026, 11, 4), Date.UTC(2099, 0, 1), Date.now()]) {
      const id = trackingId(at);
      assert.match(id, /^[A-Za-z0-9_-]{21}$/);
      assert.match(id, /^[0-9]/, `${id} (made at ${at}) must not read as a command-line option`);
    }
  });

  test('one made later sorts after one made earlier, byte by byte', () => {
    const start = Date.UTC(2020, 0, 1);
    const times = [start, start + 1, start + 63, start + 64, start + 65, start + 4095, start + 4096, start + 86_400_000];
    for (let i = 0; i < 2_000; i++) times.push(start + Math.floor(Math.random() * 80 * 365 * 86_400_000));
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      if (times[i] === times[i - 1]) continue;
      const [a, b] = [trackingId(times[i - 1]), trackingId(times[i])];
      assert.ok(bytewise(a, b) < 0, `${a} (${times[i - 1]}) sorts before ${b} (${times[i]})`);
    }
  });

  test('unique, and random after the time', () => {
    const at = Date.now();
    const ids = Array.from({ length: 100_000 }, () => trackingId(at));
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(new Set(ids.map((id) => id.slice(0, 8))).size, 1, 'made in the same millisecond: the same time characters');
    // Every character of the alphabet shows up at every random position, none far from 1/64 of the time.
    for (let position = 8; position < 21; position++) {
      const seen = new Map<string, number>();
      for (const id of ids) seen.set(id[position]!, (seen.get(id[position]!) ?? 0) + 1);
      assert.equal(seen.size, 64, `position ${position}`);
      for (const [c, n] of seen) assert.ok(n > 1_200 && n < 1_950, `position ${position}: ${c} ${n} times of 100000 (expected ~1563)`);
    }
  });
});
