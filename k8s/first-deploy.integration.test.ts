// Issue 13, "a first deploy that works", offline: the production overlay as `kubectl kustomize`
// renders it after the README's procedure (secrets from the git-ignored files, filled from their
// committed examples). Checked here: the secrets come from those files and nowhere else, every
// Deployment that uses a store waits for the migrate Job, every Kafka client speaks TLS and SASL,
// the image's init process is not bypassed, and GraphiQL stays off.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IPodSpec, ISecret } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { K8S_WORKLOADS, MIGRATE, type Deployable } from './deploy-contract';
import { configMap, envValue, named, ofKind, onlyContainer, overlay, podSpecOf, renderedObjects, secret, workloads, type K8sObject } from './rendered-manifests';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const overlayDir = path.join(repoRoot, overlay);

beforeAll(() => {
  renderedObjects();
});

/** The stores a deployable's process reaches, read from the variables it requires. */
function storesOf(d: Deployable): string[] {
  return [
    ...(d.env.includes('DATABASE_URL') ? ['postgres'] : []),
    ...(d.env.includes('CLICKHOUSE_URL') ? ['clickhouse'] : []),
    ...(d.env.includes('KAFKA_BROKERS') ? ['kafka'] : []),
  ];
}

/** Every variable a container sees: `env`, then `envFrom` ConfigMaps (an `env` entry wins). */
function visibleEnv(container: IContainer): Map<string, { value?: string; secret?: string }> {
  const seen = new Map<string, { value?: string; secret?: string }>();
  for (const from of container.envFrom ?? []) {
    for (const [k, v] of Object.entries(configMap(from.configMapRef?.name ?? '')?.data ?? {})) seen.set(`${from.prefix ?? ''}${k}`, { value: v });
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    seen.set(e.name, ref ? { secret: ref.key } : { value: envValue(container, e.name) });
  }
  return seen;
}

const deploymentSpec = (name: string): IPodSpec => podSpecOf(named<IDeployment & K8sObject>('Deployment', name).spec?.template);

describe('secrets', () => {
  const example = (file: string) => path.join(overlayDir, 'secrets.example', file);
  const keysOf = (file: string) =>
    readFileSync(example(file), 'utf8')
      .split(/\r?\n/)
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));

  it('are generated from files the overlay keeps out of git, filled from committed examples', () => {
    for (const file of readdirSync(path.join(overlayDir, 'secrets.example'))) {
      const real = path.join(overlay, 'secrets', file);
      const ignored = execFileSync('git', ['check-ignore', '--no-index', '-v', real], { cwd: repoRoot, encoding: 'utf8' });
      expect(ignored, `${real} is git-ignored`).toContain(real);
    }
  });

  it('polaris-secrets holds exactly the keys of secrets.example/polaris.env, including INTERNAL_AUTH_SECRET and KAFKA_SASL_PASSWORD', () => {
    const generated = ofKind<ISecret & K8sObject>('Secret').find((s) => s.metadata?.name?.startsWith('polaris-secrets-'));
    expect(generated?.metadata?.name, 'a generated name (content hash): a new secret rolls the pods').toMatch(/^polaris-secrets-[a-z0-9]+$/);
    expect(Object.keys(generated?.data ?? {}).sort()).toEqual(keysOf('polaris.env').sort());
    expect(keysOf('polaris.env')).toEqual(expect.arrayContaining(['DATABASE_URL', 'CLICKHOUSE_PASSWORD', 'REDIS_URL', 'INTERNAL_AUTH_SECRET', 'KAFKA_SASL_PASSWORD']));
  });

  it('every Secret comes from the overlay\'s secret files: none is written into a kustomization', () => {
    const kustomizations = [path.join(repoRoot, 'k8s/base/kustomization.yaml'), path.join(overlayDir, 'kustomization.yaml')].map((f) => readFileSync(f, 'utf8'));
    for (const text of kustomizations) expect(text).not.toMatch(/^\s*literals:/m);
    for (const s of ofKind<ISecret & K8sObject>('Secret')) expect(s.metadata?.name, 'generated').toMatch(/-[a-z0-9]{10}$/);
  });
});

