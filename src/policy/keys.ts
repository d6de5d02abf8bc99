// Every key a policy file may contain, and what in warden enforces it. A key the schema accepts but
// nothing enforces would be a promise silently broken, so each key is one of:
//   enforced   - named component enforces it;
//   noEffect   - an OpenShell key that is safe to ignore (ignoring it can only refuse more): loads,
//                with a warning on stderr naming the key and saying it has no effect;
//   unenforced - nothing enforces it and ignoring it could allow more than the file says: an error;
//   warn       - enforced, but not as a reader might expect (OpenShell's meaning differs from the
//                words): loads, with the warning on stderr.
// A test walks the schema and fails when a key has no entry here.

/** What happens to a key, given its value and the mapping it sits in. */
export type KeyStatus = { enforced: string } | { noEffect: string } | { unenforced: string } | { warn: string };
type Rule = KeyStatus | ((value: unknown, parent: Record<string, unknown>) => KeyStatus);

const SANDBOX = 'sandbox (applied when it starts)';
const EGRESS = 'egress proxy (checked on every connection)';
const L7 = 'egress proxy (checked on every request of an inspected endpoint)';
const REFUSED_PROTOCOLS = new Set(['graphql', 'mcp', 'json-rpc']);
const NO_CREDENTIALS = 'warden does not inject or sign credentials yet: requests go out as the program sends them';

/** On graphql, mcp and json-rpc endpoints every request is refused until warden has their inspectors. */
function protocolOption(what: string): Rule {
  return (_value, endpoint) => {
    const protocol = endpoint.protocol;
    if (typeof protocol === 'string' && REFUSED_PROTOCOLS.has(protocol)) {
      return { enforced: `egress proxy: requests on ${protocol} endpoints are refused until warden inspects ${protocol}` };
    }
    return { unenforced: `${what} is not checked on ${String(protocol ?? 'tunnel')} endpoints: nothing in warden would enforce it` };
  };
}

/** `host:port` of an endpoint as written, for warnings that must name it. */
function endpointName(endpoint: Record<string, unknown>): string {
  const host = typeof endpoint.host === 'string' ? endpoint.host : `(any host in ${Array.isArray(endpoint.allowed_ips) ? endpoint.allowed_ips.join(', ') : ''})`;
  const ports = Array.isArray(endpoint.ports) ? endpoint.ports.join(',') : String(endpoint.port ?? '');
  return `${host}:${ports}`;
}

/**
 * `tls`: skip never terminates TLS; with rest or websocket the rules then apply to cleartext HTTP
 * only. `none` and `passthrough` are older OpenShell spellings that mean "automatic" there and
 * here (inspected protocols are terminated, tunnels are not).
 */
function tlsStatus(value: unknown, endpoint: Record<string, unknown>): KeyStatus {
  if (value === 'none' || value === 'passthrough') {
    return { warn: `tls "${value}" on endpoint ${endpointName(endpoint)} is read as automatic, as OpenShell does: TLS is terminated for an inspected protocol and passed through for a tunnel` };
  }
  if (value === 'skip' && (endpoint.protocol === 'rest' || endpoint.protocol === 'websocket')) {
    return { warn: `tls "skip" with protocol ${String(endpoint.protocol)} on endpoint ${endpointName(endpoint)}: TLS is never terminated, so the rules are checked on cleartext HTTP only and a TLS connection through it is refused` };
  }
  return { enforced: EGRESS };
}

/** rules: request filters, which OpenShell ignores on an endpoint without a protocol. */
function requestFilter(key: string): Rule {
  return (_value, endpoint) => {
    if (endpoint.protocol !== undefined) return { enforced: L7 };
    return { warn: `"${key}" on endpoint ${endpointName(endpoint)} is not applied: the endpoint has no protocol, so (as in OpenShell) it is a plain tunnel and no request in it is checked; add "protocol: rest" to enforce it` };
  };
}

