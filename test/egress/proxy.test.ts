// Protocol behaviour of the proxy, driven from this process with hand-made requests. The caller
// identity is this very process (real /proc lookup), so policies name process.execPath.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NetworkEndpoint, NetworkPolicy } from '../../src/policy/types.js';
import type { Stage } from '../../src/checkpoint/index.js';
import { createEgressProxy, descendantIdentifier } from '../../src/egress/index.js';
import { checkpointFor, type ProxyFixture, type Started, policy, startHttp, startHttps, startProxy, upstreamCA } from './helpers.js';
import { Conversation, connect, rawExchange, requestOver, tlsOver, viaProxy } from './net-helpers.js';
import { waitFor } from '../wait.js';

const SELF = fs.realpathSync(process.execPath);
const LOCAL = ['127.0.0.1'];

function echoHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const hash = crypto.createHash('sha256');
  let length = 0;
  req.on('data', (d: Buffer) => {
    length += d.length;
    hash.update(d);
  });
  req.on('end', () => {
    // The two delays below are the point, not a synchronisation: an upstream that sends its
    // body in two pieces, and one slower than the next pipelined request's.
    if (req.url === '/chunked') {
      res.setHeader('Content-Type', 'text/plain');
      res.write('part1-');
      setTimeout(() => res.end('part2'), 10);
      return;
    }
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end(`slow ${req.url}`), 50);
      return;
    }
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Connection', 'keep-alive, X-Secret-Hop');
    res.setHeader('X-Secret-Hop', 'should not reach the client');
    res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, length, sha: hash.digest('hex') }));
  });
}

/** Every byte each WebSocket test server received after its 101, per request path. */
const afterUpgrade = new Map<string, Buffer>();

/** A WebSocket echo server speaking real frames: each client text frame comes back as "echo:TEXT". */
function attachWebSocket(server: http.Server | import('node:https').Server): void {
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    const key = req.headers['sec-websocket-key'] ?? '';
    const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const path = req.url ?? '';
    afterUpgrade.set(path, Buffer.alloc(0));
    let unread: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      afterUpgrade.set(path, Buffer.concat([afterUpgrade.get(path)!, d]));
      const parsed = unmaskedTexts(Buffer.concat([unread, d]));
      unread = parsed.rest;
      for (const text of parsed.texts) socket.write(wsFrame(`echo:${text}`, false));
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
}

/** One text frame (FIN, opcode 1), masked as a client's must be. */
function wsFrame(text: string, masked = true): Buffer {
  const payload = Buffer.from(text);
  const mask = masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0);
  const body = masked ? Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from([0x81, (masked ? 0x80 : 0) | payload.length]), mask, body]);
}

/** Texts of the whole (short, masked) client text frames in `data`, and the bytes after them. */
function unmaskedTexts(data: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let at = 0;
  while (at + 6 <= data.length && (data[at]! & 0x0f) === 1 && (data[at + 1]! & 0x80) !== 0) {
    const length = data[at + 1]! & 0x7f;
    if (at + 6 + length > data.length) break;
    const mask = data.subarray(at + 2, at + 6);
    texts.push(Buffer.from(data.subarray(at + 6, at + 6 + length).map((byte, i) => byte ^ mask[i % 4]!)).toString());
    at += 6 + length;
  }
  return { texts, rest: data.subarray(at) };
}

function wsUpgradeRequest(path: string, host: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** What arrives on `socket` up to `marker`; fails if the socket closes first. */
function readUntil(socket: net.Socket, marker: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (text.includes(marker)) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(text);
      }
    };
    const onClose = (): void => reject(new Error(`closed before ${JSON.stringify(marker)}; got ${JSON.stringify(text)}`));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

