/** Where integration tests find the local stack's broker; override to point them elsewhere. */
export const TEST_KAFKA_BROKERS = [process.env.KAFKA_BROKERS ?? '127.0.0.1:59092'];
