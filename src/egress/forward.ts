// Re-originating checked requests upstream: the request line in origin-form, Host set from the
// destination, hop-by-hop headers dropped both ways, TLS verified against the destination name.

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { endToEndHeaders, formatAuthority, headerValues } from './http-util.js';
import { isIpLiteral } from './ip.js';
import type { UpstreamAgents } from './upstream.js';
import { upgradeResponseProblem } from './websocket.js';

export interface Upstream {
  tls: boolean;
  /** The checked address to dial (never a name: nothing resolves twice). */
  address: string;
  host: string;
  port: number;
  /** Origin-form target to send. */
  path: string;
  defaultPort: number;
}

export class Forwarder {
  constructor(
    private readonly agents: UpstreamAgents,
    private readonly upstreamCA: string | string[] | undefined,
  ) {}

  private options(req: http.IncomingMessage, up: Upstream, headers: string[], agent: http.Agent | false): https.RequestOptions {
    const options: https.RequestOptions = {
      host: up.address,
      port: up.port,
      method: req.method ?? 'GET',
      path: up.path,
      // A flat [name, value, ...] list keeps the client's header order and spelling.
      headers: ['Host', formatAuthority(up.host, up.port, up.defaultPort), ...headers] as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent,
    };
    if (up.tls) {
      // The destination name, never the address, is what the certificate must prove.
      if (!isIpLiteral(up.host)) options.servername = up.host;
      options.rejectUnauthorized = true;
      if (agent === false && this.upstreamCA) options.ca = this.upstreamCA;
    }
    return options;
  }

  /** Forward one request and stream the answer back; `failed` is called if nothing was sent yet. */
  request(req: http.IncomingMessage, res: http.ServerResponse, up: Upstream, failed: (err: Error) => void): void {
    const headers = endToEndHeaders(req.rawHeaders, ['host', 'expect']);
    const agent = up.tls ? this.agents.https : this.agents.http;
    const upReq = (up.tls ? https : http).request(this.options(req, up, headers, agent));
    upReq.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.rawHeaders));
      relayBody(upRes, res);
    });
    upReq.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else failed(err);
    });
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.pipe(upReq);
  }

  /**
   * Forward a WebSocket upgrade. On 101 the two sockets are handed to `upgraded` for relaying;
   * any other answer is passed on and the connection closed, so that it can never carry further
   * requests that were not checked. `upgradeTo` is the one Upgrade value the proxy checked; with
   * `inspect`, no extension is offered (frames are checked unaltered by the relay) and the 101 must
   * answer the client's key.
   */
  upgrade(
    req: http.IncomingMessage, socket: net.Socket, up: Upstream, options: { upgradeTo: string; inspect: boolean },
    upgraded: (upstream: net.Socket, upstreamHead: Buffer) => void, failed: (err: Error) => void,
  ): void {
    const drop = ['host', ...(options.inspect ? ['sec-websocket-extensions'] : [])];
    const headers = [...endToEndHeaders(req.rawHeaders, drop), 'Connection', 'Upgrade', 'Upgrade', options.upgradeTo];
    const key = headerValues(req.rawHeaders, 'sec-websocket-key')[0] ?? '';
    const upReq = (up.tls ? https : http).request(this.options(req, up, headers, false));
    upReq.on('upgrade', (upRes, upSocket: net.Socket, upHead: Buffer) => {
      const problem = options.inspect ? upgradeResponseProblem(upRes.rawHeaders, key) : undefined;
      if (problem !== undefined) {
        upSocket.destroy();
        failed(new Error(problem));
        return;
      }
      socket.write(responseHead(upRes.statusCode ?? 101, upRes.statusMessage, upRes.rawHeaders));
      upgraded(upSocket, upHead);
    });
    upReq.on('response', (upRes) => {
      socket.write(responseHead(upRes.statusCode ?? 502, upRes.statusMessage, [...endToEndHeaders(upRes.rawHeaders, ['content-length']), 'Connection', 'close']));
      upRes.pipe(socket);
      upRes.on('error', () => socket.destroy());
    });
    upReq.on('error', failed);
    upReq.end();
  }
}

function responseHead(status: number, message: string | undefined, raw: readonly string[]): string {
  const lines = [`HTTP/1.1 ${status} ${message ?? ''}`];
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Copy a response body to the client, with backpressure. */
function relayBody(from: http.IncomingMessage, to: http.ServerResponse): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  to.on('close', () => {
    if (!from.complete) from.destroy();
  });
}
