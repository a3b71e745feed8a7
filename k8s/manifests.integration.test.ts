// Offline validation of the production overlay: render it with kustomize (kubectl), check every
// object against the Kubernetes JSON schemas bundled in kubernetes-models, then the project's
// own deploy policy. No cluster needed. The NetworkPolicies are evaluated in
// network-policies.integration.test.ts.
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job, type IJob } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy, type IIngress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ConfigMap,
  Namespace,
  Secret,
  Service,
  type IConfigMap,
  type IContainer,
  type ISecret,
  type IService,
} from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EVENTS_TOPIC,
  EVENTS_TOPIC_PARTITIONS,
  expectedBindAddress,
  HOST_ENV,
  K8S_GRPC_BACKENDS,
  K8S_WORKLOADS,
  MIGRATE,
  PORT_ENV,
  PORTS_WITHOUT_SERVICE,
  type PortName,
} from './deploy-contract';
import {
  configMap,
  configValue,
  envValue,
  named,
  namespace,
  ofKind,
  onlyContainer,
  overlay,
  podSpecOf,
  renderedObjects,
  secret,
  selectedWorkloads,
  workloads,
  type K8sObject,
} from './rendered-manifests';

// Values of the right shape for the Secret keys (the rendered ones are CHANGE-ME placeholders,
// refused on purpose), so the schemas judge everything else a workload is given.
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgres://polaris_app:stand-in@postgres.example:5432/polaris',
  MIGRATE_DATABASE_URL: 'postgres://polaris:stand-in@postgres.example:5432/polaris',
  CLICKHOUSE_PASSWORD: 'stand-in',
  REDIS_URL: 'redis://:stand-in@redis.example:6379',
  INTERNAL_AUTH_SECRET: 'stand-in-'.repeat(6),
  KAFKA_SASL_PASSWORD: 'stand-in',
};

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

// Render in a hook, so a kubectl failure is reported once, under the hook timeout.
beforeAll(() => {
  renderedObjects();
});

describe(`kubectl kustomize ${overlay}`, () => {
  it('renders objects', () => {
    expect(renderedObjects().length).toBeGreaterThan(0);
  });

  it('validates every object against the Kubernetes schema', () => {
    const problems: string[] = [];
    for (const obj of renderedObjects()) {
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
    const outside = renderedObjects()
      .filter((o) => o.kind !== 'Namespace' && o.metadata?.namespace !== namespace)
      .map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(outside).toEqual([]);
    expect(named('Namespace', namespace)).toBeDefined();
  });
});

describe('workloads', () => {
  it('run the command of their deployable, under the image entrypoint (tini), from a pinned image', () => {
    for (const { owner, deployable, spec } of workloads()) {
      const container = onlyContainer(spec, owner);
      // `command` would replace the image's ENTRYPOINT (tini): the process goes in `args`.
      expect(container.command, owner).toBeUndefined();
      expect(container.args, owner).toEqual(deployable.command);
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

  it('take the internal-call secret from a Secret, never a ConfigMap or a literal', () => {
    for (const { owner, deployable, spec } of workloads()) {
      if (!deployable.env.includes('INTERNAL_AUTH_SECRET')) continue;
      const env = onlyContainer(spec, owner).env?.find((e) => e.name === 'INTERNAL_AUTH_SECRET');
      expect(env?.valueFrom?.secretKeyRef, `${owner} INTERNAL_AUTH_SECRET`).toBeDefined();
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
  const servedPorts = (Object.keys(svc.ports) as PortName[]).filter((p) => !PORTS_WITHOUT_SERVICE.includes(p));
  const servesTraffic = servedPorts.length > 0;
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

  it('sets every bind address its config reads, in the pod spec: 0.0.0.0 for its contract ports, loopback otherwise', () => {
    // Read from the config schema: a service that binds a port must read its *_HOST.
    for (const port of Object.keys(svc.ports) as PortName[]) expect(svc.bind, `${port} port`).toContain(HOST_ENV[port]);
    const env = container().env ?? [];
    const problems: string[] = [];
    for (const variable of svc.bind) {
      const entries = env.filter((e) => e.name === variable);
      const expected = expectedBindAddress(svc, variable, 'k8s');
      // A literal value: a bind address belongs to the container, not to a shared ConfigMap.
      if (entries.length !== 1 || entries[0]?.value !== expected) {
        problems.push(`${variable}: expected value "${expected}", got ${JSON.stringify(entries)}`);
      }
    }
    expect(problems).toEqual([]);
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

  it(svc.replicas === undefined ? 'leaves the replica count to its HPA' : `runs exactly ${svc.replicas} replica(s)`, () => {
    expect(deployment().spec?.replicas).toBe(svc.replicas);
  });

  it(svc.replicas === undefined ? 'autoscales on CPU with autoscaling/v2' : 'has no HPA (a fixed count)', () => {
    const hpas = ofKind<IHorizontalPodAutoscaler & K8sObject>('HorizontalPodAutoscaler').filter(
      (h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
    );
    if (svc.replicas !== undefined) {
      expect(hpas).toEqual([]);
      return;
    }
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

  // A PDB over a fixed single replica would either allow every eviction or block node drains.
  it(svc.replicas === undefined ? 'has a PodDisruptionBudget selecting its pods' : 'has no PodDisruptionBudget (it must not block a drain)', () => {
    const labels = deployment().spec?.template.metadata?.labels ?? {};
    const pdbs = ofKind<IPodDisruptionBudget & K8sObject>('PodDisruptionBudget').filter((p) =>
      Object.entries(p.spec?.selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v),
    );
    expect(pdbs).toHaveLength(svc.replicas === undefined ? 1 : 0);
  });

  it('is given only variables its config schema reads, with values it accepts (secrets as valid stand-ins)', () => {
    const schema = svc.config;
    if (!schema) throw new Error(`${name}: the deploy contract names no config schema`);
    const c = container();
    const unknown = (c.env ?? []).map((e) => e.name).filter((n) => !(n in schema.shape));
    expect(unknown, 'variables the service never reads (a typo leaves the default in force)').toEqual([]);
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      const secretKey = e.valueFrom?.secretKeyRef?.key;
      const value = secretKey === undefined ? envValue(c, e.name) : e.valueFrom?.secretKeyRef?.optional ? undefined : SECRET_STAND_INS[secretKey];
      if (secretKey !== undefined && !e.valueFrom?.secretKeyRef?.optional) expect(value, `a stand-in for Secret key ${secretKey}`).toBeDefined();
      if (value !== undefined) env[e.name] = value;
    }
    const parsed = schema.safeParse(env);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? []).toEqual([]);
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
        expect(PORTS_WITHOUT_SERVICE, `${id}: the ops port is scraped per pod, the admin port port-forwarded, neither exposed`).not.toContain(port.name);
        expect(PORTS_WITHOUT_SERVICE, `${id} port ${port.name} -> ${port.targetPort}`).not.toContain(String(port.targetPort));
        if (port.name === 'grpc') {
          expect(service.spec?.clusterIP, `${id}: gRPC only through a headless Service`).toBe('None');
          expect(port.port, `${id}: a headless Service's port is the pod's`).toBe(containerPorts.get('grpc'));
        }
        exposed.push(port.name ?? '?');
      }
    }
    expect(exposed.sort(), 'each serving port exposed once').toEqual(servedPorts.sort());
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
