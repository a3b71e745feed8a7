// The production overlay as `kubectl kustomize` renders it after the README's procedure, and typed
// lookups into it, shared by the manifest test files. Vitest gives each test file its own copy of this module, so each file renders
// the overlay once, on first use, and every lookup reads that parse.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IConfigMap, IContainer, IPodSpec, IPodTemplateSpec, ISecret } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { expect } from 'vitest';
import { K8S_WORKLOADS, MIGRATE, type Deployable } from './deploy-contract';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const overlay = 'k8s/overlays/production';
export const namespace = 'polaris';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
}

let rendered: K8sObject[] | undefined;

/**
 * The overlay as the README's procedure renders it, on a copy of k8s/: the git-ignored secret
 * files (secrets/) made from their committed examples (secrets.example/), never from real ones a
 * developer may have filled in.
 */
function render(): string {
  const work = mkdtempSync(path.join(tmpdir(), 'polaris-k8s-'));
  const secrets = path.join(repoRoot, overlay, 'secrets');
  try {
    cpSync(path.join(repoRoot, 'k8s'), path.join(work, 'k8s'), { recursive: true, filter: (src) => src !== secrets && !src.startsWith(`${secrets}${path.sep}`) });
    cpSync(path.join(work, overlay, 'secrets.example'), path.join(work, overlay, 'secrets'), { recursive: true });
    return execFileSync('kubectl', ['kustomize', overlay], { cwd: work, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`kubectl kustomize ${overlay} failed (is kubectl >= 1.27 on PATH?)`, { cause: error });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// kustomize wraps long base64 Secret values over lines; the API server's decoder skips the newlines
// but the schema's "byte" format does not.
function normalise(obj: K8sObject): K8sObject {
  if (obj.kind !== 'Secret') return obj;
  const s = obj as ISecret & K8sObject;
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  return { ...s, data } as K8sObject;
}

/** Every object of the overlay, parsed. Rendered on the first call only: it runs kubectl. */
export function renderedObjects(): K8sObject[] {
  rendered ??= parseAllDocuments(render()).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.join('; ')}`);
    return normalise(doc.toJS() as K8sObject);
  });
  return rendered;
}

export function ofKind<T>(kind: string): T[] {
  return renderedObjects().filter((o) => o.kind === kind) as T[];
}

export function named<T extends K8sObject>(kind: string, name: string): T {
  const found = renderedObjects().find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the rendered manifests`);
  return found as T;
}

export function podSpecOf(template: IPodTemplateSpec | undefined): IPodSpec {
  if (!template?.spec) throw new Error('pod template without spec');
  return template.spec;
}

export function onlyContainer(spec: IPodSpec, owner: string): IContainer {
  expect(spec.containers, `${owner}: one container`).toHaveLength(1);
  const [container] = spec.containers;
  if (!container) throw new Error(`${owner}: no container`);
  return container;
}

// kustomize appends a content hash to generated names; a reference names the generated object.
export function configMap(name: string): IConfigMap | undefined {
  return ofKind<IConfigMap>('ConfigMap').find((c) => c.metadata?.name === name);
}
export function secret(name: string): ISecret | undefined {
  return ofKind<ISecret>('Secret').find((s) => s.metadata?.name === name);
}

export function configValue(key: string): string {
  const [config] = ofKind<IConfigMap>('ConfigMap');
  const value = config?.data?.[key];
  if (value === undefined) throw new Error(`ConfigMap has no ${key}`);
  return value;
}

/** The value a container sees for `name`: literal or from the ConfigMap (secrets are not read). */
export function envValue(container: IContainer, name: string): string | undefined {
  const entry = container.env?.find((e) => e.name === name);
  if (!entry) return undefined;
  if (entry.value !== undefined) return entry.value;
  const ref = entry.valueFrom?.configMapKeyRef;
  return ref ? configMap(ref.name ?? '')?.data?.[ref.key] : undefined;
}

/** The workloads (Deployments of the contract) whose pods a Service selector matches. */
export function selectedWorkloads(selector: Record<string, string> | undefined): string[] {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return [];
  return K8S_WORKLOADS.filter((w) => {
    const labels = named<IDeployment & K8sObject>('Deployment', w.name).spec?.template.metadata?.labels ?? {};
    return entries.every(([k, v]) => labels[k] === v);
  }).map((w) => w.name);
}

/** The pod specs the deploy policy covers: every Deployment of the contract and the migrate Job. */
export function workloads(): { owner: string; deployable: Deployable; spec: IPodSpec }[] {
  const fromDeployments = K8S_WORKLOADS.map((svc) => {
    const template = named<IDeployment & K8sObject>('Deployment', svc.name).spec?.template;
    return { owner: `Deployment/${svc.name}`, deployable: svc, spec: podSpecOf(template) };
  });
  const job = named<IJob & K8sObject>('Job', MIGRATE.name);
  return [...fromDeployments, { owner: `Job/${MIGRATE.name}`, deployable: MIGRATE, spec: podSpecOf(job.spec?.template) }];
}
