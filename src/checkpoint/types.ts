// The checkpoint's vocabulary: what is decided (Action), for whom (Subject), the answer (Verdict)
// and the stages that reach it. Plain data, so that a verdict can be recorded and explained the
// same way whatever the action.

import type { DecisionRecord } from '../audit/index.js';
import type { MatchedEndpoint, Policy, PolicyChange, PolicyCode, PolicyVerdict, ProcessIdentity } from '../policy/index.js';

/** How a network action reached the proxy: connect = CONNECT, http = absolute-form, l7 = inside an inspected tunnel. */
export type NetworkLayer = 'connect' | 'http' | 'l7';

/** Opening a connection to host:port (a CONNECT tunnel, or the connection under a plain HTTP request). */
export interface ConnectionAction {
  type: 'connection';
  layer: NetworkLayer;
  host: string;
  port: number;
}

/** One HTTP request; `target` is the origin-form path and query exactly as received, byte for byte. */
export interface HttpRequestAction {
  type: 'http_request';
  layer: NetworkLayer;
  host: string;
  port: number;
  method: string;
  target: string;
  /** The Upgrade header's value, for upgrade requests. */
  upgrade?: string;
  /** Inside a tunnel: the addresses it was opened to (already checked then, re-checked now). */
  addresses?: string[];
}

/** A call to a model through inference.local (or a model API host rerouted to it). */
export interface ModelCallAction {
  type: 'model_call';
  /** The API shape of the route: OpenAI's or Anthropic's. */
  api: 'openai' | 'anthropic';
  /** The API route called, e.g. `/v1/chat/completions`. */
  route: string;
  /** The model the caller asked for, if any. */
  model?: string;
  /** Where the call was addressed: inference.local, or the rerouted host. */
  via: string;
  /** The provider of the route configured for this API shape; absent when none is. */
  provider?: string;
  /** Tokens the sandbox has spent so far, and holds for calls still running (for the token budget). */
  tokensUsed?: number;
  /** Tools the provider itself would run for this call (web search, MCP servers, code execution). */
  serverTools?: string[];
}

/** A call to a tool (an MCP server's tool, through the tool gateway). */
export interface ToolCallAction {
  type: 'tool_call';
  /** `server.tool`, as contracts name it (github.create_pull_request). */
  tool: string;
  /** A stable digest of the arguments: repeated identical calls are what breakers count. */
  argumentsDigest: string;
}

/** A message to another agent over the bus. */
export interface BusMessageAction {
  type: 'bus_message';
  to: string;
  text: string;
}

/** The agent asks for more than its policy gives (a new endpoint, a tool, a higher tier). */
export interface PermissionRequestAction {
  type: 'permission_request';
  permission: string;
  justification?: string;
}

/**
 * Text about to reach the agent: an HTTP response body, a tool's result, a message from another
 * agent, a prompt on its way to a model. Allowed unless governance (the directive scanner) objects.
 */
export interface ContentAction {
  type: 'content';
  source: 'http_response' | 'tool_result' | 'bus_message' | 'model_prompt';
  /** Where it comes from: host:port and path, a tool, a sender. */
  origin: string;
  text: string;
  /** For an HTTP response: the request it answers (what a held response's draft names). */
  request?: { host: string; port: number; method: string; path: string };
}

export type Action =
  | ConnectionAction | HttpRequestAction | ModelCallAction | ToolCallAction | BusMessageAction | PermissionRequestAction | ContentAction;
export type NetworkAction = ConnectionAction | HttpRequestAction;

/** Who acts: the sandbox and the calling process, all from the kernel, never from the caller's word. */
export interface Subject {
  sandbox: string;
  /** Null when the kernel could not tell: such an action is always denied. */
  process: ProcessIdentity | null;
  /** Why the process is unknown, for the record. */
  identityError?: string;
}

/** The stages, in the order they run. A later kind never runs before an earlier one. */
export const STAGE_KINDS = ['identity', 'policy', 'governance', 'tier'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];
/** Outcomes decided by the enforcement point itself (a malformed request, a failed upstream). */
export type VerdictStage = StageKind | 'transport' | 'audit';

export type Tier = 'auto' | 'peer' | 'committee' | 'human';

export type DecisionCode =
  | PolicyCode
  | 'unidentified'
  | 'binary_tainted'
  | 'no_decision'
  | 'breaker_open'
  | 'contract_violation'
  | 'approval_required'
  | 'approval_denied'
  | 'approval_timeout'
  | 'directive_detected'
  | 'directive_flagged'
  | 'credential_endpoint_mismatch'
  | 'no_inference_route'
  | 'model_not_allowed'
  | 'budget_exceeded'
  | 'server_tool_not_allowed'
  | 'rerouted'
  | 'bad_request'
  | 'upstream_error'
  | 'upstream_untrusted'
  | 'upstream_ca_unreadable'
  | 'cannot_resolve'
  | 'audit_unavailable'
  | 'connection_closed';

