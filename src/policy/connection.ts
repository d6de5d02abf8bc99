// Connection-level decisions: which network policy (if any) lets this process reach this
// host and port. network_policies are compiled once per policy object into a host index, so a
// lookup costs a few Map probes however many rules there are.

import { type AllowedIps, compileAllowedIps } from './addresses.js';
import { BinaryMatcher } from './binaries.js';
import { isGlob } from './glob.js';
import { endpointHost, HostIndex } from './hosts.js';
import type { BinaryLedger } from './integrity.js';
import { type CompiledL7, compileL7 } from './l7.js';
import type { NetworkEndpoint, NetworkMiddleware, NetworkPolicy, Policy } from './types.js';
import type { MatchedEndpoint, PolicyCode, PolicyVerdict, ProcessIdentity } from './verdict.js';

/** A connection-level verdict carries the endpoints that matched, for per-request checks. */
export interface ConnectionVerdict extends PolicyVerdict {
  matches: MatchedEndpoint[];
  /**
   * True when every allowing endpoint is L4 only: the tunnel is relayed without inspection. When an
   * inspected endpoint also matches (an L4 and an L7 entry for one host:port, perhaps in different
   * policies), inspection wins: its rules and deny rules are never switched off by the tunnel.
   */
  raw: boolean;
}

export interface CompiledEndpoint extends MatchedEndpoint {
  ports: ReadonlySet<number>;
  binaries: BinaryMatcher;
  l7: CompiledL7 | null;
  allowedIps: AllowedIps;
}

export interface ConnectionDecision extends ConnectionVerdict {
  matches: CompiledEndpoint[];
}

const INSPECTED = new Set(['rest', 'websocket', 'graphql', 'mcp', 'json-rpc']);

/** Kubernetes control-plane ports (etcd, API server, kubelet): OpenShell refuses them where an address is not held to public space. */
export const CONTROL_PLANE_PORTS: ReadonlySet<number> = new Set([2379, 2380, 6443, 10250, 10255]);

/**
 * Whether the control-plane ports are refused for an endpoint: for every one except a wildcard
 * host without allowed_ips (allowed_ips, hostless, IP-literal and exactly named hosts are checked,
 * as in OpenShell, even when the address is public).
 */
function portChecked(e: NetworkEndpoint): boolean {
  return e.allowed_ips !== undefined || e.host === undefined || !isGlob(e.host);
}

/**
 * Requests on an endpoint are inspected when it names an L7 protocol. (graphql, mcp and json-rpc
 * count as inspected so they are never tunnelled raw; their requests are refused until those
 * inspectors exist.) With `tls: skip` only cleartext HTTP is inspected: TLS is never terminated
 * (see cleartextOnly). No protocol, or `tcp`, is a plain L4 tunnel.
 */
export function isInspected(e: NetworkEndpoint): boolean {
  return e.protocol !== undefined && INSPECTED.has(e.protocol);
}

/** An inspected tunnel that must not be TLS-terminated: requests in it are checked only in cleartext. */
export function cleartextOnly(matches: readonly MatchedEndpoint[]): boolean {
  return matches.some((m) => m.inspect && m.endpoint.tls === 'skip');
}

/** A middleware warden cannot run, so the traffic it covers is refused (on_error: fail_closed, the default). */
interface BlockingMiddleware {
  name: string;
  middleware: string;
  exclude: HostIndex<true>;
}

export class CompiledPolicy {
  private readonly hosts = new HostIndex<CompiledEndpoint>();
  /** Endpoints without a host: any destination on their ports, held to their allowed_ips. */
  private readonly anyHost: CompiledEndpoint[] = [];
  private readonly blocking = new HostIndex<BlockingMiddleware>();
  readonly endpointCount: number;

