/**
 * A process that can be stopped: our own child (watched through its exit event) or one found
 * through a pidfile (watched through /proc), so both are stopped the same way.
 */
export interface StoppableProcess {
  readonly pid: number;
  /** Never throws: a process that has already gone needs no signal. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves true once the process has exited, false when `timeoutMs` passes first. */
  waitForExit(timeoutMs: number): Promise<boolean>;
}

// After SIGKILL only the kernel can hold a process (uninterruptible I/O); give it a moment.
const AFTER_KILL_MS = 5_000;

/** Sends `signal`, waits up to `graceMs` for the process to go, then SIGKILLs it. */
export async function stopProcess(target: StoppableProcess, signal: NodeJS.Signals, graceMs: number): Promise<'stopped' | 'killed'> {
  target.kill(signal);
  if (await target.waitForExit(graceMs)) return 'stopped';
  target.kill('SIGKILL');
  if (await target.waitForExit(AFTER_KILL_MS)) return 'killed';
  throw new Error(`pid ${target.pid} survived SIGKILL`);
}
