// The page frame (navigation, the live summary, the signed-in user with the sign-out form) and the small
// formatters the pages share.
import { html, type Html } from './html.js';

export interface Frame {
  title: string;
  /** The navigation entry to mark. */
  section: 'overview' | 'operations' | 'failed' | 'signin';
  userName?: string;
  csrf?: string;
  /** Pages that update live open the event stream. */
  live?: boolean;
}

export function page(frame: Frame, body: Html): string {
  const nav = (href: string, name: Frame['section'], label: string) => html`<a href="${href}" class="${frame.section === name ? 'current' : ''}">${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'>
<title>${frame.title} · wsgate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/htmx.min.js" defer></script>
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body${frame.live ? html` data-events="/dashboard/events?since=${Date.now()}"` : ''}>
<header class="top">
  <a class="brand" href="/dashboard">wsgate</a>
  ${
    frame.userName
      ? html`<nav>${nav('/dashboard', 'overview', 'Overview')}${nav('/dashboard/operations', 'operations', 'Operations')}${nav('/dashboard/failed', 'failed', 'Failed')}</nav>
  <span class="summary" data-live="summary"></span>
  <form method="post" action="/dashboard/signout" class="signout">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <span class="muted">${frame.userName}</span> <button type="submit" class="link">Sign out</button>
  </form>`
      : ''
  }
</header>
<main>
<h1>${frame.title}</h1>
${body}
</main>
</body>
</html>`.text;
}

/** "3 min ago", "in 2 h": for ages and due times. */
export function relative(at: Date, now: Date): string {
  const s = Math.round((now.getTime() - at.getTime()) / 1000);
  const a = Math.abs(s);
  const text =
    a < 60
      ? `${a} s`
      : a < 3600
        ? `${Math.floor(a / 60)} min`
        : a < 86_400
          ? `${Math.floor(a / 3600)} h ${Math.floor((a % 3600) / 60)} min`
          : `${Math.floor(a / 86_400)} d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/** An age without direction: "42 s", "3 min". */
export function age(since: Date, now: Date): string {
  return relative(since, now).replace(/ ago$/, '').replace(/^in /, '');
}

export const stamp = (at: Date | null) =>
  at
    ? at
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : '—';

export const time = (at: Date | null, now: Date) =>
  at ? html`<time datetime="${at.toISOString()}" title="${stamp(at)}">${relative(at, now)}</time>` : html`<span class="muted">—</span>`;

export const stateBadge = (state: string) => html`<span class="state state-${state}">${state}</span>`;

export const notice = (text: string | undefined) => (text ? html`<p class="notice" role="status">${text}</p>` : '');

export function signInPage(message: string | undefined, userName = ''): string {
  return page(
    { title: 'Sign in', section: 'signin' },
    html`<form method="post" action="/dashboard/signin" class="card signin">
  <p class="muted">The dashboard is for admin users. Sign in with your user name and access key.</p>
  ${message ? html`<p class="error" role="alert">${message}</p>` : ''}
  <label>User name <input name="username" autocomplete="username" required value="${userName}" autofocus></label>
  <label>Access key <input name="accesskey" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>`,
  );
}
