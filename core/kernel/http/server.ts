import http from 'node:http';
import type { RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { MAX_URL_LENGTH } from './input-limits';

/**
 * Node's limit on the request line plus headers. It is above `MAX_URL_LENGTH` so an over-long URL
 * reaches the app and gets the JSON 414; past this, Node itself rejects the request and the
 * `clientError` handler below still answers in the JSON error shape.
 */
export const MAX_HEADER_BYTES = 4 * MAX_URL_LENGTH;

function jsonError(status: number, reason: string, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message, details: [] } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * The HTTP server for the app: larger header limit than Node's 16 KB default, and requests Node
 * cannot parse (headers too large, malformed request line) answered with the JSON error shape
 * instead of Node's bare status line.
 */
export function createHttpServer(app: RequestListener): http.Server {
  const server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    const response =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? jsonError(431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', `The request line and headers are larger than ${MAX_HEADER_BYTES} bytes`)
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? jsonError(408, 'Request Timeout', 'REQUEST_TIMEOUT', 'The request took too long to arrive')
          : jsonError(400, 'Bad Request', 'BAD_REQUEST', 'The HTTP request could not be parsed');
    socket.end(response);
  });
  return server;
}
