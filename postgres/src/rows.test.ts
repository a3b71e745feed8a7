import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseFirstRow, parseRows } from './rows';

const schema = z.object({ id: z.string(), createdAt: z.date() });

describe('parseRows', () => {
  it('passes rows that match the schema', () => {
    const row = { id: 'a', createdAt: new Date(0) };
    expect(parseRows('things.list', schema, [row])).toEqual([row]);
    expect(parseFirstRow('things.find', schema, [row, { nonsense: true }])).toEqual(row);
    expect(parseFirstRow('things.find', schema, [])).toBeUndefined();
  });

  it('refuses a row that does not match, naming the query, the row and the column', () => {
    expect(() => parseRows('things.list', schema, [{ id: 'a', createdAt: new Date(0) }, { id: 'b', createdAt: '1970-01-01' }])).toThrow(
      /postgres things\.list: row 1 .*createdAt/,
    );
  });
});
