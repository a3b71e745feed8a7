// The rating-worker's admin port: bull-board over the rating queues, for admin API keys only.
export { startAdminPort } from './admin-port';
export { ADMIN_REALM, ADMIN_SCOPE, QUEUE_BOARD_PATH, startQueueBoard, type QueueBoard } from './queue-board';
export { postgresKeyAuthenticator, type AdminAuthenticate, type KeyHolder } from './admin-keys';
