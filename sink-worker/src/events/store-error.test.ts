import { describe, expect, it } from 'vitest';
import { ClickHouseError } from '@polaris/clickhouse';
import { classifyStoreError, clickHouseErrorCode, isDataError } from './store-error';

/** What @clickhouse/client throws for ClickHouse 18.16: a plain Error carrying the server's text. */
const legacy = (code: number, text: string) => new Error(`Code: ${code}, e.displayText() = DB::Exception: ${text}, e.what() = DB::Exception\n`);
/** What it throws for a current server: a parsed ClickHouseError. */
const current = (code: number, type: string, message: string) => new ClickHouseError({ code: String(code), type, message });

describe('classifyStoreError', () => {
  it('reads the code from 18.16 text and from a parsed ClickHouseError', () => {
    expect(clickHouseErrorCode(legacy(25, 'Cannot parse escape sequence: missing second part of surrogate pair'))).toBe(25);
    expect(clickHouseErrorCode(new Error('Code: 27. DB::Exception: Cannot parse input: expected \'"\'. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)'))).toBe(27);
    expect(clickHouseErrorCode(current(41, 'CANNOT_PARSE_DATETIME', 'Cannot parse datetime'))).toBe(41);
  });

  it.each([
    ['lone surrogate (18.16)', legacy(25, 'Cannot parse escape sequence: missing second part of surrogate pair: (while read the value of key id)'), 25],
    ['bad datetime (18.16)', legacy(41, 'Cannot parse datetime: (while read the value of key time): (at row 1)'), 41],
    ['negative unsigned (18.16)', legacy(72, "Unsigned type must not contain '-' symbol: (while read the value of key time_ms): (at row 1)"), 72],
    ['wrong JSON type (18.16)', legacy(26, 'Cannot parse JSON string: expected opening quote: (while read the value of key id): (at row 1)'), 26],
    ['parse assertion (18.16)', legacy(27, 'Cannot parse input: expected , before: .5}'), 27],
    ['text (current)', current(6, 'CANNOT_PARSE_TEXT', 'Cannot parse text'), 6],
    ['type mismatch (current)', current(53, 'TYPE_MISMATCH', 'Type mismatch'), 53],
    ['incorrect data (current)', current(117, 'INCORRECT_DATA', 'Cannot parse JSON object here'), 117],
    ['too large string (current)', current(131, 'TOO_LARGE_STRING_SIZE', 'Too large string size'), 131],
  ])('%s is bad data', (_, err, code) => {
    expect(classifyStoreError(err)).toMatchObject({ kind: 'data', code });
    expect(isDataError(err)).toBe(true);
  });

  it.each([
    ['a missing table (the integration test\'s outage)', legacy(60, "Table it_x.events_raw doesn't exist.")],
    ['a missing table (current)', current(60, 'UNKNOWN_TABLE', 'Table default.events_raw does not exist')],
    ['a missing database (the integration test\'s outage before migrate)', legacy(81, "Database it_x doesn't exist")],
    ['memory limit', current(241, 'MEMORY_LIMIT_EXCEEDED', 'Memory limit (total) exceeded')],
    ['too many parts', legacy(252, 'Too many parts (300). Merges are processing significantly slower than inserts.')],
    ['read-only table', current(242, 'TABLE_IS_READ_ONLY', 'Table is in readonly mode')],
    ['timeout', current(159, 'TIMEOUT_EXCEEDED', 'Timeout exceeded')],
    ['a column the sink writes is missing (deploy before migrate)', legacy(117, 'Unknown field found while parsing JSONEachRow format: tenant: (at row 1)')],
    ['a syntax error (a bug in our SQL, not in one row)', legacy(62, 'Syntax error: failed at position 52')],
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:58123'), { code: 'ECONNREFUSED' })],
    ['socket hang up', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['client timeout', new Error('Timeout error.')],
    ['5xx without a code', new Error('<html><body>502 Bad Gateway</body></html>')],
    ['a code quoted inside another message', new Error('proxy said: Code: 25, e.displayText() = DB::Exception: x')],
    ['not an Error', 'Code: 25, e.displayText() = DB::Exception: x'],
    ['undefined', undefined],
  ])('%s is an outage', (_, err) => {
    expect(classifyStoreError(err).kind).toBe('outage');
    expect(isDataError(err)).toBe(false);
  });
});
