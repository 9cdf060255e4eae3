// The operations list (filters, keyset pages, newest first) and one entry's page: its timeline, attempts
// with their errors, progress and log lines when the row has them, and the parameters with secrets masked.
import { html, query, type Html } from './html.js';
import { stamp, stateBadge, time, notice } from './layout.js';
import { maskSecrets } from './mask.js';
import { LIST_STATES, type EntryDetail, type ListFilter, type ListRow } from './queries.js';

export const cursorOf = (k: { at: Date; id: string }) => `${k.at.getTime()}.${k.id}`;

export function parseCursor(text: string | undefined): { at: Date; id: string } | undefined {
  const m = /^(\d{1,15})\.(.{1,200})$/.exec(text ?? '');
  return m ? { at: new Date(Number(m[1])), id: m[2]! } : undefined;
}

export const filterParams = (f: ListFilter) => ({ state: f.state, queue: f.queue, operation: f.operation, user: f.userName, id: f.id });

export function operationsTable(rows: ListRow[], next: { at: Date; id: string } | null, f: ListFilter, now: Date): Html {
  if (rows.length === 0) return html`<p class="card muted">No operation matches${f.before ? ' on this page' : ''}.</p>`;
  return html`<table class="operations">
<thead><tr><th>Tracking id</th><th>Operation</th><th>State</th><th>Queue</th><th>User</th><th>Submitted</th><th>Due</th><th>Finished</th><th>Attempts</th></tr></thead>
<tbody>${rows.map(
    (
      r,
    ) => html`<tr data-id="${r.id}"><td><a class="mono" href="/dashboard/operations/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${r.operation}</td><td>${stateBadge(r.state)}</td>
<td>${r.queue}</td><td>${r.userName ?? html`<span class="muted">(deleted)</span>`}</td><td>${time(r.submittedAt, now)}</td><td>${time(r.dueAt, now)}</td><td>${time(r.finishedAt, now)}</td><td class="num">${r.attempts}</td></tr>`,
  )}</tbody></table>
<nav class="pager">${f.before ? html`<a href="/dashboard/operations${query(filterParams(f))}">« Newest</a>` : ''}${
    next ? html`<a href="/dashboard/operations${query({ ...filterParams(f), before: cursorOf(next) })}" rel="next">Older »</a>` : ''
  }</nav>`;
}

export function operationsPage(rows: ListRow[], next: { at: Date; id: string } | null, f: ListFilter, now: Date, message?: string): Html {
  const listUrl = `/dashboard/operations${query({ ...filterParams(f), before: f.before ? cursorOf(f.before) : undefined, part: 'list' })}`;
  return html`${notice(message)}<form method="get" action="/dashboard/operations" class="filters card">
  <label>State <select name="state"><option value="">any</option>${LIST_STATES.map((s) => html`<option${s === f.state ? html` selected` : ''}>${s}</option>`)}</select></label>
  <label>Queue <input name="queue" value="${f.queue ?? ''}" size="10"></label>
  <label>Operation <input name="operation" value="${f.operation ?? ''}" size="14"></label>
  <label>User <input name="user" value="${f.userName ?? ''}" size="10"></label>
  <label>Tracking id <input name="id" value="${f.id ?? ''}" size="22" class="mono"></label>
  <button type="submit">Filter</button> <a href="/dashboard/operations" class="small">clear</a>
</form>
<div id="list" hx-get="${listUrl}" hx-trigger="wsgate-changed from:body" hx-swap="innerHTML">${operationsTable(rows, next, f, now)}</div>`;
}

