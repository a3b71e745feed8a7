import { mkdirSync } from 'node:fs';
import net from 'node:net';
import type { DevConfig } from '../config';
import type { StackLayout } from '../paths';
import type { StackService } from './service';

/** One inline-protocol PING; resolves on +PONG. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(2_000, () => finish(new Error('PING timed out')));
    socket.once('error', (error) => finish(error));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (!reply.includes('\r\n')) return;
      finish(reply.startsWith('+PONG') ? undefined : new Error(`PING answered ${reply.trim()}`));
    });
  });
}

export function redisService(config: DevConfig, layout: StackLayout): StackService {
  const port = config.ports.redis;
  return {
    name: 'redis',
    ports: [port],
    pidFile: layout.pidFile('redis'),
    logFiles: [layout.redis.log],
    stopSignal: 'SIGTERM',
    requirements: [{ binary: 'redis-server', aptPackage: 'redis-server' }],

    async prepare() {
      mkdirSync(layout.redis.dir, { recursive: true });
    },

    async launch() {
      return {
        file: 'redis-server',
        // No persistence: the local Redis only holds queues and caches that tests recreate.
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', layout.redis.dir],
        cwd: layout.redis.dir,
        output: layout.redis.log,
      };
    },

    probe: () => ping(port),
  };
}
