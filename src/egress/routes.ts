// HTTP requests through the proxy, whether absolute-form to the proxy itself or origin-form inside
// an inspected tunnel, plain or upgrades: one preamble (target, Host, Upgrade), one decision by the
// checkpoint, then the hooks (local services, prepareUpstream, transformResponse, hold) and the
// forwarding. Nothing here decides: refusals are either malformed input or the checkpoint's verdict.

import type http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Checkpoint, Decision, HttpRequestAction, NetworkAction, NetworkLayer, Subject, Verdict } from '../checkpoint/index.js';
import type { ProcessIdentity } from '../policy/index.js';
import { answerAndClose, sendJson } from './answers.js';
import { type Forwarder, requestHeaders, type Upstream } from './forward.js';
import { headerValues, hostHeaderMatches, parseAbsoluteTarget, rawJsonResponse } from './http-util.js';
import type { RelayRegistry } from './relays.js';
import { denialBody, refusalStatus, type RequestFacts } from './report.js';
import type { EgressHooks, OutgoingRequest, RequestContext } from './types.js';
import { isUntrustedCertificate, UpstreamCaError, type UpstreamCaFiles } from './upstream-ca.js';
import { upgradeRequestProblem, WebSocketFrameGuard } from './websocket.js';

const MAX_PINNED_NAMES = 32;

export interface ClientState {
  identity: Promise<ProcessIdentity | null>;
  /** The identity once known (for records about requests refused before it is awaited). */
  known: ProcessIdentity | null;
  identityError?: string;
  /** Names resolved on this connection: resolved once, then pinned. */
  pins: Map<string, string[]>;
  firstRequestTimer?: NodeJS.Timeout | undefined;
}

export interface TunnelState {
  client: ClientState;
  host: string;
  port: number;
  /** Addresses resolved and checked when the tunnel was opened; requests go to the first. */
  addresses: string[];
  tls: boolean;
  /** The local service every request in this tunnel goes to (warden's own name, or a rerouted host). */
  local?: string;
}

/** Where a request came from: the proxy's own listener (absolute-form) or an inspected tunnel. */
export type Origin = { kind: 'proxy'; client: ClientState } | { kind: 'tunnel'; tunnel: TunnelState };

/** How to answer before (or instead of) forwarding: on an HTTP response, or on a raw socket (upgrades). */
interface Reply {
  json(status: number, body: unknown): void;
}

interface Prepared {
  action: HttpRequestAction;
  subject: Subject;
  decision: Decision;
  generation: number;
  tls: boolean;
  facts: RequestFacts;
}

export interface RouteDeps {
  sandbox: string;
  checkpoint: Checkpoint;
  forwarder: Forwarder;
  relays: RelayRegistry;
  hooks: EgressHooks;
  resolve: (host: string) => Promise<string[]>;
  upstreamCas: UpstreamCaFiles;
}

export class Routes {
  constructor(private readonly deps: RouteDeps) {}

  /** A plain request (any method but CONNECT, without Upgrade). */
  async request(req: http.IncomingMessage, res: http.ServerResponse, origin: Origin, expectContinue: boolean): Promise<void> {
    const reply: Reply = { json: (status, body) => sendJson(res, status, body) };
    const local = this.localService(origin, req);
    if (local) {
      if (expectContinue) res.writeContinue();
      this.serveLocally(req, res, origin, local);
      return;
    }
    const ok = await this.prepare(req, origin, reply, undefined);
    if (!ok) return;
    if ('rerouteTo' in ok) {
      if (expectContinue) res.writeContinue();
      this.serveLocally(req, res, origin, ok.rerouteTo);
      return;
    }
    if (expectContinue) res.writeContinue();
    const ctx: RequestContext = { action: ok.action, subject: ok.subject, decision: ok.decision, tls: ok.tls };
    const up = this.upstream(ok, reply);
    if (!up) return;
    const outgoing = { headers: requestHeaders(req.rawHeaders), path: up.path };
    if (!(await this.prepared(ctx, outgoing, reply, ok.facts))) return;
    up.path = outgoing.path;
    const headers = outgoing.headers;
    const filterFor = this.deps.hooks.transformResponse
      ? (status: number, raw: readonly string[]) => this.deps.hooks.transformResponse!(ctx, status, raw)
      : undefined;
    this.deps.forwarder.request(req, res, up, headers, {
      failed: (err) => this.upstreamFailed(ok, err, (status, body) => sendJson(res, status, body)),
      filterFor,
      refused: (verdict) => {
        this.deps.checkpoint.report(ok.action, ok.subject, verdict);
        return { status: refusalStatus(verdict), body: denialBody(verdict, ok.facts, ok.subject.process) };
      },
    });
  }

