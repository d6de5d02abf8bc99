// Per-request (L7) checks on inspected endpoints: access presets, allow rules and deny rules
// over method, path and query.

import type { L7Match, NetworkEndpoint, QueryMatcher } from './types.js';
import { type GlobOptions, type Matcher, PATH_GLOB, QUERY_ALLOW_GLOB, VALUE_GLOB, compileGlob } from './glob.js';
import { endpointHost } from './hosts.js';
import type { PolicyCode } from './verdict.js';

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);
const READ_WRITE = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
/** The pseudo-method websocket rules use for client text messages. */
const WEBSOCKET_TEXT = 'WEBSOCKET_TEXT';
/** A method no request can have (methods are tokens; a space never appears in one). */
const NO_METHOD = ' none';

/** Whether an `access` preset allows a method (OpenShell's presets). */
function presetAllows(access: NetworkEndpoint['access'], method: string): boolean {
  switch (access) {
    case 'read-only':
      return READ_ONLY.has(method);
    case 'read-write':
      return READ_WRITE.has(method);
    case 'full':
      return true;
    default:
      return false;
  }
}

interface CompiledMatch {
  label: string;
  /** Upper-case method, or null for any. */
  method: string | null;
  path: Matcher | null;
  query: Array<{ key: string; match: Matcher }>;
}

export interface CompiledL7 {
  /** Whether this engine understands the endpoint's protocol (rest, websocket). */
  supported: boolean;
  protocol: string;
  /** The endpoint's `path` selector, when several inspected endpoints share host and port. */
  selector: Matcher | null;
  /** Literal characters before the selector's first wildcard: the more, the more specific. */
  specificity: number;
  access: NetworkEndpoint['access'];
  allow: CompiledMatch[];
  deny: CompiledMatch[];
  audit: boolean;
}

/**
 * In an allow rule a query `*` stops at "." as in OpenShell (`foo-*` does not allow `foo-a.b`);
 * in a deny rule it matches any run of characters, so a deny never covers less than it says.
 */
function compileQueryMatcher(m: QueryMatcher, side: 'allow' | 'deny'): Matcher {
  const options: GlobOptions = side === 'allow' ? QUERY_ALLOW_GLOB : VALUE_GLOB;
  if (typeof m === 'string') return compileGlob(m, options);
  if ('any' in m) {
    const list = m.any.map((g) => compileGlob(g, options));
    return (v) => list.some((f) => f(v));
  }
  return compileGlob(m.glob, options);
}

/**
 * The loader guarantees `method` on rest/websocket rules. Should one be missing anyway, an allow
 * rule matches nothing and a deny rule matches every method: a gap never widens access.
 */
function compileMatch(m: L7Match, label: string, side: 'allow' | 'deny'): CompiledMatch {
  const method = m.method?.trim().toUpperCase();
  return {
    label,
    method: method === undefined ? (side === 'allow' ? NO_METHOD : null) : method === '*' ? null : method,
    path: m.path === undefined || m.path === '' ? null : compileGlob(m.path, PATH_GLOB),
    query: Object.entries(m.query ?? {}).map(([key, q]) => ({ key, match: compileQueryMatcher(q, side) })),
  };
}

/** Matcher keys of the GraphQL and MCP inspectors, which this engine does not evaluate. */
const FOREIGN_KEYS = ['operation_type', 'operation_name', 'fields', 'tool', 'params'] as const;

function usesForeignKeys(m: L7Match): boolean {
  return FOREIGN_KEYS.some((k) => m[k] !== undefined);
}

export function compileL7(endpoint: NetworkEndpoint): CompiledL7 {
  const protocol = endpoint.protocol ?? 'rest';
  // GraphQL-over-WebSocket rules and the like cannot be evaluated here: the endpoint is then
  // treated as uninspectable (its requests are refused), never as if those rules were absent.
  const foreign = (endpoint.rules ?? []).some((r) => usesForeignKeys(r.allow)) || (endpoint.deny_rules ?? []).some(usesForeignKeys);
  const selector = endpoint.path ? compileGlob(endpoint.path, PATH_GLOB) : null;
  const wildcard = endpoint.path ? endpoint.path.search(/[*?]/) : -1;
  return {
    supported: (protocol === 'rest' || protocol === 'websocket') && !foreign,
    protocol,
    selector,
    specificity: endpoint.path ? (wildcard < 0 ? endpoint.path.length + 1 : wildcard) : 0,
    access: endpoint.access,
    allow: (endpoint.rules ?? []).map((r, i) => compileMatch(r.allow, `rules[${i}] ${describeMatch(r.allow)}`, 'allow')),
    deny: (endpoint.deny_rules ?? []).map((r, i) => compileMatch(r, `deny_rules[${i}] ${describeMatch(r)}`, 'deny')),
    audit: endpoint.enforcement === 'audit',
  };
}

