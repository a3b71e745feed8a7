// @polaris/sdk: the public surface. Everything else in src/ is internal and may change.
export { PolarisClient } from './polaris-client.js';
export type { PolarisClientOptions } from './options.js';
export type { AnyEvents, ClientStats, DeliveryProblem, EventCatalog, FetchLike, FlushResult, RejectedEvent, TrackedEvent, TrackEvent } from './types.js';
export { BufferFullError, ClientClosedError, InvalidEventError, InvalidOptionError, PolarisClientError, UndeliveredEventsError } from './errors.js';
