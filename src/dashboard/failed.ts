// The failed store's page: each entry with its last error, retry or forget one, the selected, or all
// (after a confirmation page). The actions are the CLI's (src/queue/failed.ts).
import { html, query, type Html } from './html.js';
import { notice, time } from './layout.js';
import { cursorOf } from './operations.js';
import type { ListRow } from './queries.js';

export function failedTable(rows: ListRow[], next: { at: Date; id: string } | null, before: string | undefined, now: Date, csrf: string): Html {
  if (rows.length === 0) return html`<p class="card muted">The failed store is empty.</p>`;
  return html`<form method="post" class="failed-form">
<input type="hidden" name="_csrf" value="${csrf}">
<table class="failed">
<thead><tr><th><span class="sr">Select</span></th><th>Tracking id</th><th>Operation</th><th>Queue</th><th>User</th><th>Failed</th><th>Attempts</th><th>Last error</th><th></th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr data-id="${r.id}"><td><input type="checkbox" name="id" value="${r.id}" aria-label="select ${r.id}"></td>
<td><a class="mono" href="/dashboard/operations/${encodeURIComponent(r.id)}">${r.id}</a></td><td>${r.operation}</td><td>${r.queue}</td><td>${r.userName ?? ''}</td>
<td>${time(r.finishedAt, now)}</td><td class="num">${r.attempts}</td>
<td>${r.lastError ? html`<code>${r.lastError.code}</code> ${r.lastError.message}` : ''}</td>
<td class="row-actions"><button type="submit" formaction="/dashboard/failed/retry?one=${encodeURIComponent(r.id)}" class="small">Retry</button> <button type="submit" formaction="/dashboard/failed/forget?one=${encodeURIComponent(r.id)}" class="small danger">Forget</button></td></tr>`,
  )}</tbody></table>
<div class="actions">
  <button type="submit" formaction="/dashboard/failed/retry">Retry selected</button>
  <button type="submit" formaction="/dashboard/failed/forget" class="danger">Forget selected</button>
  <span class="spacer"></span>
  <a class="button" href="/dashboard/failed/confirm?action=retry">Retry all…</a>
  <a class="button danger" href="/dashboard/failed/confirm?action=forget">Forget all…</a>
</div>
</form>
<nav class="pager">${before ? html`<a href="/dashboard/failed">« Newest</a>` : ''}${next ? html`<a href="/dashboard/failed${query({ before: cursorOf(next) })}" rel="next">Older »</a>` : ''}</nav>`;
}

export function failedPage(
  rows: ListRow[],
  next: { at: Date; id: string } | null,
  before: string | undefined,
  now: Date,
  csrf: string,
  message?: string,
): Html {
  return html`${notice(message)}<p class="muted">Operations whose attempts were used up by infrastructure failures (timeouts, workers that died, internal errors). Retrying queues one again with its tries counted afresh, under the same tracking id; forgetting deletes it. The same as <code>wsgate retry</code>, <code>wsgate forget</code> and <code>wsgate flush</code>.</p>
<div id="list" hx-get="/dashboard/failed${query({ before, part: 'list' })}" hx-trigger="wsgate-changed from:body" hx-swap="innerHTML">${failedTable(rows, next, before, now, csrf)}</div>`;
}

export function confirmPage(action: 'retry' | 'forget', total: number, csrf: string): Html {
  const what = action === 'retry' ? 'Retry' : 'Forget';
  return html`<form method="post" action="/dashboard/failed/${action}" class="card confirm">
<input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="all" value="confirmed">
<p>${what} <b>all ${total.toLocaleString('en')}</b> entries of the failed store?${action === 'forget' ? html` They are deleted; this cannot be undone.` : html` They are queued again, due now.`}</p>
<button type="submit" class="${action === 'forget' ? 'danger' : ''}">${what} all</button> <a href="/dashboard/failed">Back</a>
</form>`;
}