function describeMatch(m: L7Match): string {
  const q = m.query ? ` ?${Object.keys(m.query).join('&')}` : '';
  return `${m.method ?? '(no method)'} ${m.path ?? '**'}${q}`;
}

export interface L7Request {
  method: string;
  /** Normalised path (see urlpath.ts). */
  path: string;
  query: Map<string, string[]>;
}

/** A rule's method matches the request's; a GET rule also matches HEAD (as in OpenShell), allow and deny alike. */
function methodMatches(rule: string | null, method: string): boolean {
  return rule === null || rule === method || (method === 'HEAD' && rule === 'GET');
}

/** On the allow side every value of a listed key must match, and the key must be present. */
function allowMatches(m: CompiledMatch, req: L7Request): boolean {
  if (!methodMatches(m.method, req.method)) return false;
  if (m.path && !m.path(req.path)) return false;
  for (const q of m.query) {
    const values = req.query.get(q.key);
    if (!values || values.length === 0 || !values.every(q.match)) return false;
  }
  return true;
}

/**
 * On the deny side one matching value is enough (`?force=true&force=false` still hits a deny
 * on force=true). The path has no `;params` left: normalisation cut them (urlpath.ts).
 */
function denyMatches(m: CompiledMatch, req: L7Request): boolean {
  if (!methodMatches(m.method, req.method)) return false;
  if (m.path && !m.path(req.path)) return false;
  for (const q of m.query) {
    const values = req.query.get(q.key);
    if (!values || !values.some(q.match)) return false;
  }
  return true;
}

export interface L7EndpointRef {
  policy: string;
  endpoint: NetworkEndpoint;
  l7: CompiledL7;
}

export interface L7Decision {
  verdict: 'allow' | 'deny';
  code: PolicyCode;
  policy: string;
  endpoint: NetworkEndpoint;
  rule?: string;
  reason: string;
  audit?: boolean;
}

/**
 * Endpoints with a `path` selector that covers the request win over those without one. As in
 * OpenShell, the rules and deny rules of every covering REST endpoint apply, while the most
 * specific one's enforcement decides whether a denial blocks (`audit` then says whether the
 * covering endpoints are audited); an endpoint of another protocol is authoritative on its path.
 */
/** The endpoints that decide a request on `path` (see selectByPath). */
export function endpointsForPath(refs: readonly L7EndpointRef[], path: string): readonly L7EndpointRef[] {
  return selectByPath(refs, path).refs;
}

function selectByPath(refs: readonly L7EndpointRef[], path: string): { refs: readonly L7EndpointRef[]; audit?: boolean } {
  const covering = refs.filter((r) => r.l7.selector !== null && r.l7.selector(path));
  if (covering.length === 0) return { refs: refs.filter((r) => r.l7.selector === null) };
  const best = Math.max(...covering.map((r) => r.l7.specificity));
  const specific = covering.filter((r) => r.l7.specificity === best);
  if (specific.some((r) => r.l7.protocol !== 'rest')) return { refs: specific };
  const rest = covering.filter((r) => r.l7.protocol === 'rest');
  return { refs: rest, audit: specific.every((r) => r.l7.audit) };
}

function allowingRule(l7: CompiledL7, req: L7Request): string | null {
  if (presetAllows(l7.access, req.method)) return `access ${l7.access}`;
  for (const m of l7.allow) if (allowMatches(m, req)) return m.label;
  return null;
}

/**
 * Decide one request against every inspected endpoint that matched the connection.
 * A deny rule of an enforced endpoint wins over any allow; otherwise one allowing rule is
 * enough; otherwise an `enforcement: audit` endpoint lets the would-be denial through, flagged.
 */