  constructor(policies: Readonly<Record<string, NetworkPolicy>>, middlewares: Readonly<Record<string, NetworkMiddleware>> = {}) {
    for (const [name, m] of Object.entries(middlewares)) {
      if (m.on_error === 'fail_open') continue;
      const exclude = new HostIndex<true>();
      for (const pattern of m.endpoints.exclude ?? []) exclude.add(pattern, true);
      for (const pattern of m.endpoints.include) this.blocking.add(pattern, { name, middleware: m.middleware, exclude });
    }
    let count = 0;
    for (const [name, rule] of Object.entries(policies)) {
      const binaries = new BinaryMatcher(rule.binaries ?? []);
      for (const endpoint of rule.endpoints ?? []) {
        const inspect = isInspected(endpoint);
        const compiled: CompiledEndpoint = {
          policy: name,
          endpoint,
          inspect,
          ports: new Set(endpoint.ports ?? []),
          binaries,
          l7: inspect ? compileL7(endpoint) : null,
          allowedIps: compileAllowedIps(endpoint.allowed_ips),
        };
        if (endpoint.host === undefined) this.anyHost.push(compiled);
        else this.hosts.add(endpoint.host, compiled);
        count++;
      }
    }
    this.endpointCount = count;
  }

  /** Endpoints whose host pattern matches (host must be normalised). */
  endpointsFor(host: string): readonly CompiledEndpoint[] {
    const named = this.hosts.lookup(host);
    return this.anyHost.length === 0 ? named : [...named, ...this.anyHost];
  }

  /**
   * Decide whether `identity` may open a connection to host:port. The caller's executable or
   * any ancestor's must be listed in the same rule as a matching endpoint, and each executable
   * relied on must hash the same as the first time this proxy saw its path.
   */
  decideConnection(host: string, port: number, identity: ProcessIdentity, ledger: BinaryLedger): ConnectionDecision {
    const primary = this.decideFor(host, port, identity, ledger);
    if (primary.verdict === 'deny') return primary;
    const checked = CONTROL_PLANE_PORTS.has(port) ? primary.matches.find((m) => portChecked(m.endpoint)) : undefined;
    if (checked) {
      return deny('port_not_allowed', {
        policy: checked.policy,
        endpoint: checked.endpoint,
        reason: `port ${port} is a Kubernetes control-plane port, refused for endpoint ${endpointHost(checked.endpoint)} of policy ${checked.policy} (only a wildcard host without allowed_ips may reach it)`,
        rule_missing: `none: ports ${[...CONTROL_PLANE_PORTS].join(', ')} are refused for hosts named exactly, IP addresses and allowed_ips`,
        hint: 'a cluster control plane is never a sandbox destination; if a public service really listens on this port, name it with a wildcard host',
      });
    }
    const middleware = this.blocking.lookup(host).find((m) => m.exclude.lookup(host).length === 0);
    if (middleware) {
      return deny('middleware_unavailable', {
        policy: primary.policy!,
        reason: `network_middlewares.${middleware.name} (${middleware.middleware}) covers ${host} with on_error: fail_closed, and warden cannot run middleware`,
        rule_missing: `a way to run middleware ${middleware.middleware}: warden has none`,
        hint: `remove ${host} from network_middlewares.${middleware.name}.endpoints.include, or set on_error: fail_open (the middleware then does nothing)`,
      });
    }
    for (const other of identity.sharedWith ?? []) {
      const d = this.decideFor(host, port, other, ledger);
      if (d.verdict === 'deny') {
        return deny('shared_socket', {
          reason: `the connection's socket is also held by ${other.exe} (pid ${other.pid}), which is not allowed: ${d.reason}`,
          rule_missing: d.rule_missing,
          hint: d.hint,
          ...(d.policy ? { policy: d.policy } : {}),
        });
      }
    }
    return primary;
  }

