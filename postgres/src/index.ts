// @polaris/postgres: the PostgreSQL pool and the repositories of the data it holds, the only code
// that reads or writes those tables. Migrations: `@polaris/postgres/migrate` (operator tooling,
// kept apart so services do not load node-pg-migrate).
export {
  createPool, postgresConfigSchema, postgresOwnerConfigSchema, LOCAL_APP_DATABASE_URL, LOCAL_OWNER_DATABASE_URL, type Pool, type PostgresConfig, type Queryable,
} from './pool';
export { APP_ROLE } from './app-role';
export { organizations, organizationSchema, isOrganizationId, type Organization } from './identity/organizations.repository';
export { apiKeys, apiKeySchema, type ApiKey, type ApiKeyWithOrganization } from './identity/api-keys.repository';
export { apiKeyManagement, type ListApiKeysInput } from './identity/api-key-management.repository';
export { organizationRateLimits, type OrganizationRateLimit } from './identity/organization-rate-limits.repository';
export { SLUG_PATTERN, slugify } from './identity/organization-slug';
export { requireEntityName } from './identity/entity-name';
export { inTransaction, type Transactable } from './transaction';
export { meters, type CreateMeterInput, type UpdateMeterInput, type ListMetersInput } from './meters/meters.repository';
export { backfillRuns } from './meters/backfill-runs.repository';
export { backfillQueue, type BackfillQueueSettings, type ClaimedBackfill } from './meters/backfill-queue.repository';
export { meterCatalog, type CatalogSnapshot, type CatalogVersion, type LeaseSettings } from './meters/meter-catalog.repository';
export { DEFAULT_PAGE_SIZE as DEFAULT_METER_PAGE_SIZE, MAX_PAGE_SIZE as MAX_METER_PAGE_SIZE } from './meters/page-token';
export { DAY_MS } from './meters/backfill-range';
export type { BackfillSegment } from './meters/backfill-segments';
export type { BackfillRun, BackfillRunState, Meter, MeterStatus, MeterVersion, VersionState } from './meters/meter-records';
export { missingPostgresMigrations, pingPostgres } from './schema-version';
export { customers, type CreateCustomerInput, type CustomerRef, type ListCustomersInput, type UpdateCustomerInput } from './billing/customers.repository';
export {
  plans, type CreatePlanInput, type CreatePlanVersionInput, type ListPlansInput, type PlanVersionRef, type UpdatePlanVersionInput,
} from './billing/plans.repository';
export {
  subscriptions, type ChangeSubscriptionPlanInput, type CreateSubscriptionInput, type ListSubscriptionsInput, type SubscriptionRef,
} from './billing/subscriptions.repository';
export { currentPeriod, scheduleOf } from './billing/subscription-periods';
export type { Customer, Plan, PlanVersion, Subscription, SubscriptionPhase } from './billing/billing-records';
export { invoices, type BilledHistory, type BilledPeriod, type ListInvoicesInput } from './billing/invoices.repository';
export type { ClaimOutcome, InvoiceComputation } from './billing/invoice-rating';
export type { InvoiceSummary } from './billing/invoice-rows';
export { invalidTransition as invalidInvoiceTransition, invoiceBusy } from './billing/invoice-errors';
export { billingCycle, type ActiveSubscription, type DuePeriod, type OpenedPeriod, type RatedParty, type RatedVersion } from './billing/billing-cycle.repository';
export type { Invoice, InvoiceEvent, InvoiceLine, InvoiceLineKind, InvoiceStatus } from './billing/billing-records';
export { withOrg, ORG_SETTING } from './tenant-scope';
export {
  notificationEvents, NOTIFICATION_EVENT_TYPES, type NotificationEventInput, type NotificationEventType,
} from './notifications/notification-events.repository';
export { usageThresholds, type CreateThresholdInput } from './thresholds/usage-thresholds.repository';
export { thresholdFirings, type FireInput, type ListFiringsInput, type WatchedThreshold } from './thresholds/threshold-firings.repository';
export { includedQuantity, limitFor, percentOf, periodOf, pricesFor, type WatchedSubscription } from './thresholds/threshold-terms';
export { MAX_PERCENT, MAX_THRESHOLDS_PER_CUSTOMER } from './thresholds/threshold-input';
export type { ThresholdFiring, ThresholdKind, UsageThreshold } from './thresholds/threshold-records';
export { EVENT_CATALOGUE, catalogueEntry, isNotificationEventType, requireEventFilter, type CatalogueEntry } from './notifications/event-catalogue';
export { requireWebhookUrl } from './notifications/webhook-input';
export { recordInvoiceNotification } from './notifications/invoice-notifications';
export {
  webhookEndpoints, PREVIOUS_SECRET_GRACE_MS, type WebhookEndpoint, type CreateWebhookEndpointInput, type UpdateWebhookEndpointInput, type SigningSecrets,
} from './notifications/webhook-endpoints.repository';
export {
  webhookDeliveries, MAX_REPLAY_BATCH, type WebhookDelivery, type WebhookAttempt, type DeliveryStatus, type AttemptOutcome, type AttemptTrigger,
  type ListDeliveriesInput, type QueuedDelivery,
} from './notifications/webhook-deliveries.repository';
export { webhookDispatch, type SendableDelivery, type AttemptRecord } from './notifications/webhook-dispatch.repository';
