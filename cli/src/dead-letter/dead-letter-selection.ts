import { CliError } from '../errors';
import { formatDeadLetterId, type DeadLetter, type DeadLetterId } from './dead-letter';
import type { OffsetRange } from './kafka-reader';

/** Which dead letters an operator means: named ones, or those matching every filter given. */
export interface DeadLetterSelection {
  ids?: readonly DeadLetterId[];
  reason?: string;
  /** Only letters whose original message names this organization. */
  organizationId?: string;
}

/**
 * The ranges of the dead-letter topic to read for a selection: from each named letter (or the
 * partition's start) to the partition's end, where the letters' replay records are.
 */
export function rangesFor(marks: Map<number, { low: bigint; high: bigint }>, selection: DeadLetterSelection, dlq: string): OffsetRange[] {
  if (!selection.ids?.length) return [...marks].map(([partition, { low, high }]) => ({ partition, from: low, to: high }));
  const from = new Map<number, bigint>();
  for (const id of selection.ids) {
    const m = marks.get(id.partition);
    if (!m) throw new CliError(`${dlq} has no partition ${id.partition} (dead letter ${formatDeadLetterId(id)})`);
    if (id.offset < m.low || id.offset >= m.high) {
      const holds = m.low === m.high ? 'holds no message' : `holds offsets ${m.low} to ${m.high - 1n}`;
      throw new CliError(`no dead letter ${formatDeadLetterId(id)}: partition ${id.partition} of ${dlq} ${holds}`);
    }
    const known = from.get(id.partition);
    if (known === undefined || id.offset < known) from.set(id.partition, id.offset);
  }
  return [...from].map(([partition, offset]) => ({ partition, from: offset, to: marks.get(partition)?.high ?? offset }));
}

/** The letters of `read` the selection names, in topic order; a named letter missing is an error. */
export function selected(read: readonly DeadLetter[], selection: DeadLetterSelection, dlq: string): DeadLetter[] {
  let letters = [...read];
  if (selection.ids?.length) {
    const byId = new Map(letters.map((l) => [formatDeadLetterId(l), l]));
    letters = selection.ids.map((id) => {
      const letter = byId.get(formatDeadLetterId(id));
      if (!letter) throw new CliError(`${formatDeadLetterId(id)} of ${dlq} is not a dead letter (a replay record, or compacted away)`);
      return letter;
    });
    letters = [...new Map(letters.map((l) => [formatDeadLetterId(l), l])).values()];
  }
  if (selection.reason !== undefined) letters = letters.filter((l) => l.reason === selection.reason);
  if (selection.organizationId !== undefined) letters = letters.filter((l) => l.organizationId === selection.organizationId);
  return letters.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

