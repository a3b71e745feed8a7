/** Offsets of one partition as the broker and the group report them (kafkajs gives decimal strings). */
export interface PartitionOffsets {
  partition: number;
  /** The first offset still kept. */
  low: string;
  /** The next offset to be written (high watermark). */
  high: string;
  /** The group's committed offset: the next one it will read; '-1' when it has committed none. */
  committed: string | undefined;
}

/**
 * Messages of a partition the group has not committed yet. A group that never committed on a
 * partition starts at the beginning (the sink subscribes fromBeginning), so everything still kept
 * is pending. A committed offset below `low` (retention deleted what it had not read) counts from
 * `low`: those messages are gone, not pending. Never negative.
 */
export function partitionLag(p: PartitionOffsets): bigint {
  const low = BigInt(p.low);
  const high = BigInt(p.high);
  const committed = p.committed === undefined || p.committed === '-1' ? low : BigInt(p.committed);
  const from = committed < low ? low : committed;
  return high > from ? high - from : 0n;
}
