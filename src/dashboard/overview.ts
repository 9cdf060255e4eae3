// The overview: per queue its counts, oldest waiting age and chart of the last hour; the executors with
// their workers and last heartbeat. The same snapshot feeds the page and the live stream.
import { html, query, type Html } from './html.js';
import { age, relative, stamp } from './layout.js';
import { minuteChart } from './chart.js';
import type { ExecutorView, MinuteCount, QueueOverview } from './queries.js';

export interface Snapshot {
  at: Date;
  queues: QueueOverview[];
  minutes: MinuteCount[];
  executors: ExecutorView[];
  /** An executor not seen since this is gone (three heartbeats). */
  staleBefore: Date;
}

const count = (n: number, label: string, queue: string, state: string) =>
  html`<a class="count count-${state}${n === 0 ? ' zero' : ''}" href="/dashboard/operations${query({ queue, state })}"><b>${n.toLocaleString('en')}</b><span>${label}</span></a>`;

function queueCard(q: QueueOverview, s: Snapshot): Html {
  return html`<section class="card queue" data-queue="${q.queue}">
  <h2>${q.queue}</h2>
  <div class="counts">
    ${count(q.waiting, 'waiting', q.queue, 'waiting')}${count(q.delayed, 'delayed', q.queue, 'delayed')}${count(q.running, 'running', q.queue, 'running')}${count(q.failed, 'failed', q.queue, 'failed')}${count(q.done, 'done, unread', q.queue, 'done')}
  </div>
  <p class="oldest">Oldest waiting: ${q.oldestWaitingSince ? html`<b>${age(q.oldestWaitingSince, s.at)}</b>` : html`<span class="muted">none</span>`}</p>
  ${minuteChart(
    s.minutes.filter((m) => m.queue === q.queue),
    s.at,
    `queue ${q.queue}`,
  )}
</section>`;
}

function executorTable(s: Snapshot): Html {
  if (s.executors.length === 0)
    return html`<p class="muted">No executor has reported. Start one: <code>wsgate serve</code>, <code>wsgate work</code> or <code>wsgate execute</code>.</p>`;
  return html`<table class="executors">
<thead><tr><th>Host</th><th>PID</th><th>Queues</th><th>Workers busy / free</th><th>Last heartbeat</th><th>Started</th></tr></thead>
<tbody>${s.executors.map((e) => {
    const gone = e.seenAt < s.staleBefore;
    return html`<tr class="${gone ? 'gone' : ''}"><td>${e.host}</td><td>${e.pid}</td><td>${e.queues}</td>
<td><span class="meter" title="${e.busyWorkers} of ${e.maxWorkers} busy">${Array.from({ length: Math.min(e.maxWorkers, 32) }, (_, i) => html`<i class="${i < e.busyWorkers ? 'busy' : ''}"></i>`)}</span> ${e.busyWorkers} / ${e.maxWorkers - e.busyWorkers}</td>
<td title="${stamp(e.seenAt)}">${relative(e.seenAt, s.at)}${gone ? html` <span class="state state-failed">gone</span>` : ''}</td><td title="${stamp(e.startedAt)}">${relative(e.startedAt, s.at)}</td></tr>`;
  })}</tbody></table>`;
}

/** What the live stream replaces on the overview page. */
export function overviewLive(s: Snapshot): Html {
  return html`<div class="queues">${s.queues.length ? s.queues.map((q) => queueCard(q, s)) : html`<p class="card muted">No operations are stored. Deferred calls appear here as they are queued.</p>`}</div>
<h2>Executors</h2>
${executorTable(s)}
<p class="muted small">Updated ${stamp(s.at)}</p>`;
}

/** The header's totals on every page. */
export function summaryLive(s: Snapshot): Html {
  const sum = (k: 'waiting' | 'delayed' | 'running' | 'failed' | 'done') => s.queues.reduce((a, q) => a + q[k], 0);
  const busy = s.executors.filter((e) => e.seenAt >= s.staleBefore).reduce((a, e) => a + e.busyWorkers, 0);
  const max = s.executors.filter((e) => e.seenAt >= s.staleBefore).reduce((a, e) => a + e.maxWorkers, 0);
  return html`<span data-total="waiting">${sum('waiting')} waiting</span> · <span data-total="running">${sum('running')} running</span> · <a href="/dashboard/failed" data-total="failed" class="${sum('failed') ? 'alert' : ''}">${sum('failed')} failed</a> · <span>${busy}/${max} workers busy</span>`;
}

export const overviewPage = (s: Snapshot) => html`<div data-live="overview">${overviewLive(s)}</div>`;
