// Login defences (issue 10, findings 2, 5 and 6) against a real gateway on every backend: getchallenge
// stores nothing for names that are no user, a login proof works once, failed logins wait per user name and
// per address (the clock is moved, nothing sleeps), and every failed login costs one scrypt verification.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, addTestUser, backends, call, md5, rawCall, startGateway, type Envelope, type Gateway } from './support.js';
import { scryptVerifications } from '../src/auth/secret.js';
import { LoginThrottle, THROTTLE_TABLE_SIZE } from '../src/auth/throttle.js';

const challenge = async (gw: Gateway, userName: string) => {
  // POST: a long name does not fit in a URL.
  const res = await call(gw.url, { operation: 'getchallenge', username: userName });
  assert.equal(res.success, true, JSON.stringify(res).slice(0, 300));
  return res.result as { token: string; serverTime: number; expireTime: number };
};

/** getchallenge, then login with md5(token + key). */
const tryLogin = async (gw: Gateway, userName: string, key: string): Promise<Envelope> => {
  const { token } = await challenge(gw, userName);
  return call(gw.url, { operation: 'login', username: userName, accessKey: md5(token + key) });
};

const expectCode = (res: Envelope, code: string) => {
  assert.equal(res.success, false, `expected ${code}, got ${JSON.stringify(res)}`);
  assert.equal(res.error!.code, code, JSON.stringify(res));
};

/** A failed login; returns the clock's times just before and after it: the wait it starts begins in between. */
const failure = async (gw: Gateway, userName: string, key: string): Promise<[number, number]> => {
  const clock = gw.rt.services.clock;
  const start = clock.now().getTime();
  expectCode(await tryLogin(gw, userName, key), 'INVALID_USER_CREDENTIALS');
  return [start, clock.now().getTime()];
};

/**
 * A login refused at once (TOO_MANY_LOGIN_ATTEMPTS); returns the end of the wait its message names. It is
 * tried with the clock a minute earlier, so that it falls within the wait however long this machine took
 * since the failure; the wait's end is the clock's time of the failure plus the wait, whenever it is asked.
 */
const refusedUntil = async (gw: Gateway, userName: string, key: string): Promise<number> => {
  const clock = gw.rt.services.clock;
  clock.advance(-60_000);
  let res: Envelope;
  try {
    res = await tryLogin(gw, userName, key);
  } finally {
    clock.advance(60_000);
  }
  expectCode(res, 'TOO_MANY_LOGIN_ATTEMPTS');
  const at = /retry in \d+ s \(at (\d{4}-\d\d-\d\dT[^)]+)\)/.exec(res.error!.message);
  assert.ok(at, res.error!.message);
  return Date.parse(at[1]!);
};

/** The wait ends `ms` after the failure, whose clock time lies within `failed`. */
const waitIs = (until: number, failed: [number, number], ms: number, what: string) =>
  assert.ok(
    until >= failed[0] + ms && until <= failed[1] + ms,
    `${what}: the wait ends at ${new Date(until).toISOString()}, not ${ms} ms after the failure (between ${failed.map((t) => new Date(t).toISOString()).join(' and ')})`,
  );

/** Moves the clock to `until`, the end of a wait (the wait is over then). */
const advanceTo = (gw: Gateway, until: number) => gw.rt.services.clock.advance(Math.max(0, until - gw.rt.services.clock.now().getTime()));

const challengeRows = (gw: Gateway, names: string[]) => gw.rt.db.prisma.challenge.count({ where: { userName: { in: names } } });
const sessions = (gw: Gateway) => gw.rt.db.prisma.session.count();

