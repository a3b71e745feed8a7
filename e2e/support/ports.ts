import type { SystemPorts } from '@polaris/dev/launcher';

/** The e2e copy of the system runs beside a demo on the default ports without clashing. */
export const E2E_PORTS: SystemPorts = {
  gateway: 18080,
  collector: 18081,
  ingestGrpc: 15051,
  usageGrpc: 15052,
  identityGrpc: 15053,
  ops: { collector: 19091, 'sink-worker': 19092, 'rating-worker': 19093, gateway: 19094 },
};

export const collectorUrl = `http://127.0.0.1:${E2E_PORTS.collector}`;
export const gatewayUrl = `http://127.0.0.1:${E2E_PORTS.gateway}/graphql`;