  private decideFor(host: string, port: number, identity: ProcessIdentity, ledger: BinaryLedger): ConnectionDecision {
    const exe = identity.exe;
    const candidates = this.endpointsFor(host);
    // Hostless endpoints match every name: only on their own ports do they say anything about this one.
    if (candidates.every((c) => c.endpoint.host === undefined && !c.ports.has(port))) {
      return deny('no_endpoint', {
        reason: `no network policy has an endpoint for ${host}`,
        rule_missing: `an endpoint {host: ${host}, port: ${port}} in network_policies`,
        hint: `add {host: ${host}, port: ${port}} to the endpoints of a network policy whose binaries include ${exe}`,
      });
    }
    const onPort = candidates.filter((c) => c.ports.has(port));
    if (onPort.length === 0) {
      const c = candidates[0]!;
      return deny('port_not_allowed', {
        policy: c.policy,
        endpoint: c.endpoint,
        reason: `policy ${c.policy} allows ${endpointHost(c.endpoint)} only on port(s) ${[...c.ports].join(', ') || 'none'}, not ${port}`,
        rule_missing: `port ${port} on the endpoint ${endpointHost(c.endpoint)} of policy ${c.policy}`,
        hint: `add ${port} to ports of endpoint ${endpointHost(c.endpoint)} in network_policies.${c.policy}`,
      });
    }

    const chain = [{ pid: identity.pid, exe, exeSha256: identity.exeSha256 as string | undefined }, ...identity.ancestors];
    const matches: CompiledEndpoint[] = [];
    let via: { exe: string; sha?: string | undefined; pattern: string } | null = null;
    for (const c of onPort) {
      for (const member of chain) {
        const pattern = c.binaries.match(member.exe);
        if (pattern === null) continue;
        matches.push(c);
        via ??= { exe: member.exe, sha: member.exeSha256, pattern };
        break;
      }
    }
    if (matches.length === 0 || via === null) {
      const c = onPort[0]!;
      return deny('binary_not_allowed', {
        policy: c.policy,
        endpoint: c.endpoint,
        reason: `${exe} is not among the binaries allowed to reach ${host}:${port} (policy ${c.policy})`,
        rule_missing: `binary {path: ${exe}} in network_policies.${c.policy}`,
        hint: `add {path: ${exe}} to binaries of network_policies.${c.policy}, or of another policy with an endpoint for ${host}:${port}`,
      });
    }

    const changed = checkIntegrity(ledger, exe, identity.exeSha256) ?? (via.exe !== exe ? checkIntegrity(ledger, via.exe, via.sha) : null);
    if (changed) {
      const first = matches[0]!;
      return deny('binary_changed', {
        policy: first.policy,
        endpoint: first.endpoint,
        reason: `binary changed: ${changed.path} now has sha256 ${changed.actual.slice(0, 16)}…, first seen as ${changed.expected.slice(0, 16)}…`,
        rule_missing: `the unchanged binary ${changed.path}`,
        hint: `${changed.path} was replaced while the sandbox ran; if that was intended, restart the sandbox so its binaries are trusted afresh`,
      });
    }

    const first = matches[0]!;
    const raw = matches.every((m) => !m.inspect);
    return {
      verdict: 'allow',
      code: 'allowed',
      policy: first.policy,
      endpoint: first.endpoint,
      rule: `endpoint ${endpointHost(first.endpoint)}:${port} for binary ${via.pattern}${via.exe !== exe ? ` (ancestor ${via.exe})` : ''}`,
      reason: `allowed by policy ${first.policy}`,
      rule_missing: '',
      hint: '',
      matches,
      raw,
    };
  }
}

function checkIntegrity(ledger: BinaryLedger, path: string, sha: string | undefined): { path: string; expected: string; actual: string } | null {
  // An executable whose content could not be hashed cannot be trusted on first use either.
  if (!sha) return { path, expected: '(a readable executable)', actual: '(unreadable)' };
  const r = ledger.check(path, sha);
  return r.ok ? null : { path, expected: r.expected, actual: r.actual };
}

function deny(
  code: PolicyCode,
  fields: { reason: string; rule_missing: string; hint: string; policy?: string; endpoint?: NetworkEndpoint },
): ConnectionDecision {
  return { verdict: 'deny', code, ...fields, matches: [], raw: false };
}

/** Compiles each policy object once; a new object (a policy update) compiles afresh. */
export class PolicyCompiler {
  private cache = new WeakMap<object, CompiledPolicy>();

  compiled(policy: Pick<Policy, 'network_policies' | 'network_middlewares'>): CompiledPolicy {
    let c = this.cache.get(policy);
    if (!c) {
      c = new CompiledPolicy(policy.network_policies, policy.network_middlewares);
      this.cache.set(policy, c);
    }
    return c;
  }
}

export function compileNetworkPolicies(policies: Readonly<Record<string, NetworkPolicy>>): CompiledPolicy {
  return new CompiledPolicy(policies);
}
