// The dashboard at /dashboard: admin sign-in, the overview, the operations list and pages, the failed
// store, cancelling, and the live stream; its own assets (htmx from the package, a script and a style
// sheet) under /dashboard/assets/. Every page is sent with a Content-Security-Policy that allows no inline
// script or style, and every POST but the sign-in needs the session's CSRF token.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type Koa from 'koa';
import Router, { type RouterContext } from '@koa/router';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { Services } from '../operations/types.js';
import { packageRoot } from '../config.js';
import { cancelEntry } from '../queue/cancel.js';
import { flushFailed, forgetFailed, retryFailed } from '../queue/failed.js';
import { queueEvents } from '../queue/events.js';
import { heartbeatEveryMs } from '../executor/engine.js';
import { html } from './html.js';
import { page, signInPage } from './layout.js';
import { overviewPage, type Snapshot } from './overview.js';
import { detailPage, operationsPage, operationsTable, parseCursor } from './operations.js';
import { confirmPage, failedPage, failedTable } from './failed.js';
import {
  entryDetail,
  executors,
  failedCount,
  LIST_STATES,
  listOperations,
  minuteCounts,
  ownerOf,
  queueOverview,
  type ListFilter,
  type ListState,
} from './queries.js';
import { COOKIE, csrfTokenOf, csrfValid, sessionUser, signIn, SignInRefused, signOut, type DashboardUser, type SessionDeps } from './session.js';
import { LivePulse } from './live.js';

export interface DashboardDeps {
  db: Database;
  services: Services;
  log: Logger;
  leaseSeconds: number;
  queues: string[];
  /** WSGATE_TRUST_PROXY: X-Forwarded-Proto from the proxy in front tells whether the browser uses HTTPS. */
  trustProxy: boolean;
}

