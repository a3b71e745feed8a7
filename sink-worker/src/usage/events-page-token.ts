import type { RecentEventsCursor } from '@polaris/clickhouse';
import { PolarisError } from '@polaris/shared/errors';
import { z } from 'zod';

// ListEvents pages by the sort key of the last event answered: (time ms, source, id), the
// event's identity with its time, so a page boundary is exact even among events of one
// millisecond. The token is opaque to callers so the order may change without breaking them.

const tokenSchema = z.tuple([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string(), z.string()]);

export function encodeEventsPageToken(last: RecentEventsCursor): string {
  return Buffer.from(JSON.stringify([last.time_ms, last.source, last.id]), 'utf8').toString('base64url');
}

/** Where the previous page ended; undefined for the first page. */
export function decodeEventsPageToken(token: string): RecentEventsCursor | undefined {
  if (token === '') return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = tokenSchema.safeParse(decoded);
  if (!parsed.success) throw new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  const [time_ms, source, id] = parsed.data;
  return { time_ms, source, id };
}
