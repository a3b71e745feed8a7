import { PolarisError } from '@polaris/shared/errors';

// ListMeters pages by slug (keyset: stable while meters are added or archived, no OFFSET scans).
// The token is opaque to callers so the order can change without breaking them.

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** 0 (unset) means the default; more than the maximum is cut to it, as AIP-158 suggests. */
export function pageSize(requested: number | undefined): number {
  if (requested === undefined || requested === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0) {
    throw new PolarisError('invalid_argument', 'invalid_page_size', 'page_size must be a positive integer', 'page_size');
  }
  return Math.min(requested, MAX_PAGE_SIZE);
}

export function encodePageToken(afterSlug: string): string {
  return Buffer.from(JSON.stringify({ after: afterSlug }), 'utf8').toString('base64url');
}

/** The slug to continue after; undefined for the first page. */
export function decodePageToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  const refused = new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  if (typeof decoded !== 'object' || decoded === null || !('after' in decoded) || typeof decoded.after !== 'string' || decoded.after === '') throw refused;
  return decoded.after;
}
