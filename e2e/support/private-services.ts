import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServices, type PolarisServiceName, type RunningService, type RunningSystem, type ServiceSpec } from '@polaris/dev/launcher';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A loopback port nothing listens on right now (the kernel's pick). */
export { freePort } from '@polaris/dev/launcher';

/** Private copies of services, from the bundles the global setup built, logging under .stack/logs/e2e-<label>/. */
export function startPrivate(label: string, specs: ServiceSpec[], readyDeadlineMs = 60_000): Promise<RunningSystem> {
  return startServices({ runFrom: 'bundle', repoRoot, logDir: join(repoRoot, '.stack', 'logs', `e2e-${label}`), specs, readyDeadlineMs });
}

export function serviceOf(system: RunningSystem | undefined, name: PolarisServiceName): RunningService {
  const svc = system?.services.find((s) => s.name === name);
  if (!svc) throw new Error(`${name} is not part of this system`);
  return svc;
}

export interface Readiness {
  status: string;
  checks?: Array<{ name: string; ok: boolean; critical: boolean; error?: string }>;
}

export async function readyz(opsPort: number): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`http://127.0.0.1:${opsPort}/readyz`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Readiness };
}

/** The sum of a Prometheus sample over the series whose labels include `labels` (0 when none). */
export async function metric(opsPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit. */
  ms: number;
}

/**
 * Sends SIGTERM to one service and returns a promise of its exit, waited for up to `waitMs`
 * (rejects, after SIGKILLing it, if it is still running then: a hung drain).
 */
export function sigterm(svc: RunningService, waitMs: number): { sentAt: number; exited: Promise<Exit> } {
  const sentAt = Date.now();
  svc.process.kill('SIGTERM');
  const exited = svc.process.waitForExit(waitMs).then(async (gone) => {
    if (!gone) {
      svc.process.kill('SIGKILL');
      await svc.process.waitForExit(5_000);
      throw new Error(`${svc.name} (pid ${svc.pid}) was still running ${waitMs} ms after SIGTERM; see ${svc.logFile}`);
    }
    const status = svc.process.exitStatus();
    return { code: status?.code ?? null, signal: status?.signal ?? null, ms: Date.now() - sentAt };
  });
  return { sentAt, exited };
}

/** Whether the process has exited yet (without waiting). */
export const hasExited = (svc: RunningService): boolean => svc.process.exitStatus() !== undefined;

/**
 * The system-call code of a failed fetch (`ECONNREFUSED`, `ECONNRESET`, undici's `UND_ERR_SOCKET`
 * for "other side closed"), or its message.
 */
export function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
