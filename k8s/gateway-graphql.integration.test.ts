// The production overlay's gateway answers no introspection and serves no GraphiQL: what the
// gateway's own config schema makes of the environment the rendered Deployment gives it (offline:
// `kubectl kustomize`, no cluster).
import type { IDeployment } from 'kubernetes-models/apps/v1';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../gateway/src/config';
import { envValue, named, onlyContainer, podSpecOf, type K8sObject } from './rendered-manifests';

const gatewayEnv = (name: string) => envValue(onlyContainer(podSpecOf(named<IDeployment & K8sObject>('Deployment', 'gateway').spec?.template), 'gateway'), name);

describe('the public gateway in production', () => {
  for (const setting of ['GRAPHQL_INTROSPECTION', 'GRAPHQL_GRAPHIQL'] as const) {
    it(`${setting} is off (it defaults to on, for local work)`, () => {
      const schema = gatewayConfigSchema.shape[setting];
      expect(schema.parse(undefined), `${setting} defaults to on`).toBe(true);
      expect(gatewayEnv(setting), `the Deployment sets ${setting}`).toBeDefined();
      expect(schema.parse(gatewayEnv(setting))).toBe(false);
    });
  }
});
