import net from 'node:net';

// The readiness probe of a local-stack server speaking a line protocol (Redis' inline commands,
// SMTP): connect, optionally send one line, and check the first reply line.

export interface LineProbe {
  port: number;
  /** Sent once connected (Redis' `PING\r\n`); nothing for a server that speaks first (SMTP's greeting). */
  send?: string;
  /** How the first reply line starts when the server is ready (`+PONG`, `220`). */
  expect: string;
  /** The error when no full line comes within 2 s. */
  timeoutMessage: string;
  /** The error for any other reply line. */
  unexpected: (reply: string) => string;
}

/** Resolves once the first reply line on 127.0.0.1:port starts with `expect`. */
export function probeReplyLine(probe: LineProbe): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: probe.port });
    let reply = '';
    const finish = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(2_000, () => finish(new Error(probe.timeoutMessage)));
    socket.once('error', (error) => finish(error));
    const { send } = probe;
    if (send !== undefined) socket.once('connect', () => socket.write(send));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (!reply.includes('\r\n')) return;
      finish(reply.startsWith(probe.expect) ? undefined : new Error(probe.unexpected(reply.trim())));
    });
  });
}
