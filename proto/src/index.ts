// Public face of the generated contracts. Generated code lives in ../gen (npm run generate).
export {
  IdentityService, IdentityClient, Organization, ValidateApiKeyRequest, ValidateApiKeyResponse, GetOrganizationRequest,
  type IdentityServer,
} from '../gen/polaris/v1/identity';
export { IngestService, IngestClient, PublishRequest, PublishResponse, CloudEvent, type IngestServer } from '../gen/polaris/v1/ingest';
export {
  UsageService, UsageClient, UsageQueryRequest, UsageQueryResponse, UsageRow, WindowSize, Aggregation,
  type UsageServer,
} from '../gen/polaris/v1/usage';