const ruleFields = (prefix: string): Record<string, Rule> => ({
  [`${prefix}.method`]: { enforced: L7 },
  [`${prefix}.path`]: { enforced: L7 },
  [`${prefix}.query`]: { enforced: L7 },
  [`${prefix}.operation_type`]: { enforced: 'egress proxy: requests on graphql endpoints are refused until warden inspects GraphQL' },
  [`${prefix}.operation_name`]: { enforced: 'egress proxy: requests on graphql endpoints are refused until warden inspects GraphQL' },
  [`${prefix}.fields`]: { enforced: 'egress proxy: requests on graphql endpoints are refused until warden inspects GraphQL' },
  [`${prefix}.tool`]: { enforced: 'egress proxy: requests on mcp endpoints are refused until warden inspects MCP' },
  [`${prefix}.params`]: { enforced: 'egress proxy: requests on mcp and json-rpc endpoints are refused until warden inspects them' },
});

const ENDPOINT = 'network_policies.*.endpoints[]';

export const POLICY_KEYS: Readonly<Record<string, Rule>> = {
  version: { enforced: 'policy loader (only version 1 is accepted)' },
  filesystem_policy: { enforced: SANDBOX },
  'filesystem_policy.include_workdir': { enforced: 'sandbox: the /sandbox mount' },
  'filesystem_policy.read_only': { enforced: 'sandbox: read-only mounts, and Landlock' },
  'filesystem_policy.read_write': { enforced: 'sandbox: writable mounts, and Landlock' },
  landlock: { enforced: SANDBOX },
  'landlock.compatibility': { enforced: 'sandbox: Landlock (hard_requirement refuses to start without it)' },
  process: { enforced: SANDBOX },
  'process.run_as_user': { enforced: 'sandbox: the uid inside (never root on the host)' },
  'process.run_as_group': { enforced: 'sandbox: the gid inside' },

  network_policies: { enforced: EGRESS },
  'network_policies.*.name': { enforced: 'a label, shown by `warden policy get`' },
  'network_policies.*.endpoints': { enforced: EGRESS },
  [`${ENDPOINT}.host`]: { enforced: EGRESS },
  [`${ENDPOINT}.port`]: { enforced: EGRESS },
  [`${ENDPOINT}.ports`]: { enforced: EGRESS },
  [`${ENDPOINT}.path`]: { enforced: L7 },
  [`${ENDPOINT}.allowed_ips`]: { enforced: 'egress proxy: the address check (SSRF guard) on every connection and request' },
  [`${ENDPOINT}.protocol`]: { enforced: 'egress proxy: rest and websocket are inspected; graphql, mcp and json-rpc requests are refused; tcp and no protocol are tunnels' },
  [`${ENDPOINT}.tls`]: tlsStatus,
  [`${ENDPOINT}.enforcement`]: { enforced: L7 },
  [`${ENDPOINT}.access`]: { enforced: L7 },
  [`${ENDPOINT}.rules`]: requestFilter('rules'),
  [`${ENDPOINT}.rules[].allow`]: { enforced: L7 },
  ...ruleFields(`${ENDPOINT}.rules[].allow`),
  [`${ENDPOINT}.deny_rules`]: { enforced: L7 },
  ...ruleFields(`${ENDPOINT}.deny_rules[]`),
  [`${ENDPOINT}.allow_encoded_slash`]: { enforced: L7 },
  [`${ENDPOINT}.upstream_ca`]: { enforced: 'egress proxy: the certificate of an inspected endpoint\'s server is verified against this CA on every connection' },
  [`${ENDPOINT}.credential_binding`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.credential_binding.provider`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.request_body_credential_rewrite`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.websocket_credential_rewrite`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.allow_uninspected_credentials`]: { noEffect: `${NO_CREDENTIALS}, so there are none to allow` },
  [`${ENDPOINT}.credential_signing`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.signing_service`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.signing_region`]: { noEffect: NO_CREDENTIALS },
  [`${ENDPOINT}.persisted_queries`]: protocolOption('persisted_queries'),
  [`${ENDPOINT}.graphql_persisted_queries`]: protocolOption('graphql_persisted_queries'),
  [`${ENDPOINT}.graphql_persisted_queries.*.operation_type`]: { enforced: 'with its graphql_persisted_queries' },
  [`${ENDPOINT}.graphql_persisted_queries.*.operation_name`]: { enforced: 'with its graphql_persisted_queries' },
  [`${ENDPOINT}.graphql_persisted_queries.*.fields`]: { enforced: 'with its graphql_persisted_queries' },
  [`${ENDPOINT}.graphql_max_body_bytes`]: protocolOption('graphql_max_body_bytes'),
  [`${ENDPOINT}.mcp`]: protocolOption('mcp'),
  [`${ENDPOINT}.mcp.versions`]: { enforced: 'with its mcp options' },
  [`${ENDPOINT}.mcp.max_body_bytes`]: { enforced: 'with its mcp options' },
  [`${ENDPOINT}.mcp.strict_tool_names`]: { enforced: 'with its mcp options' },
  [`${ENDPOINT}.mcp.allow_all_known_mcp_methods`]: { enforced: 'with its mcp options' },
  [`${ENDPOINT}.json_rpc`]: protocolOption('json_rpc'),
  [`${ENDPOINT}.json_rpc.max_body_bytes`]: { enforced: 'with its json_rpc options' },
  'network_policies.*.binaries': { enforced: 'egress proxy: the calling binary (or an ancestor), identified by the kernel' },
  'network_policies.*.binaries[].path': { enforced: 'egress proxy: the calling binary (or an ancestor), identified by the kernel' },

  network_middlewares: { enforced: 'egress proxy (see on_error)' },
  'network_middlewares.*.on_error': { enforced: 'with its middleware' },
  'network_middlewares.*.name': { enforced: 'a label' },
  'network_middlewares.*.middleware': (_value, middleware) => middleware.on_error === 'fail_open'
    ? { noEffect: 'warden cannot run middleware, and on_error: fail_open lets the traffic through without it' }
    : { enforced: 'egress proxy: warden cannot run middleware, so with on_error: fail_closed (the default) the traffic it covers is denied' },
  'network_middlewares.*.order': { enforced: 'with its middleware' },
  'network_middlewares.*.config': { enforced: 'with its middleware' },
  'network_middlewares.*.endpoints': { enforced: 'with its middleware' },
  'network_middlewares.*.endpoints.include': { enforced: 'with its middleware' },
  'network_middlewares.*.endpoints.exclude': { enforced: 'with its middleware' },

  inference: { enforced: 'checkpoint: the model call stage (inference.local)' },
  'inference.allowed_routes': { enforced: 'checkpoint: the model call stage (providers the sandbox may use)' },
  'inference.reroute': { enforced: 'checkpoint: the network stage reroutes these hosts to inference.local' },
  'inference.models': { enforced: 'checkpoint: the model call stage (models a caller may name)' },
  'inference.token_budget': { enforced: 'checkpoint: the model call stage (tokens spent by the sandbox)' },
  'inference.server_tools': { enforced: 'checkpoint: the model call stage (tools the provider runs itself)' },

  governance: { enforced: 'checkpoint: governance stages' },
  'governance.proposals': { enforced: 'gateway: warden.local/v1/proposals (an agent proposes a rule to the approvals inbox)' },
  'governance.proposals.allow': { enforced: 'gateway: warden.local/v1/proposals answers 403 proposals_disabled without it' },
  'governance.proposals.max_pending': { enforced: 'gateway: pending proposals per sandbox (default 10)' },
  'governance.scanner': { enforced: 'checkpoint: the directive scanner stage' },
  'governance.scanner.inspect': { enforced: 'checkpoint: the directive scanner stage (HTTP responses through the egress proxy; tool results, bus messages and model prompts as their components submit them)' },
  'governance.scanner.on_detect': { enforced: 'checkpoint: the directive scanner stage' },
  'governance.breakers': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.bus_pair': { enforced: 'checkpoint: the circuit breaker stage (bus messages)' },
  'governance.breakers.bus_pair.max_messages': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.bus_pair.window': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.repeated_tool_call': { enforced: 'checkpoint: the circuit breaker stage (tool calls)' },
  'governance.breakers.repeated_tool_call.max_repeats': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.repeated_tool_call.window': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.denials': { enforced: 'checkpoint: the circuit breaker stage (every denial counts)' },
  'governance.breakers.denials.max': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.denials.window': { enforced: 'checkpoint: the circuit breaker stage' },
  'governance.breakers.denials.action': { enforced: 'checkpoint: the circuit breaker stage (pause denies everything while open; stop also stops the sandbox)' },
  'governance.trust': { enforced: 'checkpoint: the trust tier stage' },
  'governance.trust.initial': { enforced: 'checkpoint: the trust tier stage' },
  'governance.trust.tiers': { enforced: 'checkpoint: the trust tier stage' },
  'governance.trust.tiers.auto': { enforced: 'checkpoint: the trust tier stage' },
  'governance.trust.tiers.peer': { enforced: 'checkpoint: the trust tier stage' },
  'governance.trust.tiers.committee': { enforced: 'checkpoint: the trust tier stage' },
  'governance.contract': { enforced: 'checkpoint: the contract stage' },
  'governance.contract.may_message': { enforced: 'checkpoint: the contract stage (bus messages)' },
  'governance.contract.tools': { enforced: 'checkpoint: the contract stage (tool calls)' },
  'governance.contract.tools.allow': { enforced: 'checkpoint: the contract stage' },
  'governance.contract.tools.require_approval': { enforced: 'checkpoint: the contract stage' },
  'governance.contract.tools.deny': { enforced: 'checkpoint: the contract stage' },

  limits: { enforced: 'sandbox: its cgroup and /tmp' },
  'limits.memory': { enforced: 'sandbox: cgroup memory limit' },
  'limits.cpus': { enforced: 'sandbox: cgroup CPU quota' },
  'limits.pids': { enforced: 'sandbox: cgroup process limit' },
  'limits.tmp_size': { enforced: 'sandbox: the size of /tmp and /dev/shm' },
  workdir_files: { enforced: SANDBOX },
  'workdir_files.writable': { enforced: 'sandbox: protected workdir files' },
};

