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
        },
        // Resolvers return what the gRPC backends answer; GraphQL picks the fields by name.
        mappers: {
          Organization: '@polaris/proto#Organization as ProtoOrganization',
          Meter: '@polaris/proto#Meter as ProtoMeter',
          MeterBackfill: '@polaris/proto#BackfillRun as ProtoBackfillRun',
          MeterUsage: '../meter-usage.parent#MeterUsageParent',
          MeterUsageRow: '@polaris/proto#QueryMeterRow as ProtoQueryMeterRow',
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
