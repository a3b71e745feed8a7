import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../paths';

const polaris = (...args: string[]) =>
  execa('node', [path.join(repoRoot, 'scripts', 'bin', 'polaris.mjs'), ...args], { cwd: repoRoot, reject: false });

// The stack is started by scripts/test.sh (`npx polaris stack up`) before the tests run.
describe('polaris stack', () => {
  it('status reports every service ready', async () => {
    const result = await polaris('stack', 'status', '--json');
    const statuses = JSON.parse(result.stdout) as { service: string; state: string; pid: number | null }[];
    expect(statuses.map((s) => [s.service, s.state])).toEqual([
      ['postgres', 'ready'],
      ['clickhouse', 'ready'],
      ['kafka', 'ready'],
      ['redis', 'ready'],
      ['smtp', 'ready'],
    ]);
    expect(statuses.every((s) => typeof s.pid === 'number')).toBe(true);
    expect(result.exitCode).toBe(0);
  });

  it('up on a running stack is a no-op: it starts nothing and every pid stays the same', async () => {
    const pids = async () => (JSON.parse((await polaris('stack', 'status', '--json')).stdout) as { service: string; pid: number | null }[]).map((s) => [s.service, s.pid]);
    const before = await pids();
    const result = await polaris('stack', 'up');
    expect(result.exitCode).toBe(0);
    for (const service of ['postgres', 'clickhouse', 'kafka', 'redis', 'smtp']) {
      expect(result.stdout).toMatch(new RegExp(`^${service}: already running \\(pid \\d+\\)$`, 'm'));
    }
    expect(await pids()).toEqual(before);
  });
});
