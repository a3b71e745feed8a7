import { mkdirSync } from 'node:fs';
import type { DevConfig } from '../config';
import type { StackLayout } from '../paths';
import { probeReplyLine } from './line-probe';
import type { StackService } from './service';

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

    // One inline-protocol PING; ready on +PONG.
    probe: () => probeReplyLine({ port, send: 'PING\r\n', expect: '+PONG', timeoutMessage: 'PING timed out', unexpected: (reply) => `PING answered ${reply}` }),
  };
}
