// Shared types of the egress component. Everything here is plain data so that verdicts and
// events can be logged as JSON lines and compared in tests.

import type { NetworkEndpoint, NetworkPolicy } from '../policy/types.js';

/** One process in the caller's ancestor chain, nearest parent first. */
export interface AncestorIdentity {
  pid: number;
  /** Executable path as the kernel reports it (readlink /proc/<pid>/exe). */
  exe: string;
  /** sha256 of the mapped executable, when it could be read. */
  exeSha256?: string;
}

/**
 * Who is on the other end of a connection, as derived from the kernel (/proc). Never built
 * from anything the client sends.
 */
export interface ProcessIdentity {
  pid: number;
  exe: string;
  /** sha256 (hex) of the executable file the process is running (read via /proc/<pid>/exe). */
  exeSha256: string;
  ancestors: AncestorIdentity[];
  cmdline?: string[];
  /**
   * Other processes holding the same socket with a different executable (a socket inherited
   * or passed between programs). Every one of them must be allowed as well.
   */
  sharedWith?: ProcessIdentity[];
  /**
   * Why this process (or an ancestor it relies on) may be running code that is not its binary's:
   * code mapped from a path the sandbox can write, a memory file, LD_PRELOAD... Never allowed.
   */
  tainted?: string;
}

/** Why a decision came out as it did; stable machine-readable codes. */
export type DecisionCode =
  | 'allowed'
  | 'audit'
  | 'no_endpoint'
  | 'port_not_allowed'
  | 'binary_not_allowed'
  | 'binary_changed'
  | 'binary_tainted'
  | 'unidentified'
  | 'shared_socket'
  | 'ssrf_blocked'
  | 'l7_not_allowed'
  | 'l7_deny_rule'
  | 'l7_no_rules'
  | 'l7_unsupported'
  | 'bad_path'
  | 'host_mismatch'
  | 'sni_mismatch'
  | 'upgrade_not_allowed';

/** The result of checking one connection or one request against the policy. */
export interface Verdict {
  verdict: 'allow' | 'deny';
  code: DecisionCode;
  /** The network_policies key that allowed (or came closest to allowing) the action. */
  policy?: string;
  endpoint?: NetworkEndpoint;
  /** A short label of the exact rule used, e.g. `access read-only` or `deny_rules[0]`. */
  rule?: string;
  reason: string;
  /** What the policy would have to contain for this action to be allowed; '' when allowed. */
  rule_missing: string;
  /** What an operator can do about a denial; '' when allowed. */
  hint: string;
  /** True when an `enforcement: audit` endpoint let a would-be denial through. */
  audit?: boolean;
  /**
   * What the sandbox is told instead of reason, rule_missing and hint, when those hold details
   * only the operator may see (the private address a name resolved to: the layout of the network).
   */
  toSandbox?: { reason: string; rule_missing: string; hint: string };
}

/** An endpoint that matched a connection, with the rule it came from. */
export interface MatchedEndpoint {
  policy: string;
  endpoint: NetworkEndpoint;
  /** True when requests on this endpoint are inspected (protocol rest/websocket, tls not skip). */
  inspect: boolean;
}

/** A connection-level verdict carries the endpoints that matched, for per-request checks. */
export interface ConnectionVerdict extends Verdict {
  matches: MatchedEndpoint[];
  /** True when any allowing endpoint is L4 only: the tunnel is relayed without inspection. */
  raw: boolean;
}

/** One line of the egress event log. */
export interface EgressEvent {
  ts: string;
  sandbox: string;
  kind: 'egress';
  verdict: 'allow' | 'deny';
  code: DecisionCode | 'bad_request' | 'upstream_error' | 'audit_unavailable';
  /** connect = CONNECT tunnel, http = absolute-form request, l7 = request inside a tunnel. */
  layer: 'connect' | 'http' | 'l7';
  binary: { path: string; pid: number; ancestors: string[] };
  destination: { host: string; port: number; ip?: string };
  method?: string;
  path?: string;
  policy?: string;
  rule?: string;
  reason: string;
  audit?: boolean;
  /** Time from receiving the request to enforcing the verdict (upstream reached, or denied). */
  latency_ms: number;
}

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
  /** Sandbox name, copied into events. */
  sandbox: string;
  /** Read on every decision, so a new policy object applies to the next connection/request. */
  policy: () => Record<string, NetworkPolicy>;
  /** Kernel-derived identity of the process behind a client socket. */
  /** `signal` aborts when the client has gone: a search not started yet can be dropped. */
  identify: (socket: import('node:net').Socket, signal?: AbortSignal) => Promise<ProcessIdentity>;
  ca: SandboxCA;
  /**
   * Records a decision. For an allowed action the proxy waits for the returned promise before
   * anything is relayed, and refuses the action if it rejects (or this throws): no audit record, no
   * action. Denials are recorded without waiting.
   */
  onEvent: (e: EgressEvent) => void | Promise<unknown>;
  /** Name resolution; default dns.lookup (all addresses). IP literals are never resolved. */
  resolve?: (host: string) => Promise<string[]>;
  /** Trusted roots (PEM) for upstream TLS; default: Node's bundled/system roots. */
  upstreamCA?: string | string[];
  limits?: Partial<EgressLimits>;
}

export interface EgressProxy {
  /** Serve one client connection (for example one accepted inside a sandbox's namespace). */
  handleConnection(socket: import('node:net').Socket): void;
  /** Convenience listener for tests and the host: accepts connections and serves them. */
  listen(port: number, host: string): Promise<import('node:net').AddressInfo>;
  /**
   * Re-check every open raw tunnel against the current policy and close the ones it no longer
   * allows. Returns how many were closed. Inspected tunnels re-check each request anyway.
   */
  revalidate(): number;
  /** Stop listening and close every open connection. */
  close(): Promise<void>;
  /** Number of client connections currently open. */
  readonly connections: number;
}

export type { NetworkEndpoint, NetworkPolicy };
