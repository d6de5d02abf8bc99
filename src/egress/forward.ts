// Re-originating checked requests upstream: the request line in origin-form, Host set from the
// destination, hop-by-hop headers dropped both ways, TLS verified against the destination name.

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Verdict } from '../checkpoint/index.js';
import { isIpLiteral } from '../policy/index.js';
import { endToEndHeaders, formatAuthority, headerValues } from './http-util.js';
import type { ResponseFilter } from './types.js';
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
  /** The CAs the server must chain to instead of the trusted roots (an endpoint's upstream_ca). */
  ca?: string[];
}

/** The client's headers as sent upstream: end-to-end only, without Host (set from the destination) and Expect. */
export function requestHeaders(raw: readonly string[], drop: readonly string[] = []): string[] {
  return endToEndHeaders(raw, ['host', 'expect', ...drop]);
}

export interface RequestHandlers {
  /** Nothing was sent to the client yet and the upstream failed. */
  failed(err: Error): void;
  /** Asked once the response head arrived: a filter reads the body whole before the client gets it. */
  filterFor?: ((status: number, rawHeaders: readonly string[]) => ResponseFilter | undefined) | undefined;
  /** A filter refused the body: records it and says what to answer instead. */
  refused(verdict: Verdict): { status: number; body: unknown };
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
      // An endpoint's own CA replaces the roots for it; the agent keeps its pools apart by CA.
      if (up.ca) options.ca = up.ca;
      else if (agent === false && this.upstreamCA) options.ca = this.upstreamCA;
    }
    return options;
  }

  /** Forward one request and pass the answer back (streamed, or read whole through a filter). */
  request(req: http.IncomingMessage, res: http.ServerResponse, up: Upstream, headers: string[], handlers: RequestHandlers): void {
    const agent = up.tls ? this.agents.https : this.agents.http;
    const upReq = (up.tls ? https : http).request(this.options(req, up, headers, agent));
    upReq.on('response', (upRes) => {
      const status = upRes.statusCode ?? 502;
      let filter: ResponseFilter | undefined;
      try {
        filter = handlers.filterFor?.(status, upRes.rawHeaders);
      } catch (error) {
        upRes.destroy();
        handlers.failed(error as Error);
        return;
      }
      if (filter) {
        filteredBody(upRes, res, filter, handlers);
        return;
      }
      res.writeHead(status, upRes.statusMessage, endToEndHeaders(upRes.rawHeaders));
      relayBody(upRes, res);
    });
    upReq.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else handlers.failed(err);
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
    req: http.IncomingMessage, socket: net.Socket, up: Upstream, clientHeaders: string[], options: { upgradeTo: string; inspect: boolean },
    upgraded: (upstream: net.Socket, upstreamHead: Buffer) => void, failed: (err: Error) => void,
  ): void {
    const headers = [...clientHeaders, 'Connection', 'Upgrade', 'Upgrade', options.upgradeTo];
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

/** Headers that describe the body as received, so they are replaced when a filter changes it. */
const BODY_FRAMING = ['content-length', 'content-encoding'];

/**
 * Reads a response body whole (up to the filter's limit), lets the filter replace or refuse it,
 * and answers the client. A body over the limit is passed on unread or refused, as the filter says.
 */
function filteredBody(from: http.IncomingMessage, to: http.ServerResponse, filter: ResponseFilter, handlers: RequestHandlers): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const clientGone = new AbortController();
  const refuse = (verdict: Verdict): void => {
    done = true;
    from.destroy();
    const answer = handlers.refused(verdict);
    const json = JSON.stringify(answer.body);
    to.writeHead(answer.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'Cache-Control': 'no-store' });
    to.end(json);
  };
  from.on('data', (chunk: Buffer) => {
    if (done) return;
    size += chunk.length;
    if (size <= filter.maxBytes) {
      chunks.push(chunk);
      return;
    }
    if (filter.oversize !== 'pass') {
      refuse(filter.oversize.refuse);
      return;
    }
    // Too large to read whole: what was read and the rest are passed on as received.
    done = true;
    from.pause();
    to.writeHead(from.statusCode ?? 502, from.statusMessage, endToEndHeaders(from.rawHeaders));
    to.write(Buffer.concat(chunks));
    to.write(chunk);
    chunks.length = 0;
    relayBody(from, to);
    from.resume();
  });
  from.on('error', () => to.destroy());
  from.on('end', () => {
    if (done) return;
    done = true;
    const encoding = headerValues(from.rawHeaders, 'content-encoding')[0];
    filter.filter(Buffer.concat(chunks), encoding, clientGone.signal).then((result) => {
      if ('refuse' in result) {
        done = false;
        refuse(result.refuse);
        return;
      }
      const headers = endToEndHeaders(from.rawHeaders, BODY_FRAMING);
      if (result.encoding !== undefined) headers.push('Content-Encoding', result.encoding);
      headers.push('Content-Length', String(result.body.length));
      to.writeHead(from.statusCode ?? 502, from.statusMessage, headers);
      to.end(result.body);
    }, () => {
      // A filter that fails lets nothing through (fail closed).
      to.destroy();
    });
  });
  to.on('close', () => {
    if (!to.writableFinished) clientGone.abort();
    if (!from.complete) from.destroy();
  });
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
