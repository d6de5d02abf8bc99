// Verdicts the proxy builds beyond the connection decision: per-request checks on inspected
// endpoints, Host/SNI disagreements and SSRF refusals, each naming what the policy lacks.

import type { CompiledEndpoint, ConnectionDecision } from './connection.js';
import { type L7EndpointRef, decideL7, endpointsForPath, websocketMessagesAllowed } from './l7.js';
import { endpointHost } from './hosts.js';
import { normaliseTarget, targetToForward } from './urlpath.js';
import type { PolicyVerdict } from './verdict.js';

export interface RequestVerdict extends PolicyVerdict {
  /** Normalised path (no query), when the target could be normalised. */
  path?: string;
  /** What to send upstream when allowed: the normalised path plus the query as received. */
  forwardPath?: string;
}

export interface InspectedRequest {
  method: string;
  pathAndQuery: string;
  /** The Upgrade header's value, for upgrade requests. */
  upgrade?: string | undefined;
}

function inspectedRefs(conn: ConnectionDecision): L7EndpointRef[] {
  const refs: L7EndpointRef[] = [];
  for (const m of conn.matches as CompiledEndpoint[]) {
    if (m.inspect && m.l7) refs.push({ policy: m.policy, endpoint: m.endpoint, l7: m.l7 });
  }
  return refs;
}

