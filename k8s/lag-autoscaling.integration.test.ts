// k8s/overlays/production-lag-autoscaling: production with the sink-worker scaled by KEDA on
// consumer lag (k8s/components/sink-lag-autoscaling). Rendered offline like the production overlay
// (rendered-manifests.ts), and held to it: the same objects but the sink's autoscaling.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IConfigMap, ISecret } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EVENTS_TOPIC_PARTITIONS } from '@polaris/shared/contracts';
import { namespace, overlay as production, renderedObjects, type K8sObject } from './rendered-manifests';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const variant = 'k8s/overlays/production-lag-autoscaling';

interface ScaledObject extends K8sObject {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind?: string; name: string; envSourceContainerName?: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }>;
  };
}

interface TriggerAuthentication extends K8sObject {
  spec: {
    env?: Array<{ parameter: string; name: string; containerName?: string }>;
    secretTargetRef?: Array<{ parameter: string; name: string; key: string }>;
  };
}

/** The variant as the README's procedure renders it: on a copy of k8s/, secrets from their examples. */
function renderVariant(): K8sObject[] {
  const work = mkdtempSync(path.join(tmpdir(), 'polaris-k8s-lag-'));
  const secrets = path.join(repoRoot, production, 'secrets');
  try {
    cpSync(path.join(repoRoot, 'k8s'), path.join(work, 'k8s'), { recursive: true, filter: (src) => src !== secrets && !src.startsWith(`${secrets}${path.sep}`) });
    cpSync(path.join(work, production, 'secrets.example'), path.join(work, production, 'secrets'), { recursive: true });
    const yaml = execFileSync('kubectl', ['kustomize', variant], { cwd: work, encoding: 'utf8' });
    return parseAllDocuments(yaml).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.join('; ')}`);
      return doc.toJS() as K8sObject;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const objects = renderVariant();
const idOf = (o: K8sObject) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const find = <T extends K8sObject>(kind: string, name: string): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${variant}`);
  return found as T;
};

describe(`kubectl kustomize ${variant}`, () => {
  const scaled = find<ScaledObject>('ScaledObject', 'sink-worker');
  const trigger = scaled.spec.triggers[0];
  const sink = find<IDeployment & K8sObject>('Deployment', 'sink-worker');
  const container = sink.spec?.template.spec?.containers.find((c) => c.name === scaled.spec.scaleTargetRef.envSourceContainerName);
  const envNames = new Set((container?.env ?? []).map((e) => e.name));

  it('differs from production only in the sink-worker autoscaling: the CPU HPA out, a ScaledObject and its TriggerAuthentication in', () => {
    const ours = new Map(objects.map((o) => [idOf(o), o]));
    const theirs = new Map(renderedObjects().map((o) => [idOf(o), o]));
    const removed = [...theirs.keys()].filter((id) => !ours.has(id));
    const added = [...ours.keys()].filter((id) => !theirs.has(id));
    expect(removed).toEqual([`HorizontalPodAutoscaler/${namespace}/sink-worker`]);
    expect(added.sort()).toEqual([`ScaledObject/${namespace}/sink-worker`, `TriggerAuthentication/${namespace}/sink-worker-kafka`]);
    for (const [id, o] of ours) if (theirs.has(id) && o.kind !== 'Secret') expect(o, id).toEqual(theirs.get(id));
  });

  it('scales the sink-worker Deployment between 2 and the partition count, on the Kafka lag of its group and topic', () => {
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaled.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'sink-worker' });
    expect(container, 'envSourceContainerName names a container of the sink-worker').toBeDefined();
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    expect(scaled.spec.maxReplicaCount).toBeGreaterThanOrEqual(scaled.spec.minReplicaCount);
    expect(scaled.spec.maxReplicaCount).toBeLessThanOrEqual(EVENTS_TOPIC_PARTITIONS);
    expect(scaled.spec.triggers).toHaveLength(1);
    expect(trigger?.type).toBe('kafka');

    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata?.name?.startsWith('polaris-config')) as (IConfigMap & K8sObject) | undefined;
    expect(trigger?.metadata.consumerGroup).toBe(config?.data?.KAFKA_GROUP_ID);
    expect(trigger?.metadata.topic).toBe(config?.data?.EVENTS_TOPIC);
    // The brokers as the sink reads them, from its own environment.
    expect(envNames.has(trigger?.metadata.bootstrapServersFromEnv ?? '')).toBe(true);
    expect(Number(trigger?.metadata.lagThreshold)).toBeGreaterThan(0);
    // TLS and SASL/SCRAM-SHA-512 as config.env sets them for the sink.
    expect(config?.data).toMatchObject({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-512' });
    expect(trigger?.metadata).toMatchObject({ tls: 'enable', sasl: 'scram_sha512' });
  });

  it("authenticates as the sink does: its user from its environment, the password and CA from the (hash-suffixed) Secrets it mounts", () => {
    const auth = find<TriggerAuthentication>('TriggerAuthentication', trigger?.authenticationRef?.name ?? '');
    for (const e of auth.spec.env ?? []) expect(envNames.has(e.name), e.name).toBe(true);
    const refs = auth.spec.secretTargetRef ?? [];
    expect(refs.map((r) => r.parameter).sort()).toEqual(['ca', 'password']);
    for (const ref of refs) {
      const secret = find<ISecret & K8sObject>('Secret', ref.name);
      expect(secret.metadata?.namespace).toBe(namespace);
      expect(Object.keys(secret.data ?? {}), `${ref.name} holds ${ref.key}`).toContain(ref.key);
    }
  });
});
