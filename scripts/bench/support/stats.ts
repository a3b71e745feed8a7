/** Exact percentile (nearest rank) of a sample; the samples here are small enough to sort. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : '–');
export const perSecond = (events: number, elapsedMs: number): number => (elapsedMs > 0 ? (events * 1000) / elapsedMs : 0);
export const rate = (value: number): string => Math.round(value).toLocaleString('en-US');
export const ratio = (value: number, baseline: number): string => (baseline > 0 ? `${(value / baseline).toFixed(2)}x` : '–');

/** Right-aligns every column whose cells (past the header) look like numbers. */
export function formatBenchTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[-–0-9.,]+( ?[a-z%x/]+)?$/i.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

// ---- Prometheus text format (only what the benches read: counters and histograms) ----

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (k !== undefined && v !== undefined) labels[k] = v;
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

export async function scrapeMetrics(opsPort: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`/metrics on ops port ${opsPort} answered ${res.status}`);
  return parsePrometheus(await res.text());
}

const matches = (s: Sample, filter: Record<string, string>) => Object.entries(filter).every(([k, v]) => s.labels[k] === v);

/** Sum of a counter over the series matching `filter`. */
export function counterValue(samples: readonly Sample[], name: string, filter: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && matches(s, filter)).reduce((n, s) => n + s.value, 0);
}

export interface HistogramSnapshot {
  /** Cumulative counts by upper bound, ascending, +Inf last. */
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

export function histogramValue(samples: readonly Sample[], name: string, filter: Record<string, string> = {}): HistogramSnapshot {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s, filter)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return {
    buckets: [...byLe.entries()].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count })),
    count: counterValue(samples, `${name}_count`, filter),
    sum: counterValue(samples, `${name}_sum`, filter),
  };
}

/** What was observed between two scrapes. */
export function histogramDelta(after: HistogramSnapshot, before: HistogramSnapshot): HistogramSnapshot {
  const earlier = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (earlier.get(b.le) ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/** Upper bound of the bucket holding quantile q: "at most this", the best a histogram can say. */
export function bucketQuantile(h: HistogramSnapshot, q: number): number {
  const target = q * h.count;
  return h.buckets.find((b) => b.count >= target && b.count > 0)?.le ?? Number.NaN;
}

/** "count 412, mean 3.10 ms, p50 ≤ 5 ms, p99 ≤ 10 ms" for a histogram in seconds. */
export function describeSecondsHistogram(h: HistogramSnapshot): string {
  if (h.count === 0) return 'no observations';
  const bound = (q: number) => {
    const le = bucketQuantile(h, q);
    return Number.isFinite(le) ? `≤ ${ms(le * 1000)}` : '> largest bucket';
  };
  return `count ${h.count}, mean ${ms((h.sum / h.count) * 1000)}, p50 ${bound(0.5)}, p99 ${bound(0.99)}`;
}

/**
 * Runs `fn` `warmup` times untimed, then `runs` times one after the other, timed: the latencies
 * and the last answer (for checking against another path's).
 */
export async function timeRuns<T>(runs: number, warmup: number, fn: () => Promise<T>): Promise<{ latenciesMs: number[]; answer: T }> {
  if (runs + warmup === 0) throw new Error('timeRuns: nothing to run');
  let answer: T | undefined;
  for (let i = 0; i < warmup; i++) answer = await fn();
  const latenciesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    answer = await fn();
    latenciesMs.push(performance.now() - t);
  }
  return { latenciesMs, answer: answer as T };
}
