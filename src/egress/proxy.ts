// The egress proxy. Two HTTP/1.1 parsers (node's llhttp, strict mode) are used as plain
// parsers only: the outer one reads what a client sends to the proxy (CONNECT authority-form,
// absolute-form http:// requests), the inner one reads requests inside an inspected tunnel.
// Targets, Host headers and hop-by-hop headers are handled here and in forward.ts explicitly;
// nothing relies on node's own proxy behaviour. Sockets are handed in with handleConnection,
// so the listening socket can live anywhere (for example inside a sandbox's network namespace).

import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { answerAndClose, sendJson } from './answers.js';
import { CompiledPolicy, type ConnectionDecision, PolicyCompiler } from './decision.js';
import { Forwarder, type Upstream } from './forward.js';
import { headerValues, hostHeaderMatches, parseAbsoluteTarget, parseAuthority, rawJsonResponse } from './http-util.js';
import { BinaryLedger } from './integrity.js';
import { isIpLiteral } from './ip.js';
import { RelayRegistry } from './relays.js';
import { type RequestFacts, buildEvent, denialBody } from './report.js';
import { checkResolution } from './ssrf.js';
import { TlsTerminator } from './termination.js';
import type { EgressEvent, EgressLimits, EgressProxy, EgressProxyOptions, ProcessIdentity, Verdict } from './types.js';
import { type Resolver, type UpstreamAgents, bufferedForwarder, createAgents, dialFirst, systemResolver } from './upstream.js';
import { checkInspectedRequest, hostMismatch, sniMismatch, ssrfVerdict } from './verdicts.js';
import { upgradeRequestProblem, WebSocketFrameGuard } from './websocket.js';

const DEFAULT_LIMITS: EgressLimits = { maxHeaderBytes: 16 * 1024, maxConnections: 256, idleMs: 5 * 60_000 };
/** A new connection must finish its first request head within this time. */
const FIRST_REQUEST_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** An identity lookup that has not finished by then counts as failed (fail closed). */
const IDENTIFY_TIMEOUT_MS = 10_000;
const MAX_PINNED_NAMES = 32;
const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

interface ClientState {
  identity: Promise<ProcessIdentity | null>;
  /** The identity once known (for events about requests that fail before it is awaited). */
  known: ProcessIdentity | null;
  identityError?: string;
  /** Names resolved for absolute-form requests on this connection: resolved once, then pinned. */
  pins: Map<string, string[]>;
  firstRequestTimer?: NodeJS.Timeout | undefined;
}

interface TunnelState {
  client: ClientState;
  host: string;
  port: number;
  /** Addresses resolved and checked when the tunnel was opened; requests go to the first. */
  addresses: string[];
  tls: boolean;
}

interface Route {
  layer: EgressEvent['layer'];
  client: ClientState;
  host: string;
  port: number;
  method?: string;
  /** Origin-form target; absent for CONNECT (inspected tunnels check each request later). */
  pathAndQuery?: string;
  /** The Upgrade header, for upgrade requests. */
  upgrade?: string;
  /** For requests inside a tunnel: the addresses the tunnel was opened to. */
  tunnelAddresses?: string[];
  startedAt: number;
}

type Authorization =
  | { ok: true; identity: ProcessIdentity | null; conn: ConnectionDecision; addresses: string[]; forwardPath: string | undefined; facts: RequestFacts }
  | { ok: false; status: number; body: unknown };

class EgressProxyImpl implements EgressProxy {
  private readonly limits: EgressLimits;
  private readonly compiler = new PolicyCompiler();
  private readonly emptyPolicy = new CompiledPolicy({});
  private readonly ledger = new BinaryLedger();
  private readonly resolver: Resolver;
  private readonly agents: UpstreamAgents;
  private readonly forwarder: Forwarder;
  private readonly terminator: TlsTerminator;
  private readonly relays: RelayRegistry;
  private readonly outer: http.Server;
  private readonly inner: http.Server;
  private readonly clients = new Map<net.Socket, ClientState>();
  private readonly tunnels = new WeakMap<net.Socket, TunnelState>();
  private readonly listeners = new Set<net.Server>();
  private closed = false;

