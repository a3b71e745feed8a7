// @polaris/postgres: the PostgreSQL pool and the repositories of the data it holds, the only code
// that reads or writes those tables. Migrations: `@polaris/postgres/migrate` (operator tooling,
// kept apart so services do not load node-pg-migrate).
export { createPool, pingPostgres, postgresConfigSchema, type Pool, type PostgresConfig, type Queryable } from './pool';
export { organizations, organizationSchema, isOrganizationId, type Organization } from './identity/organizations.repository';
export { apiKeys, apiKeySchema, type ApiKey, type ApiKeyWithOrganization } from './identity/api-keys.repository';
export { SLUG_PATTERN, slugify } from './identity/organization-slug';
export { requireEntityName } from './identity/entity-name';
