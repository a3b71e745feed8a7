import { describe, expect, it } from 'vitest';
import { deadLettersJson, deadLettersText, type DeadLetterSummary } from './dead-letter-list';

const letter: DeadLetterSummary = {
  partition: 3,
  offset: '17',
  source: 'polaris.events.v1/2/40',
  reason: 'invalid_json',
  detail: `Unexpected token\n  in JSON at position 0 ${'x'.repeat(200)}`,
  at: '2026-05-01T10:00:00.000Z',
  size: 512,
  organizationId: 'org-1',
  replays: 0,
};

describe('dead-letter list output', () => {
  it('prints one line per dead letter, with the detail on one line and cut short', () => {
    const text = deadLettersText('polaris.events.dlq.v1', [letter]);
    const [header, row, ...rest] = text.split('\n');
    expect(rest).toEqual([]);
    expect(header).toMatch(/^AT +SOURCE +REASON +SIZE +DLQ +ORG +REPLAYED +DETAIL$/);
    expect(row).toContain('polaris.events.v1/2/40');
    expect(row).toContain('512 B');
    expect(row).toContain('3/17');
    expect(row).toContain('Unexpected token in JSON');
    expect(row?.endsWith('…')).toBe(true);
    expect(row?.length).toBeLessThan(200);
  });

  it('says so when there is none', () => {
    expect(deadLettersText('polaris.events.dlq.v1', [])).toBe('no dead letters in polaris.events.dlq.v1');
  });

  it('prints JSON with the full detail', () => {
    expect(JSON.parse(deadLettersJson([letter]))).toEqual([letter]);
  });
});
