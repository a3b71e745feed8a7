import { describeMeter, type DemoMeter } from './demo-meters';
import type { GraphQLRequest } from './graphql-client';

interface UsageRow {
  windowStart: string;
  subject: string | null;
  dimensions: Record<string, string>;
  value: string | null;
}

/** One meter's usage over the demo's range: its total, per hour, and grouped as the meter says. */
export interface MeterReport {
  meter: DemoMeter;
  total: string | null;
  perHour: UsageRow[];
  grouped: UsageRow[];
}

const USAGE = /* GraphQL */ `
  query($metric: String!, $from: DateTime!, $to: DateTime!, $groupBy: [String!]) {
    perHour: usage(metric: $metric, from: $from, to: $to, windowSize: HOUR) { total rows { windowStart subject dimensions value } }
    grouped: usage(metric: $metric, from: $from, to: $to, groupBy: $groupBy) { rows { windowStart subject dimensions value } }
  }
`;

/** The usage of one meter in [from, to) (whole minutes), read through the gateway as any client would. */
export async function readMeterUsage(request: GraphQLRequest, meter: DemoMeter, from: string, to: string): Promise<MeterReport> {
  const data = await request<{ perHour: { total: string | null; rows: UsageRow[] }; grouped: { rows: UsageRow[] } }>(USAGE, {
    metric: meter.slug,
    from,
    to,
    groupBy: meter.showBy ? [meter.showBy] : [],
  });
  return { meter, total: data.perHour.total, perHour: data.perHour.rows, grouped: meter.showBy ? data.grouped.rows : [] };
}

/** The total of one meter in [from, to): what the demo waits on. */
export async function meterTotal(request: GraphQLRequest, slug: string, from: string, to: string): Promise<string | null> {
  const data = await request<{ usage: { total: string | null } }>('query($metric: String!, $from: DateTime!, $to: DateTime!) { usage(metric: $metric, from: $from, to: $to) { total } }', { metric: slug, from, to });
  return data.usage.total;
}

const shown = (value: string | null) => value ?? '–';
const hourOf = (iso: string) => iso.slice(11, 16);

/**
 *   api_calls        COUNT of api.request                           total 150
 *     per hour (UTC)  08:00 25 · 09:00 25 · …
 */
export function formatReports(reports: readonly MeterReport[]): string {
  const width = Math.max(...reports.map((r) => r.meter.slug.length));
  const describeWidth = Math.max(...reports.map((r) => describeMeter(r.meter).length));
  return reports
    .map((r) => {
      const lines = [`  ${r.meter.slug.padEnd(width)}  ${describeMeter(r.meter).padEnd(describeWidth)}  total ${shown(r.total)}`];
      lines.push(`    per hour (UTC)  ${r.perHour.map((row) => `${hourOf(row.windowStart)} ${shown(row.value)}`).join(' · ')}`);
      if (r.meter.showBy) {
        const by = r.meter.showBy;
        lines.push(`    by ${by}${' '.repeat(Math.max(1, 12 - by.length))}${r.grouped.map((row) => `${(by === 'subject' ? row.subject : row.dimensions[by]) || '(none)'} ${shown(row.value)}`).join(' · ')}`);
      }
      return lines.join('\n');
    })
    .join('\n');
}
