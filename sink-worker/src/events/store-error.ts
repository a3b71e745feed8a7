import { ClickHouseError } from '@polaris/clickhouse';

/**
 * ClickHouse error codes that mean "this data can never be stored as it is": the server read the
 * request and refused what was in it. Retrying the same rows fails the same way forever, so the
 * sink isolates the rows that cause them and dead-letters those (reason `store_rejected`).
 *
 * Everything else is an outage and is retried, never skipped: network errors and timeouts, 5xx
 * without a code, a missing table or column (60 UNKNOWN_TABLE, 16 NO_SUCH_COLUMN_IN_TABLE: a
 * deploy before `migrate`), memory (241), too many parts (252), read-only replicas (242), disk
 * (243), and any code not listed here. When in doubt a code stays out of this list: an outage
 * mistaken for bad data would send good events to the dead-letter topic, while bad data mistaken
 * for an outage only stops the partition, visibly (stall alarm), until a person decides.
 */
export const DATA_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [128, 'TOO_LARGE_ARRAY_SIZE'],
  [130, 'CANNOT_READ_ARRAY_FROM_TEXT'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [190, 'SIZES_OF_ARRAYS_DOESNT_MATCH'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [376, 'CANNOT_PARSE_UUID'],
  [407, 'DECIMAL_OVERFLOW'],
  [441, 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING'],
  [467, 'CANNOT_PARSE_BOOL'],
  [469, 'VIOLATED_CONSTRAINT'],
]);

export type StoreErrorClass =
  | { kind: 'data'; code: number; name: string }
  | { kind: 'outage'; code?: number };

/**
 * `Code: 25, e.displayText() = DB::Exception: …` (18.16, which @clickhouse/client does not parse
 * into a ClickHouseError: its pattern needs the `(TYPE_NAME)` suffix of newer servers) or
 * `Code: 25. DB::Exception: …` (newer servers). Anchored at the start, so a code quoted inside
 * some other message is never taken for the server's own.
 */
const SERVER_CODE = /^Code: (\d+)[.,] (?:e\.displayText\(\) = )?DB::Exception/;

/** The ClickHouse server's error code in `err`, if the server is what refused. */
export function clickHouseErrorCode(err: unknown): number | undefined {
  if (err instanceof ClickHouseError && /^\d+$/.test(err.code)) return Number(err.code);
  if (err instanceof Error) {
    const m = SERVER_CODE.exec(err.message);
    if (m?.[1]) return Number(m[1]);
  }
  return undefined;
}

/**
 * Bad data or store down? Keyed on the server's error code only; pure, so both ways are tested
 * without a server.
 */
export function classifyStoreError(err: unknown): StoreErrorClass {
  const code = clickHouseErrorCode(err);
  if (code === undefined) return { kind: 'outage' };
  const name = DATA_ERROR_CODES.get(code);
  if (name === undefined) return { kind: 'outage', code };
  // JSONEachRow's "Unknown field found": the table lacks a column the sink writes. Every row has
  // the same fields, so this is a schema behind the code (deploy before migrate), not a bad row.
  if (code === 117 && err instanceof Error && /unknown field/i.test(err.message)) return { kind: 'outage', code };
  return { kind: 'data', code, name };
}

export const isDataError = (err: unknown): boolean => classifyStoreError(err).kind === 'data';
