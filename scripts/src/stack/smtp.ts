import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DevConfig } from '../config';
import { repoRoot, type StackLayout } from '../paths';
import type { StackService } from './service';

// The local stack's SMTP server (smtp-sink.ts, on the `smtp-server` package): where the
// rating-worker's notification email goes under `polaris demo` and the e2e suite. Messages are
// kept under .stack/smtp/messages/ (`<n>.eml` and `<n>.json`).

/** Resolves on the server's 220 greeting. */
function greeting(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(2_000, () => finish(new Error('no SMTP greeting')));
    socket.once('error', (error) => finish(error));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (!reply.includes('\r\n')) return;
      finish(reply.startsWith('220') ? undefined : new Error(`SMTP greeting was ${reply.trim()}`));
    });
  });
}

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

    probe: () => greeting(port),
  };
}
