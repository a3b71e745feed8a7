import { connect } from 'node:net';

export interface Cut {
  afterMs: number;
  /** The status line, when the server answered before closing (a 408), else ''. */
  statusLine: string;
}

/**
 * A client that sends `raw` (headers, maybe a first body byte) and then nothing: resolves when the
 * server closes the connection, rejects if the socket sits idle `giveUpMs` without being cut.
 */
export function silentClient(port: number, raw: string, giveUpMs: number): Promise<Cut> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    socket.setEncoding('utf8');
    socket.setTimeout(giveUpMs, () => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${giveUpMs} ms idle (received: ${JSON.stringify(received)})`));
    });
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined); // a reset is a cut too; 'close' follows and resolves
    socket.on('close', () => resolve({ afterMs: Date.now() - started, statusLine: received.split('\r\n')[0] ?? '' }));
  });
}
