import type { CodegenConfig } from '@graphql-codegen/cli';

// `npm run generate` (root) runs this from gateway/, beside the proto codegen: in bootstrap
// (npm test, npm run demo, CI) and in the image build. The output is git-ignored, like proto/gen.
const schema = 'src/graphql/schema.graphql';
const header = './codegen/header.plugin.mjs';

const config: CodegenConfig = {
  schema,
  overwrite: true,
  generates: {
    'src/graphql/generated/resolvers-types.ts': {
      plugins: [{ [header]: { lintFree: false } }, 'typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        // String unions ('DAY' | 'HOUR' …): enums.ts maps each one to proto, checked to be total.
        enumsAsTypes: true,
        contextType: '../context#GatewayContext',
        scalars: {
          DateTime: { input: 'Date', output: 'Date' },
          JSONObject: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
          // Exact decimal text both ways (decimal.scalar.ts): money and quantities never become floats.
          Decimal: { input: 'string', output: 'string' },
        },
        // Resolvers return what the gRPC backends answer; GraphQL picks the fields by name.
        mappers: {
          Organization: '@polaris/proto#Organization as ProtoOrganization',
          Meter: '@polaris/proto#Meter as ProtoMeter',
          MeterBackfill: '@polaris/proto#BackfillRun as ProtoBackfillRun',
          MeterUsage: '../meter-usage.parent#MeterUsageParent',
          MeterUsageRow: '@polaris/proto#QueryMeterRow as ProtoQueryMeterRow',
          Customer: '@polaris/proto#Customer as ProtoCustomer',
          Plan: '@polaris/proto#Plan as ProtoPlan',
          PlanVersion: '@polaris/proto#PlanVersion as ProtoPlanVersion',
          Price: '@polaris/proto#Price as ProtoPrice',
          PriceTier: '@polaris/proto#PriceTier as ProtoPriceTier',
          BillingSubscription: '@polaris/proto#Subscription as ProtoSubscription',
          SubscriptionPhase: '@polaris/proto#SubscriptionPhase as ProtoSubscriptionPhase',
          Invoice: '../invoice.parent#InvoiceParent',
          UpcomingInvoice: '@polaris/proto#Invoice as ProtoInvoice',
          InvoiceLine: '@polaris/proto#InvoiceLine as ProtoInvoiceLine',
          InvoiceLineTier: '@polaris/proto#TierPiece as ProtoTierPiece',
          InvoiceEvent: '@polaris/proto#InvoiceEvent as ProtoInvoiceEvent',
          UsageThreshold: '@polaris/proto#UsageThreshold as ProtoUsageThreshold',
          UsageThresholdFiring: '@polaris/proto#UsageThresholdFiring as ProtoUsageThresholdFiring',
          WebhookEndpoint: '@polaris/proto#WebhookEndpoint as ProtoWebhookEndpoint',
          WebhookDelivery: '@polaris/proto#WebhookDelivery as ProtoWebhookDelivery',
          WebhookAttempt: '@polaris/proto#WebhookAttempt as ProtoWebhookAttempt',
        },
      },
    },
    'src/graphql/generated/type-defs.ts': {
      plugins: [header, './codegen/type-defs.plugin.mjs'],
      config: { source: schema },
    },
  },
};

export default config;
