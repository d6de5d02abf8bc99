// The policy as warden uses it after loading and validation. The file format is OpenShell's
// `version: 1` sandbox policy plus warden's own top-level sections (`governance:`); defaults
// are filled in by the loader, so consumers never see an absent section.

export interface Policy {
  version: 1;
  /** Present only in preset files: a named bundle of network policies. */
  preset?: PresetHeader;
  filesystem_policy: FilesystemPolicy;
  landlock: LandlockPolicy;
  process: ProcessPolicy;
  network_policies: Record<string, NetworkPolicy>;
  /** OpenShell: ordered middleware attached to allowed traffic by destination host. */
  network_middlewares?: Record<string, NetworkMiddleware>;
  /** Model calls through inference.local: routes, rerouted hosts, models, budget. */
  inference?: InferencePolicy;
  governance?: GovernancePolicy;
  /** warden: what the sandbox may use of the host (static: fixed when it starts). */
  limits?: ResourceLimitsPolicy;
  /** warden: protected workdir files (see PROTECTED_WORKDIR_FILES) the agent may write anyway. */
  workdir_files?: WorkdirFilesPolicy;
}

/** Sizes are in bytes after loading (the file may say "4G", "512M"). */
export interface ResourceLimitsPolicy {
  memory?: number;
  cpus?: number;
  pids?: number;
  tmp_size?: number;
}

export interface WorkdirFilesPolicy {
  writable: string[];
}


export interface PresetHeader {
  name: string;
  description: string;
}

export interface FilesystemPolicy {
  /** Mount the sandbox's persistent workdir at /sandbox, read-write. */
  include_workdir: boolean;
  read_only: string[];
  read_write: string[];
}

export type LandlockCompatibility = 'best_effort' | 'hard_requirement';

export interface LandlockPolicy {
  /** Absent in the file means the policy did not ask for Landlock at all. */
  compatibility?: LandlockCompatibility;
}

export interface ProcessPolicy {
  run_as_user?: string;
  run_as_group?: string;
}

export interface NetworkPolicy {
  /** Human-readable label; the map key is the rule's identity. */
  name?: string;
  endpoints: NetworkEndpoint[];
  binaries: NetworkBinary[];
}

/**
 * `rest` and `websocket` are inspected per request; `graphql`, `mcp` and `json-rpc` are
 * OpenShell's other inspected protocols; `tcp` is a native TCP stream with no inspection.
 */
export type EndpointProtocol = 'rest' | 'websocket' | 'graphql' | 'mcp' | 'json-rpc' | 'tcp';
export type EndpointAccess = 'read-only' | 'read-write' | 'full';
export type EndpointEnforcement = 'enforce' | 'audit';

export interface NetworkEndpoint {
  /**
   * Exact name, `*.` one label, `**.` any depth, or a glob of whole labels (`*.s3.*.amazonaws.com`,
   * `*-aiplatform.googleapis.com`); case-insensitive. Absent only with `allowed_ips`: the endpoint
   * then covers any name or address on its ports that resolves inside allowed_ips.
   */
  host?: string;
  /** Normalised by the loader: the file's `port` or `ports` (never both), without duplicates. */
  ports: number[];
  protocol?: EndpointProtocol;
  /**
   * `skip`: never terminate TLS, tunnel the bytes (only without an inspected protocol: the
   * loader refuses `skip` with rest/websocket/graphql/mcp/json-rpc). `terminate` is an
   * older spelling of the default, accepted for NemoClaw presets.
   */
  tls?: 'terminate' | 'skip';
  /** warden: absent means enforce (OpenShell would audit). */
  enforcement?: EndpointEnforcement;
  access?: EndpointAccess;
  rules?: L7Rule[];
  deny_rules?: L7Match[];
  allowed_ips?: string[];
  allow_encoded_slash?: boolean;
  /** Path glob that selects between inspected endpoints sharing host and port. */
  path?: string;
  /**
   * warden only: a PEM file of the CA (or CAs) that the server of this inspected endpoint must
   * chain to, instead of the public roots: a server with a private CA. Read when a request goes out.
   */
  upstream_ca?: string;
  credential_binding?: { provider: string };
  request_body_credential_rewrite?: boolean;
  websocket_credential_rewrite?: boolean;
  allow_uninspected_credentials?: boolean;
  credential_signing?: 'sigv4' | 'sigv4:body' | 'sigv4:no_body';
  signing_service?: string;
  signing_region?: string;
  persisted_queries?: 'deny' | 'allow_registered';
  graphql_persisted_queries?: Record<string, GraphqlPersistedQuery>;
  graphql_max_body_bytes?: number;
  mcp?: McpOptions;
  json_rpc?: { max_body_bytes?: number };
}

