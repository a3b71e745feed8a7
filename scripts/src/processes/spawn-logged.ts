import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { StoppableProcess } from './stop-process';

export interface LaunchSpec {
  file: string;
  args: string[];
  cwd: string;
  /** Where the process's stdout and stderr go (appended). */
  output: string;
  /** The whole environment; without it the process inherits ours. */
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const describeExit = (exit: ExitStatus): string => (exit.signal ? `exited on ${exit.signal}` : `exited with code ${exit.code}`);

export interface LoggedProcess extends StoppableProcess {
  /** How it ended, once it has; known only while this process is still around to see it. */
  exitStatus(): ExitStatus | undefined;
  /** "exited with code 1" once it has ended: the `aborted` of a pollUntil on its readiness. */
  exited(): string | undefined;
}

/**
 * Starts a process with its output appended to a file. `detached`: in a session of its own, so
 * it outlives this CLI (the local stack, found again through its pidfile). `attached`: in our
 * process group, so a Ctrl-C reaches it too, and we hold on to it (services of a demo or a test run).
 */
export function spawnLogged(spec: LaunchSpec, mode: 'detached' | 'attached'): Promise<LoggedProcess> {
  mkdirSync(path.dirname(spec.output), { recursive: true });
  // The file itself, not a pipe through us: the last lines are on disk when the process dies.
  const fd = openSync(spec.output, 'a');
  try {
    const child = spawn(spec.file, spec.args, {
      cwd: spec.cwd,
      detached: mode === 'detached',
      stdio: ['ignore', fd, fd],
      ...(spec.env !== undefined ? { env: spec.env } : {}),
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    let status: ExitStatus | undefined;
    const exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        status = { code, signal };
        resolve();
      });
    });
    const handle: LoggedProcess = {
      pid: child.pid ?? -1,
      kill: (signal) => {
        if (!status) child.kill(signal);
      },
      async waitForExit(timeoutMs) {
        if (status) return true;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        try {
          return await Promise.race([exit.then(() => true), timeout]);
        } finally {
          clearTimeout(timer);
        }
      },
      exitStatus: () => status,
      exited: () => (status ? describeExit(status) : undefined),
    };
    return new Promise((resolve, reject) => {
      child.on('error', (error) => reject(new Error(`cannot start ${spec.file}: ${error.message}`)));
      child.once('spawn', () => {
        if (mode === 'detached') child.unref();
        resolve(handle);
      });
    });
  } finally {
    closeSync(fd);
  }
}
