// Regenerates docs/dashboard.png, the README's picture of the dashboard (`node dist/test/docs-screenshot.js`
// after `npm run build`; not a test): a gateway on a fresh SQLite file runs three-quarters of an hour of
// work on a moved clock (operations queued each minute, some failing, an executor pass per minute), leaves
// a backlog, and headless Chromium signs in and takes the overview.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN_KEY, backends, call, login, runPass, startGateway } from './support.js';
import { packageRoot } from '../src/config.js';
import { reportExecutor } from '../src/queue/executors.js';

const gw = await startGateway(backends[0]!);
try {
  const { sessionName } = await login(gw.url);
  const queue = async (operation: string, options: Record<string, unknown>, params: Record<string, unknown> = {}) => {
    const r = await call(gw.url, { operation, sessionName, cbwsOptions: JSON.stringify({ launchfromqueue: 1, queuedelay: 0, ...options }), ...params });
    if (!r.success) throw new Error(JSON.stringify(r));
  };
  for (let minute = 0; minute < 45; minute++) {
    const n = 4 + Math.round(6 * Math.abs(Math.sin(minute / 7)));
    for (let i = 0; i < n; i++) await queue('wsgatetest_noop', { queue: i % 3 === 0 ? 'mail' : 'default' }, { tag: `m${minute}` });
    if (minute % 9 === 4) await queue('wsgatetest_throw', {});
    if (minute % 5 === 0) await queue('wsgatetest_noop', { queuedelay: 7200 });
    await runPass(gw.rt, { queues: ['default', 'mail'] });
    gw.rt.services.clock.advance(60_000);
  }
  for (let i = 0; i < 7; i++) await queue('wsgatetest_noop', { queue: i % 2 ? 'mail' : 'default' });
  gw.rt.services.clock.advance(42_000);
  const now = gw.rt.services.clock.now();
  await reportExecutor(gw.rt.db, { id: 'docs-1', queues: ['default', 'mail'], maxWorkers: 4, busyWorkers: 3, startedAt: new Date(now.getTime() - 3_600_000) }, now);
  await reportExecutor(gw.rt.db, { id: 'docs-2', queues: ['mail'], maxWorkers: 2, busyWorkers: 0, startedAt: new Date(now.getTime() - 600_000) }, now);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    const origin = new URL(gw.url).origin;
    await page.goto(`${origin}/dashboard/signin`);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=accesskey]', ADMIN_KEY);
    await page.click('button[type=submit]');
    await page.waitForURL(`${origin}/dashboard`);
    await page.locator('[data-live="summary"] [data-total]').first().waitFor();
    const file = path.join(packageRoot, 'docs', 'dashboard.png');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file });
    console.log(file);
  } finally {
    await browser.close();
  }
} finally {
  await gw.close();
}
