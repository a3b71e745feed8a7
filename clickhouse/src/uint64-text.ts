import { z } from 'zod';

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A UInt64 as decimal text, as PostgreSQL bigints and the gRPC API carry ids and revisions (a JS
 * number would round past 2^53). Reaches SQL as `sqlUInt(BigInt(text))`.
 */
export const uint64TextSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,19})$/, 'must be a UInt64 as decimal text')
  .refine((s) => BigInt(s) <= UINT64_MAX, 'must fit a UInt64');
