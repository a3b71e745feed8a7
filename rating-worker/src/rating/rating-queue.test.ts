import { describe, expect, it } from 'vitest';
import { queuePrefixFor } from './rating-queue';

describe('queuePrefixFor', () => {
  it('is one prefix per database, safe for Redis keys', () => {
    expect(queuePrefixFor('postgres://u:p@127.0.0.1:55432/polaris')).toBe('bull-polaris');
    expect(queuePrefixFor('postgres://u:p@127.0.0.1:55432/polaris_e2e_x1?sslmode=disable')).toBe('bull-polaris_e2e_x1');
    expect(queuePrefixFor('postgres://u:p@h/we%20ird:db')).toBe('bull-we_ird_db');
    expect(queuePrefixFor('postgres://u:p@h')).toBe('bull');
  });
});
