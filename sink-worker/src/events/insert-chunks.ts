/**
 * events_raw is partitioned by month (`toYYYYMM(time)`). Current ClickHouse refuses an INSERT
 * whose rows touch more than `max_partitions_per_insert_block` partitions (default 100) with
 * TOO_MANY_PARTS, which the sink must treat as an outage and would retry forever: one batch of
 * backdated events spanning nine years would stop its partition. So a batch is cut into inserts
 * that each touch at most this many months. A live batch is one month, so still one insert.
 */
export const MAX_MONTHS_PER_INSERT = 100;

/**
 * Splits rows into chunks that each span at most `maxMonths` distinct months of `time`
 * ('YYYY-MM-DD hh:mm:ss'), keeping every month's rows together and the rows' order within it.
 */
export function chunkByMonth<T>(items: readonly T[], timeOf: (item: T) => string, maxMonths = MAX_MONTHS_PER_INSERT): T[][] {
  const byMonth = new Map<string, T[]>();
  for (const item of items) {
    const month = timeOf(item).slice(0, 7);
    const rows = byMonth.get(month);
    if (rows) rows.push(item);
    else byMonth.set(month, [item]);
  }
  if (byMonth.size <= maxMonths) return items.length > 0 ? [[...items]] : [];
  const chunks: T[][] = [];
  let chunk: T[] = [];
  let months = 0;
  for (const rows of byMonth.values()) {
    if (months === maxMonths) {
      chunks.push(chunk);
      chunk = [];
      months = 0;
    }
    chunk.push(...rows);
    months++;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
