// Prometheus' text format of a registry, line for line what prom-client's Registry.metrics() writes, but with
// the histograms written from their series directly: prom-client builds an object per bucket line and
// formats its labels at every scrape (3-4 us a line), and the run and wait histograms by operation and queue
// are most of a busy gateway's exposition (thousands of lines). Each series' line prefixes (name, labels,
// le) are made once and kept with the series; a scrape only writes the numbers. The histograms' internals
// (hashMap, upperBounds) are prom-client 15's: when they are not there, prom-client writes the histogram.
import { Histogram, type Registry } from 'prom-client';

interface Series {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  name: string;
  help: string;
  hashMap?: Record<string, Series>;
  upperBounds?: number[];
  collect?: () => unknown;
}

/** As prom-client writes values (its util.getValueAsString). */
const valueText = (v: number) => (Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`);
const escapeText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (v: string | number) => (typeof v === 'string' ? escapeText(v).replace(/"/g, '\\"') : v);

/** Per series (its labels object, which prom-client keeps for the series' life): the prefix of each line. */
const prefixes = new WeakMap<object, string[]>();

function prefixesOf(name: string, upperBounds: number[], labels: Series['labels']): string[] {
  let p = prefixes.get(labels);
  if (p && p.length === upperBounds.length + 3) return p;
  const shared = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  const bucket = (le: number | string) => `${name}_bucket{le="${le}"${shared ? `,${shared}` : ''}} `;
  const plain = (suffix: string) => `${name}${suffix}${shared ? `{${shared}}` : ''} `;
  p = [...upperBounds.map(bucket), bucket('+Inf'), plain('_sum'), plain('_count')];
  prefixes.set(labels, p);
  return p;
}

/** One histogram's text; null when its internals are not prom-client 15's. */
export async function histogramText(histogram: Histogram): Promise<string | null> {
  const h = histogram as unknown as HistogramInternals;
  if (typeof h.hashMap !== 'object' || h.hashMap === null || !Array.isArray(h.upperBounds)) return null;
  if (h.collect) await h.collect();
  const bounds = h.upperBounds;
  // bucketValues is keyed by the bounds' text: converted once, not per line.
  const keys = bounds.map(String);
  const name = escapeText(h.name);
  const lines = [`# HELP ${name} ${escapeText(h.help)}`, `# TYPE ${name} histogram`];
  for (const series of Object.values(h.hashMap!)) {
    const p = prefixesOf(h.name, bounds, series.labels);
    let acc = 0;
    for (let i = 0; i < bounds.length; i++) {
      acc += (series.bucketValues as Record<string, number>)[keys[i]!]!;
      lines.push(p[i] + valueText(acc));
    }
    const n = bounds.length;
    lines.push(p[n] + valueText(series.count), p[n + 1] + valueText(series.sum), p[n + 2] + valueText(series.count));
  }
  return lines.join('\n');
}

/** The registry's exposition (Prometheus text format 0.0.4), as Registry.metrics() joins it. */
export async function expositionText(registry: Registry): Promise<string> {
  const parts = await Promise.all(
    registry.getMetricsAsArray().map(async (metric) => {
      const text = metric instanceof Histogram ? await histogramText(metric) : null;
      return text ?? registry.getSingleMetricAsString(metric.name);
    }),
  );
  return `${parts.join('\n\n')}\n`;
}
