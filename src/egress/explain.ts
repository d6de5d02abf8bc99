// `warden policy explain`: which rule would decide an action, and why. It runs the proxy's own
// decision code (CompiledPolicy.decideConnection, checkInspectedRequest, checkResolution) on a
// described request, so an explanation cannot drift from what the proxy enforces. What it
// cannot know without a live process or the network (binary hashes, DNS answers) is said in
// the reasons rather than guessed.

import type { EndpointAccess, EndpointEnforcement, EndpointProtocol, Policy } from '../policy/types.js';
import { type CompiledEndpoint, type ConnectionDecision, CompiledPolicy } from './decision.js';
import { normaliseHost } from './hosts.js';
import { BinaryLedger } from './integrity.js';
import { isIpLiteral } from './ip.js';
import { checkResolution } from './ssrf.js';
import type { DecisionCode, ProcessIdentity, Verdict } from './types.js';
import { checkInspectedRequest, ssrfVerdict } from './verdicts.js';

export interface ExplainRequest {
  /** Absolute path of the calling executable, as the kernel would report it. */
  binary: string;
  /** http, https, ws or wss URL: gives host, port (default by scheme), path and query. */
  url?: string;
  /** Instead of `url`: the destination host and port. */
  host?: string;
  port?: number;
  /** HTTP method for inspected endpoints; default GET. */
  method?: string;
  /** With `host`: the request path (and query) to check on inspected endpoints. */
  path?: string;
  /** Executables of the caller's ancestors, nearest parent first. */
  ancestors?: string[];
}

/**
 * Where the verdict was reached: `endpoint` (no endpoint for host:port), `binary` (the
 * endpoint is there but not for this binary, or a plain tunnel allowed it), `l7` (a request
 * rule of an inspected endpoint), `ssrf-note` (an IP-literal destination the SSRF guard refuses).
 */
export type ExplainStage = 'endpoint' | 'binary' | 'l7' | 'ssrf-note';

export interface ExplainedEndpoint {
  /** Where it is written, e.g. `network_policies.pypi.endpoints[0]`. */
  at: string;
  host: string;
  ports: number[];
  protocol?: EndpointProtocol;
  access?: EndpointAccess;
  enforcement?: EndpointEnforcement;
  allowed_ips?: string[];
}

export interface Explanation {
  verdict: 'allow' | 'deny';
  stage: ExplainStage;
  /** The proxy's decision code for the same action. */
  code: DecisionCode;
  destination: { host: string; port: number; method?: string; path?: string };
  /** The network_policies key that decided (or came closest). */
  policy?: string;
  endpoint?: ExplainedEndpoint;
  /** The binaries entry that matched, and the executable it matched (the caller or an ancestor). */
  binary?: { pattern: string; matched: string };
  /** The exact rule: `access read-only`, `rules[0] GET /simple/**`, `deny_rules[0] ...`. */
  rule?: string;
  /** An `enforcement: audit` endpoint lets this would-be denial through. */
  audit?: boolean;
  /** Human sentences: the decision, what is missing, and what explain could not check. */
  reasons: string[];
}

export class ExplainError extends Error {
  override readonly name = 'ExplainError';
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };
/** Stands in for a file hash: explain has no process to hash, and a fresh ledger trusts any first sight. */
const NO_HASH = '0'.repeat(64);

interface Target {
  host: string;
  port: number;
  method: string;
  pathAndQuery?: string;
  upgrade?: string;
}

export function explainRequest(policy: Policy, request: ExplainRequest): Explanation {
  const target = targetOf(request);
  const compiled = new CompiledPolicy(policy.network_policies);
  const conn = compiled.decideConnection(target.host, target.port, identityOf(request), new BinaryLedger());
  const destination = {
    host: target.host,
    port: target.port,
    ...(target.pathAndQuery !== undefined ? { method: target.method, path: target.pathAndQuery } : {}),
  };
  if (conn.verdict === 'deny') return connectionDenied(policy, compiled, conn, request, target, destination);

  const base = allowedConnection(policy, conn, request, destination);
  if (conn.raw) {
    base.reasons.push(
      `${target.host}:${target.port} is a plain tunnel (no inspected protocol, or tls: skip): requests inside it are not checked` +
        (target.pathAndQuery !== undefined ? `, so ${target.method} ${target.pathAndQuery} is not looked at` : ''),
    );
    return withNotes(base, conn, request, target);
  }
  if (target.pathAndQuery === undefined) {
    base.reasons.push('requests on this endpoint are inspected one by one: give a URL (or a path) to explain a request');
    return withNotes(base, conn, request, target);
  }
  const checked = checkInspectedRequest(conn, { method: target.method, pathAndQuery: target.pathAndQuery, upgrade: target.upgrade });
  const l7 = requestVerdict(policy, base, checked);
  // The proxy refuses the request before it looks at hashes or addresses: nothing to add.
  return checked.verdict === 'deny' ? l7 : withNotes(l7, conn, request, target);
}

