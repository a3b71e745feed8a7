import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pollUntil } from './poll-until';
import type { StoppableProcess } from './stop-process';

/** A process started by an earlier CLI run: only its pidfile tells us about it. */
export interface PidRecord {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot), to tell a reused pid apart. */
  startTicks?: string;
}

export type ProcessState = 'alive' | 'dead';

function procStartTicks(pid: number): { state: string; startTicks: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const startTicks = rest[19];
    return state && startTicks ? { state, startTicks } : undefined;
  } catch {
    return undefined;
  }
}

export function processState(record: PidRecord): ProcessState {
  if (existsSync('/proc/self/stat')) {
    const info = procStartTicks(record.pid);
    // A zombie counts as dead: PID 1 in a container may never reap a process we killed.
    if (!info || info.state === 'Z') return 'dead';
    if (record.startTicks && info.startTicks !== record.startTicks) return 'dead';
    return 'alive';
  }
  try {
    process.kill(record.pid, 0);
    return 'alive';
  } catch {
    return 'dead';
  }
}

export function writePidFile(file: string, pid: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const ticks = procStartTicks(pid)?.startTicks;
  writeFileSync(file, ticks ? `${pid}\n${ticks}\n` : `${pid}\n`);
}

export function readPidFile(file: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, ticksLine] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return ticksLine ? { pid, startTicks: ticksLine.trim() } : { pid };
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}

/** Not our child, so no exit event and no exit code: only /proc says when it has gone. */
export function pidProcess(record: PidRecord): StoppableProcess {
  return {
    pid: record.pid,
    kill(signal) {
      try {
        process.kill(record.pid, signal);
      } catch {
        // Already gone.
      }
    },
    async waitForExit(timeoutMs) {
      const gone = async () => {
        if (processState(record) === 'alive') throw new Error('alive');
      };
      return (await pollUntil(gone, { timeoutMs, intervalMs: 100 })) === undefined;
    },
  };
}
