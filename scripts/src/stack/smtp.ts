import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DevConfig } from '../config';
import { repoRoot, type StackLayout } from '../paths';
import { probeReplyLine } from './line-probe';
import type { StackService } from './service';

// The local stack's SMTP server (smtp-sink.ts, on the `smtp-server` package): where the
// rating-worker's notification email goes under `polaris demo` and the e2e suite. Messages are
// kept under .stack/smtp/messages/ (`<n>.eml` and `<n>.json`).

export function smtpService(config: DevConfig, layout: StackLayout): StackService {
  const port = config.ports.smtp;
  return {
    name: 'smtp',
    ports: [port],
    pidFile: layout.pidFile('smtp'),
    logFiles: [layout.smtp.log],
    stopSignal: 'SIGTERM',
    // Node itself runs it (the `smtp-server` package is a dependency of @polaris/dev).
    requirements: [{ binary: process.execPath, aptPackage: 'nodejs' }],

    async prepare() {
      mkdirSync(layout.smtp.messages, { recursive: true });
    },

    async launch() {
      return {
        file: process.execPath,
        args: ['--import', 'tsx', path.join(repoRoot, 'scripts', 'src', 'stack', 'smtp-sink.ts'), '--port', String(port), '--dir', layout.smtp.messages],
        cwd: repoRoot,
        output: layout.smtp.log,
      };
    },

    // Ready on the server's 220 greeting.
    probe: () => probeReplyLine({ port, expect: '220', timeoutMessage: 'no SMTP greeting', unexpected: (reply) => `SMTP greeting was ${reply}` }),
  };
}