// ---------------------------------------------------------------------------------------------
// The request as the proxy would see it

function targetOf(request: ExplainRequest): Target {
  if (!request.binary.startsWith('/')) throw new ExplainError(`binary ${JSON.stringify(request.binary)} must be an absolute path, such as /usr/bin/curl`);
  const method = (request.method ?? 'GET').toUpperCase();
  if (!/^[A-Z_]+$/.test(method)) throw new ExplainError(`${JSON.stringify(request.method)} is not an HTTP method`);
  if (request.url !== undefined) {
    if (request.host !== undefined || request.port !== undefined || request.path !== undefined) {
      throw new ExplainError('give either a URL, or host and port (and path), not both');
    }
    return targetOfUrl(request.url, method);
  }
  if (request.host === undefined || request.port === undefined) throw new ExplainError('give a URL, or a host and a port');
  if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
    throw new ExplainError(`port ${String(request.port)} is not a port number (1..65535)`);
  }
  if (request.path !== undefined && !request.path.startsWith('/')) throw new ExplainError(`path ${JSON.stringify(request.path)} must start with "/"`);
  return { host: hostOf(request.host), port: request.port, method, ...(request.path !== undefined ? { pathAndQuery: request.path } : {}) };
}

function targetOfUrl(text: string, method: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ExplainError(`${JSON.stringify(text)} is not a URL; expected something like https://pypi.org/simple/`);
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined) throw new ExplainError(`scheme ${url.protocol} is not proxied: expected http, https, ws or wss`);
  const websocket = url.protocol === 'ws:' || url.protocol === 'wss:';
  return {
    host: hostOf(url.hostname),
    port: url.port === '' ? defaultPort : Number(url.port),
    method,
    pathAndQuery: (url.pathname || '/') + url.search,
    ...(websocket ? { upgrade: 'websocket' } : {}),
  };
}

function hostOf(raw: string): string {
  const host = normaliseHost(raw);
  if (host === null) throw new ExplainError(`${JSON.stringify(raw)} is not a host name or IP address`);
  return host;
}

function identityOf(request: ExplainRequest): ProcessIdentity {
  return {
    pid: 0,
    exe: request.binary,
    exeSha256: NO_HASH,
    ancestors: (request.ancestors ?? []).map((exe) => ({ pid: 0, exe, exeSha256: NO_HASH })),
  };
}

// ---------------------------------------------------------------------------------------------
// Verdicts

type Destination = Explanation['destination'];

function connectionDenied(
  policy: Policy, compiled: CompiledPolicy, conn: ConnectionDecision, request: ExplainRequest, target: Target, destination: Destination,
): Explanation {
  const stage: ExplainStage = conn.code === 'no_endpoint' || conn.code === 'port_not_allowed' ? 'endpoint' : 'binary';
  const out: Explanation = {
    verdict: 'deny',
    stage,
    code: conn.code,
    destination,
    ...(conn.policy !== undefined ? { policy: conn.policy } : {}),
    reasons: [conn.reason],
  };
  if (conn.policy !== undefined && conn.endpoint !== undefined) out.endpoint = describeEndpoint(policy, conn.policy, conn.endpoint);
  const candidates = compiled.endpointsFor(target.host);
  if (conn.code === 'port_not_allowed') {
    const ports = [...new Set(candidates.flatMap((c) => [...c.ports]))].sort((a, b) => a - b);
    out.reasons.push(`endpoint ${target.host} is allowed on port${ports.length === 1 ? '' : 's'} ${ports.join(', ')} only`);
  }
  if (conn.code === 'binary_not_allowed') {
    const names = [...new Set(candidates.filter((c) => c.ports.has(target.port)).map((c) => c.policy))];
    const allowed = [...new Set(names.flatMap((name) => (policy.network_policies[name]?.binaries ?? []).map((b) => b.path)))];
    const checked = [request.binary, ...(request.ancestors ?? [])];
    out.reasons.push(`endpoint ${hostPort(target)} is allowed for ${allowed.join(', ') || 'no binary'} only (network_policies.${names.join(', network_policies.')})`);
    out.reasons.push(`checked: ${checked.join(', ')}${checked.length === 1 ? ' (no ancestors given: an allowed parent such as the agent would also count)' : ''}`);
  }
  if (conn.rule_missing !== '') out.reasons.push(`missing: ${conn.rule_missing}`);
  if (conn.hint !== '') out.reasons.push(`to allow it: ${conn.hint}`);
  return out;
}

