// What the proxy tells the sandbox about a refusal: the JSON body of a 403 (or 502, 503) naming the
// missing rule, so the agent (or its operator) can tell exactly what to change. The operator's
// record of the same decision is the checkpoint's.

import type { DecisionCode, Verdict } from '../checkpoint/index.js';
import type { ProcessIdentity } from '../policy/index.js';

export interface DenialBody {
  error: string;
  code: DecisionCode;
  host: string;
  port: number;
  binary: string | null;
  method?: string;
  path?: string;
  policy?: string;
  rule_missing: string;
  hint: string;
  /** For an operator's answer (approval_denied): who decided, and when. */
  decided_by?: string;
  decided_at?: string;
}

export interface RequestFacts {
  host: string;
  port: number;
  method?: string | undefined;
  path?: string | undefined;
}

export function denialBody(v: Verdict, facts: RequestFacts, identity: ProcessIdentity | null): DenialBody {
  const told = v.toSandbox ?? v;
  return {
    error: told.reason,
    code: v.code,
    host: facts.host,
    port: facts.port,
    binary: identity?.exe ?? null,
    ...(facts.method !== undefined ? { method: facts.method } : {}),
    ...(facts.path !== undefined ? { path: facts.path } : {}),
    ...(v.policy !== undefined ? { policy: v.policy } : {}),
    rule_missing: told.rule_missing,
    hint: told.hint,
    ...(v.decidedBy !== undefined ? { decided_by: v.decidedBy } : {}),
    ...(v.decidedAt !== undefined ? { decided_at: v.decidedAt } : {}),
  };
}

/** The HTTP status a refusal is answered with. */
export function refusalStatus(v: Verdict): number {
  if (v.code === 'upstream_error' || v.code === 'cannot_resolve' || v.code === 'upstream_untrusted' || v.code === 'upstream_ca_unreadable') return 502;
  if (v.code === 'audit_unavailable') return 503;
  if (v.code === 'bad_request') return 400;
  if (v.code === 'budget_exceeded') return 429;
  if (v.code === 'no_inference_route' && v.rule_missing === '') return 503;
  return 403;
}
