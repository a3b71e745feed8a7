// Offline validation of the production overlay: render it with kustomize (kubectl), check every
// object against the Kubernetes JSON schemas bundled in kubernetes-models, then the project's
// own deploy policy. No cluster needed.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy, type IIngress, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  Namespace,
  Secret,
  Service,
  type IConfigMap,
  type IContainer,
  type IPodSpec,
  type IPodTemplateSpec,
  type ISecret,
  type IService,
} from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EVENTS_TOPIC, EVENTS_TOPIC_PARTITIONS, K8S_GRPC_BACKENDS, K8S_WORKLOADS, MIGRATE, PORT_ENV, type Deployable,
} from './deploy-contract';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const overlay = 'k8s/overlays/production';
const namespace = 'polaris';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
}

// Every kind the manifests may contain, with the model that validates it. A new kind fails the
// schema test until it is added here.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

let objects: K8sObject[] = [];

function render(): string {
  try {
    return execFileSync('kubectl', ['kustomize', overlay], { cwd: repoRoot, encoding: 'utf8' });
  } catch (error) {
    throw new Error(`kubectl kustomize ${overlay} failed (is kubectl >= 1.27 on PATH?)`, { cause: error });
  }
}

function ofKind<T>(kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

function named<T extends K8sObject>(kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the rendered manifests`);
  return found as T;
}

function podSpecOf(template: IPodTemplateSpec | undefined): IPodSpec {
  if (!template?.spec) throw new Error('pod template without spec');
  return template.spec;
}

function onlyContainer(spec: IPodSpec, owner: string): IContainer {
  expect(spec.containers, `${owner}: one container`).toHaveLength(1);
  const [container] = spec.containers;
  if (!container) throw new Error(`${owner}: no container`);
  return container;
}

// kustomize appends a content hash to generated names; a reference names the generated object.
function configMap(name: string): IConfigMap | undefined {
  return ofKind<IConfigMap>('ConfigMap').find((c) => c.metadata?.name === name);
}
function secret(name: string): ISecret | undefined {
  return ofKind<ISecret>('Secret').find((s) => s.metadata?.name === name);
}

function configValue(key: string): string {
  const [config] = ofKind<IConfigMap>('ConfigMap');
  const value = config?.data?.[key];
  if (value === undefined) throw new Error(`ConfigMap has no ${key}`);
  return value;
}

/** The value a container sees for `name`: literal or from the ConfigMap (secrets are not read). */
function envValue(container: IContainer, name: string): string | undefined {
  const entry = container.env?.find((e) => e.name === name);
  if (!entry) return undefined;
  if (entry.value !== undefined) return entry.value;
  const ref = entry.valueFrom?.configMapKeyRef;
  return ref ? configMap(ref.name ?? '')?.data?.[ref.key] : undefined;
}

/** The workloads (Deployments of the contract) whose pods a Service selector matches. */
function selectedWorkloads(selector: Record<string, string> | undefined): string[] {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return [];
  return K8S_WORKLOADS.filter((w) => {
    const labels = named<IDeployment & K8sObject>('Deployment', w.name).spec?.template.metadata?.labels ?? {};
    return entries.every(([k, v]) => labels[k] === v);
  }).map((w) => w.name);
}

function workloads(): { owner: string; deployable: Deployable; spec: IPodSpec }[] {
  const fromDeployments = K8S_WORKLOADS.map((svc) => {
    const template = named<IDeployment & K8sObject>('Deployment', svc.name).spec?.template;
    return { owner: `Deployment/${svc.name}`, deployable: svc, spec: podSpecOf(template) };
  });
  const job = named<IJob & K8sObject>('Job', MIGRATE.name);
  return [...fromDeployments, { owner: `Job/${MIGRATE.name}`, deployable: MIGRATE, spec: podSpecOf(job.spec?.template) }];
}

// kustomize wraps long base64 Secret values over lines; the API server's decoder skips the newlines
// but the schema's "byte" format does not.
function normalise(obj: K8sObject): K8sObject {
  if (obj.kind !== 'Secret') return obj;
  const s = obj as ISecret & K8sObject;
  const data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, v.replace(/\s+/g, '')]));
  return { ...s, data } as K8sObject;
}

beforeAll(() => {
  objects = parseAllDocuments(render()).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.join('; ')}`);
    return normalise(doc.toJS() as K8sObject);
  });
});

