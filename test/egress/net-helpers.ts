// Small HTTP clients that talk to the proxy directly, so tests control every byte.

import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function collect(res: http.IncomingMessage): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', reject);
  });
}

/** An absolute-form request through the proxy. */
export function viaProxy(proxyPort: number, url: string, o: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: o.method ?? 'GET', path: url, headers: o.headers, agent: o.agent ?? false }, (res) => collect(res).then(resolve, reject));
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface Tunnel {
  status: number;
  socket: net.Socket;
  /** For refusals: the response body (the proxy closes after it). */
  body: string;
}

export function connect(proxyPort: number, authority: string, headers: http.OutgoingHttpHeaders = { Host: authority }): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: authority, headers, agent: false });
    req.on('connect', (res, socket, head) => {
      if (res.statusCode === 200) {
        if (head.length > 0) socket.unshift(head);
        resolve({ status: 200, socket, body: '' });
        return;
      }
      let body = head.toString();
      socket.on('data', (d: Buffer) => (body += d.toString()));
      socket.on('close', () => resolve({ status: res.statusCode ?? 0, socket, body }));
      socket.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end();
  });
}

/** TLS over an established tunnel. */
export function tlsOver(socket: net.Socket, servername: string | undefined, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket, ...(servername ? { servername } : {}), ca, ALPNProtocols: ['http/1.1'] }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Several requests, one after another, over one existing (tunnelled) connection: a minimal
 * HTTP/1.1 client so the connection stays open between requests.
 */
export class Conversation {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private ended = false;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  private async need(n: number | string): Promise<void> {
    for (;;) {
      const ok = typeof n === 'number' ? this.buffer.length >= n : this.buffer.includes(n);
      if (ok) return;
      if (this.ended) throw new Error(`connection closed; had ${JSON.stringify(this.buffer.toString('latin1'))}`);
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = null;
    }
  }

  private take(n: number): Buffer {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  async request(o: { method?: string; path: string; headers: Record<string, string>; body?: string }): Promise<Reply> {
    const headers = { ...o.headers, ...(o.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(o.body)) } : {}) };
    const lines = [`${o.method ?? 'GET'} ${o.path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`);
    await this.need('\r\n\r\n');
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    const head = this.take(headEnd + 4).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const h: http.IncomingHttpHeaders = {};
    for (const line of head.slice(1)) {
      const c = line.indexOf(':');
      if (c > 0) h[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
    }
    let body = '';
    if (h['content-length'] !== undefined) {
      const n = Number(h['content-length']);
      await this.need(n);
      body = this.take(n).toString();
    } else if (String(h['transfer-encoding']).includes('chunked')) {
      for (;;) {
        await this.need('\r\n');
        const lineEnd = this.buffer.indexOf('\r\n');
        const size = parseInt(this.take(lineEnd + 2).toString(), 16);
        await this.need(size + 2);
        body += this.take(size).toString();
        this.take(2);
        if (size === 0) break;
      }
    }
    return { status, headers: h, body };
  }
}

/** One request over an existing connection (the connection is closed afterwards). */
export function requestOver(conn: net.Socket, o: { method?: string; path: string; headers: Record<string, string>; body?: string }): Promise<Reply> {
  return new Conversation(conn).request(o);
}

/**
 * Writes raw bytes to the proxy and reads everything until the proxy closes the connection. There
 * is no timeout: a proxy that never closes fails the test by the runner's. With `halfClose`, the
 * client closes its side once it has written, so the proxy has nothing more to wait for.
 */
export function rawExchange(proxyPort: number, data: string | Buffer | Array<string | Buffer>, opts: { halfClose?: boolean } = {}): Promise<{ text: string }> {
  return new Promise((resolve) => {
    const s = net.connect(proxyPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('connect', () => {
      for (const d of Array.isArray(data) ? data : [data]) s.write(d);
      if (opts.halfClose) s.end();
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ text: Buffer.concat(chunks).toString('latin1') }));
  });
}

export function once<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}
