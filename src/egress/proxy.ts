// The egress proxy's transport: client connections (identified by the kernel as they arrive),
// two HTTP/1.1 parsers (node's llhttp, strict mode, used as plain parsers only: the outer one
// reads what a client sends to the proxy, the inner one reads requests inside an inspected
// tunnel), CONNECT tunnels (relayed raw, or terminated with the sandbox CA) and the relays a
// policy change re-checks. Requests themselves are routes.ts's. Sockets are handed in with
// handleConnection, so the listening socket can live anywhere (inside a sandbox's namespace).

import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Checkpoint, ConnectionAction, HttpRequestAction, Subject, Verdict } from '../checkpoint/index.js';
import { cleartextOnly } from '../policy/index.js';
import { answerAndClose } from './answers.js';
import { Forwarder } from './forward.js';
import { parseAuthority, rawJsonResponse } from './http-util.js';
import { type OpenRelay, RelayRegistry } from './relays.js';
import { denialBody, refusalStatus } from './report.js';
import { type ClientState, type Origin, Routes, type TunnelState } from './routes.js';
import { TlsTerminator } from './termination.js';
import type { EgressLimits, EgressProxy, EgressProxyOptions } from './types.js';
import { UpstreamCaFiles } from './upstream-ca.js';
import { type UpstreamAgents, bufferedForwarder, createAgents, dialFirst, systemResolver } from './upstream.js';

const DEFAULT_LIMITS: EgressLimits = { maxHeaderBytes: 16 * 1024, maxConnections: 256, idleMs: 5 * 60_000 };
/** A new connection must finish its first request head within this time. */
const FIRST_REQUEST_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** An identity lookup that has not finished by then counts as failed (fail closed). */
const IDENTIFY_TIMEOUT_MS = 10_000;
const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

class EgressProxyImpl implements EgressProxy {
  private readonly limits: EgressLimits;
  private readonly checkpoint: Checkpoint;
  private readonly agents: UpstreamAgents;
  private readonly terminator: TlsTerminator;
  private readonly relays: RelayRegistry;
  private readonly routes: Routes;
  private readonly outer: http.Server;
  private readonly inner: http.Server;
  private readonly clients = new Map<net.Socket, ClientState>();
  private readonly tunnels = new WeakMap<net.Socket, TunnelState>();
  private readonly listeners = new Set<net.Server>();
  private closed = false;