/** Check one request on a connection whose endpoints are inspected. */
export function checkInspectedRequest(conn: ConnectionDecision, req: InspectedRequest): RequestVerdict {
  const refs = inspectedRefs(conn);
  const first = refs[0];
  if (!first) throw new Error('checkInspectedRequest needs an inspected endpoint');
  let where = `endpoint ${endpointHost(first.endpoint)} of network_policies.${first.policy}`;
  // allow_encoded_slash is per endpoint (as in OpenShell): a %2F is accepted when every endpoint
  // that decides this path opted in, whatever endpoints selected by other paths say.
  let norm = normaliseTarget(req.pathAndQuery, refs.some((r) => r.endpoint.allow_encoded_slash === true));
  if (norm.ok && norm.path.includes('%2F')) {
    const deciding = endpointsForPath(refs, norm.path);
    const refusing = deciding.find((r) => r.endpoint.allow_encoded_slash !== true);
    if (refusing || deciding.length === 0) {
      if (refusing) where = `endpoint ${endpointHost(refusing.endpoint)} of network_policies.${refusing.policy}`;
      norm = normaliseTarget(req.pathAndQuery, false);
    }
  }
  if (!norm.ok) {
    const slash = norm.reason.includes('%2F');
    return {
      verdict: 'deny',
      code: 'bad_path',
      policy: first.policy,
      reason: norm.reason,
      rule_missing: slash ? `allow_encoded_slash: true on ${where}` : 'a well-formed request path',
      hint: slash
        ? `set allow_encoded_slash: true on ${where} if the API needs encoded slashes`
        : 'paths are normalised before checking; requests that climb above / or use malformed escapes are refused',
    };
  }
  const m = req.method.toUpperCase();
  if (req.upgrade !== undefined && (m !== 'GET' || req.upgrade.trim().toLowerCase() !== 'websocket')) {
    return {
      verdict: 'deny',
      code: 'upgrade_not_allowed',
      policy: first.policy,
      reason: `upgrade to ${req.upgrade} (${m}) is not relayed on inspected endpoints; only WebSocket upgrades are`,
      rule_missing: 'none: only WebSocket upgrades are relayed on inspected endpoints',
      hint: 'a raw protocol after an upgrade would escape request checks; use an endpoint without protocol for it',
      path: norm.path,
    };
  }
  const d = decideL7(refs, { method: m, path: norm.path, query: norm.query });
  const base = { policy: d.policy, endpoint: d.endpoint, reason: d.reason, path: norm.path, ...(d.rule ? { rule: d.rule } : {}) };
  if (d.verdict === 'allow') {
    const ref = refs.find((r) => r.endpoint === d.endpoint);
    // A websocket endpoint carries WebSocket upgrades only: a plain request there is refused (OpenShell).
    if (req.upgrade === undefined && ref?.l7.protocol === 'websocket') {
      return {
        ...base,
        verdict: 'deny',
        code: 'l7_not_allowed',
        reason: `${m} ${norm.path} without "Upgrade: websocket" on a websocket endpoint: such an endpoint carries WebSocket upgrades only`,
        rule_missing: `protocol: rest on ${where} (or another endpoint) for plain HTTP requests`,
        hint: 'send the request as a WebSocket upgrade, or describe the plain HTTP API with protocol: rest',
      };
    }
    // After the upgrade the proxy sees frames, not requests: the upgrade is allowed only where
    // the policy allows the client's messages too, on rest endpoints as on websocket ones.
    if (req.upgrade !== undefined && ref && !websocketMessagesAllowed(ref.l7, norm.path)) {
      const rest = ref.l7.protocol === 'rest';
      return {
        ...base,
        verdict: 'deny',
        code: 'upgrade_not_allowed',
        reason: `a WebSocket on ${norm.path} would carry client messages the policy does not allow (${rest ? `access ${ref.l7.access ?? 'by rules'} on a rest endpoint` : 'no rule for WEBSOCKET_TEXT'})`,
        rule_missing: rest
          ? `access: read-write (or full) on ${where}, or a websocket endpoint`
          : `rules: [{allow: {method: WEBSOCKET_TEXT, path: "${norm.path}"}}] (or access: read-write) on ${where}`,
        hint: 'allow client messages on this path, or the WebSocket cannot be opened through the proxy',
      };
    }
    return { ...base, verdict: 'allow', code: d.code, rule_missing: '', hint: '', forwardPath: targetToForward(norm), ...(d.audit ? { audit: true } : {}) };
  }
  const target = `network_policies.${d.policy}`;
  switch (d.code) {
    case 'l7_deny_rule':
      return { ...base, verdict: 'deny', code: d.code, rule_missing: `nothing: ${d.rule} of ${target} denies this request`, hint: `remove or narrow ${d.rule} in ${target} if ${m} ${norm.path} should be allowed` };
    case 'l7_unsupported':
      return { ...base, verdict: 'deny', code: d.code, rule_missing: `an inspector for protocol ${d.endpoint.protocol}`, hint: `use protocol: rest for HTTP APIs on ${where}, or omit protocol for a plain tunnel` };
    case 'l7_no_rules':
      return { ...base, verdict: 'deny', code: d.code, rule_missing: `access or rules on ${where}`, hint: `add access: read-only | read-write | full, or rules: [{allow: {method: ${m}, path: "${norm.path}"}}] to ${where}` };
    default:
      return {
        ...base,
        verdict: 'deny',
        code: d.code,
        rule_missing: `rules: [{allow: {method: ${m}, path: "${norm.path}"}}] on ${where}`,
        hint: `add {allow: {method: ${m}, path: "${norm.path}"}} (or a glob covering it) to the rules of ${where}`,
      };
  }
}

export function ssrfVerdict(conn: ConnectionDecision, host: string, check: { address: string; reason: string }): PolicyVerdict {
  const where = conn.endpoint ? `endpoint ${endpointHost(conn.endpoint)} of network_policies.${conn.policy}` : 'the endpoint';
  return {
    verdict: 'deny',
    code: 'ssrf_blocked',
    ...(conn.policy ? { policy: conn.policy } : {}),
    reason: `${host} resolves to ${check.address}: ${check.reason}`,
    rule_missing: `allowed_ips: [${check.address}] on ${where}`,
    hint: `if ${host} is meant to reach ${check.address}, add ${check.address} to allowed_ips of ${where}`,
    // The sandbox learns that the destination is refused, not where the name points.
    toSandbox: {
      reason: `${host} resolves to an address the policy does not allow (loopback, private, link-local or not in allowed_ips)`,
      rule_missing: `allowed_ips naming the address ${host} resolves to, on ${where}`,
      hint: "the operator's log (warden logs, stderr of warden run) names the address",
    },
  };
}
