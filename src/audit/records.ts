// The payload of a decision record: the one declaration of its fields. The checkpoint builds it
// (src/checkpoint/record.ts), the log stores it under one of DECISION_KINDS, and `warden logs`,
// `warden audit export` (OCSF) and the terminal UI read it. Readers must also accept older
// records, which lack the fields marked "since the checkpoint".

/** The audit kind of each action type's decisions. */
export const DECISION_KINDS = {
  connection: 'egress.verdict',
  http_request: 'egress.verdict',
  model_call: 'inference.verdict',
  tool_call: 'tool.verdict',
  bus_message: 'bus.verdict',
  permission_request: 'permission.verdict',
  content: 'content.verdict',
} as const;

export type DecisionKind = (typeof DECISION_KINDS)[keyof typeof DECISION_KINDS];

export interface DecisionRecord {
  ts: string;
  sandbox: string;
  /** The action's type (since the checkpoint). */
  action: keyof typeof DECISION_KINDS;
  verdict: 'allow' | 'deny' | 'ask' | 'reroute';
  code: string;
  /** Where the verdict was reached: identity, policy, governance, tier, or transport (since the checkpoint). */
  stage: string;
  /** Network actions: connect = CONNECT tunnel, http = absolute-form request, l7 = request inside a tunnel. */
  layer?: 'connect' | 'http' | 'l7';
  /** The calling process, from the kernel. */
  binary: { path: string; pid: number; ancestors: string[] };
  destination?: { host: string; port: number; ip?: string };
  method?: string;
  /** The normalised request path, redacted; the query is never stored. */
  path?: string;
  /** Other action types: what they name (tool, recipient, model route, permission). */
  target?: string;
  policy?: string;
  rule?: string;
  reason: string;
  /** For denials: what the policy lacks and what the operator can do (since the checkpoint). */
  rule_missing?: string;
  hint?: string;
  /** For `ask`: who must decide (since the checkpoint). */
  tier?: string;
  /** True when an `enforcement: audit` endpoint let a would-be denial through. */
  audit?: boolean;
  /** Time from receiving the action to the verdict (or to enforcing it). */
  latency_ms: number;
}
