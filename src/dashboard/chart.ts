// The overview's chart: runs and failures per minute over the last hour, as inline SVG (presentation
// attributes and CSS classes only: the Content-Security-Policy allows no inline styles).
import { html, type Html } from './html.js';
import type { MinuteCount } from './queries.js';

const MINUTES = 60;
const W = 600;
const H = 110;
const TOP = 14;
const BAR = W / MINUTES;

export function minuteChart(counts: MinuteCount[], now: Date, label: string): Html {
  const start = Math.floor(now.getTime() / 60_000) - (MINUTES - 1);
  const runs = new Array<number>(MINUTES).fill(0);
  const failures = new Array<number>(MINUTES).fill(0);
  for (const c of counts) {
    const i = Math.floor(c.minute.getTime() / 60_000) - start;
    if (i < 0 || i >= MINUTES) continue;
    runs[i]! += c.runs;
    failures[i]! += c.failures;
  }
  const max = Math.max(1, ...runs);
  const y = (n: number) => H - (n / max) * (H - TOP);
  const total = runs.reduce((a, b) => a + b, 0);
  const failed = failures.reduce((a, b) => a + b, 0);
  const bars = runs.map((n, i) => {
    const x = (i * BAR + 1).toFixed(1);
    const w = (BAR - 2).toFixed(1);
    const minute = new Date((start + i) * 60_000).toISOString().slice(11, 16);
    return html`<g><title>${minute} UTC: ${n} runs, ${failures[i]} failures</title>${
      n > 0 ? html`<rect class="runs" x="${x}" y="${y(n).toFixed(1)}" width="${w}" height="${(H - y(n)).toFixed(1)}"></rect>` : ''
    }${
      failures[i]! > 0
        ? html`<rect class="failures" x="${x}" y="${y(failures[i]!).toFixed(1)}" width="${w}" height="${(H - y(failures[i]!)).toFixed(1)}"></rect>`
        : ''
    }</g>`;
  });
  return html`<figure class="chart">
  <svg viewBox="0 0 ${W} ${H + 16}" role="img" aria-label="${label}: ${total} runs and ${failed} failures in the last hour">
    <line class="axis" x1="0" y1="${H}" x2="${W}" y2="${H}"></line>
    <line class="grid" x1="0" y1="${TOP}" x2="${W}" y2="${TOP}"></line>
    <text class="tick" x="2" y="${TOP - 3}">${max}/min</text>
    ${bars}
    <text class="tick" x="0" y="${H + 13}">−60 min</text>
    <text class="tick" x="${W / 2}" y="${H + 13}" text-anchor="middle">−30 min</text>
    <text class="tick" x="${W}" y="${H + 13}" text-anchor="end">now</text>
  </svg>
  <figcaption><span class="key runs"></span> runs ${total} <span class="key failures"></span> failures ${failed} <span class="muted">in the last hour</span></figcaption>
</figure>`;
}
