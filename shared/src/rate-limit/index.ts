// @polaris/shared/rate-limit: what the services' per-organization rate limits share (collector:
// events, gateway: requests): the Redis client they count with, and when that Redis went away,
// for their fail-open grace.
export { createRateLimitRedis } from './rate-limit-redis';
export { RedisAvailability, type RedisAvailabilityOptions } from './redis-availability';
