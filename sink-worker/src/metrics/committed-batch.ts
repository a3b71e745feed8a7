/**
 * What the consumer tells its observers about each partition batch it has committed: the hook
 * between sink-worker/src/events/ (the consumer) and the metrics here, kept to plain data so the
 * consumer knows nothing of how it is measured.
 */
export interface CommittedBatch {
  partition: number;
  /** Messages in the batch (stored, duplicates and dead letters alike). */
  messages: number;
  /** Rows inserted into events_raw. */
  inserted: number;
  /** The offset committed: the next one the group will read on this partition. */
  committedOffset: string;
  /** The broker timestamp (epoch ms) of the batch's first message: how old its oldest event is. */
  firstMessageTimestampMs: number;
  /** From receiving the batch to its commit. */
  seconds: number;
}

/** Called after each commit; must not throw (the consumer does not guard it). */
export type BatchObserver = (batch: CommittedBatch) => void;
