// The NetworkPolicies are the second fence around the internal gRPC servers, behind their caller
// tokens (docs/ARCHITECTURE.md, Tenancy). They are checked by evaluating them (NetworkPolicy semantics, ingress only)
// for a set of possible callers, including strangers that must be kept out. Offline: the policies
// come from the rendered production overlay, no cluster needed.
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { IContainer } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { K8S_GRPC_BACKENDS, K8S_WORKLOADS, MIGRATE } from './deploy-contract';
import { named, namespace, ofKind, onlyContainer, podSpecOf, renderedObjects, type K8sObject } from './rendered-manifests';

// Render in a hook, so a kubectl failure is reported once, under the hook timeout.
beforeAll(() => {
  renderedObjects();
});

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
    return admittedTo(labels, port, container);
  }

  /** The same for any pod of the namespace with these labels (`container` resolves named ports). */
  function admittedTo(labels: Record<string, string>, port: number, container: IContainer): string[] {
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

  // One gRPC port may serve several address variables (the rating-worker: Identity, Meters and
  // MeterCatalog): its callers are the workloads that list any of them.
  const backends = [...new Set(Object.values(K8S_GRPC_BACKENDS))];
  it.each(backends)('let only the workloads that address %s reach its gRPC port', (backend) => {
    const port = K8S_WORKLOADS.find((w) => w.name === backend)?.ports.grpc;
    if (port === undefined) throw new Error(`${backend} serves no gRPC`);
    const keys = Object.entries(K8S_GRPC_BACKENDS).filter(([, b]) => b === backend).map(([key]) => key);
    for (const key of keys) expect(K8S_WORKLOADS.some((w) => w.env.includes(key)), `someone calls ${key}`).toBe(true);
    const expected = K8S_WORKLOADS.filter((w) => keys.some((key) => w.env.includes(key))).map((w) => podOf(w.name));
    expect(admitted(backend, port), `${backend}:${port} (${keys.join(', ')})`).toEqual(expected.sort());
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

  // The queue board acts on every tenant's rating jobs: only `kubectl port-forward` reaches it (it
  // binds the pod's loopback; k8s/deploy-contract.ts, expectedBindAddress), and no policy opens it.
  it('let nobody reach an admin port', () => {
    const withAdmin = K8S_WORKLOADS.filter((w) => w.ports.admin !== undefined);
    expect(withAdmin.map((w) => w.name)).toEqual(['rating-worker']);
    for (const w of withAdmin) expect(admitted(w.name, w.ports.admin ?? 0), `${w.name}:${w.ports.admin}`).toEqual([]);
  });

  // cert-manager answers an HTTP-01 challenge from a solver pod it starts in the Ingress's
  // namespace, reached through the ingress controller; default-deny-ingress would block it and the
  // certificate would never be issued.
  it("let only the ingress controller reach cert-manager's HTTP-01 solver pods, on the solver port", () => {
    const solver = { 'acme.cert-manager.io/http01-solver': 'true', app: 'cm-acme-http-solver' };
    const solverPort = 8089;
    const container: IContainer = { name: 'acmesolver', ports: [{ name: 'http', containerPort: solverPort }] };
    expect(admittedTo(solver, solverPort, container)).toEqual([ingressController.name]);
    // Only that port, and only those pods: the rule is no way in to the workloads.
    expect(admittedTo(solver, 8080, container)).toEqual([]);
    const solverPolicies = policies().filter((p) => p.spec?.podSelector?.matchLabels?.['acme.cert-manager.io/http01-solver'] === 'true');
    expect(solverPolicies).toHaveLength(1);
    for (const w of K8S_WORKLOADS) expect(matches(solverPolicies[0]?.spec?.podSelector, podLabels('Deployment', w.name)), w.name).toBe(false);
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
