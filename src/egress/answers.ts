// Final answers the proxy writes itself: JSON on an HTTP response, or a complete response on a
// raw socket (CONNECT answers, refused upgrades).

import type http from 'node:http';
import type net from 'node:net';

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-store' });
  res.end(json);
}

/**
 * Send a final answer on a raw socket and close it. Whatever the client still sends is read and
 * dropped (closing with unread input would reset the connection and could destroy the answer
 * before the client reads it); a client that never closes is cut off after a grace period.
 */
export function answerAndClose(socket: net.Socket, response: string): void {
  if (socket.destroyed) return;
  socket.on('data', () => undefined);
  socket.resume();
  socket.end(response);
  const timer = setTimeout(() => socket.destroy(), 5_000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
