// Public face of the generated contracts. Generated code lives in ../gen (npm run generate).
export {
  IdentityService, IdentityClient, Organization, ValidateApiKeyRequest, ValidateApiKeyResponse, GetOrganizationRequest, EventRateLimit,
  ApiKeysService, ApiKeysClient, ApiKey, ListApiKeysRequest, ListApiKeysResponse, CreateApiKeyRequest, CreatedApiKey, RevokeApiKeyRequest,
  type IdentityServer, type ApiKeysServer,
} from '../gen/polaris/v1/identity';
export { IngestService, IngestClient, PublishRequest, PublishResponse, CloudEvent, type IngestServer } from '../gen/polaris/v1/ingest';
export {
  UsageService, UsageClient, WindowSize,
  QueryMeterRequest, QueryMeterResponse, QueryMeterRow, DimensionFilter,
  ListEventsRequest, ListEventsResponse, StoredEvent, EventMeterValue, EventInvalidValue,
  type UsageServer,
} from '../gen/polaris/v1/usage';
export {
  MetersService, MetersClient, MeterCatalogService, MeterCatalogClient, MeterAggregation, MeterDefinition, MeterDimension,
  MeterVersion, Meter, BackfillSegment, BackfillRun, CreateMeterRequest, GetMeterRequest, ListMetersRequest, ListMetersResponse,
  UpdateMeterRequest, StartBackfillRequest, GetBackfillRequest, CatalogMeterVersion, SyncCatalogRequest, SyncCatalogResponse,
  ClaimBackfillRequest, ClaimBackfillResponse, ClaimedBackfill, ReportBackfillProgressRequest, ReportBackfillProgressResponse,
  CompleteBackfillRequest, FailBackfillRequest, BatchGetMetersRequest, BatchGetMetersResponse,
  type MetersServer, type MeterCatalogServer,
} from '../gen/polaris/v1/meters';
export {
  CustomersService, CustomersClient, PlansService, PlansClient, SubscriptionsService, SubscriptionsClient, InvoicesService, InvoicesClient,
  PriceModel, BillingAnchor, Customer, CustomerRef, CreateCustomerRequest, ListCustomersRequest, ListCustomersResponse, UpdateCustomerRequest,
  CustomerSubjectsRequest, PriceTier, Price, PlanVersion, Plan, CreatePlanRequest, GetPlanRequest, ListPlansRequest, ListPlansResponse,
  CreatePlanVersionRequest, PlanVersionRef, UpdatePlanVersionRequest, SubscriptionPhase, Subscription, SubscriptionRef,
  CreateSubscriptionRequest, ListSubscriptionsRequest, ListSubscriptionsResponse, ChangeSubscriptionPlanRequest, TierPiece, InvoiceLine,
  InvoiceEvent, Invoice, InvoiceRef, InvoiceActionRequest, ListInvoicesRequest, ListInvoicesResponse,
  BatchGetCustomersRequest, BatchGetCustomersResponse, BatchGetInvoicesRequest, BatchGetInvoicesResponse,
  type CustomersServer, type PlansServer, type SubscriptionsServer, type InvoicesServer,
} from '../gen/polaris/v1/billing';
export {
  UsageThresholdsService, UsageThresholdsClient, UsageThreshold, CreateUsageThresholdRequest, ListUsageThresholdsRequest,
  ListUsageThresholdsResponse, UsageThresholdRef, UsageThresholdFiring, ListUsageThresholdFiringsRequest, ListUsageThresholdFiringsResponse,
  type UsageThresholdsServer,
} from '../gen/polaris/v1/thresholds';
export {
  WebhooksService, WebhooksClient, WebhookEndpoint, WebhookEndpointWithSecret, CreateWebhookEndpointRequest, ListWebhookEndpointsRequest,
  ListWebhookEndpointsResponse, WebhookEndpointRef, UpdateWebhookEndpointRequest, WebhookAttempt, WebhookDelivery, WebhookDeliveryRef,
  ListWebhookDeliveriesRequest, ListWebhookDeliveriesResponse, ReplayWebhookDeliveriesRequest, ReplayWebhookDeliveriesResponse,
  type WebhooksServer,
} from '../gen/polaris/v1/notifications';
