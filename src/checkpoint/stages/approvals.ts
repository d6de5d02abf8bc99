// Operator approvals (the tier stage): in a sandbox's `ask` mode, a network action the policy
// denies is put to an operator instead of refused. The stage only ever turns a policy denial into
// an ask (the checkpoint takes nothing else from a reviewer), with the draft the operator sees: the
// narrowest rule that admits the action (exact host, port and binary; method and path on inspected
// endpoints; the resolved addresses as allowed_ips when the SSRF guard refused them).

import { checkResolution, isIpLiteral, type NetworkEndpoint, type ProcessIdentity } from '../../policy/index.js';
import type { ApprovalDraft, DecisionCode, DraftChange, NetworkAction, Stage, StageContext, Verdict } from '../types.js';

export type ApprovalMode = 'deny' | 'ask';

/**
 * Policy denials an operator may approve: a missing endpoint, port, binary or request rule, and an
 * address the SSRF guard refused. Never: an explicit deny rule, a changed binary, a shared socket,
 * a bad path, a refused upgrade (those say the request itself is wrong, not that a rule is missing).
 */
export const APPROVABLE_CODES: ReadonlySet<DecisionCode> = new Set<DecisionCode>([
  'no_endpoint', 'port_not_allowed', 'binary_not_allowed', 'ssrf_blocked', 'l7_not_allowed', 'l7_no_rules',
]);

const L7_CODES: ReadonlySet<DecisionCode> = new Set<DecisionCode>(['l7_not_allowed', 'l7_no_rules']);

export function approvalStage(mode: () => ApprovalMode): Stage {
  return {
    name: 'operator approvals',
    kind: 'tier',
    run(ctx) {
      // A response the directive scanner quarantined waits for an operator only where one is asked
      // (ask mode); otherwise it is refused now rather than held until the approval timeout.
      const verdict = ctx.verdict;
      if (verdict?.verdict !== 'ask' || verdict.approval?.content === undefined || mode() === 'ask') return;
      const { approval: _held, ...refused } = verdict;
      ctx.verdict = {
        ...refused, verdict: 'deny', stage: 'tier',
        reason: `${verdict.reason}; refused: no operator is asked in approval mode deny`,
        hint: 'with `warden sandbox update NAME --approval-mode ask` an operator decides whether the agent may read such a response',
      };
    },
    async review(ctx, denial) {
      if (mode() !== 'ask' || !APPROVABLE_CODES.has(denial.code)) return undefined;
      const action = ctx.action;
      if (action.type !== 'connection' && action.type !== 'http_request') return undefined;
      const process = ctx.subject.process;
      if (process === null) return undefined;
      const approval = await draftFor(ctx, action, process, denial);
      if (approval === undefined) return undefined;
      return {
        ...denial,
        verdict: 'ask',
        code: 'approval_required',
        stage: 'tier',
        tier: 'human',
        approval,
        reason: `${denial.reason}; held for an operator's approval`,
        hint: 'an operator answers with `warden approvals approve|deny ID` (or in `warden term`)',
      } satisfies Verdict;
    },
  };
}

/**
 * How the new endpoint must be inspected to be no wider than the one the action matched (an SSRF
 * or binary denial names it): a raw endpoint beside an inspected one would turn inspection off for
 * the host. Undefined when the matched endpoint's inspection cannot be written as a draft (its own
 * rules, another protocol): such a denial is not put to an operator.
 */
function inspectionOf(ctx: StageContext, denial: Verdict): { protocol?: 'rest'; access?: NonNullable<NetworkEndpoint['access']> } | undefined {
  if (denial.code !== 'ssrf_blocked' && denial.code !== 'binary_not_allowed') return {};
  // The SSRF guard runs after the connection matched (the matches are known); a binary denial names the endpoint.
  const endpoints = ctx.network?.matches.map((m) => m.endpoint) ?? (denial.endpoint !== undefined ? [denial.endpoint] : []);
  const inspected = endpoints.filter((ep) => ep.protocol !== undefined && ep.protocol !== 'tcp' && ep.tls !== 'skip');
  if (inspected.length === 0) return {};
  const access = inspected[0]!.access;
  const writable = inspected.every((ep) => ep.protocol === 'rest' && ep.access !== undefined && ep.access === access &&
    (ep.rules?.length ?? 0) === 0 && (ep.deny_rules?.length ?? 0) === 0 && ep.path === undefined);
  return writable && access !== undefined ? { protocol: 'rest', access } : undefined;
}

async function draftFor(ctx: StageContext, action: NetworkAction, process: ProcessIdentity, denial: Verdict): Promise<ApprovalDraft | undefined> {
  const base = {
    host: action.host, port: action.port, binary: process.exe, ancestors: process.ancestors.map((a) => a.exe),
    code: denial.code, reason: denial.reason, ruleMissing: denial.rule_missing,
  };
  if (action.type === 'http_request' && L7_CODES.has(denial.code)) {
    const path = ctx.network?.path ?? action.target.split('?')[0]!;
    const changes: DraftChange[] = [{ op: 'add-rule', host: action.host, port: action.port, method: action.method, path, ...(denial.policy !== undefined ? { policyName: denial.policy } : {}) }];
    return { ...base, key: JSON.stringify([action.host, action.port, process.exe, action.method, path]), method: action.method, path, changes };
  }
  const inspection = inspectionOf(ctx, denial);
  if (inspection === undefined) return undefined;
  const addresses = await resolved(ctx, action);
  // Addresses the SSRF guard refuses by default are named exactly (allowed_ips), nothing wider.
  const needsIps = addresses !== undefined && !checkResolution(addresses, []).ok;
  const changes: DraftChange[] = [{ op: 'add-endpoint', host: action.host, port: action.port, binaries: [process.exe], ...(needsIps ? { allowedIps: addresses } : {}), ...inspection }];
  return { ...base, key: JSON.stringify([action.host, action.port, process.exe]), ...(needsIps ? { addresses } : {}), changes };
}

/** The addresses the action goes to (pinned per client by the enforcement point), or undefined when the name does not resolve. */
async function resolved(ctx: StageContext, action: NetworkAction): Promise<string[] | undefined> {
  if (action.type === 'http_request' && action.addresses) return action.addresses;
  if (isIpLiteral(action.host)) return [action.host];
  try {
    return await ctx.resolve(action.host);
  } catch {
    return undefined;
  }
}
