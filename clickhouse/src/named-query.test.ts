import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { QueryShapeError, selectRows, type ClickHouseReader } from './named-query';

/** A reader that records what it was asked and answers these lines, as the server's stream would. */
function replying(lines: string[], limits?: ClickHouseReader['limits']) {
  const asked: Array<{ query: string; clickhouse_settings?: Record<string, unknown> }> = [];
  const reader = {
    limits,
    query: async (params: { query: string; clickhouse_settings?: Record<string, unknown> }) => {
      asked.push(params);
      return { stream: () => [lines.map((text) => ({ text, json: () => JSON.parse(text) as unknown }))] };
    },
  } as unknown as ClickHouseReader;
  return { reader, asked };
}

const n = z.object({ n: z.string() });

describe('selectRows', () => {
  it('runs every SELECT read-only, with limits that throw, whatever the statement asks', async () => {
    const { reader, asked } = replying(['{"n":"1"}']);
    await selectRows(reader, 'test', { query: 'SELECT 1 AS n', settings: { readonly: '0', max_query_size: '1000', result_overflow_mode: 'break' } }, n);
    expect(asked[0]?.clickhouse_settings).toMatchObject({ readonly: '2', max_query_size: '1000', result_overflow_mode: 'throw', timeout_overflow_mode: 'throw', wait_end_of_query: 1 });
  });

  it('checks each row as it streams, naming the row that does not fit', async () => {
    const { reader } = replying(['{"n":"1"}', '{"n":2}']);
    const err = await selectRows(reader, 'test.q', { query: 'SELECT' }, n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryShapeError);
    expect((err as Error).message).toBe('test.q: rows do not match its schema: 1.n: Invalid input: expected string, received number');
  });

  it('turns a server limit error arriving after rows into query_result_too_large, naming the cap', async () => {
    const over = 'Code: 396, e.displayText() = DB::Exception: Limit for result exceeded, max rows: 5.00, current rows: 6.00, e.what() = DB::Exception';
    const { reader } = replying(['{"n":"1"}', over], { maxResultRows: 5, maxExecutionTimeS: 10 });
    await expect(selectRows(reader, 'test', { query: 'SELECT' }, n)).rejects.toMatchObject({
      kind: 'invalid_argument',
      code: 'query_result_too_large',
      message: expect.stringMatching(/more than 5 rows \(CLICKHOUSE_READ_MAX_RESULT_ROWS\); narrow the query/),
    });
  });

  it('turns a timeout into query_timeout, and leaves other server errors as they are', async () => {
    const failing = (message: string): ClickHouseReader => ({ query: () => Promise.reject(new Error(message)) }) as unknown as ClickHouseReader;
    await expect(selectRows(failing('Code: 159. DB::Exception: Timeout exceeded: elapsed 10.1 seconds. (TIMEOUT_EXCEEDED)'), 't', { query: 'SELECT' }, n)).rejects.toMatchObject({
      kind: 'invalid_argument',
      code: 'query_timeout',
    });
    await expect(selectRows(failing('Code: 60, e.displayText() = DB::Exception: Table polaris.x does not exist'), 't', { query: 'SELECT' }, n)).rejects.toThrow(/^Code: 60/);
  });
});
