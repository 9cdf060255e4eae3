// Quotas on deferred submits (entries, bytes, queuedelay, priority ceiling), per-user overrides, their
// hold under concurrent submits to two gateways, and the operator controls of the CLI (user disable,
// enable, key --rotate, quota, purge --user), run as the real binary against the gateway's database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.js';
import { createLogger, openRuntime } from '../src/runtime.js';
import { startServer } from '../src/server.js';
import { claim } from '../src/queue/store.js';
import { addTestUser, backends, call, heard, login, md5, runCli, runPass, startGateway, type Envelope, type Gateway, shown } from './support.js';

const LIMITS = {
  WSGATE_QUOTA_QUEUED: '4',
  WSGATE_QUOTA_QUEUED_BYTES: '3000',
  WSGATE_QUOTA_MAX_DELAY_SECONDS: '3600',
  WSGATE_PRIORITY_CEILING: '500',
};

for (const backend of backends) {
  describe(`quotas and operator controls on ${backend.name}`, () => {
    let gw: Gateway;

    before(async () => {
      gw = await startGateway(backend, LIMITS);
    });
    after(() => gw.close());

    /** A new user, logged in. */
    async function user(name: string) {
      const { id, accessKey } = await addTestUser(gw, name);
      const s = await login(gw.url, name, accessKey);
      return { id, accessKey, session: s.sessionName };
    }
    const defer = (session: string, options: Record<string, unknown> = {}, tag = 'x', url = gw.url) =>
      call(url, { operation: 'wsgatetest_noop', sessionName: session, tag, cbwsOptions: JSON.stringify({ launchfromqueue: 1, ...options }) });
    const deferCreate = (session: string, requestId: string, options: Record<string, unknown> = {}, url = gw.url) =>
      call(url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: { lastname: `Quota ${requestId}` },
        cbwsOptions: JSON.stringify({ launchfromqueue: 1, ClientRequestIdentifier: requestId, ...options }),
      });
    const count = (userId: number, where: Record<string, unknown> = { state: 'queued' }) =>
      gw.rt.db.prisma.queuedOperation.count({ where: { userId, ...where } });
    const ok = (e: Envelope) => assert.equal(e.success, true, JSON.stringify(e));
    const refused = (e: Envelope, code: string, message: RegExp) => {
      assert.equal(e.success, false, JSON.stringify(e));
      assert.equal(e.error!.code, code, JSON.stringify(e));
      assert.match(e.error!.message, message);
    };
    const cli = (...args: string[]) => runCli(args, gw.env);

    test('each limit is refused with its code and nothing is queued; finished entries no longer count', async () => {
      const u = await user('quota_limits');
      refused(await defer(u.session, { queuedelay: 3601 }), 'INVALID_PARAMETER', /queuedelay 3601 is beyond the limit of 3600 seconds/);
      assert.equal(await count(u.id), 0);
      ok(await defer(u.session, { queuedelay: 3600 }));

      refused(await defer(u.session, { priority: 501 }), 'INVALID_PARAMETER', /priority 501 is above the priority ceiling of 500/);
      ok(await defer(u.session, { priority: 500 }));
      assert.equal(await count(u.id), 2);

      refused(await defer(u.session, {}, 'b'.repeat(3000)), 'QUOTA_EXCEEDED', /queued bytes limit of 3000 reached/);
      assert.equal(await count(u.id), 2);

      ok(await defer(u.session));
      ok(await defer(u.session));
      refused(await defer(u.session), 'QUOTA_EXCEEDED', /queued entries limit of 4 reached/);
      // The idempotent path (a transaction of its own) is held to the same limits.
      refused(await deferCreate(u.session, 'quota-limits-1'), 'QUOTA_EXCEEDED', /queued entries limit of 4 reached/);
      refused(await deferCreate(u.session, 'quota-limits-2', { priority: 9000 }), 'INVALID_PARAMETER', /priority ceiling/);
      assert.equal(await count(u.id), 4);
      assert.equal(await gw.rt.db.prisma.idempotentRequest.count({ where: { userId: u.id } }), 0, 'a refused call is not remembered');

      // Three were due and ran: only the delayed one still counts.
      await runPass(gw.rt);
      assert.equal(await count(u.id), 1);
      ok(await deferCreate(u.session, 'quota-limits-1'));
      ok(await defer(u.session));
      ok(await defer(u.session));
      refused(await defer(u.session), 'QUOTA_EXCEEDED', /queued entries limit of 4 reached/);
      assert.equal(await count(u.id), 4);
    });

    test('an administrator may ask a priority above the ceiling; a user may not', async () => {
      const admin = (await login(gw.url)).sessionName;
      const answer = await defer(admin, { priority: 100_000 });
      ok(answer);
      const entry = await gw.rt.db.prisma.queuedOperation.findUnique({ where: { id: answer.result.operationTrackingID } });
      assert.equal(entry?.priority, 100_000);
      const u = await user('quota_priority');
      refused(await defer(u.session, { priority: 100_000 }), 'INVALID_PARAMETER', /WSGATE_PRIORITY_CEILING/);
      ok(await defer(u.session, { priority: -5 }));
    });

    test('user quota: the user\'s own limits win over the settings; "default" clears them', async () => {
      const u = await user('quota_own');
      const set = await cli('user', 'quota', 'quota_own', '--queued', '6', '--bytes', '10000', '--max-delay', '7200');
      assert.equal(set.code, 0, shown(set));
      assert.match(set.stdout, /queued=0\/6 bytes=0\/10000 max-delay=7200\n/, shown(set));
      ok(await defer(u.session, { queuedelay: 7000 }));
      ok(await defer(u.session, {}, 'b'.repeat(5000)));
      for (let i = 0; i < 4; i++) ok(await defer(u.session));
      refused(await defer(u.session), 'QUOTA_EXCEEDED', /queued entries limit of 6 reached/);
      assert.equal(await count(u.id), 6);

      const cleared = await cli('user', 'quota', 'quota_own', '--queued', 'default');
      assert.equal(cleared.code, 0, shown(cleared));
      assert.match(cleared.stdout, /queued=6\/4 \(setting\) bytes=\d+\/10000 max-delay=7200\n/, shown(cleared));
      refused(await defer(u.session), 'QUOTA_EXCEEDED', /queued entries limit of 4 reached/);

      const bad = await cli('user', 'quota', 'quota_own', '--queued', '1.5');
      assert.equal(bad.code, 2, shown(bad));
      assert.match(bad.stderr, /--queued must be a whole number/, shown(bad));
      const nobody = await cli('user', 'quota', 'nobody', '--queued', '1');
      assert.equal(nobody.code, 2, shown(nobody));
      assert.equal(nobody.stderr, 'wsgate user quota: no user nobody\n', 'one line' + '\n' + shown(nobody));
    });

    test('30 concurrent submits to two gateways against a limit of 10 leave 10 queued', async () => {
      const u = await user('quota_race');
      await gw.rt.db.prisma.user.update({ where: { id: u.id }, data: { quotaQueued: 10 } });
      const config = loadConfig(gw.env);
      const rt2 = await openRuntime(config, createLogger(config.logLevel));
      const server2 = await startServer(rt2);
      try {
        const url2 = `${server2.url}/webservice.php`;
        const answers = await Promise.all(
          Array.from({ length: 30 }, (_, i) => {
            const url = i % 2 ? url2 : gw.url;
            // Half through the idempotent path (a transaction of its own), half through the plain one.
            return i % 4 < 2 ? defer(u.session, {}, `race ${i}`, url) : deferCreate(u.session, `race-${i}`, {}, url);
          }),
        );
        const accepted = answers.filter((a) => a.success);
        for (const a of answers.filter((x) => !x.success)) refused(a, 'QUOTA_EXCEEDED', /queued entries limit of 10 reached/);
        assert.equal(accepted.length, 10, JSON.stringify(answers.map((a) => a.error?.code ?? 'ok')));
        assert.equal(await count(u.id), 10);
      } finally {
        await server2.close();
        await rt2.close();
      }
    });

    test('user disable: login refused, sessions end at once, queued work stays but is not run; enable restores', async () => {
      const u = await user('quota_disabled');
      const queued = await defer(u.session);
      ok(queued);
      const other = await login(gw.url, 'quota_disabled', u.accessKey);

      // A session check refuses a disabled user whatever becomes of its sessions.
      await heard(gw, () => gw.rt.db.prisma.user.update({ where: { id: u.id }, data: { disabledAt: new Date() } }));
      refused(await call(gw.url, { operation: 'listtypes', sessionName: other.sessionName }), 'INVALID_SESSIONID', /Invalid/);
      await gw.rt.db.prisma.user.update({ where: { id: u.id }, data: { disabledAt: null } });

      const disabled = await heard(gw, () => cli('user', 'disable', 'quota_disabled'));
      assert.equal(disabled.code, 0, shown(disabled));
      assert.match(disabled.stdout, /user quota_disabled disabled, 2 sessions ended/, shown(disabled));
      refused(await call(gw.url, { operation: 'listtypes', sessionName: u.session }), 'INVALID_SESSIONID', /Invalid/);
      await assert.rejects(login(gw.url, 'quota_disabled', u.accessKey), /AUTHENTICATION_REQUIRED.*inactive/);
      assert.equal(await count(u.id), 1, 'its queued work stays');

      await runPass(gw.rt);
      assert.equal(await count(u.id), 0);

      const enabled = await cli('user', 'enable', 'quota_disabled');
      assert.equal(enabled.code, 0, shown(enabled));
      const again = await login(gw.url, 'quota_disabled', u.accessKey);
      const result = await call(gw.url, {
        operation: 'getQueuedOperationResult',
        sessionName: again.sessionName,
        operationTrackingID: queued.result.operationTrackingID,
      });
      ok(result);
      const inner = JSON.parse(result.result) as Envelope;
      refused(inner, 'ACCESS_DENIED', /disabled/);

      const nobody = await cli('user', 'disable', 'nobody');
      assert.equal(nobody.code, 2, shown(nobody));
      assert.equal(nobody.stderr, 'wsgate user disable: no user nobody\n', shown(nobody));
    });

    test('user key --rotate: a new key, printed once; the old one and its sessions stop working', async () => {
      const u = await user('quota_rotate');
      const without = await cli('user', 'key', 'quota_rotate');
      assert.equal(without.code, 2, shown(without));
      assert.match(without.stderr, /--rotate/, shown(without));
      const rotated = await heard(gw, () => cli('user', 'key', 'quota_rotate', '--rotate'));
      assert.equal(rotated.code, 0, shown(rotated));
      const key = /new access key: ([0-9a-f]{32}) \(1 sessions ended\)/.exec(rotated.stdout)?.[1];
      assert.ok(key, shown(rotated));
      assert.notEqual(key, u.accessKey);
      refused(await call(gw.url, { operation: 'listtypes', sessionName: u.session }), 'INVALID_SESSIONID', /Invalid/);
      const ch = await call(gw.url, { operation: 'getchallenge', username: 'quota_rotate' });
      refused(
        await call(gw.url, { operation: 'login', username: 'quota_rotate', accessKey: md5(ch.result.token + u.accessKey) }),
        'INVALID_USER_CREDENTIALS',
        /Invalid/,
      );
      const s = await login(gw.url, 'quota_rotate', key);
      ok(await call(gw.url, { operation: 'listtypes', sessionName: s.sessionName }));
    });

    test("purge --user [--queue]: removes only that user's (and queue's) queued entries, not running ones", async () => {
      const a = await user('quota_purge_a');
      const b = await user('quota_purge_b');
      ok(await defer(a.session));
      ok(await defer(a.session));
      ok(await defer(a.session, { queue: 'q2' }));
      ok(await defer(b.session));
      ok(await defer(b.session, { queue: 'q2' }));
      ok(await defer(a.session, { queue: 'q3' }));
      const running = await claim(gw.rt.db, { queues: ['q3'], now: gw.rt.services.clock.now(), leaseSeconds: 60, limit: 1 });
      assert.equal(running.length, 1);

      const q2 = await cli('purge', '--user', 'quota_purge_a', '--queue', 'q2');
      assert.equal(q2.code, 0, shown(q2));
      assert.equal(q2.stdout, '1 purged\n', shown(q2));
      assert.equal(await count(a.id), 2);
      assert.equal(await count(b.id), 2);
      const all = await cli('purge', '--user', 'quota_purge_a');
      assert.equal(all.stdout, '2 purged\n', shown(all));
      assert.equal(await count(a.id), 0);
      assert.equal(await count(a.id, { state: 'running' }), 1, 'the running entry is left alone');
      assert.equal(await count(b.id), 2, "the other user's entries stay");

      const noUser = await cli('purge');
      assert.equal(noUser.code, 2, shown(noUser));
      assert.match(noUser.stderr, /purge needs --user NAME/, shown(noUser));
      const nobody = await cli('purge', '--user', 'nobody');
      assert.equal(nobody.code, 2, shown(nobody));
      assert.equal(nobody.stderr, 'wsgate purge: no user nobody\n', shown(nobody));
    });
  });
}
