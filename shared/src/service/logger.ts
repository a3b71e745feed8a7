import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; the collector of the platform (k8s, compose) ships them. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
