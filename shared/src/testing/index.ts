// @polaris/shared/testing: helpers for tests (never imported by product code).
export { eventually } from './eventually';
export { privateRedis, type PrivateRedis } from './redis-server';