describe('egress proxy protocol handling', () => {
  let http1: Started;
  let https1: Started & { server: import('node:https').Server };
  let echoTcp: net.Server;
  let echoTcpPort: number;
  let fx: ProxyFixture;

  const endpoints = (): NetworkEndpoint[] => [
    { host: 'api.test', ports: [http1.port], allowed_ips: LOCAL },
    { host: 'raw.test', ports: [echoTcpPort], allowed_ips: LOCAL },
    { host: 'api.test', ports: [https1.port], protocol: 'rest', access: 'read-only', rules: [{ allow: { method: 'POST', path: '/upload' } }], deny_rules: [{ method: 'GET', path: '/admin/**' }], allowed_ips: LOCAL },
    { host: 'ws.test', ports: [https1.port], protocol: 'websocket', rules: [{ allow: { method: 'GET', path: '/chat' } }, { allow: { method: 'WEBSOCKET_TEXT', path: '/chat' } }, { allow: { method: 'GET', path: '/upgrade-only' } }], allowed_ips: LOCAL },
  ];
  const base = (): Record<string, NetworkPolicy> => policy('self', endpoints(), [SELF]);

  before(async () => {
    http1 = await startHttp(echoHandler);
    attachWebSocket((http1 as Started & { server: http.Server }).server);
    https1 = await startHttps(upstreamCA, 'api.test', echoHandler);
    attachWebSocket(https1.server);
    echoTcp = net.createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => echoTcp.listen(0, '127.0.0.1', r));
    echoTcpPort = (echoTcp.address() as net.AddressInfo).port;
    fx = await startProxy({});
    fx.setPolicy(base());
  });
  after(async () => {
    await fx.close();
    await http1.close();
    await https1.close();
    echoTcp.close();
  });

  // ---- absolute-form ----------------------------------------------------------------------

  test('absolute-form GET is forwarded in origin-form, with Host set and hop-by-hop headers dropped', async () => {
    const r = await viaProxy(fx.port, `http://api.test:${http1.port}/path?x=1`, {
      headers: { 'Proxy-Authorization': 'Basic c2VjcmV0', 'Proxy-Connection': 'keep-alive', 'X-Keep': 'yes', Connection: 'X-Drop', 'X-Drop': 'gone' },
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { url: string; rawHeaders: string[] };
    assert.equal(seen.url, '/path?x=1');
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    assert.equal(seen.rawHeaders[names.indexOf('host') * 2 + 1], `api.test:${http1.port}`);
    assert.ok(names.includes('x-keep'));
    for (const gone of ['proxy-authorization', 'proxy-connection', 'x-drop']) assert.ok(!names.includes(gone), gone);
    assert.equal(r.headers['x-secret-hop'], undefined, 'headers named in the upstream Connection header are dropped');
  });

  test('keep-alive, chunked request bodies and chunked responses', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = crypto.randomBytes(200_000);
      const post = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: fx.port, method: 'POST', path: `http://api.test:${http1.port}/upload`, agent }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.write(body.subarray(0, 100_000)); // no Content-Length: chunked
        req.end(body.subarray(100_000));
      });
      assert.equal(post.status, 200);
      const seen = JSON.parse(post.text) as { length: number; sha: string };
      assert.equal(seen.length, body.length);
      assert.equal(seen.sha, crypto.createHash('sha256').update(body).digest('hex'));
      const chunked = await viaProxy(fx.port, `http://api.test:${http1.port}/chunked`, { agent });
      assert.equal(chunked.body, 'part1-part2');
      assert.equal(fx.proxy.connections, 1, 'both requests shared one client connection');
    } finally {
      agent.destroy();
    }
  });

  test('pipelined requests are answered in order', async () => {
    const host = `api.test:${http1.port}`;
    const req = (p: string): string => `GET http://${host}${p} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    const { text } = await rawExchange(fx.port, req('/slow-1') + req('/fast-2') + req('/slow-3') + `GET http://${host}/last HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const order = [...text.matchAll(/(slow \/slow-1|"url":"\/fast-2"|slow \/slow-3|"url":"\/last")/g)].map((m) => m[1]);
    assert.deepEqual(order, ['slow /slow-1', '"url":"/fast-2"', 'slow /slow-3', '"url":"/last"']);
  });

  test('a request that is not for a proxy gets 400; https:// in absolute-form too', async () => {
    const r = await rawExchange(fx.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 400 /);
    assert.match(r.text, /egress proxy/);
    const s = await viaProxy(fx.port, `https://api.test:${https1.port}/`);
    assert.equal(s.status, 400);
    assert.match(s.body, /CONNECT/);
  });

  test('in absolute-form the target decides: a different Host header is replaced, never forwarded', async () => {
    const r = await viaProxy(fx.port, `http://api.test:${http1.port}/`, { headers: { Host: 'evil.test' } });
    assert.equal(r.status, 200);
    const raw = (JSON.parse(r.body) as { rawHeaders: string[] }).rawHeaders;
    const hosts = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'host');
    assert.deepEqual(hosts, [`api.test:${http1.port}`]);
  });

  test('a denial names the missing rule; adding the rule lets the same request through (live update)', async () => {
    const url = `http://other.test:${http1.port}/thing`;
    const denied = await viaProxy(fx.port, url);
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['content-type'], 'application/json');
    const body = JSON.parse(denied.body);
    assert.deepEqual(Object.keys(body).sort(), ['binary', 'code', 'error', 'hint', 'host', 'method', 'path', 'port', 'rule_missing'].sort());
    assert.equal(body.code, 'no_endpoint');
    assert.equal(body.host, 'other.test');
    assert.equal(body.port, http1.port);
    assert.equal(body.binary, SELF);
    assert.equal(body.method, 'GET');
    assert.equal(body.path, '/thing');
    assert.match(body.rule_missing, /other\.test/);
    const ev = [...fx.events].reverse().find((e) => e.destination?.host === 'other.test');
    assert.equal(ev?.verdict, 'deny');
    assert.equal(ev?.binary.path, SELF);
    fx.setPolicy({ ...base(), other: { endpoints: [{ host: 'other.test', ports: [http1.port], allowed_ips: LOCAL }], binaries: [{ path: SELF }] } });
    try {
      assert.equal((await viaProxy(fx.port, url)).status, 200);
    } finally {
      fx.setPolicy(base());
    }
  });

  test('Expect: 100-continue is answered only after the decision', async () => {
    const send = (url: string): Promise<{ status: number; continued: boolean }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: fx.port, method: 'POST', path: url, headers: { Expect: '100-continue', 'Content-Length': '5' }, agent: false });
        let continued = false;
        req.on('continue', () => {
          continued = true;
          req.end('hello');
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
        });
        req.on('error', reject);
      });
    assert.deepEqual(await send(`http://api.test:${http1.port}/u`), { status: 200, continued: true });
    assert.deepEqual(await send(`http://nope.test:${http1.port}/u`), { status: 403, continued: false });
  });

  // ---- robustness -------------------------------------------------------------------------

  test('an oversized request head gets 431', async () => {
    // rawExchange returns once the proxy has closed the connection.
    const r = await rawExchange(fx.port, `GET http://api.test:${http1.port}/ HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
  });

  test('garbage never crashes the proxy: each gets 400 or a closed connection, and service continues', async () => {
    const rnd = (n: number): Buffer => crypto.randomBytes(n);
    const inputs: Array<string | Buffer> = [
      rnd(64),
      rnd(4096),
      'GET\r\n\r\n',
      'CONNECT\r\n\r\n',
      'CONNECT api.test HTTP/1.1\r\n\r\n',
      'CONNECT api.test:99999 HTTP/1.1\r\n\r\n',
      'CONNECT user@api.test:80 HTTP/1.1\r\n\r\n',
      'CONNECT [::1:80 HTTP/1.1\r\n\r\n',
      'GET http://[::1/ HTTP/1.1\r\n\r\n',
      'GET http://api.test:0/ HTTP/1.1\r\n\r\n',
      'GET http:/// HTTP/1.1\r\n\r\n',
      'GET ftp://api.test/ HTTP/1.1\r\n\r\n',
      'POST http://api.test/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST http://api.test/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
      'POST http://api.test/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'GET http://api.test/ HTTP/1.1\r\nBad Header\r\n\r\n',
      'GET http://api.test/ HTTP/9.9\r\n\r\n',
      'GET http://api.test/\x00 HTTP/1.1\r\n\r\n',
      '\r\n\r\n\r\n',
      'G'.repeat(70_000),
    ];
    for (let i = 0; i < 60; i++) {
      const method = ['GET', 'CONNECT', 'POST', 'PU T', '\x01\x02'][i % 5]!;
      inputs.push(Buffer.concat([Buffer.from(`${method} `), rnd(i * 7), Buffer.from(' HTTP/1.1\r\n'), rnd(i), Buffer.from('\r\n\r\n')]));
    }
    for (const input of inputs) {
      // Everything sent, the client closes its side: the proxy must then close too (none wedges).
      const r = await rawExchange(fx.port, input, { halfClose: true });
      const status = /^HTTP\/1\.1 (\d{3})/.exec(r.text)?.[1];
      assert.ok(status === undefined || ['400', '403', '431', '502'].includes(status), `unexpected answer ${JSON.stringify(r.text.slice(0, 80))} to ${JSON.stringify(input.toString().slice(0, 60))}`);
    }
    const after = await viaProxy(fx.port, `http://api.test:${http1.port}/still-alive`);
    assert.equal(after.status, 200);
  });

  test('connection limit and idle timeout', async () => {
    const limited = createEgressProxy({
      checkpoint: checkpointFor(() => ({})),
      identify: async () => {
        throw new Error('not needed');
      },
      ca: fx.ca,
      limits: { maxConnections: 2, idleMs: 300 },
    });
    const addr = await limited.listen(0, '127.0.0.1');
    const closed = new Set<net.Socket>();
    const open = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const s = net.connect(addr.port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
        s.on('close', () => closed.add(s));
      });
    try {
      const a = await open();
      const b = await open();
      await waitFor(() => limited.connections === 2, 'the proxy to count both connections');
      const third = await rawExchange(addr.port, 'GET http://x.test/ HTTP/1.1\r\n\r\n');
      assert.match(third.text, /^HTTP\/1\.1 503 /);
      // Nothing is sent on the first two: the proxy's idle timeout closes them.
      await waitFor(() => closed.has(a) && closed.has(b), 'the idle connections to be closed');
      await waitFor(() => limited.connections === 0, 'the proxy to count no connection');
    } finally {
      await limited.close();
    }
  });

  test('an unidentifiable caller is refused', async () => {
    const blind = createEgressProxy({
      checkpoint: checkpointFor(base),
      identify: async () => {
        throw new Error('no such socket');
      },
      ca: fx.ca,
      resolve: async () => LOCAL,
    });
    const addr = await blind.listen(0, '127.0.0.1');
    try {
      const r = await viaProxy(addr.port, `http://api.test:${http1.port}/`);
      assert.equal(r.status, 403);
      const body = JSON.parse(r.body);
      assert.equal(body.code, 'unidentified');
      assert.match(body.error, /no such socket/);
      assert.equal(body.binary, null);
    } finally {
      await blind.close();
    }
  });

  // ---- CONNECT ----------------------------------------------------------------------------

  test('CONNECT to an L4 endpoint relays bytes both ways', async () => {
    const t = await connect(fx.port, `raw.test:${echoTcpPort}`);
    assert.equal(t.status, 200);
    t.socket.write('ping');
    const got = await readUntil(t.socket, 'ping');
    assert.equal(got, 'ping');
    t.socket.destroy();
  });

  test('CONNECT denials are the CONNECT response: 403 with the JSON body', async () => {
    const t = await connect(fx.port, `raw.test:${echoTcpPort + 1}`);
    assert.equal(t.status, 403);
    const body = JSON.parse(t.body.slice(t.body.indexOf('{')));
    assert.equal(body.code, 'port_not_allowed');
    assert.equal(body.policy, 'self');
    const bad = await connect(fx.port, 'no-port.test');
    assert.equal(bad.status, 400);
  });

  test('revalidate() closes raw tunnels the new policy no longer allows', async () => {
    const t = await connect(fx.port, `raw.test:${echoTcpPort}`);
    assert.equal(t.status, 200);
    const closed = new Promise<void>((r) => t.socket.on('close', () => r()));
    assert.equal(await fx.proxy.revalidate(), 0, 'still allowed: nothing closed');
    fx.setPolicy(policy('self', endpoints().filter((e) => e.host !== 'raw.test'), [SELF]));
    try {
      assert.equal(await fx.proxy.revalidate(), 1);
      await closed;
      const ev = [...fx.events].reverse().find((e) => e.reason.startsWith('policy changed'));
      assert.equal(ev?.code, 'no_endpoint');
    } finally {
      fx.setPolicy(base());
    }
  });

  test('a revoked tunnel stops relaying at once: no byte written after the change crosses it while it is re-decided (issue 11)', async () => {
    // A re-decision that takes a while (identification, resolution and recording do, under load):
    // before the fix the tunnel kept relaying meanwhile (11 MB in the measurement).
    let current = base();
    let slow = false;
    const slowStage: Stage = { name: 'slow', kind: 'identity', run: async () => { if (slow) await new Promise((r) => setTimeout(r, 300)); } };
    const own = await startProxy(current, { checkpoint: checkpointFor(() => current, { stages: [slowStage] }) });
    try {
      const t = await connect(own.port, `raw.test:${echoTcpPort}`);
      assert.equal(t.status, 200);
      t.socket.write('before');
      assert.equal(await readUntil(t.socket, 'before'), 'before');
      let echoed = '';
      t.socket.on('data', (d: Buffer) => { echoed += d.toString(); });
      t.socket.on('error', () => undefined); // closed with unread bytes: a reset
      const closed = new Promise<void>((r) => t.socket.on('close', () => r()));
      current = policy('self', endpoints().filter((e) => e.host !== 'raw.test'), [SELF]);
      slow = true;
      const revalidated = own.proxy.revalidate();
      t.socket.write('after the change');
      assert.equal(await revalidated, 1);
      await closed;
      assert.equal(echoed, '', 'nothing was relayed after the change');
    } finally {
      await own.close();
    }
  });

  test('revalidate() re-decides a raw tunnel whose endpoint became inspected, and says so', async () => {
    const t = await connect(fx.port, `raw.test:${echoTcpPort}`);
    assert.equal(t.status, 200);
    const closed = new Promise<void>((r) => t.socket.on('close', () => r()));
    fx.setPolicy(policy('self', endpoints().map((e) => (e.host === 'raw.test' ? { ...e, protocol: 'rest' as const, access: 'full' as const } : e)), [SELF]));
    try {
      assert.equal(await fx.proxy.revalidate(), 1);
      await closed;
      const ev = [...fx.events].reverse().find((e) => e.reason.startsWith('policy changed'));
      assert.equal(ev?.code, 'l7_not_allowed');
      assert.match(ev?.reason ?? '', /is now inspected/);
    } finally {
      fx.setPolicy(base());
    }
  });

  // ---- inspected (L7) tunnels ---------------------------------------------------------------

  async function l7Session(host = 'api.test', sni: string | undefined = host): Promise<import('node:tls').TLSSocket> {
    const t = await connect(fx.port, `${host}:${https1.port}`);
    assert.equal(t.status, 200);
    return tlsOver(t.socket, sni, fx.ca.certPem);
  }

  test('L7: the proxy presents a sandbox-CA certificate for the CONNECT host', async () => {
    const s = await l7Session();
    const cert = s.getPeerCertificate();
    assert.equal(cert.subjectaltname, 'DNS:api.test');
    assert.ok(s.authorized);
    s.destroy();
  });

  test('L7: each request inside the tunnel is checked (allow, method, path, deny rule)', async () => {
    const s = await l7Session();
    const host = `api.test:${https1.port}`;
    const c = new Conversation(s);
    const get = await c.request({ path: '/items?x=1', headers: { Host: host } });
    assert.equal(get.status, 200);
    assert.equal(JSON.parse(get.body).url, '/items?x=1');
    const del = await c.request({ method: 'DELETE', path: '/items', headers: { Host: host } });
    assert.equal(del.status, 403);
    const body = JSON.parse(del.body);
    assert.equal(body.code, 'l7_not_allowed');
    assert.equal(body.method, 'DELETE');
    assert.equal(body.path, '/items');
    assert.match(body.rule_missing, /DELETE/);
    const upload = await c.request({ method: 'POST', path: '/upload', headers: { Host: host, 'Content-Length': '3' }, body: 'abc' });
    assert.equal(upload.status, 200);
    assert.equal(JSON.parse(upload.body).length, 3);
    const admin = await c.request({ path: '/admin/users', headers: { Host: host } });
    assert.equal(admin.status, 403);
    assert.equal(JSON.parse(admin.body).code, 'l7_deny_rule');
    const sneaky = await c.request({ path: '/public/../admin/users', headers: { Host: host } });
    assert.equal(JSON.parse(sneaky.body).code, 'l7_deny_rule');
    const escape = await c.request({ path: '/../etc/passwd', headers: { Host: host } });
    assert.equal(JSON.parse(escape.body).code, 'bad_path');
    const slash = await c.request({ path: '/a%2Fb', headers: { Host: host } });
    assert.equal(JSON.parse(slash.body).code, 'bad_path');
    s.destroy();
    const l7 = fx.events.filter((e) => e.layer === 'l7' && e.destination?.port === https1.port);
    assert.ok(l7.some((e) => e.verdict === 'allow' && e.rule === 'access read-only'));
    assert.ok(l7.some((e) => e.verdict === 'deny' && e.method === 'DELETE'));
  });

  test('L7: the request path sent upstream is the normalised one', async () => {
    const s = await l7Session();
    const r = await requestOver(s, { path: '/a/./b//c/%7Ed/../e', headers: { Host: `api.test:${https1.port}` } });
    assert.equal(JSON.parse(r.body).url, '/a/b/c/e');
    s.destroy();
  });

  test('L7: encoded slashes pass when the endpoint allows them', async () => {
    fx.setPolicy(policy('self', endpoints().map((e) => (e.protocol === 'rest' ? { ...e, allow_encoded_slash: true } : e)), [SELF]));
    try {
      const s = await l7Session();
      const r = await requestOver(s, { path: '/a%2fb', headers: { Host: `api.test:${https1.port}` } });
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).url, '/a%2Fb');
      s.destroy();
    } finally {
      fx.setPolicy(base());
    }
  });

  test('L7: a Host header for another host inside the tunnel is refused', async () => {
    const s = await l7Session();
    const r = await requestOver(s, { path: '/items', headers: { Host: `other.test:${https1.port}` } });
    assert.equal(r.status, 403);
    assert.equal(JSON.parse(r.body).code, 'host_mismatch');
    s.destroy();
  });

  test('L7: a TLS server name different from the CONNECT host is refused', async () => {
    await assert.rejects(l7Session('api.test', 'other.test'));
    await waitFor(() => fx.events.some((e) => e.code === 'sni_mismatch' && e.destination?.host === 'api.test'), 'the sni_mismatch event');
  });

  test('L7: plain-HTTP (absolute-form) requests to an inspected endpoint are checked one by one', async () => {
    const p = http1.port;
    fx.setPolicy(policy('self', [{ host: 'plain.test', ports: [p], protocol: 'rest', access: 'read-only', deny_rules: [{ method: 'GET', path: '/private/**' }], allowed_ips: LOCAL }], [SELF]));
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = await viaProxy(fx.port, `http://plain.test:${p}/a/../b?x=1`, { agent });
      assert.equal(get.status, 200);
      assert.equal(JSON.parse(get.body).url, '/b?x=1');
      const post = await viaProxy(fx.port, `http://plain.test:${p}/b`, { method: 'POST', body: 'x', agent });
      assert.equal(post.status, 403);
      assert.equal(JSON.parse(post.body).code, 'l7_not_allowed');
      const priv = await viaProxy(fx.port, `http://plain.test:${p}/private/key`, { agent });
      assert.equal(JSON.parse(priv.body).code, 'l7_deny_rule');
      agent.destroy();
    } finally {
      fx.setPolicy(base());
    }
  });

  test('audit mode lets a would-be denial through and flags the event', async () => {
    const p = http1.port;
    fx.setPolicy(policy('self', [{ host: 'plain.test', ports: [p], protocol: 'rest', access: 'read-only', enforcement: 'audit', allowed_ips: LOCAL }], [SELF]));
    try {
      const mark = fx.events.length;
      const post = await viaProxy(fx.port, `http://plain.test:${p}/audited`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 200);
      const ev = fx.events.slice(mark).find((e) => e.path === '/audited');
      assert.equal(ev?.verdict, 'allow');
      assert.equal(ev?.code, 'audit');
      assert.equal(ev?.audit, true);
    } finally {
      fx.setPolicy(base());
    }
  });

  test('L7: plain HTTP inside a CONNECT tunnel is inspected too', async () => {
    const p = http1.port;
    fx.setPolicy(policy('self', [...endpoints(), { host: 'plain.test', ports: [p], protocol: 'rest', access: 'read-only', allowed_ips: LOCAL }], [SELF]));
    try {
      const t = await connect(fx.port, `plain.test:${p}`);
      assert.equal(t.status, 200);
      const c = new Conversation(t.socket);
      const get = await c.request({ path: '/x', headers: { Host: `plain.test:${p}` } });
      assert.equal(get.status, 200);
      const post = await c.request({ method: 'POST', path: '/x', headers: { Host: `plain.test:${p}`, 'Content-Length': '0' } });
      assert.equal(post.status, 403);
      t.socket.destroy();
    } finally {
      fx.setPolicy(base());
    }
  });

  test('L7: on a tls: skip rest endpoint cleartext requests are inspected and TLS is never terminated', async () => {
    const p = http1.port;
    fx.setPolicy(policy('self', [...endpoints(), { host: 'plain.test', ports: [p], protocol: 'rest', tls: 'skip', access: 'read-only', allowed_ips: LOCAL }], [SELF]));
    try {
      const t = await connect(fx.port, `plain.test:${p}`);
      assert.equal(t.status, 200);
      const c = new Conversation(t.socket);
      assert.equal((await c.request({ path: '/x', headers: { Host: `plain.test:${p}` } })).status, 200);
      assert.equal((await c.request({ method: 'POST', path: '/x', headers: { Host: `plain.test:${p}`, 'Content-Length': '0' } })).status, 403);
      t.socket.destroy();

      const secure = await connect(fx.port, `plain.test:${p}`);
      assert.equal(secure.status, 200);
      await assert.rejects(tlsOver(secure.socket, 'plain.test', fx.ca.certPem));
      await waitFor(() => fx.events.some((e) => e.code === 'l7_unsupported' && /tls: skip/.test(e.reason)), 'the refused TLS event');
    } finally {
      fx.setPolicy(base());
    }
  });

  test('the host-gateway name reaches the host loopback, and only with allowed_ips naming it', async () => {
    const p = http1.port;
    fx.setPolicy(policy('self', [...endpoints(), { host: 'host.warden.internal', ports: [p], allowed_ips: LOCAL }], [SELF]));
    try {
      const t = await connect(fx.port, `host.warden.internal:${p}`);
      assert.equal(t.status, 200);
      const c = new Conversation(t.socket);
      assert.equal((await c.request({ path: '/gw', headers: { Host: `host.warden.internal:${p}` } })).status, 200);
      t.socket.destroy();
      fx.setPolicy(policy('self', [...endpoints(), { host: 'host.warden.internal', ports: [p] }], [SELF]));
      assert.equal((await connect(fx.port, `host.warden.internal:${p}`)).status, 403);
    } finally {
      fx.setPolicy(base());
    }
  });

  test('L7: the upstream certificate is verified', async () => {
    const proxy = createEgressProxy({
      checkpoint: checkpointFor(base),
      identify: fxIdentify(),
      ca: fx.ca,
      resolve: async () => LOCAL,
      // no upstreamCA: the test upstream's CA is not trusted
    });
    const addr = await proxy.listen(0, '127.0.0.1');
    try {
      const t = await connect(addr.port, `api.test:${https1.port}`);
      const s = await tlsOver(t.socket, 'api.test', fx.ca.certPem);
      const r = await requestOver(s, { path: '/x', headers: { Host: `api.test:${https1.port}` } });
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.body).error, /certificate/i);
      s.destroy();
    } finally {
      await proxy.close();
    }
  });

  test('revalidate() keeps an inspected WebSocket open while its upgrade is still allowed, and closes it with the true reason when not', async () => {
    const s = await l7Session('ws.test');
    s.write(wsUpgradeRequest('/chat', `ws.test:${https1.port}`));
    assert.match(await readUntil(s, '\r\n\r\n'), /^HTTP\/1\.1 101 /);
    try {
      // A change that does not touch it: the WebSocket stays open and keeps working.
      fx.setPolicy({ ...base(), other: { endpoints: [{ host: 'other.test', ports: [1] }], binaries: [{ path: SELF }] } });
      assert.equal(await fx.proxy.revalidate(), 0);
      s.write(wsFrame('still-open'));
      assert.match(await readUntil(s, 'echo:still-open'), /echo:still-open/);
      // Client messages on /chat are no longer allowed: now it closes, with that reason.
      const closed = new Promise<void>((r) => s.on('close', () => r()));
      fx.setPolicy(policy('self', endpoints().map((e) => (e.host === 'ws.test' ? { ...e, rules: [{ allow: { method: 'GET', path: '/chat' } }] } : e)), [SELF]));
      assert.equal(await fx.proxy.revalidate(), 1);
      await closed;
      const ev = [...fx.events].reverse().find((e) => e.reason.startsWith('policy changed'));
      assert.equal(ev?.code, 'upgrade_not_allowed');
      assert.match(ev?.reason ?? '', /would carry client messages/);
    } finally {
      s.destroy();
      fx.setPolicy(base());
    }
  });

  test('WebSocket upgrade on an allowed L7 endpoint; refused on a path the rules do not allow', async () => {
    const s = await l7Session('ws.test');
    s.write(wsUpgradeRequest('/chat', `ws.test:${https1.port}`));
    const head = await readUntil(s, '\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 101 /);
    s.write(wsFrame('hello'));
    assert.match(await readUntil(s, 'echo:hello'), /echo:hello/);
    s.destroy();

    const s2 = await l7Session('ws.test');
    s2.write(wsUpgradeRequest('/admin', `ws.test:${https1.port}`));
    const refused = await readUntil(s2, '}');
    assert.match(refused, /^HTTP\/1\.1 403 /);
    assert.match(refused, /l7_not_allowed/);
    s2.destroy();

    // the upgrade alone is allowed on /upgrade-only, client messages are not: refused, since
    // the client's messages could not be checked against rules that do not allow them
    const s3 = await l7Session('ws.test');
    s3.write(wsUpgradeRequest('/upgrade-only', `ws.test:${https1.port}`));
    const noMessages = await readUntil(s3, '}');
    assert.match(noMessages, /^HTTP\/1\.1 403 /);
    assert.match(noMessages, /WEBSOCKET_TEXT/);
    s3.destroy();
  });

  test('upgrade smuggling: two Upgrade headers, or several protocols in one, are refused and never reach the server', async () => {
    const s = await l7Session('ws.test');
    s.write(`GET /chat HTTP/1.1\r\nHost: ws.test:${https1.port}\r\nUpgrade: h2c\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const two = await readUntil(s, '}');
    assert.match(two, /^HTTP\/1\.1 400 /);
    assert.match(two, /expected one Upgrade header, got 2/);
    s.destroy();
    const s2 = await l7Session('ws.test');
    s2.write(`GET /chat HTTP/1.1\r\nHost: ws.test:${https1.port}\r\nUpgrade: h2c, websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const several = await readUntil(s2, '}');
    assert.match(several, /^HTTP\/1\.1 403 /);
    assert.match(several, /upgrade_not_allowed/);
    s2.destroy();
  });

  test('raw bytes after a 101 on an inspected endpoint end the connection; the server never sees them', async () => {
    const p = https1.port;
    fx.setPolicy(policy('rw', [{ host: 'api.test', ports: [p], protocol: 'rest', access: 'full', allowed_ips: LOCAL }], [SELF]));
    try {
      const s = await l7Session('api.test');
      s.write(wsUpgradeRequest('/smuggle', `api.test:${p}`));
      assert.match(await readUntil(s, '\r\n\r\n'), /^HTTP\/1\.1 101 /);
      // A real frame first (echoed), then a raw request as if the protocol had switched to HTTP.
      s.write(wsFrame('fine'));
      assert.match(await readUntil(s, 'echo:fine'), /echo:fine/);
      const closed = new Promise((resolve) => s.once('close', resolve));
      s.write(`POST /admin/delete HTTP/1.1\r\nHost: api.test:${p}\r\nContent-Length: 0\r\n\r\n`);
      await closed;
      assert.doesNotMatch(afterUpgrade.get('/smuggle')!.toString('latin1'), /admin\/delete/, 'the raw request never reached the server');
      assert.ok(fx.events.some((e) => /WebSocket connection closed: reserved bits set/.test(e.reason)));
    } finally {
      fx.setPolicy(base());
    }
  });

  test('a read-only rest endpoint allows GET but no WebSocket (its messages could not be checked)', async () => {
    const s = await l7Session('api.test');
    s.write(wsUpgradeRequest('/socket', `api.test:${https1.port}`));
    const refused = await readUntil(s, '}');
    assert.match(refused, /^HTTP\/1\.1 403 /);
    assert.match(refused, /upgrade_not_allowed/);
    assert.match(refused, /access: read-write \(or full\)/);
    s.destroy();
  });

  test('an upgrade to anything but WebSocket is refused on inspected endpoints', async () => {
    const s = await l7Session('ws.test');
    s.write(`GET /chat HTTP/1.1\r\nHost: ws.test:${https1.port}\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n`);
    const refused = await readUntil(s, '}');
    assert.match(refused, /^HTTP\/1\.1 403 /);
    assert.match(refused, /upgrade_not_allowed/);
    s.destroy();
  });

  test('WebSocket upgrade in absolute-form to an L4 endpoint', async () => {
    const sock = net.connect(fx.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(wsUpgradeRequest(`http://api.test:${http1.port}/socket`, `api.test:${http1.port}`));
    assert.match(await readUntil(sock, '\r\n\r\n'), /^HTTP\/1\.1 101 /);
    // An L4 endpoint is a tunnel: its bytes are not inspected, framed or not.
    sock.write(wsFrame('abc'));
    assert.match(await readUntil(sock, 'echo:abc'), /echo:abc/);
    sock.destroy();
  });

  // ---- SSRF -----------------------------------------------------------------------------------

  test('SSRF: a name resolving to loopback is refused unless allowed_ips names the exact address', async () => {
    const p = http1.port;
    const url = `http://internal.test:${p}/`;
    const withIps = (allowed_ips?: string[]): Record<string, NetworkPolicy> => policy('internal', [{ host: 'internal.test', ports: [p], ...(allowed_ips ? { allowed_ips } : {}) }], [SELF]);
    try {
      fx.setPolicy(withIps(undefined));
      const none = await viaProxy(fx.port, url);
      assert.equal(none.status, 403);
      const body = JSON.parse(none.body);
      assert.equal(body.code, 'ssrf_blocked');
      // The sandbox is not told where the name points; the operator's event says it.
      assert.doesNotMatch(none.body, /127\.0\.0\.1/);
      assert.match(body.rule_missing, /allowed_ips naming the address internal\.test resolves to/);
      const event = fx.events.filter((e) => e.code === 'ssrf_blocked').at(-1);
      assert.match(event?.reason ?? '', /internal\.test resolves to 127\.0\.0\.1/);
      fx.setPolicy(withIps(['127.0.0.0/8']));
      assert.equal((await viaProxy(fx.port, url)).status, 403);
      fx.setPolicy(withIps(['127.0.0.1']));
      assert.equal((await viaProxy(fx.port, url)).status, 200);
      // IP-literal destinations go through the same guard
      fx.setPolicy(policy('lit', [{ host: '127.0.0.1', ports: [p] }], [SELF]));
      assert.equal(JSON.parse((await viaProxy(fx.port, `http://127.0.0.1:${p}/`)).body).code, 'ssrf_blocked');
      fx.setPolicy(policy('lit', [{ host: '127.0.0.1', ports: [p], allowed_ips: ['127.0.0.1'] }], [SELF]));
      assert.equal((await viaProxy(fx.port, `http://127.0.0.1:${p}/`)).status, 200);
    } finally {
      fx.setPolicy(base());
    }
  });

  test('SSRF: metadata and mixed answers are refused for CONNECT too', async () => {
    fx.setPolicy(policy('meta', [{ host: 'metadata.test', ports: [80] }, { host: 'mixed.test', ports: [443] }], [SELF]));
    try {
      const meta = await connect(fx.port, 'metadata.test:80');
      assert.equal(meta.status, 403);
      assert.match(meta.body, /ssrf_blocked/);
      assert.doesNotMatch(meta.body, /169\.254/);
      const mixed = await connect(fx.port, 'mixed.test:443');
      assert.equal(mixed.status, 403);
      assert.doesNotMatch(mixed.body, /10\.0\.0\.5|93\.184/, 'no address reaches the sandbox');
      const events = fx.events.filter((e) => e.code === 'ssrf_blocked');
      assert.ok(events.some((e) => /169\.254\.169\.254.*link-local/.test(e.reason)), 'the operator sees the metadata address');
      assert.ok(events.some((e) => /10\.0\.0\.5/.test(e.reason)), 'and the private one');
    } finally {
      fx.setPolicy(base());
    }
  });

  test('a name that does not resolve gets 502, not a hang', async () => {
    fx.setPolicy(policy('nx', [{ host: 'nx.test', ports: [80] }], [SELF]));
    try {
      const r = await viaProxy(fx.port, 'http://nx.test/');
      assert.equal(r.status, 502);
      assert.match(JSON.parse(r.body).error, /cannot resolve/);
      assert.equal(JSON.parse(r.body).code, 'cannot_resolve', 'a name that does not resolve has its own code: it is not a denial');
    } finally {
      fx.setPolicy(base());
    }
  });
});

function fxIdentify(): ReturnType<typeof descendantIdentifier> {
  return descendantIdentifier(process.pid);
}
