import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time by process from Linux's /proc, to say where a run's CPU went on a small machine (the
 * benches share two cores with the stores). Elsewhere every figure is undefined and the bench says
 * so. Clock ticks are taken as 100 per second (USER_HZ on every Linux the stack runs on).
 */

const TICKS_PER_SECOND = 100;

/** utime + stime of `pid`, in seconds; undefined when it is gone (or there is no /proc). */
function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is the first.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Processes whose command name (/proc/<pid>/comm, at most 15 characters) starts with `prefix`. */
export function pidsNamed(prefix: string): number[] {
  try {
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/comm`, 'utf8').trim().startsWith(prefix);
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/** Processes named `prefix` (as pidsNamed) whose command line contains `part`: one store of several (e2e stacks run their own). */
export function pidsNamedWith(prefix: string, part: string): number[] {
  return pidsNamed(prefix).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(part);
    } catch {
      return false;
    }
  });
}

/** Busy and total CPU seconds of the whole machine, all cores (/proc/stat). */
function machineSeconds(): { busy: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** A group of processes, found again at each snapshot (server backends come and go). */
export interface CpuGroup {
  name: string;
  pids: () => readonly number[];
}

export interface CpuSnapshot {
  byGroup: Map<string, Map<number, number>>;
  machine?: { busy: number; total: number };
}

export function cpuSnapshot(groups: readonly CpuGroup[]): CpuSnapshot {
  const byGroup = new Map<string, Map<number, number>>();
  for (const g of groups) {
    const seconds = new Map<number, number>();
    for (const pid of g.pids()) {
      const s = processSeconds(pid);
      if (s !== undefined) seconds.set(pid, s);
    }
    byGroup.set(g.name, seconds);
  }
  const machine = machineSeconds();
  return { byGroup, ...(machine ? { machine } : {}) };
}

export interface CpuUse {
  /** CPU seconds each group used between the snapshots (a process new since `before` counts from 0). */
  groups: Array<{ name: string; seconds: number }>;
  /** The whole machine's busy CPU seconds, and what the cores could have given, over the same time. */
  machine?: { busy: number; total: number };
}

export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const groups = [...after.byGroup.entries()].map(([name, now]) => {
    const then = before.byGroup.get(name) ?? new Map<number, number>();
    let seconds = 0;
    for (const [pid, s] of now) seconds += s - (then.get(pid) ?? 0);
    return { name, seconds };
  });
  const machine =
    before.machine && after.machine ? { busy: after.machine.busy - before.machine.busy, total: after.machine.total - before.machine.total } : undefined;
  return { groups, ...(machine ? { machine } : {}) };
}
