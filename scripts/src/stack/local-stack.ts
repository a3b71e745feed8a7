// @polaris/dev/local-stack: control of the local stack for tests that take a store down and
// bring it back (e2e outage tests), or run one of their own on other ports.
export { loadDevConfig, type DevConfig } from '../config';
export { stackLayout } from '../paths';
export { downOne, stackServices, stackStatus, upOne } from './stack';
export { clickhouseService } from './clickhouse';
export { kafkaService } from './kafka';
export { postgresService } from './postgres';
export { redisService } from './redis';
export type { StackService } from './service';
