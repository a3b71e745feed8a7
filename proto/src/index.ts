// Public face of the generated contracts. Generated code lives in ../gen (npm run generate).
export {
  IdentityService, IdentityClient, Organization, ValidateApiKeyRequest, ValidateApiKeyResponse, GetOrganizationRequest,
  type IdentityServer,
} from '../gen/polaris/v1/identity';
export { IngestService, IngestClient, PublishRequest, PublishResponse, CloudEvent, type IngestServer } from '../gen/polaris/v1/ingest';
export {
  UsageService, UsageClient, WindowSize,
  QueryMeterRequest, QueryMeterResponse, QueryMeterRow, DimensionFilter,
  type UsageServer,
} from '../gen/polaris/v1/usage';
export {
  MetersService, MetersClient, MeterCatalogService, MeterCatalogClient, MeterAggregation, MeterDefinition, MeterDimension,
  MeterVersion, Meter, BackfillSegment, BackfillRun, CreateMeterRequest, GetMeterRequest, ListMetersRequest, ListMetersResponse,
  UpdateMeterRequest, StartBackfillRequest, GetBackfillRequest, CatalogMeterVersion, SyncCatalogRequest, SyncCatalogResponse,
  ClaimBackfillRequest, ClaimBackfillResponse, ClaimedBackfill, ReportBackfillProgressRequest, ReportBackfillProgressResponse,
  CompleteBackfillRequest, FailBackfillRequest,
  type MetersServer, type MeterCatalogServer,
} from '../gen/polaris/v1/meters';
