import type { TrackedEvent } from './types.js';

/** Every error the client throws: a stable `code`, and the `field` at fault when there is one. */
export class PolarisClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** `track` with an event the collector would refuse, or `new PolarisClient` with a bad option. */
export class InvalidEventError extends PolarisClientError {
  constructor(field: string, reason: string) {
    super('invalid_event', `${field}: ${reason}`, field);
  }
}

export class InvalidOptionError extends PolarisClientError {
  constructor(field: string, reason: string) {
    super('invalid_option', `${field}: ${reason}`, field);
  }
}

/** `track` while `maxBufferedEvents` events wait to be sent, with `onFull: 'throw'`. */
export class BufferFullError extends PolarisClientError {
  constructor(readonly capacity: number) {
    super(
      'buffer_full',
      `${capacity} events are already waiting to be sent (maxBufferedEvents); the collector is slower than your traffic or unreachable. Retry later, raise maxBufferedEvents, or use onFull: 'drop'`,
    );
  }
}

/** `track` after `close()`. */
export class ClientClosedError extends PolarisClientError {
  constructor() {
    super('client_closed', 'the client is closed; create a new PolarisClient to send more events');
  }
}

/**
 * `close()` could not deliver every event (the collector stayed unreachable or kept answering
 * 429/5xx through every retry). The events are here, ids included: persist them and track them
 * again later, and they are still stored only once.
 */
export class UndeliveredEventsError extends PolarisClientError {
  constructor(
    readonly events: TrackedEvent[],
    lastFailure: string,
  ) {
    super('undelivered_events', `${events.length} event(s) could not be delivered before close() (last: ${lastFailure}); they are in error.events`);
  }
}
