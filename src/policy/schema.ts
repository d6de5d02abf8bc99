// The schema of warden policy files: OpenShell's `version: 1` sandbox policy as published,
// warden's own `governance:` section, and preset files (a `preset:` header plus
// network_policies). Every object is closed: an unknown key is an error, never ignored, so a
// typo cannot silently drop a restriction.
//
// Messages follow one convention that load.ts relies on: a message starting with "expected"
// describes what was expected, and the loader appends what it found.

import { z } from 'zod';
import { allowedIpProblem, isIpLiteral } from './addresses.js';
import { HostIndex, normaliseEndpointHost } from './hosts.js';
import { PROTECTED_WORKDIR_FILES } from './workdir-files.js';
import { durationMs, parseSize } from './sizes.js';
import {
  type GovernancePolicy, type InferencePolicy, type L7Match, type L7Rule, type LandlockPolicy, type NetworkBinary, type NetworkEndpoint,
  type NetworkMiddleware, type NetworkPolicy, type PresetHeader, type ProcessPolicy, type QueryMatcher, type ResourceLimitsPolicy,
  type WorkdirFilesPolicy,
} from './types.js';

/** The file as written, after validation and normalisation; defaults are filled in by load.ts. */
export interface PolicyFile {
  version: 1;
  filesystem_policy?: { include_workdir?: boolean; read_only?: string[]; read_write?: string[] };
  landlock?: LandlockPolicy;
  process?: ProcessPolicy;
  network_policies?: Record<string, NetworkPolicy>;
  network_middlewares?: Record<string, NetworkMiddleware>;
  inference?: InferencePolicy;
  governance?: GovernancePolicy;
  limits?: ResourceLimitsPolicy;
  workdir_files?: WorkdirFilesPolicy;
}

export interface PresetFile {
  preset: PresetHeader;
  version?: 1;
  network_policies: Record<string, NetworkPolicy>;
}

// ---------------------------------------------------------------------------------------------
// Closed mappings, and how load.ts learns which keys were allowed where a stray one was found.

const UNKNOWN_KEYS_MARK = 'unknown keys; allowed: ';

/** For an `unrecognized_keys` issue made by this schema: the keys allowed at that level. */
export function allowedKeysOf(message: string): string[] | undefined {
  if (!message.startsWith(UNKNOWN_KEYS_MARK)) return undefined;
  const list = message.slice(UNKNOWN_KEYS_MARK.length);
  return list === '' ? [] : list.split(',');
}

function mapping<S extends z.core.$ZodLooseShape>(shape: S, expected = 'expected a mapping') {
  const allowed = Object.keys(shape).join(',');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? UNKNOWN_KEYS_MARK + allowed : expected),
  });
}

function listOf<T extends z.ZodType>(element: T, what = 'a list') {
  return z.array(element, { error: `expected ${what}` });
}

function mapOf<T extends z.ZodType>(value: T) {
  return z.record(z.string().min(1, { error: 'expected a non-empty key' }), value, { error: 'expected a mapping' });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}

const text = z.string({ error: 'expected a string' });
const nonEmptyText = text.min(1, { error: 'expected a non-empty string' });
const flag = z.boolean({ error: 'expected true or false' });