export interface KeyFinding {
  /** Where the key is, as the loader locates it. */
  path: Array<string | number>;
  kind: 'warning' | 'error';
  message: string;
}

/**
 * Walks a document the schema accepted and reports each key that nothing enforces: an error when
 * ignoring it could allow more than the file says, a warning when it only has no effect.
 */
export function unenforcedKeys(document: unknown): KeyFinding[] {
  const findings: KeyFinding[] = [];
  walk(document, [], '', findings);
  return findings;
}

function walk(value: unknown, at: Array<string | number>, pattern: string, findings: KeyFinding[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...at, i], `${pattern}[]`, findings));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const [key, member] of Object.entries(record)) {
    const keyPattern = POLICY_KEYS[`${pattern}${pattern === '' ? '' : '.'}${key}`] !== undefined
      ? `${pattern}${pattern === '' ? '' : '.'}${key}`
      : `${pattern}${pattern === '' ? '' : '.'}*`;
    const rule = POLICY_KEYS[keyPattern];
    const path = [...at, key];
    if (rule !== undefined) {
      const status = typeof rule === 'function' ? rule(member, record) : rule;
      if ('noEffect' in status) findings.push({ path, kind: 'warning', message: `has no effect in warden: ${status.noEffect}` });
      if ('unenforced' in status) findings.push({ path, kind: 'error', message: `is not enforced by warden: ${status.unenforced}; remove it` });
      if ('warn' in status) findings.push({ path, kind: 'warning', message: status.warn });
      // One finding per key: what is under it shares its fate.
      if (!('enforced' in status) && !('warn' in status)) continue;
    }
    // Values under free-form maps (query matchers, middleware config) are data, not keys.
    if (keyPattern.endsWith('.query') || keyPattern.endsWith('.params') || keyPattern.endsWith('.config')) continue;
    walk(member, path, keyPattern, findings);
  }
}
