/** The stores whose schema `polaris migrate` writes, and `migrate --wait --only` names. */
export const SCHEMA_STORES = ['postgres', 'clickhouse', 'kafka'] as const;
export type SchemaStore = (typeof SCHEMA_STORES)[number];