  constructor(private readonly opts: EgressProxyOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...(opts.limits ?? {}) };
    this.resolver = opts.resolve ?? systemResolver;
    this.agents = createAgents(opts.upstreamCA);
    this.forwarder = new Forwarder(this.agents, opts.upstreamCA);
    this.terminator = new TlsTerminator(opts.ca);
    this.relays = new RelayRegistry(this.limits.idleMs);
    this.relays.refused = (relay, error) => this.emit({ layer: 'l7', verdict: 'deny', code: 'upgrade_not_allowed', reason: `WebSocket connection closed: ${error.message}`, identity: relay.identity, facts: { host: relay.host, port: relay.port, ip: relay.address }, startedAt: performance.now() });
    this.outer = this.parserServer();
    this.inner = this.parserServer();

    this.outer.on('request', (req, res) => this.guard(res, this.onProxyRequest(req, res, false)));
    this.outer.on('checkContinue', (req, res) => this.guard(res, this.onProxyRequest(req, res, true)));
    this.outer.on('connect', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, this.onConnect(req, socket, head)));
    this.outer.on('upgrade', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, this.onProxyUpgrade(req, socket, head)));

    this.inner.on('request', (req, res) => this.guard(res, this.onTunnelRequest(req, res, false)));
    this.inner.on('checkContinue', (req, res) => this.guard(res, this.onTunnelRequest(req, res, true)));
    this.inner.on('upgrade', (req, socket: net.Socket, head: Buffer) => this.guardSocket(socket, this.onTunnelUpgrade(req, socket, head)));
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
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.on('error', () => socket.destroy());
    if (this.clients.size >= this.limits.maxConnections) {
      answerAndClose(socket, rawJsonResponse(503, { error: 'too many connections to the egress proxy', code: 'bad_request' }));
      return;
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
    this.outer.emit('connection', socket);
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

  listen(port: number, host: string): Promise<net.AddressInfo> {
    const server = net.createServer((s) => this.handleConnection(s));
    this.listeners.add(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server.address() as net.AddressInfo));
    });
  }

  revalidate(): number {
    const policy = this.compiled();
    let closed = 0;
    for (const r of this.relays.list()) {
      const d = policy.decideConnection(r.host, r.port, r.identity, this.ledger);
      let verdict: Verdict = d;
      if (d.verdict === 'allow' && !d.raw) {
        verdict = { ...d, verdict: 'deny', code: 'l7_not_allowed', reason: `${r.host}:${r.port} now requires request inspection` };
      } else if (d.verdict === 'allow') {
        const check = checkResolution([r.address], d.matches.map((m) => m.allowedIps));
        if (!check.ok) verdict = { ...d, verdict: 'deny', code: 'ssrf_blocked', reason: check.reason };
      }
      if (verdict.verdict === 'allow') continue;
      r.close();
      closed++;
      this.emit({ layer: 'connect', verdict: 'deny', code: verdict.code, reason: `policy changed, open tunnel closed: ${verdict.reason}`, identity: r.identity, facts: { host: r.host, port: r.port, ip: r.address }, policy: verdict.policy, startedAt: performance.now() });
    }
    return closed;
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

  // ---- decisions --------------------------------------------------------------------------

  private compiled(): CompiledPolicy {
    try {
      return this.compiler.compiled(this.opts.policy());
    } catch {
      return this.emptyPolicy; // no readable policy: nothing is allowed
    }
  }

  private emit(i: Omit<Parameters<typeof buildEvent>[0], 'sandbox'>): void {
    void this.record(i);
  }

  /** Records an event; resolves false when it could not be recorded (never throws). */
  private async record(i: Omit<Parameters<typeof buildEvent>[0], 'sandbox'>): Promise<boolean> {
    try {
      await this.opts.onEvent(buildEvent({ ...i, sandbox: this.opts.sandbox }));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The one decision path: connection rule (host, port, binary), then for inspected endpoints
   * the request rule, then name resolution and the SSRF guard. Emits one event for the outcome.
   */
  private async authorize(r: Route): Promise<Authorization> {
    const identity = await r.client.identity;
    const facts: RequestFacts = { host: r.host, port: r.port, method: r.method, path: r.pathAndQuery?.split('?')[0] };
    const refuse = (v: Verdict): Authorization => {
      this.emit({ layer: r.layer, verdict: 'deny', code: v.code, reason: v.reason, identity, facts, policy: v.policy, rule: v.rule, startedAt: r.startedAt });
      return { ok: false, status: 403, body: denialBody(v, facts, identity) };
    };

    const conn = this.compiled().decideConnection(r.host, r.port, identity, this.ledger);
    if (conn.verdict === 'deny') {
      const reason = conn.code === 'unidentified' && r.client.identityError ? `${conn.reason}: ${r.client.identityError}` : conn.reason;
      return refuse({ ...conn, reason });
    }

    let verdict: Verdict = conn;
    let forwardPath = r.pathAndQuery;
    if (r.pathAndQuery !== undefined && !conn.raw) {
      const checked = checkInspectedRequest(conn, { method: r.method ?? 'GET', pathAndQuery: r.pathAndQuery, upgrade: r.upgrade });
      if (checked.path !== undefined) facts.path = checked.path;
      if (checked.verdict === 'deny') return refuse(checked);
      verdict = checked;
      forwardPath = checked.forwardPath;
    }

    let addresses: string[];
    try {
      addresses = r.tunnelAddresses ?? (await this.resolveFor(r.client, r.host));
    } catch (err) {
      const reason = `cannot resolve ${r.host}: ${(err as Error).message}`;
      this.emit({ layer: r.layer, verdict: 'deny', code: 'upstream_error', reason, identity, facts, policy: conn.policy, startedAt: r.startedAt });
      return { ok: false, status: 502, body: { error: reason, code: 'upstream_error', host: r.host, port: r.port } };
    }
    // Re-checked on every request, also inside a tunnel: allowed_ips may have changed.
    const check = checkResolution(addresses, conn.matches.map((m) => m.allowedIps));
    if (!check.ok) return refuse(ssrfVerdict(conn, r.host, check));
    facts.ip = check.addresses[0];

    // Security invariant: no audit record, no action. The allow is committed before a byte moves.
    const recorded = await this.record({ layer: r.layer, verdict: 'allow', code: verdict.code, reason: verdict.reason, identity, facts, policy: verdict.policy, rule: verdict.rule, audit: verdict.audit, startedAt: r.startedAt });
    if (!recorded) {
      const reason = 'the decision could not be recorded in the audit log, so the action is refused';
      this.emit({ layer: r.layer, verdict: 'deny', code: 'audit_unavailable', reason, identity, facts, policy: verdict.policy, startedAt: r.startedAt });
      return { ok: false, status: 503, body: { error: `${reason}; the operator can check with \`warden doctor\``, code: 'audit_unavailable', host: r.host, port: r.port } };
    }
    return { ok: true, identity, conn, addresses: check.addresses, forwardPath, facts };
  }

  private async resolveFor(client: ClientState, host: string): Promise<string[]> {
    if (isIpLiteral(host)) return [host];
    const pinned = client.pins.get(host);
    if (pinned) return pinned;
    const addresses = await this.resolver(host);
    if (client.pins.size >= MAX_PINNED_NAMES) client.pins.clear();
    client.pins.set(host, addresses);
    return addresses;
  }

  // ---- absolute-form requests (plain HTTP through the proxy) --------------------------------

  private async onProxyRequest(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): Promise<void> {
    const startedAt = performance.now();
    const client = this.clientOf(req.socket);
    if (!client) {
      res.destroy();
      return;
    }
    const target = parseAbsoluteTarget(req.url ?? '');
    if (!target || target.scheme !== 'http') {
      const error = target
        ? `${target.scheme}:// requests must use CONNECT`
        : 'this is an egress proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port';
      this.badRequest(client, res, error, startedAt);
      return;
    }
    // In absolute-form the target is authoritative and the Host header is replaced by it
    // (RFC 9112 section 3.2.2), so a disagreeing Host header cannot steer the request.
    const { host, port } = target.authority;
    const auth = await this.authorize({ layer: 'http', client, host, port, method: req.method ?? 'GET', pathAndQuery: target.pathAndQuery, startedAt });
    if (!auth.ok) {
      sendJson(res, auth.status, auth.body);
      return;
    }
    if (expectContinue) res.writeContinue();
    const up: Upstream = { tls: false, address: auth.addresses[0]!, host, port, path: auth.forwardPath ?? target.pathAndQuery, defaultPort: 80 };
    this.forwarder.request(req, res, up, (err) => this.upstreamFailedResponse(res, 'http', up, auth, err));
  }

  private async onProxyUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const startedAt = performance.now();
    const client = this.clientOf(socket);
    if (!client) {
      socket.destroy();
      return;
    }
    const target = parseAbsoluteTarget(req.url ?? '');
    if (!target || target.scheme !== 'http') {
      answerAndClose(socket, rawJsonResponse(400, { error: 'upgrade requests through the proxy must use absolute-form http:// targets or CONNECT', code: 'bad_request' }));
      return;
    }
    const { host, port } = target.authority;
    const upgrade = this.singleUpgrade(req, socket, client, { host, port, method: req.method }, startedAt);
    if (upgrade === undefined) return;
    const auth = await this.authorize({ layer: 'http', client, host, port, method: req.method ?? 'GET', pathAndQuery: target.pathAndQuery, upgrade, startedAt });
    if (!auth.ok) {
      answerAndClose(socket, rawJsonResponse(auth.status, auth.body));
      return;
    }
    const up: Upstream = { tls: false, address: auth.addresses[0]!, host, port, path: auth.forwardPath ?? target.pathAndQuery, defaultPort: 80 };
    this.forwardUpgrade(req, socket, head, up, auth, upgrade);
  }

  /**
   * The one Upgrade value of a request, or undefined after refusing it. Security invariant: what
   * is checked is what is sent upstream; two Upgrade headers (h2c and websocket) could pass a
   * check of one and switch the server to the other. On inspected endpoints the handshake must be
   * a clean WebSocket one (websocket.ts).
   */
  private singleUpgrade(req: http.IncomingMessage, socket: net.Socket, client: ClientState, facts: RequestFacts, startedAt: number): string | undefined {
    const values = headerValues(req.rawHeaders, 'upgrade');
    const problem = values.length !== 1 ? `expected one Upgrade header, got ${values.length}` : undefined;
    if (problem === undefined) return values[0]!.trim();
    this.emit({ layer: 'http', verdict: 'deny', code: 'bad_request', reason: `upgrade refused: ${problem}`, identity: client.known, facts, startedAt });
    answerAndClose(socket, rawJsonResponse(400, { error: `upgrade refused: ${problem}`, code: 'bad_request' }));
    return undefined;
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
      this.emit({ layer: 'connect', verdict: 'deny', code: 'bad_request', reason: `malformed CONNECT target ${JSON.stringify(String(req.url).slice(0, 100))}`, identity: client.known, facts: { host: '', port: 0 }, startedAt });
      answerAndClose(socket, rawJsonResponse(400, { error: 'CONNECT needs a host:port target', code: 'bad_request' }));
      return;
    }
    // The authority-form target decides the destination; a CONNECT's own Host header is never
    // forwarded, so it is not consulted.
    const { host, port } = authority;
    const auth = await this.authorize({ layer: 'connect', client, host, port, startedAt });
    if (!auth.ok) {
      answerAndClose(socket, rawJsonResponse(auth.status, auth.body));
      return;
    }
    if (auth.conn.raw) {
      await this.openRawTunnel(socket, head, host, port, auth, startedAt);
      return;
    }
    socket.write(ESTABLISHED);
    socket.setTimeout(this.limits.idleMs, () => socket.destroy());
    const tunnel: TunnelState = { client, host, port, addresses: auth.addresses, tls: true };
    this.terminator.accept(socket, head, host, {
      plain: (s) => {
        this.tunnels.set(s, { ...tunnel, tls: false });
        this.inner.emit('connection', s);
      },
      secure: (s) => {
        this.tunnels.set(s, tunnel);
        this.inner.emit('connection', s);
      },
      sniRefused: (name) => {
        const v = sniMismatch(name, host);
        this.emit({ layer: 'l7', verdict: 'deny', code: v.code, reason: v.reason, identity: client.known, facts: { host, port }, startedAt: performance.now() });
      },
    });
  }

  private async openRawTunnel(socket: net.Socket, head: Buffer, host: string, port: number, auth: Authorization & { ok: true }, startedAt: number): Promise<void> {
    const forwarder = bufferedForwarder();
    let upstream: net.Socket;
    try {
      upstream = await dialFirst(auth.addresses, port, CONNECT_TIMEOUT_MS, forwarder.onread);
    } catch (err) {
      this.upstreamFailedSocket(socket, 'connect', { ...auth.facts, ip: auth.addresses[0] }, auth.identity, err as Error, startedAt);
      return;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    socket.write(ESTABLISHED);
    if (head.length > 0) upstream.write(head);
    forwarder.attach(upstream, socket);
    this.relays.relay(socket, upstream, { identity: auth.identity, host, port, address: upstream.remoteAddress ?? auth.addresses[0]! }, true);
    upstream.resume();
  }

  // ---- requests inside an inspected tunnel ---------------------------------------------------

  /** Origin-form target of a request inside a tunnel, or a refusal when it names another host. */
  private tunnelTarget(req: http.IncomingMessage, t: TunnelState): { pathAndQuery: string } | { refusal: Verdict } | null {
    const url = req.url ?? '';
    let pathAndQuery: string;
    if (url.startsWith('/')) {
      pathAndQuery = url;
    } else {
      const abs = parseAbsoluteTarget(url);
      if (!abs) return null;
      if (abs.authority.host !== t.host || abs.authority.port !== t.port) {
        return { refusal: hostMismatch(`request target ${abs.authority.host}:${abs.authority.port}`, t.host, t.port) };
      }
      pathAndQuery = abs.pathAndQuery;
    }
    const hosts = headerValues(req.rawHeaders, 'host');
    if (hosts.length !== 1) {
      return { refusal: hostMismatch(hosts.length === 0 ? 'a request without a Host header' : 'several Host headers', t.host, t.port) };
    }
    if (!hostHeaderMatches(hosts[0]!, t.host, t.port)) return { refusal: hostMismatch(`Host ${hosts[0]}`, t.host, t.port) };
    return { pathAndQuery };
  }

  private async onTunnelRequest(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): Promise<void> {
    const startedAt = performance.now();
    const t = this.tunnels.get(req.socket);
    if (!t) {
      res.destroy();
      return;
    }
    const target = this.tunnelTarget(req, t);
    const facts: RequestFacts = { host: t.host, port: t.port, method: req.method };
    if (!target) {
      this.badRequest(t.client, res, 'malformed request target', startedAt, facts);
      return;
    }
    if ('refusal' in target) {
      this.emit({ layer: 'l7', verdict: 'deny', code: target.refusal.code, reason: target.refusal.reason, identity: t.client.known, facts, startedAt });
      sendJson(res, 403, denialBody(target.refusal, facts, t.client.known));
      return;
    }
    const auth = await this.authorize({ layer: 'l7', client: t.client, host: t.host, port: t.port, method: req.method ?? 'GET', pathAndQuery: target.pathAndQuery, tunnelAddresses: t.addresses, startedAt });
    if (!auth.ok) {
      sendJson(res, auth.status, auth.body);
      return;
    }
    if (expectContinue) res.writeContinue();
    const up: Upstream = { tls: t.tls, address: auth.addresses[0]!, host: t.host, port: t.port, path: auth.forwardPath ?? target.pathAndQuery, defaultPort: t.tls ? 443 : 80 };
    this.forwarder.request(req, res, up, (err) => this.upstreamFailedResponse(res, 'l7', up, auth, err));
  }

  private async onTunnelUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    const startedAt = performance.now();
    const t = this.tunnels.get(socket);
    if (!t) {
      socket.destroy();
      return;
    }
    const target = this.tunnelTarget(req, t);
    const facts: RequestFacts = { host: t.host, port: t.port, method: req.method };
    if (!target) {
      answerAndClose(socket, rawJsonResponse(400, { error: 'malformed request target', code: 'bad_request' }));
      return;
    }
    if ('refusal' in target) {
      this.emit({ layer: 'l7', verdict: 'deny', code: target.refusal.code, reason: target.refusal.reason, identity: t.client.known, facts, startedAt });
      answerAndClose(socket, rawJsonResponse(403, denialBody(target.refusal, facts, t.client.known)));
      return;
    }
    const upgrade = this.singleUpgrade(req, socket, t.client, facts, startedAt);
    if (upgrade === undefined) return;
    const auth = await this.authorize({ layer: 'l7', client: t.client, host: t.host, port: t.port, method: req.method ?? 'GET', pathAndQuery: target.pathAndQuery, upgrade, tunnelAddresses: t.addresses, startedAt });
    if (!auth.ok) {
      answerAndClose(socket, rawJsonResponse(auth.status, auth.body));
      return;
    }
    const up: Upstream = { tls: t.tls, address: auth.addresses[0]!, host: t.host, port: t.port, path: auth.forwardPath ?? target.pathAndQuery, defaultPort: t.tls ? 443 : 80 };
    this.forwardUpgrade(req, socket, head, up, auth, upgrade);
  }

  /**
   * Relays an allowed upgrade. On an inspected endpoint the handshake is checked both ways and,
   * after the 101, every byte each way must belong to a WebSocket frame (websocket.ts): raw
   * requests after a switch of protocols never reach the server unchecked.
   */
  private forwardUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, up: Upstream, auth: Authorization & { ok: true }, upgradeTo: string): void {
    const inspect = !auth.conn.raw;
    if (inspect) {
      const problem = upgradeRequestProblem(req.rawHeaders);
      if (problem !== undefined) {
        this.emit({ layer: 'l7', verdict: 'deny', code: 'upgrade_not_allowed', reason: `upgrade refused: ${problem}`, identity: auth.identity, facts: auth.facts, startedAt: performance.now() });
        answerAndClose(socket, rawJsonResponse(400, { error: `upgrade refused: ${problem}`, code: 'upgrade_not_allowed' }));
        return;
      }
    }
    this.forwarder.upgrade(
      req,
      socket,
      up,
      { upgradeTo, inspect },
      (upstream, upstreamHead) => {
        const info = { identity: auth.identity, host: up.host, port: up.port, address: up.address };
        if (!inspect) {
          if (upstreamHead.length > 0) socket.write(upstreamHead);
          if (head.length > 0) upstream.write(head);
          this.relays.relay(socket, upstream, info);
          return;
        }
        const guards = { fromClient: new WebSocketFrameGuard('client'), fromUpstream: new WebSocketFrameGuard('server') };
        this.relays.relay(socket, upstream, info, false, guards);
        // Bytes that came with the handshakes go through the same checks, in order.
        if (upstreamHead.length > 0) guards.fromUpstream.write(upstreamHead);
        if (head.length > 0) guards.fromClient.write(head);
      },
      (err) => this.upstreamFailedSocket(socket, up.tls ? 'l7' : 'http', auth.facts, auth.identity, err, performance.now()),
    );
  }

  // ---- failures ---------------------------------------------------------------------------

  private badRequest(client: ClientState, res: http.ServerResponse, error: string, startedAt: number, facts: RequestFacts = { host: '', port: 0 }): void {
    this.emit({ layer: facts.host ? 'l7' : 'http', verdict: 'deny', code: 'bad_request', reason: error, identity: client.known, facts, startedAt });
    sendJson(res, 400, { error, code: 'bad_request' });
  }

  private upstreamFailedResponse(res: http.ServerResponse, layer: EgressEvent['layer'], up: Upstream, auth: Authorization & { ok: true }, err: Error): void {
    const reason = `upstream ${up.host}:${up.port} failed: ${err.message}`;
    this.emit({ layer, verdict: 'deny', code: 'upstream_error', reason, identity: auth.identity, facts: auth.facts, startedAt: performance.now() });
    sendJson(res, 502, { error: reason, code: 'upstream_error', host: up.host, port: up.port });
  }

  private upstreamFailedSocket(socket: net.Socket, layer: EgressEvent['layer'], facts: RequestFacts, identity: ProcessIdentity | null, err: Error, startedAt: number): void {
    const reason = `upstream ${facts.host}:${facts.port} failed: ${err.message}`;
    this.emit({ layer, verdict: 'deny', code: 'upstream_error', reason, identity, facts, startedAt });
    answerAndClose(socket, rawJsonResponse(502, { error: reason, code: 'upstream_error', host: facts.host, port: facts.port }));
  }

  private onClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const tunnel = this.tunnels.get(socket);
    const client = this.clients.get(socket) ?? tunnel?.client;
    this.emit({
      layer: tunnel ? 'l7' : 'http',
      verdict: 'deny',
      code: 'bad_request',
      reason: `malformed request (${err.code ?? err.message})`,
      identity: client?.known ?? null,
      facts: { host: tunnel?.host ?? '', port: tunnel?.port ?? 0 },
      startedAt: performance.now(),
    });
    answerAndClose(socket, rawJsonResponse(tooLarge ? 431 : 400, { error: tooLarge ? 'request head too large' : 'malformed request', code: 'bad_request' }));
  }

  /** Run an async handler; an unexpected failure answers 502 instead of crashing the proxy. */
  private guard(res: http.ServerResponse, p: Promise<void>): void {
    p.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 502, { error: `proxy error: ${(err as Error).message}`, code: 'upstream_error' });
      else res.destroy();
    });
  }

  private guardSocket(socket: net.Socket, p: Promise<void>): void {
    p.catch(() => socket.destroy());
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
