// @polaris/shared/contracts: what producers and consumers agree on. Topic names, partitions and
// message shapes; the CloudEvent rules every entry point applies; the dead-letter headers; the
// organization id every internal RPC carries; the services' default ports.
export { ANY_EVENT_TIME, checkStorableEvent, DEFAULT_EVENT_TIME_WINDOW, storableEventData, MAX_EVENT_TIME_MS, normalizeCloudEvent, type EventTimeWindow, type NormalizedEvent } from './cloudevent';
export { isWellFormedUnicode, MAX_DATA_DEPTH } from './json-limits';
export { parseJsonExact, withExactNumbers } from './exact-json';
export {
  EVENTS_DLQ_TOPIC,
  EVENTS_TOPIC,
  encodeEventMessage,
  eventIdentityKey,
  eventMessageKey,
  eventMessageSchema,
  type EventMessage,
} from './events-topic';
export { keyPartition, murmur2 } from './event-partition';
export { EVENTS_TOPIC_PARTITIONS, TOPICS, type TopicSpec } from './topics';
export { DEAD_LETTER_HEADERS, DEAD_LETTER_REPLAY_HEADERS, deadLetterMessage, type DeadLetterInput } from './dead-letter';
export { requireOrganizationId } from './organization-id';
export { SERVICE_NODE_FLAGS, SERVICE_PORTS } from './service-ports';