  constructor(private readonly opts: EgressProxyOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.checkpoint = opts.checkpoint;
    this.agents = createAgents(opts.upstreamCA);
    this.terminator = new TlsTerminator(opts.ca);
    this.relays = new RelayRegistry(this.limits.idleMs);
    this.relays.refused = (relay, error) => this.report(relay.action, relay.subject, 'upgrade_not_allowed', `WebSocket connection closed: ${error.message}`);
    this.routes = new Routes({
      sandbox: this.checkpoint.sandbox,
      checkpoint: this.checkpoint,
      forwarder: new Forwarder(this.agents, opts.upstreamCA),
      relays: this.relays,
      hooks: opts.hooks ?? {},
      resolve: opts.resolve ?? systemResolver,
      upstreamCas: new UpstreamCaFiles(),
    });
    this.outer = this.parserServer();
    this.inner = this.parserServer();

    this.outer.on('request', (req, res) => this.guard(res, () => this.routes.request(req, res, this.proxyOrigin(req.socket), false)));
    this.outer.on('checkContinue', (req, res) => this.guard(res, () => this.routes.request(req, res, this.proxyOrigin(req.socket), true)));
    this.outer.on('connect', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, () => this.onConnect(req, socket, head)));
    this.outer.on('upgrade', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, () => this.routes.upgrade(req, socket, head, this.proxyOrigin(socket))));

    this.inner.on('request', (req, res) => this.guard(res, () => this.routes.request(req, res, this.tunnelOrigin(req.socket), false)));
    this.inner.on('checkContinue', (req, res) => this.guard(res, () => this.routes.request(req, res, this.tunnelOrigin(req.socket), true)));
    this.inner.on('upgrade', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, () => this.routes.upgrade(req, socket, head, this.tunnelOrigin(socket))));
    this.inner.on('connect', (_req, socket: net.Socket) => {
      answerAndClose(socket, rawJsonResponse(405, { error: 'CONNECT inside a tunnel is not supported', code: 'bad_request' }));
    });
  }

  get connections(): number {
    return this.clients.size;
  }

  private parserServer(): http.Server {
    const server = http.createServer({
      maxHeaderSize: this.limits.maxHeaderBytes,
      insecureHTTPParser: false,
      requireHostHeader: false, // checked explicitly, per target form
      joinDuplicateHeaders: false,
    });
    server.timeout = this.limits.idleMs;
    server.keepAliveTimeout = Math.min(this.limits.idleMs, 60_000);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => this.onClientError(err, socket));
    return server;
  }

  // ---- connections ------------------------------------------------------------------------

  handleConnection(socket: net.Socket): void {
    if (this.admit(socket, true) !== undefined) this.outer.emit('connection', socket);
  }

  handleDirect(socket: net.Socket, hosts: readonly string[]): void {
    const client = this.admit(socket, false);
    if (client === undefined) return;
    this.terminator.acceptDirect(socket, hosts, (secure, host) => {
      clearTimeout(client.firstRequestTimer);
      this.tunnels.set(secure, { client, host, port: 443, addresses: [], tls: true, local: host });
      this.inner.emit('connection', secure);
    });
  }

  /** Starts identifying a new client (as early as possible, while it is certainly connected); undefined when refused. */
  private admit(socket: net.Socket, answerRefusal: boolean): ClientState | undefined {
    if (this.closed) {
      socket.destroy();
      return undefined;
    }
    socket.on('error', () => socket.destroy());
    if (this.clients.size >= this.limits.maxConnections) {
      if (answerRefusal) answerAndClose(socket, rawJsonResponse(503, { error: 'too many connections to the egress proxy', code: 'bad_request' }));
      else socket.destroy();
      return undefined;
    }
    // Identify the caller as early as possible, while it is certainly still connected.
    const state: ClientState = { identity: Promise.resolve(null), known: null, pins: new Map() };
    const gone = new AbortController();
    socket.once('close', () => gone.abort());
    state.identity = withTimeout(this.opts.identify(socket, gone.signal), IDENTIFY_TIMEOUT_MS, 'identifying the caller took too long').then(
      (id) => {
        state.known = id;
        return id;
      },
      (err: unknown) => {
        state.identityError = err instanceof Error ? err.message : String(err);
        return null;
      },
    );
    // A connection that never completes a request head must not hold a slot for long.
    state.firstRequestTimer = setTimeout(() => socket.destroy(), FIRST_REQUEST_MS);
    state.firstRequestTimer.unref();
    this.clients.set(socket, state);
    socket.setNoDelay(true);
    socket.once('close', () => {
      clearTimeout(state.firstRequestTimer);
      this.clients.delete(socket);
    });
    return state;
  }

  /** The client state of an outer connection, with its first-request timer stopped. */
  private clientOf(socket: net.Socket): ClientState | undefined {
    const state = this.clients.get(socket);
    if (state?.firstRequestTimer) {
      clearTimeout(state.firstRequestTimer);
      state.firstRequestTimer = undefined;
    }
    return state;
  }

  private proxyOrigin(socket: net.Socket): Origin {
    const client = this.clientOf(socket);
    if (!client) throw new Error('a request on a connection the proxy does not know');
    return { kind: 'proxy', client };
  }

  private tunnelOrigin(socket: net.Socket): Origin {
    const tunnel = this.tunnels.get(socket);
    if (!tunnel) throw new Error('a request on a tunnel the proxy does not know');
    return { kind: 'tunnel', tunnel };
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    const server = net.createServer((s) => this.handleConnection(s));
    this.listeners.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server.address() as net.AddressInfo));
    });
  }

  /**
   * After a policy change: each open relay's own action is decided again under the new policy
   * (with the address it dialled), and only the relays no longer allowed are closed, each with the
   * reason the checkpoint gives. A raw tunnel whose endpoint is now inspected is closed too: its
   * requests could no longer be checked.
   */
  async revalidate(): Promise<number> {
    const generation = this.checkpoint.generation;
    let closed = 0;
    // Stop reading first, at once: no byte crosses a relay while it is re-decided, so a revoked
    // tunnel stops when the change is made, not when its turn comes.
    const stale = this.relays.list().filter((relay) => relay.generation !== generation);
    for (const relay of stale) relay.pause();
    for (const relay of stale) {
      // A re-decision that fails closes the relay (fail closed), and the others are still decided.
      const refusal = await this.recheck(relay).catch((error: unknown): Verdict => ({
        verdict: 'deny', code: 'no_decision', stage: 'policy', reason: `the open connection could not be re-decided: ${(error as Error).message}`, rule_missing: '', hint: '',
      }));
      if (refusal === undefined) {
        relay.generation = generation;
        relay.resume();
        continue;
      }
      relay.close();
      closed++;
      this.report(relay.action, relay.subject, refusal.code, `policy changed, open connection closed: ${refusal.reason}`, refusal.policy);
    }
    return closed;
  }

  private async recheck(relay: OpenRelay): Promise<Verdict | undefined> {
    const decision = await this.checkpoint.decide(relay.action, relay.subject, { record: false, resolve: () => Promise.resolve([relay.address]) });
    const verdict = decision.verdict;
    if (verdict.verdict !== 'allow') return verdict;
    if (relay.action.type === 'connection' && decision.network?.raw === false) {
      return { ...verdict, verdict: 'deny', code: 'l7_not_allowed', reason: `${relay.action.host}:${relay.action.port} is now inspected: its requests must be checked one by one, which an open tunnel does not allow` };
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopped = [...this.listeners].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.listeners.clear();
    this.relays.closeAll();
    for (const s of this.clients.keys()) s.destroy();
    this.clients.clear();
    this.outer.closeAllConnections();
    this.inner.closeAllConnections();
    this.agents.destroy();
    await Promise.all(stopped);
  }

  private report(action: ConnectionAction | HttpRequestAction, subject: Subject, code: Verdict['code'], reason: string, policy?: string): void {
    this.checkpoint.report(action, subject, { verdict: 'deny', code, stage: 'transport', reason, rule_missing: '', hint: '', ...(policy !== undefined ? { policy } : {}) });
  }

  // ---- CONNECT ----------------------------------------------------------------------------

  private async onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const startedAt = performance.now();
    const client = this.clientOf(socket);
    if (!client) {
      socket.destroy();
      return;
    }
    const authority = parseAuthority(req.url ?? '');
    if (!authority) {
      this.report({ type: 'connection', layer: 'connect', host: '', port: 0 }, this.subjectNow(client), 'bad_request', `malformed CONNECT target ${JSON.stringify(String(req.url).slice(0, 100))}`);
      answerAndClose(socket, rawJsonResponse(400, { error: 'CONNECT needs a host:port target', code: 'bad_request' }));
      return;
    }
    // The authority-form target decides the destination; a CONNECT's own Host header is never
    // forwarded, so it is not consulted.
    const { host, port } = authority;
    const action: ConnectionAction = { type: 'connection', layer: 'connect', host, port };
    const local = this.opts.hooks?.localServices !== undefined && Object.hasOwn(this.opts.hooks.localServices, host);
    if (local) {
      // warden's own names are answered in-process: the tunnel is always terminated, and each
      // request inside goes to the local service.
      this.terminate(socket, head, { client, host, port, addresses: [], tls: true, local: host });
      return;
    }
    const identity = await client.identity;
    const subject: Subject = { sandbox: this.checkpoint.sandbox, process: identity, ...(client.identityError ? { identityError: client.identityError } : {}) };
    let decision = await this.checkpoint.decide(action, subject, { resolve: (name) => this.resolveFor(client, name), startedAt });
    if (decision.verdict.verdict === 'ask') decision = await this.routes.hold(action, subject, decision, client, socket);
    const rerouteTo = decision.verdict.verdict === 'reroute' ? decision.verdict.rerouteTo : undefined;
    if (rerouteTo !== undefined && this.opts.hooks?.localServices !== undefined && Object.hasOwn(this.opts.hooks.localServices, rerouteTo)) {
      // The destination is served in-process instead (a public model API rerouted to inference.local).
      this.terminate(socket, head, { client, host, port, addresses: [], tls: true, local: rerouteTo });
      return;
    }
    if (decision.verdict.verdict !== 'allow') {
      answerAndClose(socket, rawJsonResponse(refusalStatus(decision.verdict), denialBody(decision.verdict, { host, port }, identity)));
      return;
    }
    const network = decision.network!;
    if (network.raw) {
      await this.openRawTunnel(socket, head, action, subject, network.addresses, this.checkpoint.generation);
      return;
    }
    this.terminate(socket, head, { client, host, port, addresses: network.addresses, tls: true }, cleartextOnly(network.matches));
  }

  private resolveFor(client: ClientState, host: string): Promise<string[]> {
    return this.routes.resolveFor(client, host);
  }

  private subjectNow(client: ClientState): Subject {
    return { sandbox: this.checkpoint.sandbox, process: client.known, ...(client.identityError ? { identityError: client.identityError } : {}) };
  }

  /** Answers the CONNECT and hands what the client sends next (TLS or plain HTTP) to the inner parser. */
  private terminate(socket: net.Socket, head: Buffer, tunnel: TunnelState, noTls = false): void {
    socket.write(ESTABLISHED);
    socket.setTimeout(this.limits.idleMs, () => socket.destroy());
    this.terminator.accept(socket, head, tunnel.host, {
      plain: (s) => {
        this.tunnels.set(s, { ...tunnel, tls: false });
        this.inner.emit('connection', s);
      },
      secure: (s) => {
        this.tunnels.set(s, tunnel);
        this.inner.emit('connection', s);
      },
      ...(noTls ? {
        tlsRefused: () => {
          const action: ConnectionAction = { type: 'connection', layer: 'l7', host: tunnel.host, port: tunnel.port };
          this.checkpoint.report(action, this.subjectNow(tunnel.client), {
            verdict: 'deny', code: 'l7_unsupported', stage: 'transport',
            reason: `the client started TLS to ${tunnel.host}:${tunnel.port}, whose endpoint says tls: skip: TLS is never terminated there, so its requests could not be checked`,
            rule_missing: 'cleartext HTTP on a tls: skip endpoint', hint: 'use http:// for this endpoint, or remove tls: skip so that TLS is terminated and inspected',
          });
        },
      } : {}),
      sniRefused: (name) => {
        const action: ConnectionAction = { type: 'connection', layer: 'l7', host: tunnel.host, port: tunnel.port };
        this.checkpoint.report(action, this.subjectNow(tunnel.client), {
          verdict: 'deny', code: 'sni_mismatch', stage: 'transport',
          reason: `TLS server name ${name} differs from the CONNECT target ${tunnel.host}`,
          rule_missing: 'a TLS server name equal to the CONNECT host', hint: 'open one CONNECT tunnel per destination host',
        });
      },
    });
  }

  private async openRawTunnel(socket: net.Socket, head: Buffer, action: ConnectionAction, subject: Subject, addresses: string[], generation: number): Promise<void> {
    const forwarder = bufferedForwarder();
    let upstream: net.Socket;
    try {
      upstream = await dialFirst(addresses, action.port, CONNECT_TIMEOUT_MS, forwarder.onread);
    } catch (err) {
      const reason = `upstream ${action.host}:${action.port} failed: ${(err as Error).message}`;
      this.report(action, subject, 'upstream_error', reason);
      answerAndClose(socket, rawJsonResponse(502, { error: reason, code: 'upstream_error', host: action.host, port: action.port }));
      return;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    socket.write(ESTABLISHED);
    if (head.length > 0) upstream.write(head);
    forwarder.attach(upstream, socket);
    this.relays.relay(socket, upstream, { action, subject, address: upstream.remoteAddress ?? addresses[0]!, generation }, true);
    upstream.resume();
  }

  // ---- failures ---------------------------------------------------------------------------

  private onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const tunnel = this.tunnels.get(socket);
    const client = this.clients.get(socket) ?? tunnel?.client;
    const action: ConnectionAction = { type: 'connection', layer: tunnel ? 'l7' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0 };
    this.report(action, client ? this.subjectNow(client) : { sandbox: this.checkpoint.sandbox, process: null }, 'bad_request', `malformed request (${err.code ?? err.message})`);
    answerAndClose(socket, rawJsonResponse(tooLarge ? 431 : 400, { error: tooLarge ? 'request head too large' : 'malformed request', code: 'bad_request' }));
  }

  /** Run an async handler; an unexpected failure answers 502 instead of crashing the proxy. */
  private guard(res: http.ServerResponse, handler: () => Promise<void>): void {
    settle(handler).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: `proxy error: ${(err as Error).message}`, code: 'upstream_error' }));
      } else res.destroy();
    });
  }

  private guardSocket(socket: net.Socket, handler: () => Promise<void>): void {
    settle(handler).catch(() => socket.destroy());
  }
}

/** The handler's promise; a synchronous throw becomes a rejection. */
function settle(handler: () => Promise<void>): Promise<void> {
  try {
    return handler();
  } catch (error) {
    return Promise.reject(error);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createEgressProxy(opts: EgressProxyOptions): EgressProxy {
  return new EgressProxyImpl(opts);
}