export interface Verdict extends Omit<PolicyVerdict, 'verdict' | 'code'> {
  verdict: 'allow' | 'deny' | 'ask' | 'reroute';
  code: DecisionCode;
  stage: VerdictStage;
  /** For ask: who decides. */
  tier?: Tier;
  /** For reroute: where the action goes instead (inference.local). */
  rerouteTo?: string;
  /** For an ask of the approvals stage: what the operator is asked to approve. */
  approval?: ApprovalDraft;
  /** For an operator's answer: who decided, and when (ISO-8601). */
  decidedBy?: string;
  decidedAt?: string;
}

/** A policy change as `warden policy update` sends it (the policy component's PolicyChange). */
export type DraftChange = PolicyChange;

/**
 * What an operator approves for a held network action: the narrowest rule that admits it, and what
 * identical actions share (held ones are one draft).
 */
export interface ApprovalDraft {
  /** (host, port, binary[, method, path]) as JSON. */
  key: string;
  host: string;
  port: number;
  binary: string;
  /** The binary's ancestors, nearest first. */
  ancestors: string[];
  /** For a request on an inspected endpoint: the rule is method + path. */
  method?: string;
  path?: string;
  /** The policy code that denied it, and what was missing. */
  code: DecisionCode;
  reason: string;
  ruleMissing: string;
  /** The addresses the host resolved to, when they needed allowed_ips (the SSRF guard refused them). */
  addresses?: string[];
  /** The change that admits it: `approve --always` writes exactly this; `approve` admits this one action under it. */
  changes: DraftChange[];
  /**
   * For a response the directive scanner quarantined: what it found, with the passages that drove
   * the score (redacted, at most a few hundred characters each). Such a draft has no rule: it can
   * only be approved once (the operator releases this response) or denied.
   */
  content?: { score: number; categories: string[]; excerpts: string[] };
  /**
   * Set when an agent proposed the rule itself (https://warden.local/v1/proposals) rather than a
   * request being held: its reason, and who proposed it as the egress proxy identified the caller
   * (never what the proposal's body claims).
   */
  proposal?: { reason: string; binary: string; ancestors: string[]; pid: number };
}

/** What the enforcement point needs besides the verdict, for network actions. */
export interface NetworkFacts {
  /** Endpoints that matched the connection (for per-request checks inside a tunnel). */
  matches: MatchedEndpoint[];
  /** True when the connection is relayed without inspecting requests. */
  raw: boolean;
  /** Addresses that passed the address check, in dialling order. */
  addresses: string[];
  /** The request path after normalisation (no query). */
  path?: string;
  /** What to send upstream: the normalised path plus the query as received. */
  forwardPath?: string;
}

/** The checkpoint's answer to one action. */
export interface Decision {
  verdict: Verdict;
  network?: NetworkFacts;
  /** The record as committed (or, for a denial, as queued) to the audit log. */
  record?: DecisionRecord;
}

/** Where an explanation collects what a stage could not check. */
export interface ExplainTrace {
  notes: string[];
}

/** Resolves a host name to addresses; undefined means "not known here" (explain without --resolve). */
export type Resolver = (host: string) => Promise<string[] | undefined>;

/** Mutable state of one decision, handed to each stage in turn. */
export interface StageContext {
  readonly action: Action;
  readonly subject: Subject;
  readonly policy: Policy;
  /** The verdict so far; a stage that sets a denial ends the pipeline. */
  verdict: Verdict | undefined;
  network: NetworkFacts | undefined;
  readonly resolve: Resolver;
  /** Present when explaining: notes about what could not be checked. */
  readonly explain: ExplainTrace | undefined;
}

/**
 * A step of the pipeline. Stages of one kind run in the order they were registered; `run` may be
 * synchronous (most are) so a decision pays for a promise only where a stage needs one.
 */
export interface Stage {
  readonly name: string;
  readonly kind: StageKind;
  run(ctx: StageContext): void | Promise<void>;
  /** Told every final verdict (denials included, whichever stage reached them), for stages that count what happened. */
  observe?(action: Action, verdict: Verdict, policy: Policy): void;
  /** Whether this stage looks at content from `source` under `policy` (so the enforcement point reads it whole). */
  collects?(source: ContentAction['source'], policy: Policy): boolean;
  /**
   * Told a denial of the policy stage (never identity, governance or transport): may return an
   * `ask` that puts it to an operator instead (the approvals stage, in a sandbox's ask mode).
   * Anything but an ask is ignored: a denial never becomes an allow here.
   */
  review?(ctx: StageContext, denial: Verdict): Verdict | undefined | Promise<Verdict | undefined>;
}
