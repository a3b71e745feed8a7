import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { MalformedRequest } from './fuzz-malformed';

/** What came back: the status (0: no answer at all) and the body text, or why nothing came. */
export interface RawAnswer {
  status: number;
  text: string;
}

const DEADLINE_MS = 20_000;

/**
 * Sends one request with node:http, which (unlike fetch) sends a repeated header as such and a
 * chunked body as asked. The answer counts from the moment it arrives: a server that answers 413
 * before the body is all sent and closes is right, so a write failing after the answer is no error.
 */
export function sendHttp(port: number, agent: Agent, apiKey: string, req: MalformedRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: RawAnswer) => {
      if (!settled) {
        settled = true;
        resolve(answer);
      }
    };
    const body = Buffer.from(req.body, 'utf8');
    const headers: Record<string, string | string[] | number> = { ...req.headers, 'x-api-key': apiKey };
    if (req.delivery !== 'chunked') headers['content-length'] = body.length;
    const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/events', agent, headers, timeout: DEADLINE_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => settle({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => settle({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') || `response cut: ${err.message}` }));
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${DEADLINE_MS} ms`)));
    outgoing.on('error', (err) => settle({ status: 0, text: `no answer: ${err.message}` }));
    if (req.delivery === 'chunked') {
      for (let at = 0; at < body.length; at += 64 * 1024) outgoing.write(body.subarray(at, at + 64 * 1024));
      outgoing.end();
    } else {
      outgoing.end(body);
    }
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends one request over a raw socket, its body trickled in `pieces` with `gapMs` between them, or
 * (delivery 'stall') only half of the announced body, then nothing: the server must answer either
 * way. Reads the answer to the end (the request asks for Connection: close).
 */
export function sendSlowly(port: number, apiKey: string, req: MalformedRequest, pieces: number, gapMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = Buffer.from(req.body, 'utf8');
    const head = [
      'POST /v1/events HTTP/1.1',
      'Host: 127.0.0.1',
      'Connection: close',
      `X-API-Key: ${apiKey}`,
      `Content-Length: ${body.length}`,
      ...Object.entries(req.headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`)),
    ].join('\r\n');
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let closed = false;
    let failure = 'closed';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    socket.on('data', (c: Buffer) => received.push(c));
    // 'close' always follows an 'error': the answer is read there, whatever came before.
    socket.on('error', (err) => (failure = err.message));
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      const text = Buffer.concat(received).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text: status === 0 ? `no answer: ${failure}` : text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.once('connect', async () => {
      socket.write(`${head}\r\n\r\n`);
      const sent = req.delivery === 'stall' ? body.subarray(0, Math.floor(body.length / 2)) : body;
      const size = Math.ceil(sent.length / pieces);
      for (let at = 0; at < sent.length && !closed; at += size) {
        socket.write(sent.subarray(at, at + size));
        await pause(gapMs);
      }
    });
  });
}