for (const backend of backends) {
  describe(`login defences on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend, {
        WSGATE_LOGIN_MAX_FAILURES: '2',
        WSGATE_LOGIN_MAX_FAILURES_PER_ADDRESS: '0',
        WSGATE_LOGIN_BACKOFF_MAX_SECONDS: '4',
        WSGATE_SCRYPT_CONCURRENCY: '1',
        WSGATE_SCRYPT_QUEUE: '1',
      });
    });
    after(() => gw.close());

    test('getchallenge stores nothing for 50 names that are no user, and answers tokens of the same shape', async () => {
      const names = Array.from({ length: 50 }, (_, i) => `nobody${i}`);
      const before = await gw.rt.db.prisma.challenge.count();
      const real = await challenge(gw, 'admin');
      for (const name of names) {
        const c = await challenge(gw, name);
        assert.match(c.token, /^[0-9a-f]{32}$/);
        assert.ok(c.expireTime > c.serverTime);
        assert.ok(c.expireTime - c.serverTime <= gw.rt.config.challengeTtlSeconds + 60, 'no longer-lived than a real token');
      }
      assert.match(real.token, /^[0-9a-f]{32}$/);
      assert.equal(await challengeRows(gw, names), 0);
      assert.ok((await gw.rt.db.prisma.challenge.count()) <= before + 1, 'at most the admin row');
    });

    test('a 1 MB name stores nothing, at getchallenge or login', async () => {
      const huge = 'n'.repeat(1_000_000);
      const before = await gw.rt.db.prisma.challenge.count();
      const c = await challenge(gw, huge);
      assert.match(c.token, /^[0-9a-f]{32}$/);
      const res = await call(gw.url, { operation: 'login', username: huge, accessKey: md5(c.token + ADMIN_KEY) });
      expectCode(res, 'INVALID_USER_CREDENTIALS');
      assert.equal(await gw.rt.db.prisma.challenge.count(), before);
    });

    test('an unknown name gets the same token and expireTime until it expires, then another, without a row', async () => {
      // Into a fresh period first: a name's token changes a minute before its expireTime (its period has a
      // phase of its own), and that moment must not fall within the 30 s the clock is moved below.
      const current = await challenge(gw, 'ghost');
      gw.rt.services.clock.advance((current.expireTime - current.serverTime - 59) * 1000);
      const first = await challenge(gw, 'ghost');
      assert.notEqual(first.token, current.token, "the next period's token, within the last minute of the period");
      assert.ok(first.expireTime > current.expireTime);
      gw.rt.services.clock.advance(30_000);
      const again = await challenge(gw, 'ghost');
      assert.equal(again.token, first.token);
      assert.equal(again.expireTime, first.expireTime);
      assert.notEqual((await challenge(gw, 'ghost2')).token, first.token, 'the token depends on the name');
      gw.rt.services.clock.advance((first.expireTime - again.serverTime + 1) * 1000);
      const later = await challenge(gw, 'ghost');
      assert.notEqual(later.token, first.token);
      assert.ok(later.expireTime > first.expireTime);
      assert.equal(await challengeRows(gw, ['ghost', 'ghost2']), 0);
    });

    test('a login proof logs in once: replayed, it is INVALID_USER_CREDENTIALS', async () => {
      const user = await addTestUser(gw, 'rita');
      const { token } = await challenge(gw, 'rita');
      const proof = md5(token + user.accessKey);
      const first = await call(gw.url, { operation: 'login', username: 'rita', accessKey: proof });
      assert.equal(first.success, true, JSON.stringify(first));
      expectCode(await call(gw.url, { operation: 'login', username: 'rita', accessKey: proof }), 'INVALID_USER_CREDENTIALS');
      const next = await tryLogin(gw, 'rita', user.accessKey);
      assert.equal(next.success, true, 'a new getchallenge gives a new token');
      assert.notEqual(next.result.sessionName, first.result.sessionName);
    });

    test('two concurrent logins with one proof open one session', async () => {
      const user = await addTestUser(gw, 'connie');
      const { token } = await challenge(gw, 'connie');
      const proof = md5(token + user.accessKey);
      const before = await sessions(gw);
      const answers = await Promise.all(Array.from({ length: 5 }, () => call(gw.url, { operation: 'login', username: 'connie', accessKey: proof })));
      assert.equal(answers.filter((a) => a.success).length, 1, JSON.stringify(answers));
      // The losers: a used-up token; those that came after the winner also wait for a password check, of
      // which this gateway runs one at a time with one waiting.
      for (const a of answers.filter((x) => !x.success)) assert.match(a.error!.code, /^(INVALID_USER_CREDENTIALS|TOO_MANY_LOGIN_ATTEMPTS)$/);
      assert.equal(await sessions(gw), before + 1);
    });

    test('failed logins make the next attempts for that user name wait, doubling up to the cap', async () => {
      const dave = await addTestUser(gw, 'dave');
      const erin = await addTestUser(gw, 'erin');
      await failure(gw, 'dave', 'wrong-key');
      let failed = await failure(gw, 'dave', 'wrong-key'); // the second failure: 1 s
      let until = await refusedUntil(gw, 'dave', dave.accessKey);
      waitIs(until, failed, 1000, 'the second failure');
      assert.equal((await tryLogin(gw, 'erin', erin.accessKey)).success, true, 'other user names are not slowed');

      advanceTo(gw, until);
      failed = await failure(gw, 'dave', 'wrong-key'); // third failure: 2 s
      until = await refusedUntil(gw, 'dave', dave.accessKey);
      waitIs(until, failed, 2000, 'the wait doubled');
      advanceTo(gw, until);
      failed = await failure(gw, 'dave', 'wrong-key'); // fourth: 4 s, the cap
      until = await refusedUntil(gw, 'dave', 'wrong-key');
      waitIs(until, failed, 4000, 'the wait doubled again');
      advanceTo(gw, until);
      failed = await failure(gw, 'dave', 'wrong-key'); // fifth: still 4 s
      until = await refusedUntil(gw, 'dave', dave.accessKey);
      waitIs(until, failed, 4000, 'capped at 4 s');
      advanceTo(gw, until);
      const ok = await tryLogin(gw, 'dave', dave.accessKey);
      assert.equal(ok.success, true, `the wait ends: ${JSON.stringify(ok)}`);
    });

    test("a refused attempt runs no scrypt; a success clears the user name's failures", async () => {
      const sam = await addTestUser(gw, 'sam');
      expectCode(await tryLogin(gw, 'sam', 'wrong-key'), 'INVALID_USER_CREDENTIALS');
      assert.equal((await tryLogin(gw, 'sam', sam.accessKey)).success, true);
      expectCode(await tryLogin(gw, 'sam', 'wrong-key'), 'INVALID_USER_CREDENTIALS');
      assert.equal((await tryLogin(gw, 'sam', sam.accessKey)).success, true, 'one failure since the success: no wait');
      expectCode(await tryLogin(gw, 'sam', 'wrong-key'), 'INVALID_USER_CREDENTIALS');
      const failed = await failure(gw, 'sam', 'wrong-key');
      const before = scryptVerifications();
      const until = await refusedUntil(gw, 'sam', 'wrong-key');
      assert.equal(scryptVerifications(), before, 'refused before any work');
      waitIs(until, failed, 1000, 'two failures in a row');
      advanceTo(gw, until);
      assert.equal((await tryLogin(gw, 'sam', sam.accessKey)).success, true);
    });

    test('every failed login runs one scrypt verification: unknown name, wrong key, wrong password, no token', async () => {
      await addTestUser(gw, 'kim');
      await addTestUser(gw, 'pat', 'correct horse');
      const cost = async (attempt: () => Promise<Envelope>) => {
        const before = scryptVerifications();
        expectCode(await attempt(), 'INVALID_USER_CREDENTIALS');
        return scryptVerifications() - before;
      };
      const costs = {
        unknownName: await cost(() => tryLogin(gw, 'nosuchuser', 'any-key')),
        wrongKey: await cost(() => tryLogin(gw, 'kim', 'wrong-key')),
        wrongKeyOfPasswordUser: await cost(() => tryLogin(gw, 'pat', 'wrong-key')),
        wrongPassword: await cost(async () => {
          const { token } = await challenge(gw, 'pat');
          return call(gw.url, { operation: 'login', username: 'pat', accessKey: `${token}wrong horse` });
        }),
        unknownNamePasswordForm: await cost(async () => {
          const { token } = await challenge(gw, 'nosuchuser2');
          return call(gw.url, { operation: 'login', username: 'nosuchuser2', accessKey: `${token}wrong horse` });
        }),
        noToken: await cost(() => call(gw.url, { operation: 'login', username: 'nosuchuser3', accessKey: md5(ADMIN_KEY) })),
      };
      assert.deepEqual(costs, {
        unknownName: 1,
        wrongKey: 1,
        wrongKeyOfPasswordUser: 1,
        wrongPassword: 1,
        unknownNamePasswordForm: 1,
        noToken: 1,
      });
      gw.rt.services.clock.advance(1000); // pat failed twice: a wait of 1 s
      const { token } = await challenge(gw, 'pat');
      const before = scryptVerifications();
      const ok = await call(gw.url, { operation: 'login', username: 'pat', accessKey: `${token}correct horse` });
      assert.equal(ok.success, true, JSON.stringify(ok));
      assert.equal(scryptVerifications() - before, 1, 'a password login: one verification');
    });

    test('password checks run one at a time here; beyond the queue of one, logins are refused at once', async () => {
      const before = scryptVerifications();
      const answers = await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          const { token } = await challenge(gw, `flood${i}`);
          return call(gw.url, { operation: 'login', username: `flood${i}`, accessKey: `${token}guess` });
        }),
      );
      const codes = answers.map((a) => a.error?.code);
      const refused = codes.filter((c) => c === 'TOO_MANY_LOGIN_ATTEMPTS').length;
      assert.ok(refused >= 1, JSON.stringify(codes));
      assert.equal(refused + codes.filter((c) => c === 'INVALID_USER_CREDENTIALS').length, 6, JSON.stringify(codes));
      assert.equal(scryptVerifications() - before, 6 - refused, 'a refused login ran no scrypt');
      const message = answers.find((a) => a.error?.code === 'TOO_MANY_LOGIN_ATTEMPTS')!.error!.message;
      assert.match(message, /at once/);
    });
  });

  describe(`failed logins per address on ${backend.name}`, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway(backend, { WSGATE_LOGIN_MAX_FAILURES: '100', WSGATE_LOGIN_MAX_FAILURES_PER_ADDRESS: '3' });
    });
    after(() => gw.close());

    test('failures from one address under any names make that address wait; a success does not clear it', async () => {
      await failure(gw, 'x1', 'guess');
      await failure(gw, 'x2', 'guess');
      let failed = await failure(gw, 'x3', 'guess');
      let until = await refusedUntil(gw, 'admin', ADMIN_KEY);
      waitIs(until, failed, 1000, "the address's third failure");
      advanceTo(gw, until);
      assert.equal((await tryLogin(gw, 'admin', ADMIN_KEY)).success, true);
      failed = await failure(gw, 'x4', 'guess');
      until = await refusedUntil(gw, 'admin', ADMIN_KEY);
      waitIs(until, failed, 2000, "the address's fourth failure: 2 s, despite the success between");
      const res = await rawCall(gw.url, { operation: 'login', username: 'admin', accessKey: 'x' });
      assert.equal(res.status, 200, 'a protocol error, not an HTTP one');
    });
  });
}

test('the failure tables stay bounded when names and addresses rotate', () => {
  const throttle = new LoginThrottle({ maxFailuresPerUser: 5, maxFailuresPerAddress: 20, backoffMaxSeconds: 300 });
  const now = new Date();
  for (let i = 0; i < THROTTLE_TABLE_SIZE * 2; i++) throttle.failed(`name${i}`, `10.0.${i >> 8}.${i & 255}`, now);
  assert.deepEqual(throttle.tracked, { users: THROTTLE_TABLE_SIZE, addresses: THROTTLE_TABLE_SIZE });
  // The newest entries are kept: the last name still counts its failures.
  for (let i = 0; i < 4; i++) throttle.failed('target', undefined, now);
  throttle.failed('target', undefined, now);
  assert.throws(() => throttle.check('target', undefined, now), /retry in 1 s/);
});

test('concurrent attempts count as failures while they are checked: no more guesses at once than the threshold allows', () => {
  const throttle = new LoginThrottle({ maxFailuresPerUser: 2, maxFailuresPerAddress: 0, backoffMaxSeconds: 300 });
  const now = new Date();
  throttle.check('target', undefined, now);
  throttle.check('target', undefined, now);
  assert.throws(() => throttle.check('target', undefined, now), /TOO_MANY|retry in/);
  // Both fail: the name now waits, as two failures in a row make it.
  for (let i = 0; i < 2; i++) {
    throttle.failed('target', undefined, now);
    throttle.done('target', undefined);
  }
  assert.throws(() => throttle.check('target', undefined, now), /retry in 1 s/);
  // Past the wait, one attempt at a time: a second is refused while the first is checked.
  const later = new Date(now.getTime() + 1_500);
  throttle.check('target', undefined, later);
  assert.throws(() => throttle.check('target', undefined, later), /retry in/);
  throttle.succeeded('target');
  throttle.done('target', undefined);
  throttle.check('target', undefined, later);
  throttle.done('target', undefined);
});
