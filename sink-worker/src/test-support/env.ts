/** Where integration tests find the local stack; override to point them elsewhere. */
export const TEST_CLICKHOUSE_URL = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:58123';
export const TEST_KAFKA_BROKERS = [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'];
