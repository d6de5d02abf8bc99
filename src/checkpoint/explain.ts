// `warden policy explain`: the path an action takes through the checkpoint, and why. It runs the
// same Checkpoint.decide as the proxy, with a described caller instead of a kernel-identified one,
// names resolved only where --resolve says, and nothing recorded. What it cannot know without a
// live process (binary hashes) or without DNS is said in the reasons rather than guessed.

import {
  cleartextOnly, type CompiledEndpoint, CompiledPolicy, endpointHost, type EndpointAccess, type EndpointEnforcement, type EndpointProtocol, isIpLiteral,
  normaliseHost, type Policy, type ProcessIdentity,
} from '../policy/index.js';
import { Checkpoint } from './checkpoint.js';
import type { Action, Decision, DecisionCode, Resolver, Stage, VerdictStage } from './types.js';

export interface ExplainRequest {
  /** Absolute path of the calling executable, as the kernel would report it. */
  binary: string;
  /** Executables of the caller's ancestors, nearest parent first. */
  ancestors?: string[];
  /** http, https, ws or wss URL: host, port (default by scheme), and the path and query as written. */
  url?: string;
  /** Instead of `url`: the destination host and port. */
  host?: string;
  port?: number;
  /** HTTP method for inspected endpoints; default GET. */
  method?: string;
  /** With `host`: the request path and query, used byte for byte as the proxy would receive it. */
  path?: string;
  /** What names resolve to (HOST -> addresses); names not listed are not resolved. */
  resolve?: Record<string, string[]>;
}

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
  verdict: 'allow' | 'deny' | 'ask' | 'reroute';
  code: DecisionCode;
  /** The checkpoint stage that reached the verdict. */
  stage: VerdictStage;
  policy?: string;
  rule?: string;
  reason: string;
  rule_missing: string;
  hint: string;
  destination: { host: string; port: number; method?: string; path?: string };
  /** The stages the action passes, in order. */
  stages: string[];
  endpoint?: ExplainedEndpoint;
  /** The binaries entry that matched, and the executable it matched (the caller or an ancestor). */
  binary?: { pattern: string; matched: string };
  /** An `enforcement: audit` endpoint lets this would-be denial through. */
  audit?: boolean;
  /** Human sentences: the decision, what is missing, and what explain could not check. */
  reasons: string[];
}

export class ExplainError extends Error {
  override readonly name = 'ExplainError';
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };
/** Stands in for a file hash: explain has no process to hash, and a fresh ledger trusts any first sight. */
const NO_HASH = '0'.repeat(64);

export async function explainAction(policy: Policy, request: ExplainRequest, stages: readonly Stage[] = []): Promise<Explanation> {
  const action = actionOf(request);
  const resolve = resolverOf(request.resolve ?? {});
  const checkpoint = new Checkpoint({ sandbox: 'explain', policy: () => policy, stages });
  const trace = { notes: [] as string[] };
  const decision = await checkpoint.decide(action, { sandbox: 'explain', process: identityOf(request) }, { resolve, explain: trace, record: false });
  return describe(policy, request, action, decision, trace.notes, checkpoint.stageNames);
}

// ---------------------------------------------------------------------------------------------
// The action as the proxy would see it

function actionOf(request: ExplainRequest): Action {
  if (!request.binary.startsWith('/')) throw new ExplainError(`binary ${JSON.stringify(request.binary)} must be an absolute path, such as /usr/bin/curl`);
  for (const ancestor of request.ancestors ?? []) {
    if (!ancestor.startsWith('/')) throw new ExplainError(`ancestor ${JSON.stringify(ancestor)} must be an absolute path`);
  }
  const method = (request.method ?? 'GET').toUpperCase();
  if (!/^[A-Z_]+$/.test(method)) throw new ExplainError(`${JSON.stringify(request.method)} is not an HTTP method`);
  let host: string;
  let port: number;
  let target = request.path;
  let upgrade: string | undefined;
  if (request.url !== undefined) {
    if (request.host !== undefined || request.port !== undefined || request.path !== undefined) {
      throw new ExplainError('give either a URL, or host and port (and path), not both');
    }
    const url = splitUrl(request.url);
    ({ host, port, target } = url);
    if (url.websocket) upgrade = 'websocket';
  } else {
    if (request.host === undefined || request.port === undefined) throw new ExplainError('give a URL, or a host and a port');
    if (!Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
      throw new ExplainError(`port ${String(request.port)} is not a port number (1..65535)`);
    }
    host = hostOf(request.host);
    port = request.port;
    if (target !== undefined && !target.startsWith('/')) throw new ExplainError(`path ${JSON.stringify(target)} must start with "/"`);
  }
  if (target === undefined) return { type: 'connection', layer: 'connect', host, port };
  return { type: 'http_request', layer: 'l7', host, port, method, target, ...(upgrade !== undefined ? { upgrade } : {}) };
}

