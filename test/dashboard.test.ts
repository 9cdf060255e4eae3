// The dashboard against a real gateway on both databases: plain HTTP for what must be refused (no session,
// a user who is not an admin, a change without the CSRF token) and for the cookie's attributes; headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core) for what an operator does: sign in, watch
// counts change live as operations are queued and run, filter the list, open an entry, retry a failed one
// and see it succeed, cancel one, forget all after a confirmation, sign out. Screenshots of each page go to
// test/artifacts/ (not committed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_KEY, addTestUser, backends, call, login, runPass, startGateway, type Gateway, tmpDir } from './support.js';
import { packageRoot } from '../src/config.js';
import { enqueue } from '../src/queue/store.js';
import { reportExecutor, removeExecutor } from '../src/queue/executors.js';

const CHROMIUM = process.env.WSGATE_TEST_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
// Under CI the browser tests must run: a missing browser fails them rather than skipping them.
const browserSkip = haveChromium || process.env.CI ? false : `no browser at ${CHROMIUM} (apt-get install chromium)`;
const artifacts = path.join(packageRoot, 'test', 'artifacts');
const defer = (extra: Record<string, unknown> = {}) => JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...extra });

const cookieOf = (res: Response) => res.headers.get('set-cookie') ?? '';
const cookieValue = (setCookie: string) => /wsgate_dashboard=([^;]*)/.exec(setCookie)?.[1] ?? '';

async function signIn(origin: string, userName: string, accessKey: string, headers: Record<string, string> = {}) {
  return fetch(`${origin}/dashboard/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ username: userName, accesskey: accessKey }).toString(),
  });
}

const post = (origin: string, p: string, cookie: string, form: Record<string, string> | URLSearchParams) =>
  fetch(`${origin}${p}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `wsgate_dashboard=${cookie}` },
    body: new URLSearchParams(form).toString(),
  });

const csrfIn = (page: string) => /name="_csrf" value="([0-9a-f]+)"/.exec(page)?.[1] ?? '';

// One Chromium for the file (a start costs seconds); each database's tests get a context of their own.
let browser: Promise<Browser> | undefined;
const launched = () => (browser ??= chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }));
after(async () => {
  if (browser) await (await browser).close();
});