export function decideL7(matched: readonly L7EndpointRef[], req: L7Request): L7Decision {
  let refs = matched;
  const method = req.method.toUpperCase();
  const r: L7Request = method === req.method ? req : { ...req, method };
  const first = refs[0];
  if (!first) throw new Error('decideL7 needs at least one endpoint');

  const { refs: selected, audit: pathAudit } = selectByPath(refs, r.path);
  if (selected.length === 0) {
    return {
      verdict: 'deny',
      code: 'l7_not_allowed',
      policy: first.policy,
      endpoint: first.endpoint,
      reason: `no inspected endpoint for ${endpointHost(first.endpoint)} covers the path ${r.path}`,
    };
  }
  const understood = selected.filter((ref) => ref.l7.supported);
  if (understood.length === 0) {
    const ref = selected[0]!;
    return {
      verdict: 'deny',
      code: 'l7_unsupported',
      policy: ref.policy,
      endpoint: ref.endpoint,
      reason: `requests on protocol ${ref.l7.protocol} endpoints cannot be inspected by this proxy yet, so they are refused`,
    };
  }
  refs = understood;

  const outcomes = refs.map((ref) => {
    const denyHit = ref.l7.deny.find((m) => denyMatches(m, r))?.label ?? null;
    const allowHit = denyHit ? null : allowingRule(ref.l7, r);
    return { ref, denyHit, allowHit, audit: pathAudit ?? ref.l7.audit };
  });

  const enforcedDeny = outcomes.find((o) => o.denyHit && !o.audit);
  if (enforcedDeny) {
    const { ref, denyHit } = enforcedDeny;
    return {
      verdict: 'deny',
      code: 'l7_deny_rule',
      policy: ref.policy,
      endpoint: ref.endpoint,
      rule: denyHit!,
      reason: `${method} ${r.path} matches ${denyHit} of policy ${ref.policy}`,
    };
  }

  const allowed = outcomes.find((o) => o.allowHit);
  if (allowed) {
    const { ref, allowHit } = allowed;
    return { verdict: 'allow', code: 'allowed', policy: ref.policy, endpoint: ref.endpoint, rule: allowHit!, reason: `allowed by ${allowHit} of policy ${ref.policy}` };
  }

  const audited = outcomes.find((o) => o.audit);
  if (audited) {
    const { ref, denyHit } = audited;
    const why = denyHit ? `matches ${denyHit}` : 'matches no allow rule';
    return {
      verdict: 'allow',
      code: 'audit',
      policy: ref.policy,
      endpoint: ref.endpoint,
      ...(denyHit ? { rule: denyHit } : {}),
      reason: `${method} ${r.path} ${why} of policy ${ref.policy}; let through because the endpoint has enforcement: audit`,
      audit: true,
    };
  }

  const noRules = refs.every((ref) => !ref.l7.access && ref.l7.allow.length === 0);
  return {
    verdict: 'deny',
    code: noRules ? 'l7_no_rules' : 'l7_not_allowed',
    policy: first.policy,
    endpoint: first.endpoint,
    reason: noRules
      ? `endpoint ${endpointHost(first.endpoint)} of policy ${first.policy} inspects requests but lists no access or rules`
      : `no rule of policy ${first.policy} allows ${method} ${r.path}`,
  };
}

/**
 * Whether a websocket endpoint lets the client send messages on `path`. The proxy relays frames
 * after the upgrade without reading them, so an upgrade is only allowed where the policy would
 * allow the client's messages anyway: `access: read-write` or `full`, or an allow rule for
 * WEBSOCKET_TEXT (or `*`), and no deny rule aimed at messages.
 */
export function websocketMessagesAllowed(l7: CompiledL7, path: string): boolean {
  const aimsAtMessages = (m: CompiledMatch): boolean => (m.method === null || m.method === WEBSOCKET_TEXT) && (!m.path || m.path(path));
  if (l7.deny.some((m) => m.method === WEBSOCKET_TEXT && (!m.path || m.path(path)))) return false;
  if (l7.access === 'read-write' || l7.access === 'full') return true;
  return l7.allow.some(aimsAtMessages);
}