/**
 * Splits a URL without normalising its path: the proxy receives the bytes a client sends, and
 * `..`, `%2e` or `;` tricks must reach warden's own normalisation as written.
 */
function splitUrl(text: string): { host: string; port: number; target: string; websocket: boolean } {
  const match = /^([a-z]+):\/\/([^/?#]*)([^#]*)/i.exec(text);
  if (!match) throw new ExplainError(`${JSON.stringify(text)} is not a URL; expected something like https://pypi.org/simple/`);
  const scheme = match[1]!.toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (defaultPort === undefined) throw new ExplainError(`scheme ${scheme}: is not proxied: expected http, https, ws or wss`);
  const authority = match[2]!;
  if (authority.includes('@')) throw new ExplainError(`${JSON.stringify(text)}: leave user information out of the URL`);
  const hostPort = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!hostPort) throw new ExplainError(`${JSON.stringify(authority)} is not host or host:port`);
  const port = hostPort[2] === undefined ? defaultPort : Number(hostPort[2]);
  if (port < 1 || port > 65535) throw new ExplainError(`port ${port} is not a port number (1..65535)`);
  const rest = match[3]!;
  return { host: hostOf(hostPort[1]!), port, target: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`, websocket: scheme === 'ws' || scheme === 'wss' };
}

function hostOf(raw: string): string {
  const host = normaliseHost(raw);
  if (host === null) throw new ExplainError(`${JSON.stringify(raw)} is not a host name or IP address`);
  return host;
}

function resolverOf(table: Record<string, string[]>): Resolver {
  const normalised = new Map<string, string[]>();
  for (const [name, addresses] of Object.entries(table)) {
    for (const address of addresses) {
      if (!isIpLiteral(address)) throw new ExplainError(`--resolve ${name}:${address}: ${JSON.stringify(address)} is not an IP address`);
    }
    normalised.set(hostOf(name), addresses);
  }
  return (host) => Promise.resolve(normalised.get(host));
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
// The decision, in words

function describe(policy: Policy, request: ExplainRequest, action: Action, decision: Decision, notes: string[], stages: string[]): Explanation {
  const v = decision.verdict;
  const network = action.type === 'connection' || action.type === 'http_request' ? action : undefined;
  const out: Explanation = {
    verdict: v.verdict,
    code: v.code,
    stage: v.stage,
    ...(v.policy !== undefined ? { policy: v.policy } : {}),
    ...(v.rule !== undefined ? { rule: v.rule } : {}),
    reason: v.reason,
    rule_missing: v.rule_missing,
    hint: v.hint,
    destination: network
      ? { host: network.host, port: network.port, ...(network.type === 'http_request' ? { method: network.method, path: network.target } : {}) }
      : { host: '', port: 0 },
    stages,
    ...(v.audit ? { audit: true } : {}),
    reasons: [v.rule !== undefined && v.verdict === 'allow' ? `${v.reason}: ${v.rule}` : v.reason],
  };
  if (v.policy !== undefined && v.endpoint !== undefined) out.endpoint = describeEndpoint(policy, v.policy, v.endpoint);
  if (!network) return withMissing(out, notes);

  const compiled = new CompiledPolicy(policy.network_policies, policy.network_middlewares);
  const chain = [request.binary, ...(request.ancestors ?? [])];
  const first = decision.network?.matches[0] as CompiledEndpoint | undefined;
  if (first) {
    const binary = matchedBinary(first, chain);
    if (binary) {
      out.binary = binary;
      if (binary.matched !== request.binary) out.reasons.push(`${request.binary} is allowed through its ancestor ${binary.matched}`);
    }
    if (out.endpoint === undefined) out.endpoint = describeEndpoint(policy, first.policy, first.endpoint);
  }
  if (v.code === 'port_not_allowed') {
    const ports = [...new Set(compiled.endpointsFor(network.host).flatMap((c) => [...c.ports]))].sort((a, b) => a - b);
    out.reasons.push(`endpoint ${network.host} is allowed on port${ports.length === 1 ? '' : 's'} ${ports.join(', ')} only`);
  }
  if (v.code === 'binary_not_allowed') {
    const names = [...new Set(compiled.endpointsFor(network.host).filter((c) => c.ports.has(network.port)).map((c) => c.policy))];
    const allowed = [...new Set(names.flatMap((name) => (policy.network_policies[name]?.binaries ?? []).map((b) => b.path)))];
    out.reasons.push(`endpoint ${hostPort(network.host, network.port)} is allowed for ${allowed.join(', ') || 'no binary'} only (network_policies.${names.join(', network_policies.')})`);
    out.reasons.push(`checked: ${chain.join(', ')}${chain.length === 1 ? ' (no ancestors given: an allowed parent such as the agent would also count)' : ''}`);
  }
  if (decision.network?.raw) {
    out.reasons.push(`${hostPort(network.host, network.port)} is a plain tunnel (no inspected protocol): requests inside it are not checked` +
      (network.type === 'http_request' ? `, so ${network.method} ${network.target} is not looked at` : ''));
  } else if (decision.network && network.type === 'connection') {
    out.reasons.push('requests on this endpoint are inspected one by one: give a URL (or --path) to explain a request');
  }
  if (decision.network && !decision.network.raw && cleartextOnly(decision.network.matches)) {
    out.reasons.push('the endpoint says tls: skip: requests are checked in cleartext HTTP only, and a TLS connection through it is refused');
  }
  if (v.audit) out.reasons.push('with enforcement: enforce this request would be denied; it is let through and flagged in the audit log');
  if ((decision.network !== undefined && v.verdict !== 'deny') || v.code === 'ssrf_blocked') {
    const relied = out.binary?.matched ?? request.binary;
    notes.unshift(`binary hashes are not checked here: the proxy also refuses ${relied} if its file differs from the one it first saw in this sandbox (trust on first use)`);
  }
  return withMissing(out, notes);
}

function withMissing(out: Explanation, notes: string[]): Explanation {
  out.reasons.push(...notes);
  if (out.verdict !== 'allow') {
    if (out.rule_missing !== '') out.reasons.push(`missing: ${out.rule_missing}`);
    if (out.hint !== '') out.reasons.push(`to allow it: ${out.hint}`);
  }
  return out;
}

/** The binaries entry the proxy relied on: the first in the caller's chain that the rule lists. */
function matchedBinary(endpoint: CompiledEndpoint, chain: string[]): Explanation['binary'] | undefined {
  for (const exe of chain) {
    const pattern = endpoint.binaries.match(exe);
    if (pattern !== null) return { pattern, matched: exe };
  }
  return undefined;
}

function describeEndpoint(policy: Policy, name: string, endpoint: CompiledEndpoint['endpoint']): ExplainedEndpoint {
  const index = policy.network_policies[name]?.endpoints.indexOf(endpoint) ?? -1;
  const out: ExplainedEndpoint = { at: `network_policies.${name}.endpoints[${index}]`, host: endpointHost(endpoint), ports: [...endpoint.ports] };
  if (endpoint.protocol !== undefined) out.protocol = endpoint.protocol;
  if (endpoint.access !== undefined) out.access = endpoint.access;
  if (endpoint.protocol !== undefined) out.enforcement = endpoint.enforcement ?? 'enforce';
  if (endpoint.allowed_ips !== undefined) out.allowed_ips = [...endpoint.allowed_ips];
  return out;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
