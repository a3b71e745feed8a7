import type { Kafka } from 'kafkajs';
import type { KafkaConnection } from '@polaris/shared/kafka';
import { CliError } from '../errors';
import { formatDeadLetterId, readDeadLetters, type DeadLetter, type DeadLetterId } from './dead-letter';
import { rangesFor, selected } from './dead-letter-selection';
import { connectAdmin, operatorKafka, watermarks } from './kafka-reader';

/** How much of a value `show` previews as text; the base64 is always whole. */
const PREVIEW_CHARS = 2_000;

/**
 * The named dead letters, whole: original key, value bytes and headers. With an organization,
 * a letter of another one (or of none) is refused, so an operator scoped to one tenant sees only
 * that tenant's bytes.
 */
export async function showDeadLetters(
  opts: { connection: KafkaConnection; dlq: string; ids: readonly DeadLetterId[]; organizationId?: string },
  kafka: Kafka = operatorKafka(opts.connection),
): Promise<DeadLetter[]> {
  if (opts.ids.length === 0) throw new CliError('name at least one dead letter, as <partition>/<offset>');
  const admin = await connectAdmin(kafka, opts.connection.brokers);
  let marks: Awaited<ReturnType<typeof watermarks>>;
  try {
    marks = await watermarks(admin, opts.dlq);
  } finally {
    await admin.disconnect();
  }
  const letters = selected(await readDeadLetters(kafka, opts.dlq, rangesFor(marks, { ids: opts.ids }, opts.dlq)), { ids: opts.ids }, opts.dlq);
  const org = opts.organizationId;
  if (org !== undefined) {
    const other = letters.find((l) => l.organizationId !== org);
    if (other) throw new CliError(`dead letter ${formatDeadLetterId(other)} is not of organization ${org}`);
  }
  return letters;
}

/** Text for a person: printable UTF-8 as is, anything else as base64 (marked so). */
function bytesText(b: Buffer | null): string {
  if (b === null) return '(none)';
  const text = b.toString('utf8');
  const control = [...text].some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== '\t' && c !== '\n') || code === 0x7f;
  });
  const printable = Buffer.from(text, 'utf8').equals(b) && !control;
  return printable ? text : `base64:${b.toString('base64')}`;
}

function replaysText(l: DeadLetter): string {
  if (l.replays.length === 0) return 'never';
  return l.replays.map((r) => `${r.at} by ${r.by} to ${r.to}`).join('; ');
}

export function deadLetterText(dlq: string, l: DeadLetter): string {
  const headerLines = Object.entries(l.headers).map(([name, v]) => `    ${name}: ${[v].flat().map((x) => bytesText(x === undefined ? null : Buffer.from(x))).join(', ')}`);
  const value = l.value;
  const preview = value === null ? '(none)' : value.toString('utf8').slice(0, PREVIEW_CHARS) + (value.toString('utf8').length > PREVIEW_CHARS ? '…' : '');
  return [
    `dead letter ${formatDeadLetterId(l)} of ${dlq}`,
    `  reason:    ${l.reason}`,
    `  detail:    ${l.detail}`,
    `  source:    ${l.source}`,
    `  at:        ${l.at}`,
    `  org:       ${l.organizationId ?? '(names none)'}`,
    `  replayed:  ${replaysText(l)}`,
    `  key:       ${bytesText(l.key)}`,
    `  headers:${headerLines.length === 0 ? ' (none)' : `\n${headerLines.join('\n')}`}`,
    `  value:     ${value === null ? 'none' : `${value.length} bytes`}`,
    `  base64:    ${value === null ? '' : value.toString('base64')}`,
    `  utf8:      ${preview}`,
  ].join('\n');
}

/** Everything, bytes as base64: `Buffer.from(valueBase64, 'base64')` is the original value exactly. */
export function deadLetterJson(l: DeadLetter): Record<string, unknown> {
  return {
    partition: l.partition,
    offset: l.offset.toString(),
    reason: l.reason,
    detail: l.detail,
    source: l.source,
    at: l.at,
    organizationId: l.organizationId ?? null,
    replays: l.replays.map((r) => ({ ...r, offset: r.offset.toString() })),
    keyBase64: l.key?.toString('base64') ?? null,
    valueBase64: l.value?.toString('base64') ?? null,
    headersBase64: Object.fromEntries(Object.entries(l.headers).map(([k, v]) => [k, [v].flat().map((x) => (x === undefined ? null : Buffer.from(x).toString('base64')))])),
  };
}