describe('every Deployment that uses a store waits for the migrations of its release', () => {
  it.each(K8S_WORKLOADS.map((w) => [w.name, w] as const))('%s', (name, w) => {
    const stores = storesOf(w);
    const inits = deploymentSpec(name).initContainers ?? [];
    if (stores.length === 0) {
      // The gateway reaches no store (docs/ARCHITECTURE.md): nothing of its own to wait for; its
      // /readyz waits for Identity, whose pods wait for PostgreSQL.
      expect(inits, `${name} uses no store`).toEqual([]);
      return;
    }
    expect(inits.map((c) => c.name)).toEqual(['wait-for-migrations']);
    const [init] = inits;
    if (!init) return;
    const main = onlyContainer(deploymentSpec(name), name);
    expect(init.image, 'the same image: the schema its own code needs').toBe(main.image);
    expect(init.command, 'no command: the image entrypoint (tini) runs it').toBeUndefined();
    expect(init.args).toEqual([...MIGRATE.command, '--wait', '--only', stores.join(',')]);
    // It can reach exactly the stores it waits for, as the service does.
    const env = visibleEnv(init);
    for (const variable of w.env.filter((v) => /^(DATABASE_URL|CLICKHOUSE_|KAFKA_BROKERS)/.test(v))) {
      expect(env.has(variable), `${name} init: ${variable}`).toBe(true);
    }
    for (const store of ['postgres', 'clickhouse', 'kafka'].filter((s) => !stores.includes(s))) {
      const credential = { postgres: 'DATABASE_URL', clickhouse: 'CLICKHOUSE_PASSWORD', kafka: 'KAFKA_SASL_PASSWORD' }[store] ?? '';
      expect(env.get(credential)?.secret, `${name} init: no ${store} credential`).toBeUndefined();
    }
    expect(init.resources?.limits?.memory, `${name} init: limits`).toBeDefined();
  });

  it('init containers are hardened like the main ones (Pod Security "restricted" checks them too)', () => {
    for (const { owner, spec } of workloads()) {
      for (const init of spec.initContainers ?? []) {
        expect(init.securityContext, `${owner} ${init.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('the migrate Job applies; it does not wait', () => {
    const job = workloads().find((w) => w.owner === `Job/${MIGRATE.name}`);
    expect(onlyContainer(job?.spec ?? { containers: [] }, 'Job/migrate').args).toEqual([...MIGRATE.command]);
  });
});

describe('Kafka clients', () => {
  // Redpanda's Helm chart serves its internal listener (:9093, KAFKA_BROKERS) with TLS by default;
  // SASL is what keeps any other pod of the cluster from reading or writing every tenant's events.
  const kafkaContainers = (): Array<{ owner: string; container: IContainer; spec: IPodSpec }> =>
    workloads().flatMap(({ owner, spec }) =>
      [...(spec.initContainers ?? []), ...spec.containers].filter((c) => visibleEnv(c).has('KAFKA_BROKERS')).map((container) => ({ owner: `${owner} ${container.name}`, container, spec })),
    );

  it('are the workloads the contract says use Kafka, and their init containers', () => {
    const owners = new Set(kafkaContainers().map((k) => k.owner.split(' ')[0]));
    const expected = [...K8S_WORKLOADS.filter((w) => storesOf(w).includes('kafka')).map((w) => `Deployment/${w.name}`), `Job/${MIGRATE.name}`];
    expect([...owners].sort()).toEqual(expected.sort());
  });

  it('connect with TLS (verifying the broker against a mounted CA) and SASL/SCRAM, the password from a Secret', () => {
    for (const { owner, container, spec } of kafkaContainers()) {
      const env = visibleEnv(container);
      expect(env.get('KAFKA_SSL')?.value, `${owner} KAFKA_SSL`).toBe('true');
      expect(env.get('KAFKA_SASL_MECHANISM')?.value, `${owner} KAFKA_SASL_MECHANISM`).toMatch(/^scram-sha-(256|512)$/);
      expect(env.get('KAFKA_SASL_USERNAME')?.value, `${owner} KAFKA_SASL_USERNAME`).toBeTruthy();
      expect(env.get('KAFKA_SASL_PASSWORD')?.secret, `${owner} KAFKA_SASL_PASSWORD from a Secret`).toBe('KAFKA_SASL_PASSWORD');
      const caFile = env.get('KAFKA_SSL_CA_FILE')?.value ?? '';
      const mount = container.volumeMounts?.find((m) => caFile.startsWith(`${m.mountPath}/`));
      expect(mount, `${owner}: ${caFile} is on a mounted volume`).toBeDefined();
      const volume = spec.volumes?.find((v) => v.name === mount?.name);
      const source = volume?.secret?.secretName ?? volume?.configMap?.name ?? '';
      const key = path.posix.basename(caFile);
      const data = secret(source)?.data ?? configMap(source)?.data ?? {};
      expect(Object.keys(data), `${owner}: ${source} holds ${key}`).toContain(key);
    }
  });
});

describe('the image entrypoint (tini) runs every container', () => {
  it('no container replaces it with `command`: the process is given as `args`', () => {
    for (const { owner, spec } of workloads()) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        expect(c.command, `${owner} ${c.name}`).toBeUndefined();
        expect(c.args?.[0], `${owner} ${c.name}`).toBe('node');
      }
    }
  });
});

// GraphiQL and introspection in production: k8s/gateway-graphql.integration.test.ts.
