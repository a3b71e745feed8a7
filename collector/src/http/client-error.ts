import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

/** What Node reports before a request exists, as the collector's own error codes. */
function describe(err: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time (HTTP_REQUEST_TIMEOUT_MS); send it at once' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'the request headers are too large' };
    default:
      return { status: 400, code: 'malformed_request', message: 'the request is not well-formed HTTP' };
  }
}

/**
 * Fastify's clientErrorHandler: answers a request Node refused (a timeout while headers or body
 * trickle in, headers too large, bytes that are not HTTP) with `{ "error": { code, message } }`,
 * like every other answer, then closes the connection. Nothing is written when an answer has
 * already begun on it, or the peer is gone.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const { status, code, message } = describe(err);
    const body = JSON.stringify({ error: { code, message } });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