export interface Dashboard {
  middleware: Koa.Middleware;
  /** Ends the live streams (the server is stopping). */
  close(): void;
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const require = createRequire(import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'application/javascript; charset=utf-8' },
  'dashboard.js': { file: path.join(packageRoot, 'src', 'dashboard', 'assets', 'dashboard.js'), type: 'application/javascript; charset=utf-8' },
  'dashboard.css': { file: path.join(packageRoot, 'src', 'dashboard', 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8' },
};

const hostOf = (origin: string) => {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
};

const FORM_LIMIT = '256kb';

interface Signed {
  user: DashboardUser;
  token: string;
  csrf: string;
}

type Ctx = RouterContext<{ signed?: Signed }>;

const NOTICES: Record<string, (n: string) => string> = {
  retried: (n) => `${n} queued again.`,
  forgotten: (n) => `${n} forgotten.`,
  cancelled: () => 'The operation was cancelled.',
  cancelling: () => 'The operation is running: its executor is stopping it, and it ends as cancelled.',
  'not-cancellable': () => 'The operation has finished meanwhile: it was not cancelled.',
};

export function createDashboard(deps: DashboardDeps): Dashboard {
  const sessionDeps: SessionDeps = {
    db: deps.db,
    secret: deps.services.secret,
    clock: deps.services.clock,
    throttle: deps.services.loginDefences.throttle,
    policy: deps.services.sessionPolicy,
  };
  const now = () => deps.services.clock.now();
  const snapshot = async (): Promise<Snapshot> => {
    const at = now();
    const [queues, minutes, execs] = await Promise.all([
      queueOverview(deps.db, at),
      minuteCounts(deps.db, new Date(at.getTime() - 60 * 60_000)),
      executors(deps.db),
    ]);
    return { at, queues, minutes, executors: execs, staleBefore: new Date(at.getTime() - 3 * heartbeatEveryMs(deps.leaseSeconds) - 1000) };
  };
  const pulse = new LivePulse(snapshot, deps.log);
  const assets = new Map(Object.entries(ASSETS).map(([name, a]) => [name, { ...a, body: fs.readFileSync(a.file) }]));

  const secure = (ctx: Ctx) => ctx.secure || (deps.trustProxy && ctx.get('x-forwarded-proto').split(',')[0]!.trim() === 'https');

  // Written by hand: Koa's cookies refuse Secure on a connection they do not see as TLS (behind a proxy).
  const setCookie = (ctx: Ctx, value: string, isSecure: boolean, expire = false) =>
    ctx.append(
      'Set-Cookie',
      `${COOKIE}=${value}; Path=/dashboard; HttpOnly; SameSite=Strict${isSecure ? '; Secure' : ''}${expire ? '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : ''}`,
    );

  const send = (ctx: Ctx, body: string, status = 200) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  };

  async function form(ctx: Ctx): Promise<URLSearchParams> {
    if (!ctx.is('application/x-www-form-urlencoded')) return new URLSearchParams();
    return new URLSearchParams(await getRawBody(ctx.req, { limit: FORM_LIMIT, encoding: 'utf8', length: ctx.get('content-length') || undefined }));
  }

  const refuse = (ctx: Ctx, status: number, message: string) =>
    send(
      ctx,
      page({ title: 'Refused', section: 'signin' }, html`<p class="error" role="alert">${message}</p><p><a href="/dashboard">Back to the dashboard</a></p>`),
      status,
    );

  const router = new Router<{ signed?: Signed }>({ prefix: '/dashboard' });

  router.get('/assets/:name', (ctx) => {
    const asset = assets.get(ctx.params.name!);
    if (!asset) return refuse(ctx, 404, 'Not found');
    ctx.type = asset.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = asset.body;
  });

  router.get('/signin', async (ctx) => {
    if (await sessionUser(sessionDeps, ctx.cookies.get(COOKIE))) return ctx.redirect('/dashboard');
    send(ctx, signInPage(undefined));
  });

  router.post('/signin', async (ctx) => {
    const body = await form(ctx);
    const userName = body.get('username') ?? '';
    try {
      const token = await signIn(sessionDeps, userName, body.get('accesskey') ?? '', ctx.ip);
      setCookie(ctx, token, secure(ctx));
      ctx.status = 303;
      ctx.redirect('/dashboard');
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      send(ctx, signInPage(error.message, userName), error.status);
    }
  });

  // Everything below needs a signed-in admin; changes need the CSRF token too.
  router.use(async (ctx, next) => {
    const token = ctx.cookies.get(COOKIE);
    const user = await sessionUser(sessionDeps, token);
    if (!user || !token) {
      if (ctx.method === 'GET' && !ctx.path.endsWith('/events')) return ctx.redirect('/dashboard/signin');
      return refuse(ctx, 401, 'Sign in first: the session has ended or never began.');
    }
    ctx.state.signed = { user, token, csrf: csrfTokenOf(deps.services.secret, token) };
    return next();
  });

  const checked = async (ctx: Ctx): Promise<URLSearchParams | null> => {
    const body = await form(ctx);
    if (!csrfValid(deps.services.secret, ctx.state.signed!.token, body.get('_csrf'))) {
      refuse(ctx, 403, 'The form had no valid CSRF token: reload the page and try again.');
      return null;
    }
    return body;
  };

  const frame = (ctx: Ctx, title: string, section: 'overview' | 'operations' | 'failed', live = true) => ({
    title,
    section,
    userName: ctx.state.signed!.user.userName,
    csrf: ctx.state.signed!.csrf,
    live,
  });
  const noticeOf = (ctx: Ctx) => {
    const make = NOTICES[String(ctx.query.notice ?? '')];
    return make ? make(String(ctx.query.n ?? '').replace(/\D/g, '') || '0') : undefined;
  };

  router.post('/signout', async (ctx) => {
    if (!(await checked(ctx))) return;
    await signOut(sessionDeps, ctx.state.signed!.token);
    setCookie(ctx, '', secure(ctx), true);
    ctx.status = 303;
    ctx.redirect('/dashboard/signin');
  });

  router.get('/', async (ctx) => send(ctx, page(frame(ctx, 'Overview', 'overview'), overviewPage(await snapshot()))));

  router.get('/events', (ctx) => {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    pulse.add(res, Number(ctx.query.since) || 0);
  });

  const filterOf = (ctx: Ctx): ListFilter => {
    const q = (name: string) => {
      const v = ctx.query[name];
      const s = Array.isArray(v) ? v[0] : v;
      return s ? s.trim().slice(0, 200) || undefined : undefined;
    };
    const state = q('state');
    return {
      state: LIST_STATES.includes(state as ListState) ? (state as ListState) : undefined,
      queue: q('queue'),
      operation: q('operation'),
      userName: q('user'),
      id: q('id'),
      before: parseCursor(q('before')),
    };
  };

  router.get('/operations', async (ctx) => {
    const f = filterOf(ctx);
    const at = now();
    const { rows, next } = await listOperations(deps.db, f, at);
    if (ctx.query.part === 'list') return send(ctx, operationsTable(rows, next, f, at).text);
    send(ctx, page(frame(ctx, 'Operations', 'operations'), operationsPage(rows, next, f, at, noticeOf(ctx))));
  });

  router.get('/operations/:id', async (ctx) => {
    const at = now();
    const entry = await entryDetail(deps.db, ctx.params.id!, at);
    if (!entry)
      return send(
        ctx,
        page(
          frame(ctx, 'Operation', 'operations'),
          html`<p class="card muted">No operation has this tracking id (it may have been read, forgotten or purged).</p>`,
        ),
        404,
      );
    send(ctx, page(frame(ctx, `Operation ${entry.operation}`, 'operations', false), detailPage(entry, at, ctx.state.signed!.csrf, noticeOf(ctx))));
  });

  router.post('/operations/:id/cancel', async (ctx) => {
    if (!(await checked(ctx))) return;
    const id = ctx.params.id!;
    const owner = await ownerOf(deps.db, id);
    // As cancelQueuedOperation does it, on behalf of the user who queued the entry.
    const done =
      owner !== null
        ? await cancelEntry(deps.db.raw, id, owner, now(), deps.services.resultTtlSeconds, 'The operation was cancelled by an operator before it ran')
        : null;
    if (owner !== null) deps.log.info({ operationTrackingID: id, by: ctx.state.signed!.user.userName, cancelled: done ?? false }, 'dashboard: cancel');
    ctx.status = 303;
    ctx.redirect(`/dashboard/operations/${encodeURIComponent(id)}?notice=${done ?? 'not-cancellable'}`);
  });

  router.get('/failed', async (ctx) => {
    const before = typeof ctx.query.before === 'string' ? ctx.query.before : undefined;
    const at = now();
    const { rows, next } = await listOperations(deps.db, { state: 'failed', before: parseCursor(before) }, at);
    const csrf = ctx.state.signed!.csrf;
    if (ctx.query.part === 'list') return send(ctx, failedTable(rows, next, before, at, csrf).text);
    send(ctx, page(frame(ctx, 'Failed store', 'failed'), failedPage(rows, next, before, at, csrf, noticeOf(ctx))));
  });

  router.get('/failed/confirm', async (ctx) => {
    const action = ctx.query.action === 'forget' ? 'forget' : 'retry';
    const n = await failedCount(deps.db);
    send(
      ctx,
      page(
        frame(ctx, action === 'forget' ? 'Forget all failed entries' : 'Retry all failed entries', 'failed', false),
        confirmPage(action, n, ctx.state.signed!.csrf),
      ),
    );
  });

  /** The entries a failed-store action is for: one (its row's button), the selected ones, or all once confirmed. */
  const targets = (ctx: Ctx, body: URLSearchParams): string[] | null | undefined => {
    if (typeof ctx.query.one === 'string') return [ctx.query.one];
    if (body.get('all') === 'confirmed') return null;
    const ids = body.getAll('id').filter(Boolean).slice(0, 1000);
    return ids.length ? ids : undefined;
  };
  const back = (ctx: Ctx, body: URLSearchParams, ids: string[] | null, notice: string, n: number) => {
    ctx.status = 303;
    if (body.get('back') === 'detail' && ids?.length === 1) return ctx.redirect(`/dashboard/operations/${encodeURIComponent(ids[0]!)}?notice=${notice}&n=${n}`);
    ctx.redirect(`/dashboard/failed?notice=${notice}&n=${n}`);
  };

  router.post('/failed/retry', async (ctx) => {
    const body = await checked(ctx);
    if (!body) return;
    const ids = targets(ctx, body);
    if (ids === undefined) return back(ctx, body, [], 'retried', 0);
    const at = now();
    const retried = await retryFailed(deps.db, ids, at);
    // Wakes this process's executor (on SQLite nothing else would until its next poll).
    if (retried.length) for (const queue of deps.queues) queueEvents.emit('enqueued', { queue, dueAt: at });
    deps.log.info({ retried: retried.length, by: ctx.state.signed!.user.userName }, 'dashboard: retry');
    back(ctx, body, ids, 'retried', retried.length);
  });

  router.post('/failed/forget', async (ctx) => {
    const body = await checked(ctx);
    if (!body) return;
    const ids = targets(ctx, body);
    if (ids === undefined) return back(ctx, body, [], 'forgotten', 0);
    const n = ids === null ? await flushFailed(deps.db) : (await forgetFailed(deps.db, ids)).length;
    deps.log.info({ forgotten: n, by: ctx.state.signed!.user.userName }, 'dashboard: forget');
    ctx.status = 303;
    ctx.redirect(`/dashboard/failed?notice=forgotten&n=${n}`);
  });

  const routes = router.routes();
  const allowed = router.allowedMethods();
  const middleware: Koa.Middleware = async (ctx, next) => {
    if (ctx.path !== '/dashboard' && !ctx.path.startsWith('/dashboard/')) return next();
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    if (!ctx.path.startsWith('/dashboard/assets/')) ctx.set('Cache-Control', 'no-store');
    // A form posted from another site's page is refused before anything else (SameSite=Strict and the CSRF
    // token refuse it too; this covers the sign-in form, which has no session yet).
    const origin = ctx.get('origin');
    if (ctx.method === 'POST' && origin && hostOf(origin) !== ctx.host) {
      return refuse(ctx as Ctx, 403, 'Refused: the form was posted from another site.');
    }
    await routes(ctx as never, async () => {
      await allowed(ctx as never, async () => undefined);
    });
    if (ctx.status === 404 && ctx.body === undefined) refuse(ctx as Ctx, 404, 'Not found');
  };
  return { middleware, close: () => pulse.close() };
}
