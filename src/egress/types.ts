// Shared types of the egress component: its options, its hooks, and what it reports.

import type http from 'node:http';
import type { Checkpoint, Decision, HttpRequestAction, NetworkAction, Subject, Verdict } from '../checkpoint/index.js';
import type { Policy, ProcessIdentity } from '../policy/index.js';

/** Per-sandbox certificate authority used to terminate TLS on L7 endpoints. */
export interface SandboxCA {
  certPem: string;
  keyPem: string;
  /** A leaf certificate for `host` (DNS name or IP literal), signed by this CA; cached. */
  leafFor(host: string): { cert: string; key: string };
}

export interface EgressLimits {
  /** Largest request head (request line + headers) accepted, in bytes. Default 16 KiB. */
  maxHeaderBytes: number;
  /** Largest number of client connections open at once (one proxy per sandbox). Default 256. */
  maxConnections: number;
  /** A connection (or tunnel) with no traffic for this long is closed. Default 5 minutes. */
  idleMs: number;
}

export interface EgressProxyOptions {
  /** Decides every connection and request of this sandbox (and records the decisions). */
  checkpoint: Checkpoint;
  /** Kernel-derived identity of the process behind a client socket. */
  /** `signal` aborts when the client has gone: a search not started yet can be dropped. */
  identify: (socket: import('node:net').Socket, signal?: AbortSignal) => Promise<ProcessIdentity>;
  ca: SandboxCA;
  /** Name resolution; default dns.lookup (all addresses). IP literals are never resolved. */
  resolve?: (host: string) => Promise<string[]>;
  /** Trusted roots (PEM) for upstream TLS; default: Node's bundled/system roots. */
  upstreamCA?: string | string[];
  limits?: Partial<EgressLimits>;
  hooks?: EgressHooks;
}

/** What a hook is told about an allowed request. */
export interface RequestContext {
  action: HttpRequestAction;
  subject: Subject;
  decision: Decision;
  /** True when the request travels over TLS both ways (a terminated tunnel), never in clear text. */
  tls: boolean;
}

/** What the hold hook is told about a connection or request the checkpoint answered with `ask`. */
export interface HoldContext {
  action: NetworkAction;
  subject: Subject;
  /** The ask, with the draft the operator is shown (verdict.approval). */
  decision: Decision;
  /** Aborts when the client has gone (nobody is waiting for the answer any more). */
  signal: AbortSignal;
  /**
   * Decides the action again, recorded, under the policy in force or under `policy` (the policy
   * plus a rule approved for this one action): how a released action gets its verdict, from the
   * checkpoint like every other.
   */
  redecide(policy?: Policy): Promise<Decision>;
  /**
   * For a held response (a quarantined body, whose draft has no rule): the operator released it.
   * Records that and answers allow. Absent for connections and requests.
   */
  release?(actor: string): Promise<Decision>;
}

/** What is about to be sent upstream; prepareUpstream may change it. */
export interface OutgoingRequest {
  headers: string[];
  path: string;
}

/** A service warden answers itself for a name that never reaches DNS (inference.local, warden.local). */
export type LocalService = (req: http.IncomingMessage, res: http.ServerResponse, ctx: { action: HttpRequestAction; subject: Subject; startedAt: number }) => void;

/** Replaces or refuses a response body once it has been read whole (up to maxBytes). */
export interface ResponseFilter {
  /** Bodies longer than this are not read whole: `oversize` says whether they pass unread or are refused. */
  maxBytes: number;
  oversize: 'pass' | { refuse: Verdict };
  /**
   * The body as received (still content-encoded: see `encoding`); resolves with what the client
   * gets. `signal` aborts when the client has gone (a held body has nobody left to wait for it).
   */
  filter(body: Buffer, encoding: string | undefined, signal: AbortSignal): Promise<{ body: Buffer; encoding?: string } | { refuse: Verdict }>;
}

/**
 * Where later components plug into the proxy without changing it: each hook is optional and runs
 * only after the checkpoint allowed the request.
 */
export interface EgressHooks {
  /** Names answered in-process, before DNS. A CONNECT to one is always terminated, never tunnelled. */
  localServices?: Readonly<Record<string, LocalService>>;
  /**
   * Rewrites a request before it leaves (credentials): `outgoing.headers` is the flat raw list sent
   * upstream, `outgoing.path` the origin-form target. Returning a verdict refuses the request.
   */
  prepareUpstream?(ctx: RequestContext, outgoing: OutgoingRequest): void | Verdict | Promise<void | Verdict>;
  /** Inspects or holds a response body (the directive scanner); undefined passes it on as it streams. */
  transformResponse?(ctx: RequestContext, status: number, headers: readonly string[]): ResponseFilter | undefined;
  /**
   * Waits for an operator's answer to an `ask` verdict (connections and requests). Resolves with
   * the checkpoint's new decision (from `ctx.redecide`) or a refusal, which the proxy records and
   * answers. Without this hook, an ask is denied.
   */
  hold?(ctx: HoldContext): Promise<Decision | { refuse: Verdict }>;
}

export interface EgressProxy {
  /** Serve one client connection (for example one accepted inside a sandbox's namespace). */
  handleConnection(socket: import('node:net').Socket): void;
  /** Serve a TLS connection made straight to one of warden's own names (the SNI picks which). */
  handleDirect(socket: import('node:net').Socket, hosts: readonly string[]): void;
  /** Convenience listener for tests and the host: accepts connections and serves them. */
  listen(port: number, host: string): Promise<import('node:net').AddressInfo>;
  /**
   * Re-decide the action behind every open relay (raw tunnel, WebSocket) under the current policy
   * and close the ones it no longer allows. Resolves with how many were closed. Requests inside
   * inspected tunnels are decided one by one anyway.
   */
  revalidate(): Promise<number>;
  /** Stop listening and close every open connection. */
  close(): Promise<void>;
  /** Number of client connections currently open. */
  readonly connections: number;
}
