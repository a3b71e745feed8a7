import net from 'node:net';

/** Answers held back on the connections whose request matched, until `release`. */
export interface AnswerHold {
  /** Resolves once a matching request has gone through to the server and its answer is held. */
  readonly caught: Promise<void>;
  /** How many connections have their answers held right now. */
  held(): number;
  /** Lets every held answer through, and stops holding. */
  release(): void;
}

export interface TcpProxy {
  readonly port: number;
  /**
   * From now on, a connection whose request bytes match `pattern` passes the request on to the
   * server at once but holds back whatever the server answers: the server has done the work, the
   * client has not heard about it. That is a crash window made deterministic (e.g. rows inserted,
   * offsets not yet committed), or a drain made observable.
   */
  holdAnswersTo(pattern: RegExp): AnswerHold;
  /**
   * From now on, a connection whose request bytes match `pattern` stops passing them on: the
   * server has not seen the request (a stalled network, a slow write) until `release`, while the
   * client waits for its answer.
   */
  holdRequestsTo(pattern: RegExp): AnswerHold;
  /**
   * The next `times` connections whose request bytes match `pattern` pass the request on, and are
   * closed at the first byte of the server's answer: the server did the work, the client saw a
   * broken connection (a lost answer, as when a load balancer or the network fails).
   */
  dropAnswersTo(pattern: RegExp, times: number): AnswerDrops;
  close(): Promise<void>;
}

export interface AnswerDrops {
  /** The first line of each answer dropped so far (`HTTP/1.1 202 Accepted`). */
  dropped(): string[];
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** Text seen from the client lately (latin1), so a pattern split across two chunks still matches. */
  tail: string;
  /** Server bytes held back, while this link is held. */
  held?: Buffer[];
  /** Client bytes held back, while this link's request is held. */
  heldRequest?: Buffer[];
  /** Closed at the first byte of the answer (dropAnswersTo). */
  dropAnswer?: boolean;
}

/**
 * A TCP proxy on a loopback port in front of `target`: a dependency the test can make slow at one
 * exact point without changing the service or the store. Used for ClickHouse's HTTP interface.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const links = new Set<Link>();
  let armed: { pattern: RegExp; caught: () => void } | undefined;
  let armedRequests: { pattern: RegExp; caught: () => void } | undefined;
  let dropping: { pattern: RegExp; left: number; dropped: string[] } | undefined;

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const link: Link = { client, upstream, tail: '' };
    links.add(link);
    const end = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (link.heldRequest) {
        link.heldRequest.push(chunk);
        return;
      }
      if (armedRequests && armedRequests.pattern.test(link.tail + chunk.toString('latin1'))) {
        link.heldRequest = [chunk];
        armedRequests.caught();
        return;
      }
      if (dropping && dropping.left > 0 && !link.dropAnswer && dropping.pattern.test(link.tail + chunk.toString('latin1'))) {
        link.dropAnswer = true;
        dropping.left--;
      }
      if (armed && !link.held) {
        const text = link.tail + chunk.toString('latin1');
        if (armed.pattern.test(text)) {
          // Held before the request goes on, so no byte of the answer can slip through.
          link.held = [];
          armed.caught();
        }
        link.tail = text.slice(-256);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (link.dropAnswer) {
        dropping?.dropped.push(chunk.toString('latin1').split('\r\n')[0] ?? '');
        link.dropAnswer = false;
        end();
        return;
      }
      if (link.held) link.held.push(chunk);
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no port');

  return {
    port: address.port,
    holdAnswersTo(pattern) {
      let caught!: () => void;
      const caughtPromise = new Promise<void>((resolve) => {
        caught = resolve;
      });
      armed = { pattern, caught };
      return {
        caught: caughtPromise,
        held: () => [...links].filter((l) => l.held).length,
        release: () => {
          armed = undefined;
          for (const link of links) {
            const held = link.held;
            link.held = undefined;
            for (const chunk of held ?? []) link.client.write(chunk);
          }
        },
      };
    },
    holdRequestsTo(pattern) {
      let caught!: () => void;
      const caughtPromise = new Promise<void>((resolve) => {
        caught = resolve;
      });
      armedRequests = { pattern, caught };
      return {
        caught: caughtPromise,
        held: () => [...links].filter((l) => l.heldRequest).length,
        release: () => {
          armedRequests = undefined;
          for (const link of links) {
            const held = link.heldRequest;
            link.heldRequest = undefined;
            for (const chunk of held ?? []) link.upstream.write(chunk);
          }
        },
      };
    },
    dropAnswersTo(pattern, times) {
      const drops = { pattern, left: times, dropped: [] as string[] };
      dropping = drops;
      return { dropped: () => [...drops.dropped] };
    },
    close: () =>
      new Promise<void>((resolve) => {
        armed = undefined;
        dropping = undefined;
        armedRequests = undefined;
        for (const link of links) {
          link.client.destroy();
          link.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
