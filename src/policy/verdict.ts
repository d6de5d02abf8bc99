// What the policy's matchers answer about a network action, and who they answer it for. Plain
// data: the checkpoint turns it into its Verdict (adding the stage) and into the audit record.

import type { NetworkEndpoint } from './types.js';

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

/** Why the network policy decided as it did; stable machine-readable codes. */
export type PolicyCode =
  | 'allowed'
  | 'audit'
  | 'no_endpoint'
  | 'port_not_allowed'
  | 'binary_not_allowed'
  | 'binary_changed'
  | 'shared_socket'
  | 'ssrf_blocked'
  | 'l7_not_allowed'
  | 'l7_deny_rule'
  | 'l7_no_rules'
  | 'l7_unsupported'
  | 'bad_path'
  | 'host_mismatch'
  | 'sni_mismatch'
  | 'upgrade_not_allowed'
  | 'middleware_unavailable';

/** The policy's answer to one connection or one request. */
export interface PolicyVerdict {
  verdict: 'allow' | 'deny';
  code: PolicyCode;
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