for (const backend of backends) {
  describe(`dashboard on ${backend.name}`, () => {
    let gw: Gateway;
    let origin: string;
    let session: string;
    let bobKey: string;
    const queue = async (params: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const res = await call(gw.url, { sessionName: session, cbwsOptions: defer(options), ...params });
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const result = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      assert.equal(r.success, true, JSON.stringify(r));
      return r.result;
    };
    const tmp = tmpDir('dashboard');

    before(async () => {
      gw = await startGateway(backend);
      origin = new URL(gw.url).origin;
      session = (await login(gw.url)).sessionName;
      bobKey = (await addTestUser(gw, 'bob')).accessKey;
    });
    after(async () => {
      await gw.close();
    });

    test('without a session, as a user who is no admin, or without the CSRF token: refused', async () => {
      const home = await fetch(`${origin}/dashboard`, { redirect: 'manual' });
      assert.equal(home.status, 302);
      assert.equal(home.headers.get('location'), '/dashboard/signin');
      assert.equal((await fetch(`${origin}/dashboard/events`)).status, 401);
      assert.equal((await fetch(`${origin}/dashboard/operations?part=list`, { redirect: 'manual' })).status, 302);

      const signinPage = await fetch(`${origin}/dashboard/signin`);
      assert.equal(signinPage.status, 200);
      const csp = signinPage.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.doesNotMatch(await signinPage.text(), /<script>|<script [^>]*>[^<]/, 'no inline script');

      const bob = await signIn(origin, 'bob', bobKey);
      assert.equal(bob.status, 403);
      assert.match(await bob.text(), /admin users only/);
      assert.equal(cookieOf(bob), '', 'no session for a user who is no admin');
      const wrong = await signIn(origin, 'admin', 'not-the-key-not-the-key');
      assert.equal(wrong.status, 401);
      assert.equal(cookieOf(wrong), '');

      const ok = await signIn(origin, 'admin', ADMIN_KEY);
      assert.equal(ok.status, 303);
      const setCookie = cookieOf(ok);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP: not Secure');
      // Without WSGATE_TRUST_PROXY a forwarded header does not count.
      assert.doesNotMatch(cookieOf(await signIn(origin, 'admin', ADMIN_KEY, { 'x-forwarded-proto': 'https' })), /Secure/);
      const cookie = cookieValue(setCookie);
      // The dashboard's cookie is no web-service session.
      const asSession = await call(gw.url, { operation: 'listtypes', sessionName: cookie }, { method: 'GET' });
      assert.equal(asSession.error?.code, 'INVALID_SESSIONID');

      const failedId = await queue({ operation: 'wsgatetest_throw' });
      await runPass(gw.rt);
      const page = await (await fetch(`${origin}/dashboard/failed`, { headers: { cookie: `wsgate_dashboard=${cookie}` } })).text();
      const csrf = csrfIn(page);
      assert.ok(csrf, 'the page carries a CSRF token');
      assert.match(page, new RegExp(failedId));
      for (const form of [{ id: failedId }, { id: failedId, _csrf: 'f'.repeat(64) }, { id: failedId, _csrf: '' }] as Record<string, string>[]) {
        const res = await post(origin, '/dashboard/failed/forget', cookie, form);
        assert.equal(res.status, 403, JSON.stringify(form));
      }
      assert.equal((await post(origin, `/dashboard/operations/${failedId}/cancel`, cookie, {})).status, 403);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: failedId, state: 'failed' } }), 1, 'nothing was forgotten');
      // Another site's form is refused even with the token.
      const crossSite = await fetch(`${origin}/dashboard/failed/forget`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `wsgate_dashboard=${cookie}`, origin: 'https://evil.example' },
        body: new URLSearchParams({ id: failedId, _csrf: csrf }).toString(),
      });
      assert.equal(crossSite.status, 403);
      // With the token: forgotten.
      const forgot = await post(origin, '/dashboard/failed/forget', cookie, { id: failedId, _csrf: csrf });
      assert.equal(forgot.status, 303);
      assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: failedId } }), 0);
      // Signing out ends the session in the database: the same cookie opens nothing afterwards.
      assert.equal((await post(origin, '/dashboard/signout', cookie, { _csrf: csrf })).status, 303);
      const again = await fetch(`${origin}/dashboard`, { redirect: 'manual', headers: { cookie: `wsgate_dashboard=${cookie}` } });
      assert.equal(again.status, 302);
      assert.equal((await post(origin, '/dashboard/failed/forget', cookie, { id: failedId, _csrf: csrf })).status, 401);
      // Making a user's role user ends its dashboard at the next request.
      const fresh = cookieValue(cookieOf(await signIn(origin, 'admin', ADMIN_KEY)));
      await gw.rt.db.prisma.user.update({ where: { userName: 'admin' }, data: { isAdmin: false } });
      try {
        assert.equal((await fetch(`${origin}/dashboard`, { redirect: 'manual', headers: { cookie: `wsgate_dashboard=${fresh}` } })).status, 302);
      } finally {
        await gw.rt.db.prisma.user.update({ where: { userName: 'admin' }, data: { isAdmin: true } });
      }
    });

    test('behind a TLS proxy (WSGATE_TRUST_PROXY=on) the cookie is Secure', { skip: backend.name !== 'sqlite' && 'the same on both databases' }, async () => {
      const proxied = await startGateway(backend, { WSGATE_TRUST_PROXY: 'on' });
      try {
        const at = new URL(proxied.url).origin;
        assert.match(cookieOf(await signIn(at, 'admin', ADMIN_KEY, { 'x-forwarded-proto': 'https' })), /; Secure/);
        assert.doesNotMatch(cookieOf(await signIn(at, 'admin', ADMIN_KEY, { 'x-forwarded-proto': 'http' })), /Secure/);
      } finally {
        await proxied.close();
      }
    });

    test('failed sign-ins are throttled like logins', async () => {
      let last: Response | undefined;
      for (let i = 0; i < 8; i++) last = await signIn(origin, 'carol-unknown', `wrong-key-${i}-wrong-key`);
      assert.equal(last!.status, 429);
      assert.match(await last!.text(), /Too many failed logins/);
    });

    describe('in Chromium', { skip: browserSkip }, () => {
      let context: BrowserContext;
      let page: Page;
      const shot = async (name: string) => {
        fs.mkdirSync(artifacts, { recursive: true });
        await page.screenshot({ path: path.join(artifacts, `dashboard-${backend.name}-${name}.png`), fullPage: true });
      };
      const text = (selector: string) => page.locator(selector).first().textContent();
      const waitText = (selector: string, expected: string) =>
        page.waitForFunction(([s, e]) => document.querySelector(s!)?.textContent?.trim() === e, [selector, expected], { timeout: 30_000 });

      before(async () => {
        assert.ok(haveChromium, `the browser tests need ${CHROMIUM} (apt-get install chromium)`);
        context = await (await launched()).newContext({ viewport: { width: 1280, height: 860 } });
        page = await context.newPage();
        const errors: string[] = [];
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        page.on('pageerror', (e) => errors.push(e.message));
        (page as Page & { errors?: string[] }).errors = errors;
      });
      after(async () => {
        await context?.close();
      });

      test('sign in, see counts change live, filter, open an entry, retry, cancel, forget all, sign out', async () => {
        await page.goto(`${origin}/dashboard`);
        assert.match(page.url(), /\/dashboard\/signin$/);
        await page.fill('input[name=username]', 'admin');
        await page.fill('input[name=accesskey]', ADMIN_KEY);
        await shot('signin');
        await page.click('button[type=submit]');
        await page.waitForURL(`${origin}/dashboard`);
        assert.equal(await text('h1'), 'Overview');
        const cookies = await page.context().cookies();
        const cookie = cookies.find((c) => c.name === 'wsgate_dashboard');
        assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict');

        // Live: operations queued now show up as waiting without a reload, and as done after a pass.
        await reportExecutor(
          gw.rt.db,
          { id: 'test-executor', queues: ['default', 'high'], maxWorkers: 4, busyWorkers: 1, startedAt: gw.rt.services.clock.now() },
          gw.rt.services.clock.now(),
        );
        const marker = path.join(tmp, 'flaky');
        const flaky = await queue({ operation: 'wsgatetest_misbehave', how: 'flaky', marker, succeedAt: '2' });
        const _ok = await Promise.all([1, 2, 3].map((i) => queue({ operation: 'wsgatetest_noop', tag: `t${i}` })));
        const later = await queue({ operation: 'wsgatetest_noop', tag: 'later' }, { queuedelay: 3600 });
        await queue({ operation: 'wsgatetest_noop', tag: 'high' }, { queue: 'high' });
        await waitText('[data-queue="default"] .count-waiting b', '4');
        await waitText('[data-queue="default"] .count-delayed b', '1');
        await waitText('[data-queue="high"] .count-waiting b', '1');
        assert.match((await text('.executors')) ?? '', /1 \/ 3/, 'the executor with its busy and free workers');
        await removeExecutor(gw.rt.db, 'test-executor');

        const summary = await runPass(gw.rt, { queues: ['default', 'high'] });
        assert.equal(summary.run, 5, JSON.stringify(summary));
        await waitText('[data-queue="default"] .count-waiting b', '0');
        await waitText('[data-queue="default"] .count-done b', '3');
        await waitText('[data-queue="default"] .count-failed b', '1');
        await waitText('[data-total="failed"]', '1 failed');
        const caption = (await text('[data-queue="default"] figcaption')) ?? '';
        // Four here, and the failed one of the first test.
        assert.match(caption, /runs 5 /, caption);
        assert.match(caption, /failures 2 /, caption);
        await shot('overview');

        // The list: filtered by state, by operation, by tracking id; newest first.
        await page.goto(`${origin}/dashboard/operations`);
        assert.equal(await page.locator('table.operations tbody tr').count(), 6);
        assert.equal(
          await page.locator('table.operations tbody tr').first().getAttribute('data-id'),
          (await gw.rt.db.prisma.queuedOperation.findFirst({ orderBy: [{ submittedAt: 'desc' }, { id: 'desc' }] }))!.id,
        );
        await page.selectOption('select[name=state]', 'failed');
        await page.click('form.filters button[type=submit]');
        await page.waitForURL(/state=failed/);
        assert.deepEqual(await page.locator('table.operations tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))), [flaky]);
        await page.goto(`${origin}/dashboard/operations?operation=wsgatetest_noop&state=done`);
        assert.equal(await page.locator('table.operations tbody tr').count(), 4);
        await page.goto(`${origin}/dashboard/operations?state=delayed`);
        assert.deepEqual(await page.locator('table.operations tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))), [later]);
        await page.goto(`${origin}/dashboard/operations?user=bob`);
        assert.equal(await page.locator('table.operations tbody tr').count(), 0);
        await page.goto(`${origin}/dashboard/operations`);
        // The list follows the queue live.
        const fresh = await queue({ operation: 'wsgatetest_noop', tag: 'live' });
        await page.locator(`table.operations tr[data-id="${fresh}"]`).waitFor({ timeout: 30_000 });
        await shot('operations');

        // An entry's page: timeline, attempts with their errors, parameters with secrets masked.
        await page.goto(`${origin}/dashboard/operations?state=failed`);
        await page.click(`a:text("${flaky}")`);
        await page.waitForURL(new RegExp(`/dashboard/operations/${flaky}$`));
        assert.match((await text('.timeline')) ?? '', /Submitted.*Due.*Started.*Finished/s);
        assert.match((await text('table.attempts')) ?? '', /INTERNAL_SERVER_ERROR.*attempt 1 fails/s);
        assert.match((await text('pre.params')) ?? '', /"how": "flaky"/);
        await shot('detail');
        const admin = await gw.rt.db.prisma.user.findUniqueOrThrow({ where: { userName: 'admin' } });
        const secretId = await enqueue(gw.rt.db, {
          operation: 'wsgatetest_noop',
          params: { tag: 'visible', accessKey: 'k-4f1c9e', nested: { password: 'pw-77a2', note: 'kept' }, authorization: 'Bearer t-9d3' },
          userId: admin.id,
          submittedAt: gw.rt.services.clock.now(),
          dueAt: new Date(gw.rt.services.clock.now().getTime() + 3_600_000),
        });
        await page.goto(`${origin}/dashboard/operations/${secretId}`);
        const shown = await page.content();
        for (const secret of ['k-4f1c9e', 'pw-77a2', 't-9d3']) assert.ok(!shown.includes(secret), `${secret} is masked`);
        assert.match((await text('pre.params')) ?? '', /"note": "kept"/);

        // Cancel a queued operation from its page; its caller reads OPERATION_CANCELLED.
        await page.goto(`${origin}/dashboard/operations/${later}`);
        await page.click('button:text("Cancel this operation")');
        await page.locator('.notice:text("The operation was cancelled.")').waitFor();
        assert.equal(await text('.facts .state'), 'cancelled');
        assert.equal(JSON.parse(await result(later)).error.code, 'OPERATION_CANCELLED');

        // The failed store: retry the entry, run a pass, and it succeeds (same tracking id).
        await page.goto(`${origin}/dashboard/failed`);
        assert.deepEqual(await page.locator('table.failed tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))), [flaky]);
        await shot('failed');
        await page.click(`tr[data-id="${flaky}"] button:text("Retry")`);
        await page.locator('.notice:text("1 queued again.")').waitFor();
        await waitText('[data-total="failed"]', '0 failed');
        assert.equal((await runPass(gw.rt)).run, 2, 'the retried entry and the one queued while the list was open');
        await page.goto(`${origin}/dashboard/operations/${flaky}`);
        assert.equal(await text('.facts .state'), 'done');
        assert.deepEqual(JSON.parse(await result(flaky)).result, { attempts: 2 });

        // Forget all, after a confirmation.
        const failing = await Promise.all([1, 2].map(() => queue({ operation: 'wsgatetest_throw' })));
        await runPass(gw.rt);
        await page.goto(`${origin}/dashboard/failed`);
        assert.equal(await page.locator('table.failed tbody tr').count(), 2);
        await page.click('a:text("Forget all…")');
        assert.match((await text('form.confirm')) ?? '', /Forget all 2 entries/);
        await shot('confirm');
        await page.click('form.confirm button');
        await page.locator('.notice:text("2 forgotten.")').waitFor();
        assert.equal(await gw.rt.db.prisma.queuedOperation.count({ where: { id: { in: failing } } }), 0);

        const errors = (page as Page & { errors?: string[] }).errors!;
        assert.deepEqual(errors, [], 'no script errors and no CSP violations');

        // Signing out: back at the sign-in page, and the dashboard is closed.
        await page.click('button:text("Sign out")');
        await page.waitForURL(/\/dashboard\/signin$/);
        await page.goto(`${origin}/dashboard/failed`);
        assert.match(page.url(), /\/dashboard\/signin$/);
      });
    });
  });
}