function allowedConnection(policy: Policy, conn: ConnectionDecision, request: ExplainRequest, destination: Destination): Explanation {
  const first = conn.matches[0]!;
  const binary = matchedBinary(first, request);
  return {
    verdict: 'allow',
    stage: 'binary',
    code: conn.code,
    destination,
    policy: first.policy,
    endpoint: describeEndpoint(policy, first.policy, first.endpoint),
    ...(binary ? { binary } : {}),
    ...(conn.rule !== undefined ? { rule: conn.rule } : {}),
    reasons: [
      `${conn.reason}: ${conn.rule ?? ''}`.trim(),
      ...(binary && binary.matched !== request.binary ? [`${request.binary} is allowed through its ancestor ${binary.matched}`] : []),
    ],
  };
}

/** The binaries entry the proxy relied on: the first in the caller's chain that the rule lists. */
function matchedBinary(endpoint: CompiledEndpoint, request: ExplainRequest): Explanation['binary'] | undefined {
  for (const exe of [request.binary, ...(request.ancestors ?? [])]) {
    const pattern = endpoint.binaries.match(exe);
    if (pattern !== null) return { pattern, matched: exe };
  }
  return undefined;
}

function requestVerdict(policy: Policy, base: Explanation, checked: Verdict): Explanation {
  const out: Explanation = {
    ...base,
    verdict: checked.verdict,
    stage: 'l7',
    code: checked.code,
    reasons: [`connection: ${base.reasons[0] ?? ''}`, ...base.reasons.slice(1), `request: ${checked.reason}`],
  };
  if (checked.policy !== undefined) out.policy = checked.policy;
  if (checked.endpoint !== undefined && checked.policy !== undefined) out.endpoint = describeEndpoint(policy, checked.policy, checked.endpoint);
  if (checked.rule !== undefined) out.rule = checked.rule;
  else delete out.rule;
  if (checked.audit) {
    out.audit = true;
    out.reasons.push('with enforcement: enforce this request would be denied; it is let through and flagged in the audit log');
  }
  if (checked.verdict === 'deny') {
    if (checked.rule_missing !== '') out.reasons.push(`missing: ${checked.rule_missing}`);
    if (checked.hint !== '') out.reasons.push(`to allow it: ${checked.hint}`);
  }
  return out;
}

/** Adds what explain cannot check: binary hashes and, for names, DNS and the SSRF guard. */
function withNotes(out: Explanation, conn: ConnectionDecision, request: ExplainRequest, target: Target): Explanation {
  const relied = out.binary?.matched ?? request.binary;
  out.reasons.push(
    `binary hashes are not checked here: the proxy also refuses ${relied} if its file differs from the one it first saw in this sandbox (trust on first use)`,
  );
  const allowedIps = conn.matches.flatMap((m) => m.endpoint.allowed_ips ?? []);
  if (isIpLiteral(target.host)) {
    // An IP literal is dialled as written, so the proxy's address check needs no resolution.
    const check = checkResolution([target.host], conn.matches.map((m) => m.allowedIps));
    if (check.ok) {
      out.reasons.push(`address ${target.host} passes the SSRF guard${allowedIps.length > 0 ? ` (allowed_ips: ${allowedIps.join(', ')})` : ''}`);
      return out;
    }
    const refused = ssrfVerdict(conn, target.host, check);
    return {
      ...out,
      verdict: 'deny',
      stage: 'ssrf-note',
      code: refused.code,
      reasons: [...out.reasons, refused.reason, `missing: ${refused.rule_missing}`, `to allow it: ${refused.hint}`],
    };
  }
  out.reasons.push(
    `${target.host} is not resolved here (no DNS, no SSRF check): the proxy still refuses it if it resolves to a loopback, private, CGNAT, unique-local or link-local address, ` +
      (allowedIps.length > 0
        ? `and with allowed_ips it must resolve only to addresses listed there (${allowedIps.join(', ')}); loopback only when named exactly, link-local never`
        : 'unless the endpoint\'s allowed_ips names the address (loopback only exactly, link-local never)'),
  );
  return out;
}

function describeEndpoint(policy: Policy, name: string, endpoint: CompiledEndpoint['endpoint']): ExplainedEndpoint {
  const index = policy.network_policies[name]?.endpoints.indexOf(endpoint) ?? -1;
  const out: ExplainedEndpoint = { at: `network_policies.${name}.endpoints[${index}]`, host: endpoint.host, ports: [...endpoint.ports] };
  if (endpoint.protocol !== undefined) out.protocol = endpoint.protocol;
  if (endpoint.access !== undefined) out.access = endpoint.access;
  if (endpoint.protocol !== undefined) out.enforcement = endpoint.enforcement ?? 'enforce';
  if (endpoint.allowed_ips !== undefined) out.allowed_ips = [...endpoint.allowed_ips];
  return out;
}

function hostPort(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
