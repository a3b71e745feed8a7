import { PolarisError } from '@polaris/shared/errors';

/** The most a list answers at once (the services' own page limit). */
export const MAX_PAGE_SIZE = 200;

/** `first` as a page size, checked here so the caller reads its own argument's name. */
export function pageSize(first: number | null | undefined, fallback = 50): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new PolarisError('invalid_argument', 'invalid_page_size', `first must be between 1 and ${MAX_PAGE_SIZE}`, 'first');
  }
  return size;
}

/** A service's page as a connection (`nodes`, `endCursor`, `hasNextPage`); its page token is the cursor. */
export function connection<T>(nodes: T[], nextPageToken: string): { nodes: T[]; endCursor: string | null; hasNextPage: boolean } {
  return { nodes, endCursor: nextPageToken || null, hasNextPage: nextPageToken !== '' };
}

/** The services name the cursor `page_token`; the caller sent it as `after`. */
export const pageArgument = (field: string): string => (field === 'page_token' ? 'after' : field);
