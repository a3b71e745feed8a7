// Offline checks of docker-compose.yml (Docker is not available to run it here): every service
// gets the environment its process needs, dependencies exist and can be satisfied, and the
// Polaris services run the image's entry points with healthchecks on their ops port.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EVENTS_TOPIC, expectedBindAddress, HOST_ENV, MIGRATE, PORT_ENV, SERVICES, type PortName } from './deploy-contract';

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  ports?: (string | { target?: number; published?: string | number; host_ip?: string })[];
  profiles?: string[];
  volumes?: string[];
}

const file = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
// Compose supports YAML merge keys (`<<:`); the file uses them for shared env blocks.
const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
const deployables = [...SERVICES, MIGRATE];

function environment(svc: ComposeService): Record<string, string> {
  if (Array.isArray(svc.environment)) {
    return Object.fromEntries(
      svc.environment.map((entry) => {
        const eq = entry.indexOf('=');
        return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function dependencies(svc: ComposeService): Record<string, string> {
  if (Array.isArray(svc.depends_on)) return Object.fromEntries(svc.depends_on.map((d) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(svc.depends_on ?? {}).map(([name, dep]) => [name, dep.condition ?? 'service_started']),
  );
}

function service(name: string): ComposeService {
  const svc = services[name];
  if (!svc) throw new Error(`docker-compose.yml has no service ${name}`);
  return svc;
}

/** Short ("[ip:]host:container[/proto]") or long syntax of a `ports` entry. */
function publishedPort(entry: NonNullable<ComposeService['ports']>[number]): { hostIp?: string; target?: string } {
  if (typeof entry !== 'string') return { hostIp: entry.host_ip, target: String(entry.target) };
  const parts = entry.split(':');
  return { hostIp: parts.length === 3 ? parts[0] : undefined, target: parts.at(-1)?.split('/')[0] };
}

function durationSeconds(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`unsupported duration ${value}`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
}

describe('docker-compose.yml', () => {
  it.each(deployables.map((d) => [d.name, d] as const))('%s gets every variable its process requires', (name, d) => {
    const env = environment(service(name));
    const missing = d.env.filter((key) => !(key in env));
    expect(missing).toEqual([]);
    const empty = d.env.filter((key) => env[key] === '');
    expect(empty, 'required variables set to an empty value').toEqual([]);
  });

  it.each(deployables.map((d) => [d.name, d] as const))('%s runs its entry point from the one image', (name, d) => {
    const svc = service(name);
    expect(svc.command).toEqual(d.command);
    const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
    expect(build?.context).toBe('.');
    expect(build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(svc.image).toBe(service(SERVICES[0]?.name ?? '').image);
  });

  it.each(SERVICES.map((d) => [d.name, d] as const))('%s passes its contract ports and is healthchecked on /readyz', (name, d) => {
    const svc = service(name);
    const env = environment(svc);
    for (const [portName, port] of Object.entries(d.ports)) {
      expect(env[PORT_ENV[portName as keyof typeof PORT_ENV]], portName).toBe(String(port));
    }
    expect(env.OTEL_SERVICE_NAME).toBe(name);
    const test = Array.isArray(svc.healthcheck?.test) ? svc.healthcheck.test.join(' ') : (svc.healthcheck?.test ?? '');
    expect(test).toContain('/readyz');
    expect(test).toMatch(/OPS_PORT/);
  });

  it.each(SERVICES.map((d) => [d.name, d] as const))('%s sets every bind address its config reads: 0.0.0.0 only where another container reaches it', (name, d) => {
    for (const port of Object.keys(d.ports) as PortName[]) expect(d.bind, `${port} port`).toContain(HOST_ENV[port]);
    const env = environment(service(name));
    const actual = Object.fromEntries(d.bind.map((variable) => [variable, env[variable]]));
    const expected = Object.fromEntries(d.bind.map((variable) => [variable, expectedBindAddress(d, variable, 'compose')]));
    expect(actual).toEqual(expected);
  });

  it.each(SERVICES.map((d) => [d.name] as const))('%s stops within its grace period', (name) => {
    const svc = service(name);
    const drainSeconds = Number(environment(svc).SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(drainSeconds).toBeGreaterThan(0);
    // Docker's default is 10 s, then SIGKILL.
    expect(durationSeconds(svc.stop_grace_period ?? '10s')).toBeGreaterThan(drainSeconds);
  });

  it(`names the topic that polaris migrate creates (${EVENTS_TOPIC})`, () => {
    for (const [name, svc] of Object.entries(services)) {
      const topic = environment(svc).EVENTS_TOPIC;
      if (topic !== undefined) expect(topic, name).toBe(EVENTS_TOPIC);
    }
  });

  it('addresses gRPC backends by service name on their GRPC_PORT', () => {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      for (const [key, addr] of Object.entries(environment(svc)).filter(([k]) => k.endsWith('_GRPC_ADDR'))) {
        const [host = '', port] = addr.split(':');
        const target = services[host];
        if (!target) problems.push(`${name} ${key}=${addr}: no service ${host}`);
        else if (environment(target).GRPC_PORT !== port) problems.push(`${name} ${key}=${addr}: ${host} serves gRPC on ${environment(target).GRPC_PORT}`);
        else if (!(host in dependencies(svc)) && !deployables.find((d) => d.name === name)?.calledWithoutWaiting?.includes(key)) {
          problems.push(`${name} ${key}=${addr}: does not depend on ${host}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every Polaris service one internal-call secret, long enough for them to start', () => {
    const secrets = new Set(SERVICES.map((d) => environment(service(d.name)).INTERNAL_AUTH_SECRET));
    expect(secrets.size).toBe(1);
    const [value = ''] = secrets;
    // `${INTERNAL_AUTH_SECRET:-fallback}`: what runs when the variable is not exported.
    const fallback = /^\$\{INTERNAL_AUTH_SECRET:-(.+)\}$/.exec(value)?.[1] ?? value;
    expect(Buffer.byteLength(fallback)).toBeGreaterThanOrEqual(32);
  });

  // gRPC: the compose secret is a public development value. Admin: the queue board acts on every
  // tenant's jobs (behind an admin API key, but still nothing for the machine's network).
  it('publishes gRPC and admin ports on loopback only', () => {
    const exposed: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      const { GRPC_PORT, ADMIN_PORT } = environment(svc);
      for (const entry of svc.ports ?? []) {
        const { hostIp, target } = publishedPort(entry);
        if ((target === GRPC_PORT || target === ADMIN_PORT) && hostIp !== '127.0.0.1') exposed.push(`${name}: ${JSON.stringify(entry)}`);
      }
    }
    expect(exposed).toEqual([]);
    expect(services['rating-worker']?.ports?.map((p) => publishedPort(p).target), 'the queue board is reachable from the host').toContain(environment(service('rating-worker')).ADMIN_PORT);
  });

  // The rating-worker reads Usage from the sink-worker, which waits for the rating-worker (its
  // catalog lease): a dependency back would be a cycle, and the rating jobs retry instead.
  it('gives no startup dependency on a backend called without waiting', () => {
    for (const d of deployables) {
      const env = environment(service(d.name));
      for (const key of d.calledWithoutWaiting ?? []) {
        const [host = ''] = (env[key] ?? '').split(':');
        expect(services[host], `${d.name} ${key}`).toBeDefined();
        expect(dependencies(service(d.name))[host], `${d.name} must not wait for ${host} (${key})`).toBeUndefined();
      }
    }
  });

  // The broker's external listener has no authentication here (a laptop's stack): anyone who
  // reaches it reads and writes every tenant's events. The same holds for the stores' ports.
  it('publishes the broker and the stores (every third-party image) on loopback only', () => {
    const exposed: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      for (const entry of svc.ports ?? []) {
        if (publishedPort(entry).hostIp !== '127.0.0.1') exposed.push(`${name}: ${JSON.stringify(entry)}`);
      }
    }
    expect(exposed).toEqual([]);
    expect(services.redpanda?.ports?.length, 'the broker stays reachable from the host, for local tools').toBeGreaterThan(0);
  });

  it('addresses other containers by service name, never loopback', () => {
    const loopback: string[] = [];
    const bindVariables = new Set(deployables.flatMap((d) => d.bind));
    for (const [name, svc] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(svc))) {
        // A bind address is the container's own interface, not another container's address.
        if (bindVariables.has(key)) continue;
        if (/127\.0\.0\.1|localhost/.test(value)) loopback.push(`${name} ${key}=${value}`);
      }
    }
    expect(loopback).toEqual([]);
  });

  it('depends only on services that exist, with satisfiable conditions, without cycles', () => {
    const problems: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependencies(svc))) {
        const target = services[dep];
        if (!target) {
          problems.push(`${name} -> ${dep}: no such service`);
        } else if (condition === 'service_healthy' && (!target.healthcheck?.test || target.healthcheck.disable)) {
          problems.push(`${name} -> ${dep}: service_healthy but ${dep} has no healthcheck`);
        } else if (condition === 'service_completed_successfully' && target.restart !== 'no') {
          problems.push(`${name} -> ${dep}: waits for completion of a service that restarts`);
        } else if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
          problems.push(`${name} -> ${dep}: unknown condition ${condition}`);
        }
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) {
        problems.push(`cycle: ${[...path, name].join(' -> ')}`);
        return;
      }
      visiting.add(name);
      for (const dep of Object.keys(dependencies(services[name] ?? {}))) visit(dep, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
    expect(problems).toEqual([]);
  });

  it('starts every Polaris service after a successful migration, waiting for it itself', () => {
    for (const { name } of SERVICES) {
      expect(dependencies(service(name))[MIGRATE.name], name).toBe('service_completed_successfully');
    }
  });

  // collector/connect's webhook receiver in the Redpanda Connect image, only when asked for: the
  // configs themselves run in e2e/connect-*.e2e.test.ts.
  it('runs the Redpanda Connect webhook receiver under the connect profile only, in front of the collector', () => {
    const connect = service('connect');
    expect(connect.profiles).toEqual(['connect']);
    expect(connect.image).toMatch(/^docker\.redpanda\.com\/redpandadata\/connect:/);
    expect(connect.command).toEqual(['run', '/connect/webhook-receiver.yaml']);
    expect(connect.volumes).toContain('./collector/connect:/connect:ro');
    expect(existsSync(fileURLToPath(new URL('../collector/connect/webhook-receiver.yaml', import.meta.url)))).toBe(true);
    expect(environment(connect).POLARIS_COLLECTOR_URL).toBe(`http://collector:${environment(service('collector')).HTTP_PORT}`);
    expect(dependencies(connect).collector).toBe('service_healthy');
    const profiled = Object.entries(services).filter(([, svc]) => svc.profiles?.length).map(([name]) => name);
    expect(profiled, 'a plain `docker compose up` runs everything else').toEqual(['connect']);
  });

  it('pins every third-party image to a version', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      const tag = /:([^/:@]+)$/.exec(svc.image ?? '')?.[1];
      expect(tag, `${name}: ${svc.image}`).toBeDefined();
      expect(tag, `${name}: ${svc.image}`).not.toBe('latest');
    }
  });
});