function integer(min: number, max: number, expected = `expected an integer ${min}..${max}`) {
  return z.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

type RefineCtx = z.core.$RefinementCtx<unknown>;

/** A refinement on a mapping that runs even when some of its fields failed, to collect all issues. */
function always<T>(check: (value: Record<string, unknown>, ctx: RefineCtx) => void) {
  return z.superRefine<T>((value, ctx) => {
    if (isRecord(value)) check(value, ctx as RefineCtx);
  }, { when: () => true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `at: 'key'` makes the loader point at the key rather than at its value. */
function issue(ctx: RefineCtx, path: PropertyKey[], message: string, at: 'key' | 'value' = 'value'): void {
  ctx.addIssue({ code: 'custom', message, path, params: { at } });
}

// ---------------------------------------------------------------------------------------------
// Hosts and addresses (the rules themselves live in hosts.ts)

const hostPattern = z.string({ error: 'expected a host name' }).transform((raw, ctx) => {
  const result = normaliseEndpointHost(raw);
  if ('error' in result) {
    ctx.issues.push({ code: 'custom', message: result.error, input: raw });
    return z.NEVER;
  }
  return result.host;
});

const allowedIp = text.superRefine((entry, ctx) => {
  const problem = allowedIpProblem(entry);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}).transform((entry) => entry.toLowerCase());

// ---------------------------------------------------------------------------------------------
// Paths

const MAX_PATH_LENGTH = 4096;
const MAX_FILESYSTEM_PATHS = 256;

function pathProblem(raw: string): string | undefined {
  if (!raw.startsWith('/')) return 'expected an absolute path (starting with "/")';
  if (raw.includes('\0')) return 'expected a path without NUL characters';
  if (raw.length > MAX_PATH_LENGTH) return `expected a path of at most ${MAX_PATH_LENGTH} characters`;
  if (raw.split('/').includes('..')) return 'a path must not contain ".." segments';
  return undefined;
}

/** Collapses repeated slashes, drops "." segments and a trailing slash. */
function normalisePath(raw: string): string {
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  return '/' + segments.join('/');
}

/** A file on the host warden reads (an endpoint's upstream_ca), kept as written. */
const hostFilePath = text.superRefine((raw, ctx) => {
  const problem = pathProblem(raw);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const filesystemPath = text.superRefine((raw, ctx) => {
  const problem = pathProblem(raw);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
  } else if (normalisePath(raw) === '/') {
    ctx.addIssue({ code: 'custom', message: 'the whole host filesystem ("/") is too broad: list the directories the sandbox needs' });
  }
}).transform(normalisePath);

const binaryPath = text.superRefine((raw, ctx) => {
  const problem = pathProblem(raw);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

// ---------------------------------------------------------------------------------------------
// Static sections

const filesystemSchema = mapping({
  include_workdir: flag.optional(),
  read_only: listOf(filesystemPath, 'a list of absolute paths').optional(),
  read_write: listOf(filesystemPath, 'a list of absolute paths').optional(),
}).check(always((fs, ctx) => {
  const readOnly = Array.isArray(fs.read_only) ? fs.read_only : [];
  const readWrite = Array.isArray(fs.read_write) ? fs.read_write : [];
  if (readOnly.length + readWrite.length > MAX_FILESYSTEM_PATHS) {
    issue(ctx, [], `expected at most ${MAX_FILESYSTEM_PATHS} paths in read_only and read_write together`);
  }
  const readOnlySet = new Set(readOnly.filter((p): p is string => typeof p === 'string').map(normalisePath));
  readWrite.forEach((p, i) => {
    if (typeof p === 'string' && readOnlySet.has(normalisePath(p))) {
      issue(ctx, ['read_write', i], `"${p}" is listed in both read_only and read_write: keep it in one list`);
    }
  });
}));

const landlockSchema = mapping({
  compatibility: oneOf(['best_effort', 'hard_requirement']).optional(),
});

const MAX_ID = 4294967294;
const ID_EXPECTED = `expected "sandbox" or a numeric id 1..${MAX_ID}`;

function identity(kind: 'uid' | 'gid') {
  return z.unknown().transform((raw, ctx) => {
    const refuse = (message: string) => {
      ctx.issues.push({ code: 'custom', message, input: raw });
      return z.NEVER;
    };
    const rootMessage = `${kind} 0 is refused: sandboxes never run as root`;
    if (typeof raw === 'number') {
      if (raw === 0) return refuse(rootMessage);
      if (!Number.isInteger(raw) || raw < 1 || raw > MAX_ID) return refuse(ID_EXPECTED);
      return String(raw);
    }
    if (typeof raw !== 'string') return refuse(ID_EXPECTED);
    if (raw === 'root' || /^0+$/.test(raw)) return refuse(rootMessage);
    if (raw === 'sandbox') return raw;
    if (/^\d+$/.test(raw) && Number(raw) <= MAX_ID) return String(Number(raw));
    return refuse(ID_EXPECTED);
  });
}

const processSchema = mapping({
  run_as_user: identity('uid').optional(),
  run_as_group: identity('gid').optional(),
});

// ---------------------------------------------------------------------------------------------
// Network policies

const INSPECTED = ['rest', 'websocket', 'graphql', 'mcp', 'json-rpc'] as const;
const PROTOCOLS = [...INSPECTED, 'tcp'] as const;
const MCP_VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;

function isQueryMatcher(value: unknown): value is QueryMatcher {
  if (typeof value === 'string') return true;
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  if (keys[0] === 'glob') return typeof value.glob === 'string';
  if (keys[0] === 'any') {
    return Array.isArray(value.any) && value.any.length > 0 && value.any.every((v) => typeof v === 'string');
  }
  return false;
}

const queryMatcher = z.custom<QueryMatcher>(isQueryMatcher, {
  error: 'expected a glob string, { any: [globs] } or { glob: glob }',
  abort: false,
});
const queryMap = z.record(z.string(), queryMatcher, { error: 'expected a mapping of parameter names to matchers' });
const toolMatcher = z.custom<string | { any: string[] }>(
  (value) => typeof value === 'string' || (isQueryMatcher(value) && isRecord(value) && 'any' in value),
  { error: 'expected a tool-name glob or { any: [globs] }', abort: false },
);

const matcherSchema = mapping({
  method: nonEmptyText.optional(),
  path: nonEmptyText.optional(),
  query: queryMap.optional(),
  operation_type: oneOf(['query', 'mutation', 'subscription', '*']).optional(),
  operation_name: nonEmptyText.optional(),
  fields: listOf(nonEmptyText, 'a list of field globs').optional(),
  tool: toolMatcher.optional(),
  params: queryMap.optional(),
});

const ruleSchema = mapping({ allow: matcherSchema }, 'expected a mapping such as { allow: { method: GET, path: "/**" } }');

const persistedQuerySchema = mapping({
  operation_type: oneOf(['query', 'mutation', 'subscription']),
  operation_name: nonEmptyText.optional(),
  fields: listOf(nonEmptyText, 'a list of field names').optional(),
});

const bodyLimit = integer(1, 64 * 1024 * 1024, 'expected a positive integer number of bytes');

const endpointShape = {
  host: hostPattern.optional(),
  port: integer(1, 65535).optional(),
  ports: listOf(integer(1, 65535), 'a list of ports').min(1, { error: 'expected at least one port' }).optional(),
  path: nonEmptyText.optional(),
  allowed_ips: listOf(allowedIp, 'a list of IP addresses or CIDR blocks').min(1, { error: 'expected at least one address' }).optional(),
  protocol: oneOf(PROTOCOLS).optional(),
  tls: oneOf(['skip', 'terminate', 'none', 'passthrough']).optional(),
  enforcement: oneOf(['enforce', 'audit']).optional(),
  access: oneOf(['read-only', 'read-write', 'full']).optional(),
  rules: listOf(ruleSchema, 'a list of { allow: ... } rules').optional(),
  deny_rules: listOf(matcherSchema, 'a list of deny matchers').optional(),
  allow_encoded_slash: flag.optional(),
  credential_binding: mapping({ provider: nonEmptyText }).optional(),
  request_body_credential_rewrite: flag.optional(),
  websocket_credential_rewrite: flag.optional(),
  allow_uninspected_credentials: flag.optional(),
  credential_signing: oneOf(['sigv4', 'sigv4:body', 'sigv4:no_body']).optional(),
  signing_service: nonEmptyText.optional(),
  signing_region: nonEmptyText.optional(),
  persisted_queries: oneOf(['deny', 'allow_registered']).optional(),
  graphql_persisted_queries: mapOf(persistedQuerySchema).optional(),
  graphql_max_body_bytes: bodyLimit.optional(),
  mcp: mapping({
    versions: listOf(oneOf(MCP_VERSIONS), 'a list of MCP revisions').min(1, { error: 'expected at least one MCP revision' }).optional(),
    max_body_bytes: bodyLimit.optional(),
    strict_tool_names: flag.optional(),
    allow_all_known_mcp_methods: flag.optional(),
  }).optional(),
  json_rpc: mapping({ max_body_bytes: bodyLimit.optional() }).optional(),
  upstream_ca: hostFilePath.optional(),
};

type Protocol = (typeof PROTOCOLS)[number];

/** Fields that make no sense on a native TCP stream, which is never inspected. */
const REQUEST_LEVEL_FIELDS = [
  'path', 'enforcement', 'access', 'rules', 'deny_rules', 'allow_encoded_slash', 'request_body_credential_rewrite',
  'websocket_credential_rewrite', 'credential_signing', 'signing_service', 'signing_region', 'persisted_queries',
  'graphql_persisted_queries', 'graphql_max_body_bytes', 'mcp', 'json_rpc',
] as const;

function checkEndpoint(endpoint: Record<string, unknown>, ctx: RefineCtx): void {
  const has = (key: string) => endpoint[key] !== undefined;
  const protocol = typeof endpoint.protocol === 'string' ? (endpoint.protocol as Protocol) : undefined;

  if (!has('host') && !has('allowed_ips')) {
    issue(ctx, ['host'], 'expected a host name, or allowed_ips for an endpoint that covers any destination inside them');
  }
  if (has('port') && has('ports')) issue(ctx, ['ports'], 'give either "port" or "ports", not both', 'key');
  if (!has('port') && !has('ports')) {
    issue(ctx, [], 'expected "port" or "ports": every endpoint needs at least one port');
  }
  if (has('access') && has('rules')) {
    issue(ctx, ['rules'], '"access" and "rules" cannot be combined: use one or the other', 'key');
  }
  if (Array.isArray(endpoint.rules) && endpoint.rules.length === 0) {
    issue(ctx, ['rules'], 'an empty rules list allows nothing: remove it, or use "access"');
  }
  if (Array.isArray(endpoint.deny_rules) && endpoint.deny_rules.length === 0) {
    issue(ctx, ['deny_rules'], 'an empty deny_rules list does nothing: remove it');
  }
  if (has('path') && typeof endpoint.path === 'string' && !endpoint.path.startsWith('/')) {
    issue(ctx, ['path'], 'expected a path glob starting with "/"');
  }

  checkUpstreamCa(endpoint, protocol, ctx);
  if (protocol === undefined) checkTunnelEndpoint(endpoint, ctx);
  else if (protocol === 'tcp') checkTcpEndpoint(endpoint, ctx);
  else checkInspectedEndpoint(endpoint, protocol, ctx);

  checkProtocolOptions(endpoint, protocol, ctx);
  checkCredentialFields(endpoint, protocol, ctx);
  checkRules(endpoint, protocol, ctx);
}

/**
 * warden only. The CA that vouches for the server of an inspected endpoint, where warden itself
 * makes the TLS connection; a tunnel's TLS (and a cleartext endpoint) is not warden's to verify.
 */
function checkUpstreamCa(endpoint: Record<string, unknown>, protocol: Protocol | undefined, ctx: RefineCtx): void {
  if (endpoint.upstream_ca === undefined) return;
  const inspected = protocol !== undefined && protocol !== 'tcp';
  if (!inspected) {
    issue(ctx, ['upstream_ca'], '"upstream_ca" needs an inspected endpoint (protocol rest, websocket, ...): on a tunnel the TLS connection is the client\'s own, not warden\'s', 'key');
  } else if (endpoint.tls === 'skip') {
    issue(ctx, ['upstream_ca'], '"upstream_ca" cannot be combined with tls "skip": warden then speaks cleartext HTTP to the server', 'key');
  }
}

function checkTunnelEndpoint(endpoint: Record<string, unknown>, ctx: RefineCtx): void {
  // Without a protocol the connection is a plain tunnel. `rules` there load with OpenShell's meaning
  // (not applied) and a warning naming the endpoint (keys.ts); toEndpoint drops them. deny_rules are
  // refused, as OpenShell refuses them; so is an access preset other than full: `policy update
  // --add-endpoint h:p:read-only` without a protocol would otherwise quietly give a whole tunnel.
  const why = 'cannot filter requests without an inspected protocol (rest, websocket, graphql, mcp or json-rpc): without "protocol" the connection is a plain tunnel';
  if (endpoint.access !== undefined && endpoint.access !== 'full') issue(ctx, ['access'], `access "${String(endpoint.access)}" ${why}`);
  if (endpoint.deny_rules !== undefined) issue(ctx, ['deny_rules'], `"deny_rules" ${why}`, 'key');
}

function checkTcpEndpoint(endpoint: Record<string, unknown>, ctx: RefineCtx): void {
  for (const key of REQUEST_LEVEL_FIELDS) {
    if (endpoint[key] !== undefined) issue(ctx, [key], `"${key}" is not valid with protocol tcp: a native TCP stream is not inspected`, 'key');
  }
  if (typeof endpoint.host === 'string' && isIpLiteral(endpoint.host)) {
    issue(ctx, ['host'], 'protocol tcp needs a DNS host name, not an IP address');
  }
  if (endpoint.tls !== undefined) issue(ctx, ['tls'], '"tls" is not valid with protocol tcp: the stream is passed through as is', 'key');
}

function checkInspectedEndpoint(endpoint: Record<string, unknown>, protocol: Protocol, ctx: RefineCtx): void {
  if (endpoint.tls === 'skip' && protocol !== 'rest' && protocol !== 'websocket') {
    issue(ctx, ['tls'], `tls "skip" cannot be combined with protocol ${protocol}: requests inside an uninspected TLS tunnel cannot be checked, so the rules would not be enforced`);
  }
  if ((protocol === 'mcp' || protocol === 'json-rpc') && endpoint.access !== undefined) {
    issue(ctx, ['access'], `"access" presets are not valid with protocol ${protocol}: list the allowed methods in "rules"`, 'key');
  }
  const allowAllMcp = isRecord(endpoint.mcp) && endpoint.mcp.allow_all_known_mcp_methods === true;
  if (protocol === 'json-rpc' && endpoint.rules === undefined) {
    issue(ctx, [], 'protocol json-rpc needs "rules" naming the allowed methods');
  }
  if (protocol === 'mcp' && endpoint.rules === undefined && !allowAllMcp) {
    issue(ctx, [], 'protocol mcp needs "rules", or mcp.allow_all_known_mcp_methods: true');
  }
  const hasBase = endpoint.rules !== undefined || endpoint.access !== undefined || (protocol === 'mcp' && allowAllMcp);
  if (endpoint.deny_rules !== undefined && !hasBase) {
    issue(ctx, ['deny_rules'], 'deny_rules need "rules" or "access" to deny from', 'key');
  }
}

function checkProtocolOptions(endpoint: Record<string, unknown>, protocol: Protocol | undefined, ctx: RefineCtx): void {
  if (endpoint.mcp !== undefined && protocol !== 'mcp') issue(ctx, ['mcp'], '"mcp" options are valid only with protocol mcp', 'key');
  if (endpoint.json_rpc !== undefined && protocol !== 'json-rpc') {
    issue(ctx, ['json_rpc'], '"json_rpc" options are valid only with protocol json-rpc', 'key');
  }
  for (const key of ['persisted_queries', 'graphql_persisted_queries', 'graphql_max_body_bytes'] as const) {
    if (endpoint[key] !== undefined && protocol !== 'graphql' && protocol !== 'websocket' && protocol !== 'tcp') {
      issue(ctx, [key], `"${key}" is valid only with protocol graphql or websocket`, 'key');
    }
  }
  if (endpoint.persisted_queries === 'allow_registered' && endpoint.graphql_persisted_queries === undefined) {
    issue(ctx, ['persisted_queries'], 'persisted_queries "allow_registered" needs a graphql_persisted_queries registry');
  }
  if (isRecord(endpoint.mcp) && Array.isArray(endpoint.mcp.versions)) {
    const seen = new Set<unknown>();
    endpoint.mcp.versions.forEach((version, i) => {
      if (seen.has(version)) issue(ctx, ['mcp', 'versions', i], `MCP revision "${String(version)}" is listed twice`);
      seen.add(version);
    });
  }
}

function checkCredentialFields(endpoint: Record<string, unknown>, protocol: Protocol | undefined, ctx: RefineCtx): void {
  if (endpoint.credential_signing !== undefined && endpoint.request_body_credential_rewrite !== undefined) {
    issue(ctx, ['request_body_credential_rewrite'], '"request_body_credential_rewrite" cannot be combined with "credential_signing"', 'key');
  }
  if (endpoint.credential_signing !== undefined && endpoint.signing_service === undefined) {
    issue(ctx, [], 'credential_signing needs "signing_service" (such as bedrock or s3)');
  }
  for (const key of ['signing_service', 'signing_region'] as const) {
    if (endpoint[key] !== undefined && endpoint.credential_signing === undefined) {
      issue(ctx, [key], `"${key}" is valid only with "credential_signing"`, 'key');
    }
  }
  if (endpoint.request_body_credential_rewrite !== undefined && protocol !== 'rest' && protocol !== 'tcp') {
    issue(ctx, ['request_body_credential_rewrite'], '"request_body_credential_rewrite" is valid only with protocol rest', 'key');
  }
  if (endpoint.websocket_credential_rewrite !== undefined && protocol !== 'rest' && protocol !== 'websocket' && protocol !== 'tcp') {
    issue(ctx, ['websocket_credential_rewrite'], '"websocket_credential_rewrite" is valid only with protocol rest or websocket', 'key');
  }
}

// ---------------------------------------------------------------------------------------------
// Request rules, per protocol

const HTTP_FIELDS = ['method', 'path', 'query'] as const;
const GRAPHQL_FIELDS = ['operation_type', 'operation_name', 'fields'] as const;
const MCP_FIELDS = ['tool', 'params'] as const;
const HTTP_METHOD = /^[A-Za-z_]+$/;

function checkRules(endpoint: Record<string, unknown>, protocol: Protocol | undefined, ctx: RefineCtx): void {
  if (protocol === undefined || protocol === 'tcp') return;
  if (protocol === 'websocket' && Array.isArray(endpoint.rules)) {
    // GraphQL over WebSocket reads each client message as an operation: a raw-text rule next to
    // GraphQL rules would let any text through (OpenShell refuses the mix too).
    const allows = endpoint.rules.map((rule) => (isRecord(rule) && isRecord(rule.allow) ? rule.allow : {}));
    if (allows.some((allow) => GRAPHQL_FIELDS.some((key) => allow[key] !== undefined))) {
      allows.forEach((allow, i) => {
        if (typeof allow.method === 'string' && allow.method.toUpperCase() === 'WEBSOCKET_TEXT') {
          issue(ctx, ['rules', i, 'allow', 'method'], 'a WEBSOCKET_TEXT rule cannot sit next to GraphQL rules: on a GraphQL-over-WebSocket endpoint every client message is checked as an operation');
        }
      });
    }
  }
  const allowAllMcp = isRecord(endpoint.mcp) && endpoint.mcp.allow_all_known_mcp_methods === true;
  const visit = (matcher: unknown, path: PropertyKey[]) => {
    if (isRecord(matcher)) checkMatcher(matcher, protocol, allowAllMcp, path, ctx);
  };
  if (Array.isArray(endpoint.rules)) {
    endpoint.rules.forEach((rule, i) => isRecord(rule) && visit(rule.allow, ['rules', i, 'allow']));
  }
  if (Array.isArray(endpoint.deny_rules)) endpoint.deny_rules.forEach((matcher, i) => visit(matcher, ['deny_rules', i]));
}

function checkMatcher(
  matcher: Record<string, unknown>, protocol: Protocol, allowAllMcp: boolean, at: PropertyKey[], ctx: RefineCtx,
): void {
  const present = (keys: readonly string[]) => keys.filter((key) => matcher[key] !== undefined);
  const refuse = (keys: readonly string[], why: string) => {
    for (const key of present(keys)) issue(ctx, [...at, key], `"${key}" ${why}`, 'key');
  };
  const require = (key: string, why: string) => {
    if (matcher[key] === undefined) issue(ctx, at, `missing "${key}": ${why}`);
  };
  switch (protocol) {
    case 'rest':
      refuse([...GRAPHQL_FIELDS, ...MCP_FIELDS], 'is not a rest matcher field (method, path, query)');
      require('method', 'a rest rule names an HTTP method or "*"');
      require('path', 'a rest rule names a path glob such as "/**"');
      checkHttpMethod(matcher.method, [...at, 'method'], ctx);
      checkRequestPath(matcher.path, [...at, 'path'], ctx);
      break;
    case 'websocket':
      refuse(MCP_FIELDS, 'is not a websocket matcher field');
      if (present(GRAPHQL_FIELDS).length > 0) {
        refuse(HTTP_FIELDS, 'cannot be mixed with GraphQL fields (operation_type, operation_name, fields) in one rule');
        require('operation_type', 'a GraphQL-over-WebSocket rule names query, mutation, subscription or "*"');
        break;
      }
      require('method', 'a websocket rule names GET (the upgrade), WEBSOCKET_TEXT (client messages) or "*"');
      require('path', 'a websocket rule names a path glob such as "/**"');
      if (typeof matcher.method === 'string' && !['GET', 'WEBSOCKET_TEXT', '*'].includes(matcher.method.toUpperCase())) {
        issue(ctx, [...at, 'method'], 'expected GET, WEBSOCKET_TEXT or "*" for a websocket rule');
      }
      checkRequestPath(matcher.path, [...at, 'path'], ctx);
      break;
    case 'graphql':
      refuse([...HTTP_FIELDS, ...MCP_FIELDS], 'is not a graphql matcher field (operation_type, operation_name, fields)');
      require('operation_type', 'a graphql rule names query, mutation, subscription or "*"');
      break;
    case 'mcp':
      refuse([...HTTP_FIELDS.filter((key) => key !== 'method'), ...GRAPHQL_FIELDS], 'is not an mcp matcher field (method, tool, params)');
      if (!allowAllMcp) require('method', 'an mcp rule names an MCP method such as tools/call');
      checkMcpMethod(matcher, [...at], ctx);
      break;
    case 'json-rpc':
      refuse([...HTTP_FIELDS.filter((key) => key !== 'method'), ...GRAPHQL_FIELDS, ...MCP_FIELDS], 'is not a json-rpc matcher field (method)');
      require('method', 'a json-rpc rule names a method, or "*" for all');
      if (typeof matcher.method === 'string' && matcher.method !== '*' && /[*?[\]]/.test(matcher.method)) {
        issue(ctx, [...at, 'method'], 'expected an exact JSON-RPC method name or "*" (other globs are not supported)');
      }
      break;
  }
}

function checkHttpMethod(method: unknown, at: PropertyKey[], ctx: RefineCtx): void {
  if (typeof method === 'string' && method !== '*' && !HTTP_METHOD.test(method)) {
    issue(ctx, at, 'expected an HTTP method such as GET or POST, or "*"');
  }
}

function checkRequestPath(path: unknown, at: PropertyKey[], ctx: RefineCtx): void {
  if (typeof path === 'string' && !path.startsWith('/') && path !== '*' && path !== '**') {
    issue(ctx, at, 'expected a path glob starting with "/"');
  }
}

function checkMcpMethod(matcher: Record<string, unknown>, at: PropertyKey[], ctx: RefineCtx): void {
  const method = matcher.method;
  if (typeof method === 'string') {
    if (method === '*') issue(ctx, [...at, 'method'], 'method "*" is not allowed for mcp: name the methods, or set mcp.allow_all_known_mcp_methods');
    else if (/[*?[\]]/.test(method) && !method.startsWith('tools/')) {
      issue(ctx, [...at, 'method'], 'MCP method globs are allowed only in the tools/ family, such as "tools/*"');
    }
  }
  const scopesTools = matcher.tool !== undefined || (isRecord(matcher.params) && matcher.params.name !== undefined);
  if (scopesTools && method !== undefined && method !== 'tools/call') {
    issue(ctx, [...at, 'tool'], 'a tool selector needs method "tools/call"', 'key');
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation of an endpoint once it is valid

type EndpointInput = z.output<z.ZodObject<typeof endpointShape>>;

function toEndpoint(input: EndpointInput): NetworkEndpoint {
  const { port, ports, rules, deny_rules, tls, ...rest } = input;
  const endpoint: NetworkEndpoint = { ...rest, ports: [...new Set(ports ?? (port === undefined ? [] : [port]))] };
  // `none` and `passthrough` mean automatic (the default); a warning says so (keys.ts).
  if (tls === 'skip' || tls === 'terminate') endpoint.tls = tls;
  if (input.protocol === undefined) {
    // A tunnel: rules and deny_rules are not applied (a warning names the endpoint), so none is kept.
    return endpoint;
  }
  const http = input.protocol === 'rest' || input.protocol === 'websocket';
  const normalise = (matcher: L7Match): L7Match =>
    http && matcher.method !== undefined ? { ...matcher, method: matcher.method.toUpperCase() } : matcher;
  if (rules !== undefined) endpoint.rules = rules.map((rule): L7Rule => ({ allow: normalise(rule.allow) }));
  if (deny_rules !== undefined) endpoint.deny_rules = deny_rules.map(normalise);
  return endpoint;
}

const endpointSchema = mapping(endpointShape).check(always(checkEndpoint)).transform(toEndpoint);

const binarySchema = mapping({ path: binaryPath }, 'expected a mapping such as { path: /usr/bin/curl }');

const networkPolicySchema = mapping({
  name: text.optional(),
  endpoints: listOf(endpointSchema, 'a list of endpoints').optional(),
  binaries: listOf(binarySchema, 'a list of { path: ... } binaries').optional(),
}).transform((policy): NetworkPolicy => {
  const { endpoints, binaries, ...rest } = policy;
  return { ...rest, endpoints: endpoints ?? [], binaries: (binaries ?? []) as NetworkBinary[] };
});

const networkPoliciesSchema = mapOf(networkPolicySchema);

// ---------------------------------------------------------------------------------------------
// Middleware (OpenShell `network_middlewares`)

const MAX_MIDDLEWARES = 10;
const MAX_MIDDLEWARE_SELECTORS = 32;

const middlewareSchema = mapping({
  name: text.optional(),
  middleware: nonEmptyText,
  order: integer(-2147483648, 2147483647, 'expected an integer').optional(),
  config: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).optional(),
  on_error: oneOf(['fail_closed', 'fail_open']).optional(),
  endpoints: mapping({
    include: listOf(hostPattern, 'a list of host patterns').min(1, { error: 'expected at least one host pattern' }),
    exclude: listOf(hostPattern, 'a list of host patterns').optional(),
  }).check(always((selector, ctx) => {
    const count = (Array.isArray(selector.include) ? selector.include.length : 0)
      + (Array.isArray(selector.exclude) ? selector.exclude.length : 0);
    if (count > MAX_MIDDLEWARE_SELECTORS) issue(ctx, [], `expected at most ${MAX_MIDDLEWARE_SELECTORS} include and exclude patterns together`);
  })),
});

const middlewaresSchema = mapOf(middlewareSchema).check(always((middlewares, ctx) => {
  const names = Object.keys(middlewares);
  if (names.length > MAX_MIDDLEWARES) issue(ctx, [], `expected at most ${MAX_MIDDLEWARES} middleware entries`);
  const orders = new Map<number, string>();
  for (const name of names) {
    const entry = middlewares[name];
    if (!isRecord(entry)) continue;
    const order = entry.order === undefined ? 0 : entry.order;
    if (typeof order !== 'number') continue;
    const other = orders.get(order);
    if (other === undefined) orders.set(order, name);
    else issue(ctx, entry.order === undefined ? [name] : [name, 'order'], `order ${order} is already used by "${other}": middleware orders must be unique`);
  }
}));

// ---------------------------------------------------------------------------------------------
// warden's own governance section

const DURATION_EXPECTED = 'expected a duration such as "45s", "10m", "1h" or "1h30m"';
const duration = z.string({ error: DURATION_EXPECTED }).superRefine((value, ctx) => {
  if (durationMs(value) === undefined) ctx.addIssue({ code: 'custom', message: DURATION_EXPECTED });
});

const count = integer(1, 1_000_000, 'expected a positive integer');
const score = integer(0, 1000);
const names = listOf(nonEmptyText, 'a list of names');

const exactHost = hostPattern.superRefine((host, ctx) => {
  if (host.includes('*')) ctx.addIssue({ code: 'custom', message: 'expected an exact host name (no wildcards)' });
});

const inferenceSchema = mapping({
  allowed_routes: names.optional(),
  reroute: listOf(exactHost, 'a list of host names').optional(),
  models: names.optional(),
  token_budget: integer(1, 1e15, 'expected a positive integer number of tokens').optional(),
  server_tools: z.boolean({ error: 'expected true or false' }).optional(),
});

const governanceSchema = mapping({
  proposals: mapping({
    allow: z.boolean({ error: 'expected true or false' }),
    max_pending: integer(1, 100, 'expected an integer from 1 to 100').optional(),
  }).optional(),
  scanner: mapping({
    inspect: listOf(oneOf(['http_responses', 'tool_results', 'bus_messages', 'model_prompts']), 'a list of sources').optional(),
    on_detect: oneOf(['pass', 'flag', 'quarantine', 'block']).optional(),
  }).optional(),
  breakers: mapping({
    bus_pair: mapping({ max_messages: count, window: duration }).optional(),
    repeated_tool_call: mapping({ max_repeats: count, window: duration }).optional(),
    denials: mapping({ max: count, window: duration, action: oneOf(['pause', 'stop', 'alert']).optional() }).optional(),
  }).optional(),
  trust: mapping({
    initial: score.optional(),
    tiers: mapping({ auto: score.optional(), peer: score.optional(), committee: score.optional() }).check(always((tiers, ctx) => {
      // Tiers are thresholds from most to least trusted; out of order they would be ambiguous.
      const order = ['auto', 'peer', 'committee'] as const;
      const given = order.filter((tier) => typeof tiers[tier] === 'number');
      for (let i = 1; i < given.length; i++) {
        const higher = given[i - 1]!;
        const lower = given[i]!;
        if ((tiers[lower] as number) > (tiers[higher] as number)) {
          issue(ctx, [lower], `${lower} (${String(tiers[lower])}) must not be above ${higher} (${String(tiers[higher])}): tiers go auto >= peer >= committee`);
        }
      }
    })).optional(),
  }).optional(),
  contract: mapping({
    may_message: names.optional(),
    tools: mapping({ allow: names.optional(), require_approval: names.optional(), deny: names.optional() }).check(always((tools, ctx) => {
      const firstList = new Map<string, string>();
      for (const list of ['allow', 'require_approval', 'deny'] as const) {
        const entries = tools[list];
        if (!Array.isArray(entries)) continue;
        entries.forEach((tool, i) => {
          if (typeof tool !== 'string') return;
          const earlier = firstList.get(tool);
          if (earlier !== undefined && earlier !== list) issue(ctx, [list, i], `"${tool}" is also listed in ${earlier}: a tool belongs in one list`);
          else firstList.set(tool, list);
        });
      }
    })).optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------
// warden's sandbox sections: resource limits and protected workdir files

const SIZE_EXPECTED = 'expected a size such as "512M", "4G" or a number of bytes';
const size = z.union([z.string(), z.number()], { error: SIZE_EXPECTED }).transform((raw, ctx) => {
  const bytes = parseSize(raw);
  if (bytes === undefined) {
    ctx.issues.push({ code: 'custom', message: SIZE_EXPECTED, input: raw });
    return z.NEVER;
  }
  return bytes;
});
const CPUS_EXPECTED = 'expected a number of CPUs from 0.01 to 1024, such as 2 or 1.5';
const cpus = z.number({ error: CPUS_EXPECTED }).min(0.01, { error: CPUS_EXPECTED }).max(1024, { error: CPUS_EXPECTED });

const limitsSchema = mapping({
  memory: size.optional(),
  cpus: cpus.optional(),
  pids: integer(1, 4_194_304).optional(),
  tmp_size: size.optional(),
});

const PROTECTED_NAMES = PROTECTED_WORKDIR_FILES.map((entry) => entry.replace(/\/$/, ''));
const workdirFilesSchema = mapping({
  writable: listOf(z.string({ error: 'expected a path' }).transform((raw, ctx) => {
    const entry = raw.replace(/\/$/, '');
    if (!PROTECTED_NAMES.includes(entry)) {
      ctx.issues.push({ code: 'custom', message: `expected one of the protected workdir files ${PROTECTED_NAMES.join(', ')} (other files are writable already)`, input: raw });
      return z.NEVER;
    }
    return entry;
  }), 'a list of protected workdir files'),
});

// ---------------------------------------------------------------------------------------------
// Whole files

const versionSchema = z.literal(1, { error: 'expected the integer 1' });

/** A host name that `pattern` matches (its wildcards filled in), to test two patterns for overlap. */
function sampleHost(pattern: string): string {
  return pattern.split('.').map((label) => (label.includes('*') ? label.replace(/\*+/g, 'x') : label)).join('.');
}

function hostsOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  const index = new HostIndex<true>();
  index.add(a, true);
  if (index.lookup(sampleHost(b)).length > 0) return true;
  const other = new HostIndex<true>();
  other.add(b, true);
  return other.lookup(sampleHost(a)).length > 0;
}

interface SkipEndpoint { at: PropertyKey[]; host: string; ports: number[] }

/**
 * Ambiguities OpenShell refuses at load, refused here too because either reading could be wrong:
 * a tls: skip endpoint whose host pattern overlaps another endpoint's (a wildcard and a name it
 * covers) on the same port without tls: skip, and a middleware selector naming a host of a
 * tls: skip endpoint (it could never see the traffic it names).
 */
function checkTlsAmbiguity(file: Record<string, unknown>, ctx: RefineCtx): void {
  const policies = isRecord(file.network_policies) ? file.network_policies : {};
  const skip: SkipEndpoint[] = [];
  const others: Array<SkipEndpoint & { policy: string }> = [];
  for (const [name, policy] of Object.entries(policies)) {
    const endpoints = isRecord(policy) && Array.isArray(policy.endpoints) ? policy.endpoints : [];
    endpoints.forEach((e: unknown, i) => {
      if (!isRecord(e) || typeof e.host !== 'string' || !Array.isArray(e.ports)) return;
      const entry = { at: ['network_policies', name, 'endpoints', i], host: e.host, ports: e.ports as number[] };
      if (e.tls === 'skip') skip.push(entry);
      else if (e.protocol !== 'tcp') others.push({ ...entry, policy: name });
    });
  }
  for (const s of skip) {
    // The same host written twice is one destination, decided by inspection winning (connection.ts).
    const clash = others.find((o) => o.host !== s.host && o.ports.some((p) => s.ports.includes(p)) && hostsOverlap(s.host, o.host));
    if (clash) {
      issue(ctx, [...s.at, 'tls'], `tls "skip" on ${s.host} overlaps endpoint ${clash.host} of network_policies.${clash.policy} on the same port without tls "skip": it is ambiguous whether a connection to a host both match is passed through; give both the same tls, or make their hosts or ports distinct`);
    }
  }
  const middlewares = isRecord(file.network_middlewares) ? file.network_middlewares : {};
  for (const [name, m] of Object.entries(middlewares)) {
    const include = isRecord(m) && isRecord(m.endpoints) && Array.isArray(m.endpoints.include) ? m.endpoints.include : [];
    include.forEach((pattern: unknown, i) => {
      // A wildcard selector simply does not apply to pass-through traffic; a name is a mistake.
      if (typeof pattern !== 'string' || pattern.includes('*')) return;
      const covered = skip.find((s) => hostsOverlap(pattern, s.host));
      if (covered) {
        issue(ctx, ['network_middlewares', name, 'endpoints', 'include', i], `"${pattern}" covers ${covered.host}, an endpoint with tls "skip" whose traffic no middleware can see: exclude it, or drop tls: skip`);
      }
    });
  }
}

export const policyFileSchema = mapping({
  version: versionSchema,
  filesystem_policy: filesystemSchema.optional(),
  landlock: landlockSchema.optional(),
  process: processSchema.optional(),
  network_policies: networkPoliciesSchema.optional(),
  network_middlewares: middlewaresSchema.optional(),
  inference: inferenceSchema.optional(),
  governance: governanceSchema.optional(),
  limits: limitsSchema.optional(),
  workdir_files: workdirFilesSchema.optional(),
}).check(always(checkTlsAmbiguity));

/** A preset is a named bundle of network policies and nothing else. */
export const presetFileSchema = mapping({
  preset: mapping({ name: nonEmptyText, description: text }),
  version: versionSchema.optional(),
  network_policies: networkPoliciesSchema,
});

// Compile-time guarantees that what the schemas produce is what the rest of warden consumes.
type Assert<T extends true> = T;
type Extends<A, B> = [A] extends [B] ? true : false;
export type SchemaMatchesTypes = [
  Assert<Extends<z.output<typeof policyFileSchema>, PolicyFile>>,
  Assert<Extends<z.output<typeof presetFileSchema>, PresetFile>>,
];