describe(`kubectl kustomize ${overlay}`, () => {
  it('renders objects', () => {
    expect(objects.length).toBeGreaterThan(0);
  });

  it('validates every object against the Kubernetes schema', () => {
    const problems: string[] = [];
    for (const obj of objects) {
      const id = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
      const Model = models[`${obj.apiVersion}/${obj.kind}`];
      if (!Model) {
        problems.push(`${id}: no schema registered for ${obj.apiVersion} ${obj.kind}`);
        continue;
      }
      try {
        new Model(obj as never).validate();
      } catch (error) {
        problems.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it(`puts every namespaced object in ${namespace}`, () => {
    const outside = objects
      .filter((o) => o.kind !== 'Namespace' && o.metadata?.namespace !== namespace)
      .map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(outside).toEqual([]);
    expect(named('Namespace', namespace)).toBeDefined();
  });
});

describe('workloads', () => {
  it('run the command of their deployable, from a pinned image', () => {
    for (const { owner, deployable, spec } of workloads()) {
      const container = onlyContainer(spec, owner);
      expect(container.command, owner).toEqual(deployable.command);
      const image = container.image ?? '';
      // A tag after the last path segment (a registry port has a ':' before a '/').
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      expect(tag, `${owner}: image ${image} has no tag`).toBeDefined();
      expect(tag, `${owner}: image ${image}`).not.toBe('latest');
    }
  });

  it('set requests and limits for cpu and memory', () => {
    for (const { owner, spec } of workloads()) {
      const { resources } = onlyContainer(spec, owner);
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          expect(resources?.[kind]?.[resource], `${owner}: resources.${kind}.${resource}`).toBeDefined();
        }
      }
    }
  });

  it('run non-root, read-only, without capabilities (Pod Security "restricted")', () => {
    expect(named<K8sObject & { metadata: { labels?: Record<string, string> } }>('Namespace', namespace).metadata.labels)
      .toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const { owner, spec } of workloads()) {
      const container = onlyContainer(spec, owner);
      const runAsNonRoot = container.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
      expect(runAsNonRoot, `${owner}: runAsNonRoot`).toBe(true);
      const runAsUser = container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
      expect(runAsUser, `${owner}: numeric non-root runAsUser`).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type, `${owner}: seccomp`).toBe('RuntimeDefault');
      expect(container.securityContext?.readOnlyRootFilesystem, `${owner}: readOnlyRootFilesystem`).toBe(true);
      expect(container.securityContext?.allowPrivilegeEscalation, `${owner}: allowPrivilegeEscalation`).toBe(false);
      expect(container.securityContext?.capabilities?.drop, `${owner}: drop ALL`).toEqual(['ALL']);
      expect(container.securityContext?.capabilities?.add ?? [], `${owner}: no added caps`).toEqual([]);
      expect(spec.automountServiceAccountToken, `${owner}: no API token`).toBe(false);
    }
  });

  it('get every variable their process requires', () => {
    for (const { owner, deployable, spec } of workloads()) {
      const names = new Set(onlyContainer(spec, owner).env?.map((e) => e.name));
      const missing = deployable.env.filter((name) => !names.has(name));
      expect(missing, `${owner}: missing env`).toEqual([]);
    }
  });

  it('get the fixed values their role needs', () => {
    for (const { owner, deployable, spec } of workloads()) {
      const container = onlyContainer(spec, owner);
      for (const [name, value] of Object.entries(deployable.fixed ?? {})) {
        expect(envValue(container, name), `${owner} ${name}`).toBe(value);
      }
    }
  });

  it('reference only ConfigMap and Secret keys that exist', () => {
    const problems: string[] = [];
    for (const { owner, spec } of workloads()) {
      const container = onlyContainer(spec, owner);
      for (const env of container.env ?? []) {
        const cmRef = env.valueFrom?.configMapKeyRef;
        const secretRef = env.valueFrom?.secretKeyRef;
        if (cmRef && !cmRef.optional && configMap(cmRef.name ?? '')?.data?.[cmRef.key] === undefined) {
          problems.push(`${owner} ${env.name}: ConfigMap ${cmRef.name} has no key ${cmRef.key}`);
        }
        if (secretRef && !secretRef.optional) {
          const s = secret(secretRef.name ?? '');
          if ((s?.data?.[secretRef.key] ?? s?.stringData?.[secretRef.key]) === undefined) {
            problems.push(`${owner} ${env.name}: Secret ${secretRef.name} has no key ${secretRef.key}`);
          }
        }
      }
      for (const from of container.envFrom ?? []) {
        if (from.configMapRef && !from.configMapRef.optional && !configMap(from.configMapRef.name ?? '')) {
          problems.push(`${owner}: envFrom ConfigMap ${from.configMapRef.name} does not exist`);
        }
        if (from.secretRef && !from.secretRef.optional && !secret(from.secretRef.name ?? '')) {
          problems.push(`${owner}: envFrom Secret ${from.secretRef.name} does not exist`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('carry only placeholder secrets (real ones are supplied at deploy time)', () => {
    for (const s of ofKind<ISecret & K8sObject>('Secret')) {
      for (const [key, encoded] of Object.entries(s.data ?? {})) {
        const value = Buffer.from(encoded, 'base64').toString('utf8');
        expect(value, `Secret ${s.metadata?.name} ${key}`).toContain('CHANGE-ME');
      }
    }
  });
});

describe('polaris-config', () => {
  it(`names the topic that polaris migrate creates (${EVENTS_TOPIC})`, () => {
    expect(configValue('EVENTS_TOPIC')).toBe(EVENTS_TOPIC);
  });

  it('has migrate create replicated topics', () => {
    const job = named<IJob & K8sObject>('Job', MIGRATE.name);
    const container = onlyContainer(podSpecOf(job.spec?.template), 'Job/migrate');
    expect(Number(envValue(container, 'KAFKA_REPLICATION_FACTOR'))).toBeGreaterThanOrEqual(2);
  });

  it('addresses every gRPC backend through its headless Service, on the pods\' gRPC port', () => {
    const addrs = Object.keys(ofKind<IConfigMap>('ConfigMap')[0]?.data ?? {}).filter((k) => k.endsWith('_GRPC_ADDR'));
    expect(addrs.sort()).toEqual(Object.keys(K8S_GRPC_BACKENDS).sort());
    const withGrpc = K8S_WORKLOADS.filter((w) => w.ports.grpc !== undefined).map((w) => w.name);
    expect([...new Set(Object.values(K8S_GRPC_BACKENDS))].sort(), 'every gRPC server is addressed').toEqual(withGrpc.sort());

    for (const [key, backend] of Object.entries(K8S_GRPC_BACKENDS)) {
      const addr = configValue(key);
      // dns:/// makes grpc-js resolve the name itself and, with round_robin, connect to every address.
      const match = /^dns:\/\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)$/.exec(addr);
      expect(match, `${key}=${addr}: dns:///<service>.<namespace>.svc.cluster.local:<port>`).not.toBeNull();
      const [, serviceName = '', ns, port] = match ?? [];
      expect(ns, key).toBe(namespace);
      const service = named<IService & K8sObject>('Service', serviceName);
      // A cluster IP would balance per connection: one pod per long-lived channel.
      expect(service.spec?.clusterIP, `${key}: Service ${serviceName} is headless`).toBe('None');
      expect(selectedWorkloads(service.spec?.selector), `${key}: Service ${serviceName} selects`).toEqual([backend]);
      // Clients dial the pod IPs from DNS directly: the address port is the container's.
      const grpcPort = K8S_WORKLOADS.find((w) => w.name === backend)?.ports.grpc;
      expect(Number(port), `${key}: ${backend} serves gRPC on ${grpcPort}`).toBe(grpcPort);
      const servicePort = service.spec?.ports?.find((p) => p.port === grpcPort);
      expect(servicePort?.name, `${key}: port ${port} of ${serviceName}`).toBe('grpc');
      expect(servicePort?.targetPort, `${key}: port ${port} of ${serviceName}`).toBe('grpc');
    }
  });
});

describe.each(K8S_WORKLOADS.map((svc) => [svc.name, svc] as const))('%s', (name, svc) => {
  const servesTraffic = Object.keys(svc.ports).some((p) => p !== 'ops');
  const deployment = (): IDeployment & K8sObject => named('Deployment', name);
  const container = (): IContainer => onlyContainer(podSpecOf(deployment().spec?.template), name);

  it('exposes the contract ports, named, and passes them in env', () => {
    const ports = Object.fromEntries((container().ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual(svc.ports);
    for (const [portName, port] of Object.entries(svc.ports)) {
      expect(envValue(container(), PORT_ENV[portName as keyof typeof PORT_ENV])).toBe(String(port));
    }
    expect(envValue(container(), 'OTEL_SERVICE_NAME')).toBe(name);
  });

  it('probes /readyz and /healthz on the ops port', () => {
    const c = container();
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'ops' });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'ops' });
    if (c.startupProbe) expect(c.startupProbe.httpGet).toMatchObject({ path: '/healthz', port: 'ops' });
  });

  it('is scraped by Prometheus on the ops port', () => {
    expect(deployment().spec?.template.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(svc.ports.ops),
      'prometheus.io/path': '/metrics',
    });
  });

  it('gets a grace period longer than preStop plus its drain deadline', () => {
    const c = container();
    const sleep = c.lifecycle?.preStop?.exec?.command;
    if (servesTraffic) {
      expect(sleep?.[0], 'preStop sleeps so endpoints drop the pod before it stops accepting').toBe('sleep');
    }
    const preStopSeconds = sleep ? Number(sleep[1]) : 0;
    expect(preStopSeconds).not.toBeNaN();
    expect(envValue(c, 'SHUTDOWN_TIMEOUT_MS')).toBe(configValue('SHUTDOWN_TIMEOUT_MS'));
    const drainSeconds = Number(configValue('SHUTDOWN_TIMEOUT_MS')) / 1000;
    const grace = deployment().spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThan(preStopSeconds + drainSeconds);
  });

  it('leaves the replica count to its HPA', () => {
    expect(deployment().spec?.replicas).toBeUndefined();
  });

  it('autoscales on CPU with autoscaling/v2', () => {
    const hpas = ofKind<IHorizontalPodAutoscaler & K8sObject>('HorizontalPodAutoscaler').filter(
      (h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
    );
    expect(hpas).toHaveLength(1);
    const [hpa] = hpas;
    expect(hpa?.apiVersion).toBe('autoscaling/v2');
    expect(hpa?.spec?.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')).toBe(true);
    const min = hpa?.spec?.minReplicas ?? 1;
    expect(min, 'at least 2 replicas so a PDB allows voluntary evictions').toBeGreaterThanOrEqual(2);
    expect(hpa?.spec?.maxReplicas).toBeGreaterThanOrEqual(min);
    if (name === 'sink-worker') {
      // More consumers than partitions sit idle.
      expect(hpa?.spec?.maxReplicas).toBeLessThanOrEqual(EVENTS_TOPIC_PARTITIONS);
    }
  });

  it('has a PodDisruptionBudget selecting its pods', () => {
    const labels = deployment().spec?.template.metadata?.labels ?? {};
    const pdbs = ofKind<IPodDisruptionBudget & K8sObject>('PodDisruptionBudget').filter((p) =>
      Object.entries(p.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
    );
    expect(pdbs).toHaveLength(1);
  });

  it(servesTraffic ? 'has Services whose selectors and target ports match the pods' : 'has no Service (nothing calls it)', () => {
    const template = deployment().spec?.template;
    const labels = template?.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(deployment().spec?.selector.matchLabels ?? {})) {
      expect(labels[k], `Deployment selector ${k}`).toBe(v);
    }
    const selecting = ofKind<IService & K8sObject>('Service').filter((service) => selectedWorkloads(service.spec?.selector).includes(name));
    expect(selecting.length > 0, `Services selecting ${name}`).toBe(servesTraffic);
    const containerPorts = new Map((container().ports ?? []).map((p) => [p.name, p.containerPort]));
    const exposed: string[] = [];
    for (const service of selecting) {
      const id = `Service ${service.metadata?.name}`;
      for (const port of service.spec?.ports ?? []) {
        expect(containerPorts.has(String(port.targetPort)), `${id} port ${port.name} -> ${port.targetPort}`).toBe(true);
        expect(port.name, 'the ops port is scraped per pod, not exposed').not.toBe('ops');
        if (port.name === 'grpc') {
          expect(service.spec?.clusterIP, `${id}: gRPC only through a headless Service`).toBe('None');
          expect(port.port, `${id}: a headless Service's port is the pod's`).toBe(containerPorts.get('grpc'));
        }
        exposed.push(port.name ?? '?');
      }
    }
    expect(exposed.sort(), 'each serving port exposed once').toEqual(Object.keys(svc.ports).filter((p) => p !== 'ops').sort());
  });
});

describe('Ingress', () => {
  it('routes /graphql to the gateway and /v1/events to the collector', () => {
    const routes = ofKind<IIngress & K8sObject>('Ingress').flatMap((ing) =>
      (ing.spec?.rules ?? []).flatMap((rule) =>
        (rule.http?.paths ?? []).map((p) => ({ path: p.path, service: p.backend.service?.name, port: p.backend.service?.port?.name })),
      ),
    );
    expect(routes).toEqual(
      expect.arrayContaining([
        { path: '/graphql', service: 'gateway', port: 'http' },
        { path: '/v1/events', service: 'collector', port: 'http' },
      ]),
    );
    for (const route of routes) {
      const service = named<IService & K8sObject>('Service', route.service ?? '');
      expect(service.spec?.ports?.map((p) => p.name), `${route.path} backend port`).toContain(route.port);
    }
  });
});

// The internal gRPC servers trust the organization id in each request, so the NetworkPolicies are
// the trust boundary. They are checked by evaluating them (NetworkPolicy semantics, ingress only)
// for a set of possible callers, including strangers that must be kept out.
describe('NetworkPolicies', () => {
  type Selector = NonNullable<INetworkPolicy['spec']>['podSelector'];
  type Rule = NonNullable<NonNullable<INetworkPolicy['spec']>['ingress']>[number];
  interface Caller {
    name: string;
    namespace: string;
    labels: Record<string, string>;
  }
  // As documented in k8s/base/network-policies.yaml (must match the cluster).
  const ingressController: Caller = { name: 'ingress controller', namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
  const prometheus: Caller = { name: 'Prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
  const podOf = (name: string): string => `pod of ${name}`;

  const policies = (): (INetworkPolicy & K8sObject)[] => ofKind('NetworkPolicy');
  const podLabels = (kind: 'Deployment' | 'Job', name: string): Record<string, string> =>
    named<(IDeployment | IJob) & K8sObject>(kind, name).spec?.template.metadata?.labels ?? {};
  const namespaceLabels = (ns: string): Record<string, string> => ({
    ...(ns === namespace ? named<K8sObject & { metadata: { labels?: Record<string, string> } }>('Namespace', namespace).metadata.labels : {}),
    'kubernetes.io/metadata.name': ns,
  });

  function callers(): Caller[] {
    return [
      ...K8S_WORKLOADS.map((w) => ({ name: podOf(w.name), namespace, labels: podLabels('Deployment', w.name) })),
      { name: podOf(MIGRATE.name), namespace, labels: podLabels('Job', MIGRATE.name) },
      { name: 'any other pod of the namespace', namespace, labels: { 'app.kubernetes.io/name': 'debug', 'app.kubernetes.io/part-of': 'polaris' } },
      // Claims to be the gateway, from another namespace: a pod selector alone must not admit it.
      { name: 'a "gateway" pod of another namespace', namespace: 'default', labels: podLabels('Deployment', 'gateway') },
      ingressController,
      prometheus,
    ];
  }

  function matches(selector: Selector | undefined, labels: Record<string, string>): boolean {
    const byLabel = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const byExpression = (selector?.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === 'In') return value !== undefined && values.includes(value);
      if (operator === 'NotIn') return value === undefined || !values.includes(value);
      if (operator === 'Exists') return value !== undefined;
      if (operator === 'DoesNotExist') return value === undefined;
      throw new Error(`unknown selector operator ${operator}`);
    });
    return byLabel && byExpression;
  }

  function admitsPort(rule: Rule, port: number, container: IContainer): boolean {
    if (!rule.ports?.length) return true;
    return rule.ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== 'TCP') return false;
      if (p.port === undefined) return true;
      const number = typeof p.port === 'number' ? p.port : container.ports?.find((c) => c.name === p.port)?.containerPort;
      return number === port || (number !== undefined && p.endPort !== undefined && port >= number && port <= p.endPort);
    });
  }

  function admitsCaller(rule: Rule, caller: Caller, policyNamespace: string): boolean {
    if (!rule.from?.length) return true;
    return rule.from.some((peer) => {
      // Pod IPs fall in some CIDR: count an ipBlock as admitting everyone (the safe reading here).
      if (peer.ipBlock) return true;
      const inNamespace = peer.namespaceSelector
        ? matches(peer.namespaceSelector, namespaceLabels(caller.namespace))
        : caller.namespace === policyNamespace;
      return inNamespace && (!peer.podSelector || matches(peer.podSelector, caller.labels));
    });
  }

  /** Names of the callers that may open a TCP connection to `port` of the workload's pods. */
  function admitted(workload: string, port: number): string[] {
    const labels = podLabels('Deployment', workload);
    const container = onlyContainer(podSpecOf(named<IDeployment & K8sObject>('Deployment', workload).spec?.template), workload);
    const isolating = policies().filter(
      (p) => (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') && matches(p.spec?.podSelector, labels),
    );
    return callers()
      .filter(
        (caller) =>
          isolating.length === 0 ||
          isolating.some((p) =>
            (p.spec?.ingress ?? []).some((rule) => admitsPort(rule, port, container) && admitsCaller(rule, caller, p.metadata?.namespace ?? '')),
          ),
      )
      .map((c) => c.name)
      .sort();
  }

  it('deny all ingress to every pod of the namespace by default', () => {
    const defaultDeny = policies().filter(
      (p) =>
        Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length === 0 &&
        (p.spec?.podSelector?.matchExpressions ?? []).length === 0 &&
        (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') &&
        (p.spec?.ingress ?? []).length === 0,
    );
    expect(defaultDeny.map((p) => p.metadata?.name)).toHaveLength(1);
  });

  it.each(Object.entries(K8S_GRPC_BACKENDS))('let only the callers in the contract reach %s (%s)', (key, backend) => {
    const port = K8S_WORKLOADS.find((w) => w.name === backend)?.ports.grpc;
    if (port === undefined) throw new Error(`${backend} serves no gRPC`);
    const expected = K8S_WORKLOADS.filter((w) => w.env.includes(key)).map((w) => podOf(w.name));
    expect(expected.length, `someone calls ${key}`).toBeGreaterThan(0);
    expect(admitted(backend, port), `${backend}:${port}`).toEqual(expected.sort());
  });

  it('let only the ingress controller reach the public HTTP ports', () => {
    for (const w of K8S_WORKLOADS.filter((w) => w.ports.http !== undefined)) {
      expect(admitted(w.name, w.ports.http ?? 0), `${w.name}:${w.ports.http}`).toEqual([ingressController.name]);
    }
  });

  it('let only Prometheus reach the ops ports (kubelet probes come from the node, always allowed)', () => {
    for (const w of K8S_WORKLOADS) {
      expect(admitted(w.name, w.ports.ops ?? 0), `${w.name}:${w.ports.ops}`).toEqual([prometheus.name]);
    }
  });

  it('open only ports that the pods they select listen on', () => {
    const problems: string[] = [];
    for (const policy of policies()) {
      for (const w of K8S_WORKLOADS.filter((w) => matches(policy.spec?.podSelector, podLabels('Deployment', w.name)))) {
        const container = onlyContainer(podSpecOf(named<IDeployment & K8sObject>('Deployment', w.name).spec?.template), w.name);
        for (const rule of policy.spec?.ingress ?? []) {
          for (const p of rule.ports ?? []) {
            const listening = (container.ports ?? []).some((c) => c.containerPort === p.port || c.name === p.port);
            if (!listening) problems.push(`NetworkPolicy/${policy.metadata?.name}: ${w.name} does not listen on ${p.port}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
