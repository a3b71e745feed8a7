import { PolarisError } from '@polaris/shared/errors';

// ListDeliveries pages newest first by (created_at, id): keyset, stable while deliveries are added.
// The token is opaque to callers.

export const DEFAULT_DELIVERY_PAGE_SIZE = 50;
export const MAX_DELIVERY_PAGE_SIZE = 500;

export function deliveryPageSize(requested: number | undefined): number {
  if (requested === undefined || requested === 0) return DEFAULT_DELIVERY_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0) {
    throw new PolarisError('invalid_argument', 'invalid_page_size', 'page_size must be a positive integer', 'page_size');
  }
  return Math.min(requested, MAX_DELIVERY_PAGE_SIZE);
}

export function encodeDeliveryPageToken(createdAt: Date, id: string): string {
  // created_at is stored in whole milliseconds (migration 008), so a Date carries it exactly.
  return Buffer.from(JSON.stringify({ at: createdAt.toISOString(), id }), 'utf8').toString('base64url');
}

export function decodeDeliveryPageToken(token: string | undefined): { createdAt: string; id: string } | undefined {
  if (token === undefined || token === '') return undefined;
  const refused = new PolarisError('invalid_argument', 'invalid_page_token', 'page_token is not a token this listing returned', 'page_token');
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof decoded === 'object' && decoded !== null && 'at' in decoded && 'id' in decoded && typeof decoded.at === 'string' && typeof decoded.id === 'string') {
      if (!Number.isNaN(Date.parse(decoded.at)) && /^[0-9a-f-]{36}$/i.test(decoded.id)) return { createdAt: decoded.at, id: decoded.id };
    }
  } catch {
    // falls through to the refusal
  }
  throw refused;
}
