import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { localSpecs, POLARIS_SERVICE_NAMES, startServices } from '@polaris/dev/launcher';
import { E2E_API_KEY_CACHE_TTL_MS, E2E_EVENT_MAX_AGE_DAYS, E2E_SINK_DEDUP_WINDOW_DAYS } from './support/e2e-config';
import { E2E_PORTS } from './support/ports';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds and starts the four services once for the whole e2e run, against the local stack that
 * `npm test` brought up and migrated. Each test creates its own organization.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // The suite runs the production bundles, built here, so what ships is what is tested.
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs'), ...POLARIS_SERVICE_NAMES], { stdio: 'inherit' });
  const system = await startServices({
    runFrom: 'bundle',
    repoRoot,
    logDir: join(repoRoot, '.stack', 'logs', 'e2e'),
    // A short key cache so the revocation test does not wait out the 30 s default. Events dated
    // any time back: suites pin calendar days (time zones' DST days, leap days) that soon lie
    // beyond the default 35 days; the default itself is tested on a collector of its own
    // (e2e/rate-limits.e2e.test.ts).
    specs: localSpecs(E2E_PORTS, {
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '8000',
      API_KEY_CACHE_TTL_MS: String(E2E_API_KEY_CACHE_TTL_MS),
      EVENT_MAX_AGE_DAYS: String(E2E_EVENT_MAX_AGE_DAYS),
      SINK_DEDUP_WINDOW_DAYS: String(E2E_SINK_DEDUP_WINDOW_DAYS),
      // The suite's gateway counts every request in Redis, but high enough that no test driving one
      // organization hard is refused; the limit itself is tested on a gateway of its own
      // (e2e/dashboard-tokens.e2e.test.ts).
      GATEWAY_RATE_LIMIT_PER_SECOND: '1000',
      GATEWAY_RATE_LIMIT_BURST: '5000',
    }),
    readyDeadlineMs: 90_000,
  });
  // A service that hangs on SIGTERM or exits non-zero makes stop() reject, naming it with its
  // exit and last log lines, and a rejected teardown fails the run: a broken shutdown is caught here.
  return () => system.stop();
}
