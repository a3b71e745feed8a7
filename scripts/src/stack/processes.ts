import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { LaunchSpec } from './service';

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

export interface Launched {
  pid: number;
  /** Set once the process has exited (while this CLI is still running). */
  exited: () => string | undefined;
}

/** Starts a process in its own session, detached from the CLI, with output appended to a file. */
export function spawnDetached(spec: LaunchSpec): Promise<Launched> {
  mkdirSync(path.dirname(spec.output), { recursive: true });
  const fd = openSync(spec.output, 'a');
  try {
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    let exit: string | undefined;
    child.on('exit', (code, signal) => {
      exit = signal ? `exited on ${signal}` : `exited with code ${code}`;
    });
    return new Promise((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot start ${spec.file}: ${error.message}`)));
      child.once('spawn', () => {
        child.unref();
        resolve({ pid: child.pid ?? -1, exited: () => exit });
      });
    });
  } finally {
    closeSync(fd);
  }
}

/** Sends `signal`, waits up to `graceMs` for the process to go, then SIGKILLs it. */
export async function stopProcess(record: PidRecord, signal: NodeJS.Signals, graceMs: number): Promise<'stopped' | 'killed'> {
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(record.pid, s);
    } catch {
      // Already gone.
    }
  };
  send(signal);
  if (await waitForExit(record, graceMs)) return 'stopped';
  send('SIGKILL');
  if (await waitForExit(record, 5_000)) return 'killed';
  throw new Error(`pid ${record.pid} survived SIGKILL`);
}

async function waitForExit(record: PidRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processState(record) === 'dead') return true;
    await delay(100);
  }
  return processState(record) === 'dead';
}

/**
 * Polls `check` until it resolves, `aborted` reports a reason to stop, or the deadline passes.
 * Returns undefined on success, otherwise why it gave up (with the last check error).
 */
export async function pollUntil(
  check: () => Promise<void>,
  options: { timeoutMs: number; intervalMs?: number; aborted?: () => string | undefined },
): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const abort = options.aborted?.();
    if (abort) return abort;
    try {
      await check();
      return undefined;
    } catch (error) {
      if (Date.now() >= deadline) {
        const last = error instanceof Error ? error.message : String(error);
        return `not ready after ${Math.round(options.timeoutMs / 1000)}s (last check: ${last})`;
      }
    }
    await delay(options.intervalMs ?? 250);
  }
}

export function tailLines(file: string, count: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count);
}
