import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { benthosBinary } from './support/benthos';
import { connectConfigPath, type ConnectConfig } from './support/connect';

/**
 * The collector/connect configs, checked without running them: `benthos lint` of the binary
 * built from Benthos' own io and pure components, which Redpanda Connect ships too. A config
 * that lints here needs no component Redpanda Connect lacks, and the binary has none that only
 * Redpanda Connect offers.
 */

const execFileAsync = promisify(execFile);
const CONFIGS: ConnectConfig[] = ['webhook-receiver', 'access-log-tailer', 'gauge-poller'];
// What each config requires (no default); lint substitutes them like a run does.
const REQUIRED_ENV = { POLARIS_API_KEY: 'pk_lint', ACCESS_LOG_PATH: '/var/log/nginx/access.log', GAUGE_URL: 'http://127.0.0.1:1/gauge' };

let benthos: string;

async function lint(path: string, env: Record<string, string> = REQUIRED_ENV): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(benthos, ['lint', path], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

/** The first object in a parsed config whose `label` is `label` (the outputs are nested in switches). */
function labelled(node: unknown, label: string): Record<string, unknown> | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = labelled(item, label);
      if (found) return found;
    }
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.label === label) return record;
    for (const value of Object.values(record)) {
      const found = labelled(value, label);
      if (found) return found;
    }
  }
  return undefined;
}

beforeAll(async () => {
  benthos = await benthosBinary();
}, 600_000);

describe('collector/connect configs', () => {
  it.each(CONFIGS)('%s lints clean with the Benthos binary', async (config) => {
    expect(await lint(connectConfigPath(config))).toEqual({ code: 0, output: '' });
  });

  it.each(CONFIGS)('%s names the variables it cannot run without', async (config) => {
    const { code, output } = await lint(connectConfigPath(config), {});
    expect(code).not.toBe(0);
    expect(output).toContain('required environment variables were not set');
    expect(output).toContain('POLARIS_API_KEY');
  });

  it('the binary refuses a component only Redpanda Connect has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'polaris-connect-lint-'));
    const path = join(dir, 'kafka.yaml');
    writeFileSync(path, 'input:\n  kafka_franz:\n    seed_brokers: [127.0.0.1:9092]\n    topics: [t]\n    consumer_group: g\noutput:\n  drop: {}\n');
    const { code, output } = await lint(path, {});
    expect(code).not.toBe(0);
    expect(output).toMatch(/kafka_franz/);
  });

  // One way to reach the collector and one dead-letter format for all three: a fix to one is a
  // fix to all (the configs stay self-contained files, so the block is repeated).
  it('sends to the collector and dead-letters the same way in every config', () => {
    const parsed = CONFIGS.map((config) => parse(readFileSync(connectConfigPath(config), 'utf8')) as unknown);
    const collector = parsed.map((doc) => labelled(doc, 'collector'));
    const deadLetter = parsed.map((doc) => {
      const output = labelled(doc, 'dead_letter');
      return { ...output, file: { ...(output?.file as object), path: '<per config>' } };
    });
    expect(collector[0]).toBeDefined();
    expect(collector[0]).toMatchObject({ http_client: { url: '${POLARIS_COLLECTOR_URL:http://127.0.0.1:8081}/v1/events', headers: { 'X-API-Key': '${POLARIS_API_KEY}' } } });
    for (const other of collector.slice(1)) expect(other).toEqual(collector[0]);
    for (const other of deadLetter.slice(1)) expect(other).toEqual(deadLetter[0]);
  });
});
