import { meterUsage, type ClickHouseReader, type MeterUsageQuery, type MeterUsageResult, type MeterUsageRow } from '@polaris/clickhouse';
import { subjectName, type UsageDataset } from './usage-dataset';

const DAY_MS = 86_400_000;
export const TOP_SUBJECTS = 100;

/** One path to an answer: meterUsage.query over the rollups, or meterUsage.queryRaw over events_raw. */
export type MeterUsageQueryFn = (reader: ClickHouseReader, params: MeterUsageQuery) => Promise<MeterUsageResult>;

/** A question bench:usage times on the rollups and on raw events, and the answers compared. */
export interface UsageScenario {
  name: string;
  /** The goal the rollup path is reported against (p95), if any. */
  goalP95Ms?: number;
  /**
   * Its answer is over the read client's row cap (CLICKHOUSE_READ_MAX_RESULT_ROWS): asked on a
   * client without it, and timed fewer times (it is a reference, not a goal).
   */
  overReadCap?: boolean;
  /** Asks the question through `query` on `reader`; the answer is compared as JSON between the paths. */
  ask(query: MeterUsageQueryFn, reader: ClickHouseReader): Promise<UsageAnswer>;
}

export interface UsageAnswer {
  /** Rows the query (or queries) returned. */
  rows: number;
  /** What must be equal on both paths. */
  value: unknown;
}

/** Exact decimal text as an integer of nano-units: values order exactly, never through a float. */
export function decimalNanos(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const nanos = BigInt(whole + fraction.padEnd(9, '0').slice(0, 9));
  return negative ? -nanos : nanos;
}

/** The `n` subjects with the largest values (ties: by subject), largest first. */
export function topSubjects(rows: readonly MeterUsageRow[], n: number): Array<{ subject: string; value: string }> {
  const totals = new Map<string, bigint>();
  for (const r of rows) totals.set(r.subject, (totals.get(r.subject) ?? 0n) + decimalNanos(r.value ?? '0'));
  return [...totals.entries()]
    .sort(([sa, a], [sb, b]) => (a === b ? sa.localeCompare(sb) : a > b ? -1 : 1))
    .slice(0, n)
    .map(([subject, nanos]) => ({ subject, value: nanos.toString() }));
}

/**
 * The four questions (see README, Benchmarks). meterUsage.query has no top-N (no ORDER BY value
 * or LIMIT), so "top 100 subjects" is ranked here, in the client, from a grouped answer.
 */
export function usageScenarios(ds: UsageDataset): UsageScenario[] {
  const base = { namespace: ds.namespace, meterVersionId: ds.meterVersionId, aggregation: 'SUM' as const };
  const last30Days = { fromMs: ds.toMs - 30 * DAY_MS, toMs: ds.toMs };
  const all90Days = { fromMs: ds.fromMs, toMs: ds.toMs };
  const answer = (result: MeterUsageResult): UsageAnswer => ({ rows: result.rows.length, value: result });
  return [
    {
      name: '(a) one subject, 30 days hourly',
      goalP95Ms: 50,
      ask: async (query, reader) =>
        answer(await query(reader, { ...base, ...last30Days, windowSize: 'hour', subjects: [subjectName(42)], groupBySubject: true })),
    },
    {
      // Two queries, each within the read client's 20,000-row cap: 90-day totals per subject
      // (10,000 rows) ranked here, then the daily series of the top 100 (9,000 rows).
      name: `(b) top ${TOP_SUBJECTS}, 90 days daily (2 queries)`,
      goalP95Ms: 500,
      ask: async (query, reader) => {
        const totals = await query(reader, { ...base, ...all90Days, windowSize: 'none', groupBySubject: true });
        const top = topSubjects(totals.rows, TOP_SUBJECTS);
        const days = await query(reader, { ...base, ...all90Days, windowSize: 'day', groupBySubject: true, subjects: top.map((t) => t.subject) });
        return { rows: totals.rows.length + days.rows.length, value: { totals, top, days } };
      },
    },
    {
      // The literal reading: one query for every (day, subject), ranked here. 900,000 rows: 45x the
      // read client's cap, so only an uncapped client can ask it (what a top-N in the query would save).
      name: `(b') top ${TOP_SUBJECTS}, 90 days daily (1 query, all rows)`,
      overReadCap: true,
      ask: async (query, reader) => {
        const days = await query(reader, { ...base, ...all90Days, windowSize: 'day', groupBySubject: true });
        return { rows: days.rows.length, value: { days, top: topSubjects(days.rows, TOP_SUBJECTS) } };
      },
    },
    {
      name: '(c) every subject, 30-day total',
      goalP95Ms: 500,
      ask: async (query, reader) => answer(await query(reader, { ...base, ...last30Days, windowSize: 'none', groupBySubject: true })),
    },
  ];
}

export const rollupQuery: MeterUsageQueryFn = meterUsage.query;
export const rawQuery: MeterUsageQueryFn = meterUsage.queryRaw;