function json(value: unknown): Html {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

/** Progress and log lines, in whatever columns the row has them (an operation's own reporting). */
function reported(extra: Record<string, unknown>): Html {
  const entries = Object.entries(extra);
  if (entries.length === 0) return html``;
  return html`${entries.map(([name, value]) => {
    if (/log/i.test(name) && Array.isArray(value)) {
      return html`<h2>${name}</h2><ol class="log">${value.map((line) => html`<li>${typeof line === 'string' ? line : JSON.stringify(line)}</li>`)}</ol>`;
    }
    const pct =
      typeof value === 'number' ? value : typeof (value as { percent?: unknown })?.percent === 'number' ? (value as { percent: number }).percent : null;
    if (/progress/i.test(name) && pct !== null) {
      return html`<h2>${name}</h2><p><progress max="100" value="${pct}"></progress> ${pct}%</p>${typeof value === 'object' ? json(maskSecrets(value)) : ''}`;
    }
    return html`<h2>${name}</h2>${typeof value === 'string' ? html`<pre class="json">${value}</pre>` : json(maskSecrets(value))}`;
  })}`;
}

export function detailPage(e: EntryDetail, now: Date, csrf: string, message?: string): Html {
  const cancellable = e.state === 'waiting' || e.state === 'delayed' || e.state === 'running';
  const paramsCleared =
    (e.state === 'done' || e.state === 'cancelled') && typeof e.params === 'object' && e.params !== null && Object.keys(e.params).length === 0;
  return html`${notice(message)}<section class="card facts">
<dl>
  <dt>Tracking id</dt><dd class="mono">${e.id}</dd>
  <dt>Operation</dt><dd>${e.operation}</dd>
  <dt>State</dt><dd>${stateBadge(e.state)}${e.state === 'failed' && e.resultRead ? html` <span class="muted">(its error was read by the caller)</span>` : ''}</dd>
  <dt>Queue</dt><dd>${e.queue} <span class="muted">priority ${e.priority}</span></dd>
  <dt>User</dt><dd>${e.userName ?? html`<span class="muted">(deleted)</span>`}</dd>
</dl>
<div class="actions">
${
  cancellable
    ? html`<form method="post" action="/dashboard/operations/${encodeURIComponent(e.id)}/cancel"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger">Cancel this operation</button></form>`
    : ''
}
${
  e.state === 'failed'
    ? html`<form method="post" action="/dashboard/failed/retry"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="id" value="${e.id}"><input type="hidden" name="back" value="detail"><button type="submit">Retry</button></form>
<form method="post" action="/dashboard/failed/forget"><input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="id" value="${e.id}"><button type="submit" class="danger">Forget</button></form>`
    : ''
}
</div>
</section>
<h2>Timeline</h2>
<ol class="timeline">
  <li class="done"><b>Submitted</b> ${stamp(e.submittedAt)} <span class="muted">(${time(e.submittedAt, now)})</span></li>
  <li class="${e.dueAt <= now ? 'done' : ''}"><b>Due</b> ${stamp(e.dueAt)} <span class="muted">(${time(e.dueAt, now)})</span></li>
  <li class="${e.startedAt ? 'done' : ''}"><b>Started</b> ${e.startedAt ? html`${stamp(e.startedAt)} <span class="muted">(${time(e.startedAt, now)})</span>` : html`<span class="muted">not yet</span>`}</li>
  <li class="${e.finishedAt ? 'done' : ''}"><b>Finished</b> ${e.finishedAt ? html`${stamp(e.finishedAt)} <span class="muted">(${time(e.finishedAt, now)})</span> ${stateBadge(e.state)}` : html`<span class="muted">not yet</span>`}</li>
</ol>
<h2>Attempts</h2>
<p>${e.attempts} claimed, ${e.failures} failed since the last retry.</p>
${
  e.errors.length
    ? html`<table class="attempts"><thead><tr><th>Attempt</th><th>At</th><th>Code</th><th>Message</th></tr></thead><tbody>${e.errors.map(
        (a) => html`<tr><td class="num">${a.attempt}</td><td>${stamp(new Date(a.at))}</td><td><code>${a.code}</code></td><td>${a.message}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No attempt has failed.</p>`
}
${reported(e.extra)}
<h2>Parameters</h2>
${paramsCleared ? html`<p class="muted">Cleared when the operation finished.</p>` : html`<pre class="json params">${JSON.stringify(maskSecrets(e.params), null, 2)}</pre>`}`;
}