  /** An upgrade request: relayed only as a clean WebSocket handshake on inspected endpoints. */
  async upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, origin: Origin): Promise<void> {
    const reply: Reply = { json: (status, body) => answerAndClose(socket, rawJsonResponse(status, body)) };
    if (this.localService(origin, req)) {
      reply.json(400, { error: 'upgrades to warden\'s own services are not supported', code: 'bad_request' });
      return;
    }
    const values = headerValues(req.rawHeaders, 'upgrade');
    // Security invariant: what is checked is what is sent upstream; two Upgrade headers (h2c and
    // websocket) could pass a check of one and switch the server to the other.
    const upgradeTo = values.length === 1 ? values[0]!.trim() : undefined;
    const ok = await this.prepare(req, origin, reply, upgradeTo ?? null, values.length);
    if (!ok) return;
    if ('rerouteTo' in ok) {
      reply.json(400, { error: `upgrades to ${ok.rerouteTo} are not supported`, code: 'bad_request' });
      return;
    }
    const inspect = !ok.decision.network!.raw;
    if (inspect) {
      const problem = upgradeRequestProblem(req.rawHeaders);
      if (problem !== undefined) {
        this.refuse(ok.action, ok.subject, reply, { code: 'upgrade_not_allowed', reason: `upgrade refused: ${problem}` }, 400, ok.facts);
        return;
      }
    }
    const ctx: RequestContext = { action: ok.action, subject: ok.subject, decision: ok.decision, tls: ok.tls };
    const drop = inspect ? ['sec-websocket-extensions'] : [];
    const up = this.upstream(ok, reply);
    if (!up) return;
    const outgoing = { headers: requestHeaders(req.rawHeaders, drop), path: up.path };
    if (!(await this.prepared(ctx, outgoing, reply, ok.facts))) return;
    up.path = outgoing.path;
    const headers = outgoing.headers;
    this.deps.forwarder.upgrade(req, socket, up, headers, { upgradeTo: upgradeTo!, inspect },
      (upstream, upstreamHead) => {
        const info = { action: ok.action, subject: ok.subject, address: up.address, generation: ok.generation };
        if (!inspect) {
          if (upstreamHead.length > 0) socket.write(upstreamHead);
          if (head.length > 0) upstream.write(head);
          this.deps.relays.relay(socket, upstream, info);
          return;
        }
        // After the 101 every byte each way must belong to a WebSocket frame (websocket.ts): raw
        // requests after a switch of protocols never reach the server unchecked.
        const guards = { fromClient: new WebSocketFrameGuard('client'), fromUpstream: new WebSocketFrameGuard('server') };
        this.deps.relays.relay(socket, upstream, info, false, guards);
        if (upstreamHead.length > 0) guards.fromUpstream.write(upstreamHead);
        if (head.length > 0) guards.fromClient.write(head);
      },
      (err) => this.upstreamFailed(ok, err, reply.json));
  }

  /**
   * The one preamble: where the request goes (the target, checked against the tunnel and the Host
   * header), the Upgrade header when there is one, then the checkpoint's decision. Answers and
   * returns undefined when the request goes no further.
   */
  private async prepare(req: http.IncomingMessage, origin: Origin, reply: Reply, upgrade: string | null | undefined, upgradeHeaders = 0): Promise<Prepared | { rerouteTo: string } | undefined> {
    const startedAt = performance.now();
    const client = origin.kind === 'proxy' ? origin.client : origin.tunnel.client;
    const layer: NetworkLayer = origin.kind === 'proxy' ? 'http' : 'l7';
    const method = req.method ?? 'GET';
    const target = this.targetOf(req, origin, upgrade !== undefined);
    if ('problem' in target) {
      const action = this.action(layer, target.host ?? '', target.port ?? 0, method, req.url ?? '', undefined, origin);
      this.refuse(action, subjectNow(this.deps.sandbox, client), reply, target.problem, target.problem.code === 'host_mismatch' ? 403 : 400,
        { host: target.host ?? '', port: target.port ?? 0, method });
      return undefined;
    }
    const action = this.action(layer, target.host, target.port, method, target.pathAndQuery, upgrade ?? undefined, origin);
    const facts: RequestFacts = { host: target.host, port: target.port, method, path: target.pathAndQuery.split('?')[0] };
    if (upgrade === null) {
      const problem = `expected one Upgrade header, got ${upgradeHeaders}`;
      this.refuse(action, subjectNow(this.deps.sandbox, client), reply, { code: 'bad_request', reason: `upgrade refused: ${problem}` }, 400, facts);
      return undefined;
    }
    const identity = await client.identity;
    const subject: Subject = { sandbox: this.deps.sandbox, process: identity, ...(client.identityError ? { identityError: client.identityError } : {}) };
    let decision = await this.deps.checkpoint.decide(action, subject, { resolve: (host) => this.resolveFor(client, host), startedAt });
    if (decision.verdict.verdict === 'ask') decision = await this.hold(action, subject, decision, client, req.socket);
    const generation = this.deps.checkpoint.generation;
    if (decision.network?.path !== undefined) facts.path = decision.network.path;
    const rerouteTo = decision.verdict.verdict === 'reroute' ? decision.verdict.rerouteTo : undefined;
    if (rerouteTo !== undefined && this.deps.hooks.localServices !== undefined && Object.hasOwn(this.deps.hooks.localServices, rerouteTo)) return { rerouteTo };
    if (decision.verdict.verdict !== 'allow') {
      reply.json(refusalStatus(decision.verdict), denialBody(decision.verdict, facts, identity));
      return undefined;
    }
    return { action, subject, decision, generation, tls: origin.kind === 'tunnel' && origin.tunnel.tls, facts };
  }

  private action(layer: NetworkLayer, host: string, port: number, method: string, target: string, upgrade: string | undefined, origin: Origin): HttpRequestAction {
    return {
      type: 'http_request', layer, host, port, method: method.toUpperCase(), target,
      ...(upgrade !== undefined ? { upgrade } : {}),
      ...(origin.kind === 'tunnel' ? { addresses: origin.tunnel.addresses } : {}),
    };
  }

  /**
   * An `ask` waits for the hold hook (operator approvals); without one it is denied. The hook's
   * answer is the checkpoint's decision made again (an approval), or a refusal recorded here.
   * Used for CONNECT tunnels (proxy.ts) and requests alike.
   */
  async hold(action: NetworkAction, subject: Subject, decision: Decision, client: ClientState, socket: net.Socket): Promise<Decision> {
    const refused = (verdict: Verdict): Decision => {
      this.deps.checkpoint.report(action, subject, verdict);
      return { ...decision, verdict };
    };
    const hook = this.deps.hooks.hold;
    if (!hook) {
      return refused({
        ...decision.verdict,
        verdict: 'deny',
        code: 'approval_required',
        reason: `${decision.verdict.reason}; it needs an operator's approval and no approver is connected`,
        hint: 'an operator can approve requests live in `warden term`',
      });
    }
    const controller = new AbortController();
    const gone = () => controller.abort();
    if (socket.destroyed) controller.abort();
    else socket.once('close', gone);
    try {
      const answer = await hook({
        action, subject, decision, signal: controller.signal,
        redecide: (policy) => this.deps.checkpoint.decide(action, subject, { resolve: (host) => this.resolveFor(client, host), ...(policy !== undefined ? { policy } : {}) }),
      });
      if ('refuse' in answer) return refused(answer.refuse);
      if (answer.verdict.verdict === 'ask') {
        // Decided again and still not allowed (the policy changed meanwhile): no second wait.
        return refused({ ...answer.verdict, verdict: 'deny', code: 'approval_required', reason: `${answer.verdict.reason}; the approval no longer admits it` });
      }
      return answer;
    } finally {
      socket.off('close', gone);
    }
  }

  private targetOf(req: http.IncomingMessage, origin: Origin, isUpgrade: boolean):
    | { host: string; port: number; pathAndQuery: string }
    | { problem: { code: 'bad_request' | 'host_mismatch'; reason: string }; host?: string; port?: number } {
    const url = req.url ?? '';
    if (origin.kind === 'proxy') {
      const target = parseAbsoluteTarget(url);
      if (target && target.scheme === 'http') return { host: target.authority.host, port: target.authority.port, pathAndQuery: target.pathAndQuery };
      const reason = isUpgrade
        ? 'upgrade requests through the proxy must use absolute-form http:// targets or CONNECT'
        : target
          ? `${target.scheme}:// requests must use CONNECT`
          : 'this is an egress proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port';
      return { problem: { code: 'bad_request', reason } };
    }
    // In absolute-form to the proxy the target is authoritative and the Host header is replaced by
    // it (RFC 9112 section 3.2.2). Inside a tunnel the destination is fixed by the CONNECT: the
    // target and the Host header must both name it.
    const t = origin.tunnel;
    const where = { host: t.host, port: t.port };
    let pathAndQuery: string;
    if (url.startsWith('/')) {
      pathAndQuery = url;
    } else {
      const abs = parseAbsoluteTarget(url);
      if (!abs) return { problem: { code: 'bad_request', reason: 'malformed request target' }, ...where };
      if (abs.authority.host !== t.host || abs.authority.port !== t.port) {
        return { problem: hostMismatch(`request target ${abs.authority.host}:${abs.authority.port}`, t), ...where };
      }
      pathAndQuery = abs.pathAndQuery;
    }
    const hosts = headerValues(req.rawHeaders, 'host');
    if (hosts.length !== 1) return { problem: hostMismatch(hosts.length === 0 ? 'a request without a Host header' : 'several Host headers', t), ...where };
    if (!hostHeaderMatches(hosts[0]!, t.host, t.port)) return { problem: hostMismatch(`Host ${hosts[0]}`, t), ...where };
    return { ...where, pathAndQuery };
  }

  private refuse(action: HttpRequestAction, subject: Subject, reply: Reply, problem: { code: Verdict['code']; reason: string }, status: number, facts: RequestFacts): void {
    const verdict: Verdict = {
      verdict: 'deny', code: problem.code, stage: 'transport', reason: problem.reason,
      rule_missing: problem.code === 'host_mismatch' ? 'a Host header naming the same host as the request target' : '',
      hint: problem.code === 'host_mismatch' ? 'the destination is fixed by the CONNECT tunnel; send the same host in the Host header' : '',
    };
    this.deps.checkpoint.report(action, subject, verdict);
    reply.json(status, status === 400 ? { error: problem.reason, code: problem.code } : denialBody(verdict, facts, subject.process));
  }

  /**
   * Runs prepareUpstream (credentials, placeholders) on what is about to leave; false after
   * refusing the request when the hook refuses it (a placeholder sent where it does not belong).
   */
  private async prepared(ctx: RequestContext, outgoing: OutgoingRequest, reply: Reply, facts: RequestFacts): Promise<boolean> {
    const refusal = await this.deps.hooks.prepareUpstream?.(ctx, outgoing);
    if (!refusal) return true;
    this.deps.checkpoint.report(ctx.action, ctx.subject, refusal);
    reply.json(refusalStatus(refusal), denialBody(refusal, facts, ctx.subject.process));
    return false;
  }

  /**
   * Where the request goes. With TLS, the CAs the matched inspected endpoints name (upstream_ca)
   * replace the trusted roots; a file that cannot be used refuses the request (fail closed).
   */
  private upstream(ok: Prepared, reply: Reply): Upstream | undefined {
    const up: Upstream = {
      tls: ok.tls,
      address: ok.decision.network!.addresses[0]!,
      host: ok.action.host,
      port: ok.action.port,
      path: ok.decision.network!.forwardPath ?? ok.action.target,
      defaultPort: ok.tls ? 443 : 80,
    };
    const files = [...new Set(ok.decision.network!.matches.flatMap((m) => m.inspect && m.endpoint.upstream_ca !== undefined ? [m.endpoint.upstream_ca] : []))];
    if (!ok.tls || files.length === 0) return up;
    try {
      up.ca = files.map((file) => this.deps.upstreamCas.read(file));
    } catch (error) {
      if (!(error instanceof UpstreamCaError)) throw error;
      this.refuse(ok.action, ok.subject, reply, { code: 'upstream_ca_unreadable', reason: error.message }, 502, ok.facts);
      return undefined;
    }
    return up;
  }

  private upstreamFailed(ok: Prepared, err: Error, answer: (status: number, body: unknown) => void): void {
    const untrusted = isUntrustedCertificate(err);
    const code = untrusted ? 'upstream_untrusted' : 'upstream_error';
    const reason = untrusted
      ? `upstream ${ok.action.host}:${ok.action.port} presented a certificate that does not verify (${(err as NodeJS.ErrnoException).code}: ${err.message})`
      : `upstream ${ok.action.host}:${ok.action.port} failed: ${err.message}`;
    const hint = untrusted ? 'a server with a private CA: name the CA\'s PEM file as upstream_ca on the endpoint' : '';
    this.deps.checkpoint.report(ok.action, ok.subject, { verdict: 'deny', code, stage: 'transport', reason, rule_missing: '', hint }, performance.now(), ok.decision.network);
    answer(502, { error: reason, code, host: ok.action.host, port: ok.action.port, ...(hint ? { hint } : {}) });
  }

  private localService(origin: Origin, req: http.IncomingMessage): string | undefined {
    const services = this.deps.hooks.localServices;
    if (!services) return undefined;
    if (origin.kind === 'tunnel') return origin.tunnel.local;
    const host = parseAbsoluteTarget(req.url ?? '')?.authority.host;
    return host !== undefined && Object.hasOwn(services, host) ? host : undefined;
  }

  private serveLocally(req: http.IncomingMessage, res: http.ServerResponse, origin: Origin, name: string): void {
    const startedAt = performance.now();
    const client = origin.kind === 'proxy' ? origin.client : origin.tunnel.client;
    const target = this.targetOf(req, origin, false);
    if ('problem' in target) {
      sendJson(res, target.problem.code === 'host_mismatch' ? 403 : 400, { error: target.problem.reason, code: target.problem.code });
      return;
    }
    const layer: NetworkLayer = origin.kind === 'proxy' ? 'http' : 'l7';
    void client.identity.then((identity) => {
      const subject: Subject = { sandbox: this.deps.sandbox, process: identity, ...(client.identityError ? { identityError: client.identityError } : {}) };
      const action = this.action(layer, target.host, target.port, req.method ?? 'GET', target.pathAndQuery, undefined, origin);
      this.deps.hooks.localServices![name]!(req, res, { action, subject, startedAt });
    });
  }

  /** Names are resolved once per client connection, then pinned (no rebinding between requests). */
  async resolveFor(client: ClientState, host: string): Promise<string[]> {
    const pinned = client.pins.get(host);
    if (pinned) return pinned;
    const addresses = await this.deps.resolve(host);
    if (client.pins.size >= MAX_PINNED_NAMES) client.pins.clear();
    client.pins.set(host, addresses);
    return addresses;
  }
}

function subjectNow(sandbox: string, client: ClientState): Subject {
  return { sandbox, process: client.known, ...(client.identityError ? { identityError: client.identityError } : {}) };
}

function hostMismatch(what: string, t: TunnelState): { code: 'host_mismatch'; reason: string } {
  return { code: 'host_mismatch', reason: `${what} differs from the destination ${t.host}:${t.port}` };
}
