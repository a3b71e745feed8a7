// @polaris/shared/signals: the FIRST import of every entry point (the services' main.ts, the
// operator CLI), so that SIGTERM and SIGINT are handled from the first line. Loading the rest
// (OpenTelemetry, gRPC, the store clients) takes a while; a stop signal in that window must stop
// the process at once. As PID 1 of a container without an init (tini in the image; `docker run`
// without it, a pod that overrides the entrypoint) a signal that nothing handles is ignored
// outright, and the orchestrator waits out its grace period to SIGKILL.
// No imports beyond node: this module must cost nothing to load.
import { constants } from 'node:os';

export type StopSignal = 'SIGTERM' | 'SIGINT';
export type StopHandler = (signal: StopSignal) => void;

/**
 * Until the process says how it stops (runService's ordered drain, the migrate command's own
 * message), a signal ends it at once with the conventional 128 + signal number: nothing has
 * started yet that needs draining. Unless something else listens for it: a program that handles
 * the signal its own way (the dev CLI's `demo` stops its services on Ctrl-C) decides.
 */
const stopAtOnce: StopHandler = (signal) => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), signal, msg: `${signal} received: stopping now (nothing to drain yet)` })}\n`);
  process.exit(128 + constants.signals[signal]);
};

let current: StopHandler = stopAtOnce;
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => current(signal));

/** What SIGTERM and SIGINT do from now on (the last call wins). */
export function onStopSignal(handler: StopHandler): void {
  current = handler;
}