export interface GraphqlPersistedQuery {
  operation_type: 'query' | 'mutation' | 'subscription';
  operation_name?: string;
  fields?: string[];
}

export interface McpOptions {
  versions?: string[];
  max_body_bytes?: number;
  strict_tool_names?: boolean;
  allow_all_known_mcp_methods?: boolean;
}

export interface L7Rule {
  allow: L7Match;
}

/**
 * One allow or deny matcher. Which fields appear depends on the endpoint's protocol (the
 * loader checks this): rest and websocket use method + path (+ query), and `method` is then
 * always present and upper-case; graphql uses operation_type (+ operation_name, fields);
 * mcp uses method (+ tool, params); json-rpc uses method only.
 */
export interface L7Match {
  /** HTTP method or `*` (rest, websocket); MCP or JSON-RPC method name (mcp, json-rpc). */
  method?: string;
  /** Path glob: `*` within one segment, `**` across segments. */
  path?: string;
  query?: Record<string, QueryMatcher>;
  operation_type?: 'query' | 'mutation' | 'subscription' | '*';
  operation_name?: string;
  fields?: string[];
  /** MCP `tools/call` tool-name matcher. */
  tool?: string | { any: string[] };
  /** MCP params matcher; only `name` is meaningful today. */
  params?: Record<string, QueryMatcher>;
}

/** A query parameter matcher: a glob string, or one of a list of globs. */
export type QueryMatcher = string | { any: string[] } | { glob: string };

export interface NetworkMiddleware {
  name?: string;
  /** Built-in or operator-registered middleware name. */
  middleware: string;
  /** Lower runs first; unique across the policy. */
  order?: number;
  /** Implementation-owned settings, kept as written. */
  config?: Record<string, unknown>;
  on_error?: 'fail_closed' | 'fail_open';
  endpoints: { include: string[]; exclude?: string[] };
}

/** What a sandbox may do through inference.local (hot-reloadable). */
export interface InferencePolicy {
  /** OpenShell: the providers (by name) whose routes the sandbox may use; absent: any configured one. */
  allowed_routes?: string[];
  /** warden: public model API hosts whose calls are served by inference.local instead. */
  reroute?: string[];
  /** warden: the models a caller may name (passed on as asked); absent: the route's model is used. */
  models?: string[];
  /** warden: tokens (in + out, from the responses' usage) the sandbox may spend while it runs. */
  token_budget?: number;
  /** warden: whether a call may ask the provider to run tools itself (web search, MCP servers, code). */
  server_tools?: boolean;
}

export interface NetworkBinary {
  /** Absolute path or glob (`*`, `**`). */
  path: string;
}

export interface GovernancePolicy {
  /** Whether an agent may propose rules at https://warden.local/v1/proposals, and how many may wait per sandbox. */
  proposals?: { allow: boolean; max_pending?: number };
  scanner?: {
    inspect?: Array<'http_responses' | 'tool_results' | 'bus_messages' | 'model_prompts'>;
    on_detect?: 'pass' | 'flag' | 'quarantine' | 'block';
  };
  breakers?: {
    bus_pair?: { max_messages: number; window: string };
    repeated_tool_call?: { max_repeats: number; window: string };
    denials?: { max: number; window: string; action?: 'pause' | 'stop' | 'alert' };
  };
  trust?: {
    initial?: number;
    tiers?: { auto?: number; peer?: number; committee?: number };
  };
  contract?: {
    may_message?: string[];
    tools?: { allow?: string[]; require_approval?: string[]; deny?: string[] };
  };
}
