/** The last two seconds formatted: see toClickHouseDateTime. */
let recent: [{ second: number; text: string }, { second: number; text: string }] = [
  { second: Number.NaN, text: '' },
  { second: Number.NaN, text: '' },
];

/**
 * The one way a time becomes ClickHouse `DateTime` text ('YYYY-MM-DD hh:mm:ss', UTC), as
 * JSONEachRow inserts and the migration runner's bookkeeping write it. DateTime has no sub-second
 * part, so milliseconds are dropped (floored), never rounded up into the next second.
 */
export function toClickHouseDateTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  // The sink formats two times per row (event time, receive time) and both repeat from row to
  // row; remembering the last two seconds saves most of the Date work (bench:sink).
  if (second === recent[0].second) return recent[0].text;
  if (second === recent[1].second) return recent[1].text;
  const text = new Date(second * 1000).toISOString().slice(0, 19).replace('T', ' ');
  recent = [{ second, text }, recent[0]];
  return text;
}

/** What `toClickHouseDateTime` writes; rows are checked against it before they are inserted. */
export const CLICKHOUSE_DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
