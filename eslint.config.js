import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Import boundaries (docs/ARCHITECTURE.md, "Where things live"). A later block that matches a file
// replaces a rule's options, so each block repeats the patterns of those before it.
const PRODUCT = ['collector', 'sink-worker', 'rating-worker', 'gateway', 'shared', 'proto', 'clickhouse', 'postgres', 'cli', 'k8s'];
const filesOf = (folders) => folders.map((folder) => `${folder}/**/*.{ts,js,mjs}`);

// Everyone: @polaris/shared through its entry points, and another package only through its own.
const noBarrel = {
  paths: [{ name: '@polaris/shared', message: 'Import an entry point: @polaris/shared/config, /errors, /contracts, /service, /grpc, /kafka, /auth, /meters, /testing.' }],
  patterns: [{ group: ['**/shared/src/**'], message: "Import @polaris/shared/<entry>, not shared's files." }],
};
// Product code (and the deploy checks) never depends on developer tooling.
const noTooling = {
  group: ['**/scripts/**', '@polaris/dev', '@polaris/dev/*'],
  message: 'Product code never imports dev tooling (scripts/, @polaris/dev).',
};
// The gateway reaches every store through its owner's gRPC API, never with a client of its own.
const noStoreClient = {
  paths: ['pg', 'kafkajs', '@clickhouse/client', '@polaris/clickhouse', '@polaris/postgres', '@polaris/shared/kafka'].map((name) => ({
    name,
    message: 'The gateway touches no store: call the gRPC service that owns it.',
  })),
  patterns: [{ group: ['@polaris/clickhouse/*', '@polaris/postgres/*'], message: 'The gateway touches no store: call the gRPC service that owns it.' }],
};
// The e2e suite drives the system from outside: of the tooling, only the launcher and the local stack's controls.
// (`@polaris/dev` itself is a path: as a pattern it would exclude the folder, and gitignore
// semantics cannot re-include a file below an excluded folder.)
const e2eTooling = {
  paths: [{ name: '@polaris/dev', message: 'e2e may use @polaris/dev/launcher and @polaris/dev/local-stack only.' }],
  patterns: [
    {
      group: ['**/scripts/**', '@polaris/dev/*', '!@polaris/dev/launcher', '!@polaris/dev/local-stack'],
      message: 'e2e may use @polaris/dev/launcher and @polaris/dev/local-stack only.',
    },
  ],
};

// no-restricted-imports does not see import(): the same boundaries for dynamic imports.
const dynamicImportOf = (pattern, message) => ({ selector: `ImportExpression[source.value=${pattern}]`, message });
const dynamicTooling = dynamicImportOf(String.raw`/(^|\/)scripts\/|^@polaris\/dev(\/|$)/`, noTooling.message);
const dynamicStoreClient = dynamicImportOf(
  String.raw`/^(pg|kafkajs|@clickhouse\/client|@polaris\/(clickhouse|postgres)(\/.*)?|@polaris\/shared\/kafka)$/`,
  'The gateway touches no store: call the gRPC service that owns it.',
);
const dynamicE2eTooling = dynamicImportOf(String.raw`/(^|\/)scripts\/|^@polaris\/dev(?!\/(launcher|local-stack)$)/`, e2eTooling.paths[0].message);
// The SDK is the package customers install: its shipped source imports only its own files (no
// @polaris/* package, no dependency at all: it runs on what Node 20+ and browsers ship).
const sdkOwnFilesOnly = 'The SDK imports only its own files: no @polaris/* package and no dependency (README, "TypeScript client").';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'proto/gen/**', '.stack/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-console': 'off',
      'no-restricted-imports': ['error', noBarrel],
    },
  },
  {
    files: filesOf(PRODUCT),
    rules: {
      'no-restricted-imports': ['error', { paths: noBarrel.paths, patterns: [...noBarrel.patterns, noTooling] }],
      'no-restricted-syntax': ['error', dynamicTooling],
    },
  },
  {
    files: filesOf(['gateway']),
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...noBarrel.paths, ...noStoreClient.paths], patterns: [...noBarrel.patterns, noTooling, ...noStoreClient.patterns] },
      ],
      'no-restricted-syntax': ['error', dynamicTooling, dynamicStoreClient],
    },
  },
  {
    files: ['sdk/src/**/*.ts'],
    ignores: ['sdk/src/**/*.test.ts', 'sdk/src/**/*.test-support.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: String.raw`^(?!\.{1,2}/)`, message: sdkOwnFilesOnly }] }],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: sdkOwnFilesOnly }],
    },
  },
  {
    files: filesOf(['e2e']),
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...noBarrel.paths, ...e2eTooling.paths], patterns: [...noBarrel.patterns, ...e2eTooling.patterns] },
      ],
      'no-restricted-syntax': ['error', dynamicE2eTooling],
    },
  },
);
