import { CliError } from '@polaris/cli';
import { describeLogTail } from '../processes/log-tail';
import type { LaunchSpec } from '../processes/spawn-logged';

/** The stores of the local stack (not the Polaris services, which the launcher runs). */
export type StackServiceName = 'postgres' | 'clickhouse' | 'kafka' | 'redis' | 'smtp';

/** A binary the service needs and the Debian package that provides it. */
export interface Requirement {
  /** An absolute path, or a command name looked up on PATH. */
  binary: string;
  aptPackage: string;
}

/**
 * One service of the local stack. `stack.ts` drives every service through the same lifecycle:
 * install → prepare → launch (detached, pidfile) → probe until ready → afterReady.
 */
export interface StackService {
  readonly name: StackServiceName;
  /** The first port is the one clients use; all of them must be free before a start. */
  readonly ports: readonly number[];
  readonly pidFile: string;
  /** Logs worth showing when the service fails, most useful first. */
  readonly logFiles: readonly string[];
  readonly stopSignal: NodeJS.Signals;
  readonly requirements: readonly Requirement[];
  /** Idempotent one-time setup: directories, config files, initdb / storage format. */
  prepare(log: (line: string) => void): Promise<void>;
  launch(): Promise<LaunchSpec>;
  /** One readiness check against the real protocol; throws when not ready. */
  probe(): Promise<void>;
  /** Idempotent work that needs the service ready (e.g. creating the database). */
  afterReady?(): Promise<void>;
}

/** Names the service, its ports and the tail of its logs, so a failed start explains itself. */
export class StackError extends CliError {
  constructor(
    readonly service: StackService,
    problem: string,
  ) {
    super(`${service.name} (127.0.0.1:${service.ports.join(',')}): ${problem}${service.logFiles.map((file) => describeLogTail(file, 20)).join('')}`);
    this.name = 'StackError';
  }
}
