// Governance's stages of the checkpoint, one per section of a policy's `governance:` (DESIGN.md
// "Governance model"): the contract (who an agent may message, which tools it may call), the
// circuit breakers (repeated tool calls, chatty agent pairs, a run of denials), the directive
// scanner on content reaching the agent, and trust tiers for actions that need an approval.
// Each reads its section from the policy in force at every decision, so a revision applies to
// the next action; counters live in the stage, one set per sandbox (one checkpoint per sandbox).

import { createHash } from 'node:crypto';
import { redactText } from '../audit/index.js';
import type { ApprovalDraft, Stage, StageContext, Tier, Verdict } from '../checkpoint/index.js';
import { durationMs, type GovernancePolicy } from '../policy/index.js';
import type { ScanResult, ScanVerdict } from './scanner/types.js';

export interface BreakerTrip {
  breaker: 'denials' | 'repeated_tool_call' | 'bus_pair';
  /** What the policy says to do: pause (deny everything while open), stop (also stop the sandbox), alert (record only). */
  action: 'pause' | 'stop' | 'alert';
  reason: string;
  /** Until when (epoch ms) the breaker stays open. */
  until: number;
}

export interface GovernanceOptions {
  /** Told when a breaker opens, so the owner can record it and, for `stop`, stop the sandbox. */
  onTrip?: (trip: BreakerTrip) => void;
  /** The directive scanner; default the shipped model (scanText). */
  scan: (text: string) => ScanResult;
  /** Clock (epoch ms); tests move it. */
  now?: () => number;
}

/**
 * The stages, in the order they run: breakers first (an open breaker refuses everything, and they
 * must see every action to count it), then the contract and the scanner (governance), then tiers.
 */
export function governanceStages(options: GovernanceOptions): Stage[] {
  const now = options.now ?? Date.now;
  return [breakerStage(now, options.onTrip), contractStage(), scannerStage(options.scan), trustTierStage()];
}

function sectionOf(ctx: StageContext): GovernancePolicy {
  return ctx.policy.governance ?? {};
}

function deny(code: Verdict['code'], reason: string, ruleMissing: string, hint: string): Verdict {
  return { verdict: 'deny', code, stage: 'governance', reason, rule_missing: ruleMissing, hint };
}

// ---------------------------------------------------------------------------------------------
// Contract: may_message and tools. Both are allow lists: what a contract does not name is denied.

/** `github.create_pull_request` matches itself; `github.*` matches every tool of that server. */
function toolMatches(pattern: string, tool: string): boolean {
  return pattern === tool || (pattern.endsWith('.*') && tool.startsWith(pattern.slice(0, -1)));
}

function contractStage(): Stage {
  return {
    name: 'contract',
    kind: 'governance',
    run(ctx) {
      const contract = sectionOf(ctx).contract;
      const action = ctx.action;
      if (action.type === 'bus_message') {
        if (contract?.may_message?.includes(action.to)) {
          ctx.verdict = { verdict: 'allow', code: 'allowed', stage: 'governance', rule: `contract.may_message: ${action.to}`, reason: `the contract allows messages to ${action.to}`, rule_missing: '', hint: '' };
          return;
        }
        ctx.verdict = deny('contract_violation', `the contract does not let this agent message ${action.to}`,
          `governance.contract.may_message: [${action.to}]`, `add ${action.to} to governance.contract.may_message if this agent should reach it`);
        return;
      }
      if (action.type !== 'tool_call') return;
      const tools = contract?.tools;
      const listed = (list: string[] | undefined) => list?.find((pattern) => toolMatches(pattern, action.tool));
      const denied = listed(tools?.deny);
      if (denied !== undefined) {
        ctx.verdict = deny('contract_violation', `the contract denies the tool ${action.tool}`, `nothing: contract.tools.deny lists ${denied}`, `remove ${denied} from governance.contract.tools.deny if it should be allowed`);
        return;
      }
      const approval = listed(tools?.require_approval);
      if (approval !== undefined) {
        ctx.verdict = { verdict: 'ask', code: 'approval_required', stage: 'governance', rule: `contract.tools.require_approval: ${approval}`, reason: `the contract requires an approval for ${action.tool}`, rule_missing: '', hint: 'an approver decides (see governance.trust.tiers)' };
        return;
      }
      const allowed = listed(tools?.allow);
      if (allowed !== undefined) {
        ctx.verdict = { verdict: 'allow', code: 'allowed', stage: 'governance', rule: `contract.tools.allow: ${allowed}`, reason: `the contract allows ${action.tool}`, rule_missing: '', hint: '' };
        return;
      }
      ctx.verdict = deny('contract_violation', `the contract does not list the tool ${action.tool}`,
        `governance.contract.tools.allow: [${action.tool}]`, `add ${action.tool} to governance.contract.tools.allow (or require_approval)`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Circuit breakers

/** Timestamps within a sliding window, per key. */
class Window {
  private readonly times = new Map<string, number[]>();

  /** Adds an event at `at` and returns how many there are within `windowMs` before it. */
  add(key: string, at: number, windowMs: number): number {
    const kept = (this.times.get(key) ?? []).filter((t) => t > at - windowMs);
    kept.push(at);
    this.times.set(key, kept);
    return kept.length;
  }

  clear(): void {
    this.times.clear();
  }
}

function breakerStage(now: () => number, onTrip: GovernanceOptions['onTrip']): Stage {
  const denials = new Window();
  const toolCalls = new Window();
  const pairs = new Window();
  let open: BreakerTrip | undefined;
  return {
    name: 'breakers',
    kind: 'governance',
    run(ctx) {
      const breakers = sectionOf(ctx).breakers;
      const at = now();
      if (open !== undefined && at < open.until) {
        ctx.verdict = deny('breaker_open', `a circuit breaker is open until ${new Date(open.until).toISOString()}: ${open.reason}`,
          'a closed circuit breaker', open.action === 'stop' ? 'the sandbox is being stopped; start it again once the cause is fixed' : 'wait for the breaker to close, or stop the agent and look at what it did (`warden logs`)');
        return;
      }
      open = undefined;
      const action = ctx.action;
      if (action.type === 'tool_call' && breakers?.repeated_tool_call) {
        const { max_repeats: max, window } = breakers.repeated_tool_call;
        const count = toolCalls.add(`${action.tool}\u0000${action.argumentsDigest}`, at, durationMs(window)!);
        if (count > max) {
          ctx.verdict = deny('breaker_open', `${action.tool} was called with the same arguments ${count} times within ${window} (at most ${max})`,
            `breakers.repeated_tool_call.max_repeats above ${max}`, 'an agent repeating one call is likely stuck in a loop: look at what it is doing');
          return;
        }
      }
      if (action.type === 'bus_message' && breakers?.bus_pair) {
        const { max_messages: max, window } = breakers.bus_pair;
        const count = pairs.add(action.to, at, durationMs(window)!);
        if (count > max) {
          ctx.verdict = deny('breaker_open', `${count} messages to ${action.to} within ${window} (at most ${max})`,
            `breakers.bus_pair.max_messages above ${max}`, 'two agents talking in a loop burn tokens without progress: look at the conversation');
        }
      }
    },
    observe(_action, verdict, policy) {
      // Only what the pipeline denied counts (at any stage): not malformed requests or failed
      // upstreams, and not the breaker's own refusals (which would keep it open for ever).
      const denialLimit = policy.governance?.breakers?.denials;
      if (verdict.verdict !== 'deny' || denialLimit === undefined) return;
      if (verdict.code === 'breaker_open' || verdict.stage === 'transport' || verdict.stage === 'audit') return;
      const at = now();
      const windowMs = durationMs(denialLimit.window)!;
      const count = denials.add('denials', at, windowMs);
      if (count <= denialLimit.max) return;
      denials.clear();
      const trip: BreakerTrip = {
        breaker: 'denials', action: denialLimit.action ?? 'pause', until: at + windowMs,
        reason: `${count} denials within ${denialLimit.window} (at most ${denialLimit.max})`,
      };
      if (trip.action !== 'alert') open = trip;
      onTrip?.(trip);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The directive scanner, on content reaching the agent

const SEVERITY: Record<ScanVerdict, number> = { pass: 0, flag: 1, quarantine: 2, block: 3 };
const SOURCES = { http_response: 'http_responses', tool_result: 'tool_results', bus_message: 'bus_messages', model_prompt: 'model_prompts' } as const;

function scannerStage(scan: (text: string) => ScanResult): Stage {
  /** Without `inspect`, a scanner section inspects every source. */
  const inspects = (policy: GovernancePolicy, source: keyof typeof SOURCES): boolean =>
    policy.scanner !== undefined && (policy.scanner.inspect ?? Object.values(SOURCES)).includes(SOURCES[source]);
  return {
    name: 'directive scanner',
    kind: 'governance',
    collects: (source, policy) => inspects(policy.governance ?? {}, source),
    run(ctx) {
      const action = ctx.action;
      const scanner = sectionOf(ctx).scanner;
      if (action.type !== 'content' || scanner === undefined || !inspects(sectionOf(ctx), action.source)) return;
      const result = scan(action.text);
      if (result.verdict === 'pass') return;
      // on_detect is the strongest response the operator allows; a low score gets a milder one.
      const allowed = scanner.on_detect ?? 'flag';
      const response = SEVERITY[result.verdict] <= SEVERITY[allowed] ? result.verdict : allowed;
      const what = `${action.source.replace('_', ' ')} from ${action.origin} reads as instructions aimed at the agent (score ${result.score.toFixed(2)}; ${result.categories.join(', ') || 'directive'})`;
      const rule = `governance.scanner.on_detect: ${allowed}`;
      switch (response) {
        case 'pass':
          return;
        case 'flag':
          ctx.verdict = { verdict: 'allow', code: 'directive_flagged', stage: 'governance', rule, reason: `${what}: passed on, flagged`, rule_missing: '', hint: '' };
          return;
        case 'quarantine': {
          const approval = quarantineDraft(ctx, result, what);
          ctx.verdict = {
            verdict: 'ask', code: 'directive_detected', stage: 'governance', rule, reason: `${what}: held for an approver`, rule_missing: '',
            hint: 'an approver sees the text and decides whether the agent may read it', ...(approval !== undefined ? { approval } : {}),
          };
          return;
        }
        case 'block':
          ctx.verdict = deny('directive_detected', `${what}: refused`, 'content without instructions aimed at the agent', 'if this is a false alarm, set governance.scanner.on_detect to flag or quarantine');
      }
    },
  };
}

const EXCERPTS = 3;
const EXCERPT_CHARS = 240;

/**
 * What an operator is shown for a quarantined response: the request it answers, who asked, and the
 * passages that drove the score. One draft per identical response (the body's digest is in the
 * key); it has no rule to add, so it can only be released once or denied. Undefined where no
 * request or process is known (nothing an operator could hold).
 */
function quarantineDraft(ctx: StageContext, result: ScanResult, reason: string): ApprovalDraft | undefined {
  const action = ctx.action;
  const process = ctx.subject.process;
  if (action.type !== 'content' || action.request === undefined || process === null) return undefined;
  const { host, port, method, path } = action.request;
  const digest = createHash('sha256').update(action.text).digest('hex');
  const excerpts = result.spans.slice(0, EXCERPTS).map((span) => {
    const text = action.text.slice(span.start, span.end).replace(/\s+/g, ' ').trim();
    return redactText(text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}...` : text);
  });
  return {
    key: JSON.stringify(['content', host, port, process.exe, method, path, digest]),
    host, port, binary: process.exe, ancestors: process.ancestors.map((a) => a.exe), method, path,
    code: 'directive_detected', reason, ruleMissing: 'a response without instructions aimed at the agent',
    changes: [], content: { score: Math.round(result.score * 1000) / 1000, categories: result.categories, excerpts },
  };
}

// ---------------------------------------------------------------------------------------------
// Trust tiers: who answers an `ask`

function trustTierStage(): Stage {
  return {
    name: 'trust tiers',
    kind: 'tier',
    run(ctx) {
      const verdict = ctx.verdict;
      if (verdict?.verdict !== 'ask') return;
      const trust = sectionOf(ctx).trust;
      const score = trust?.initial ?? 0;
      const tiers = trust?.tiers ?? {};
      const tier: Tier = tiers.auto !== undefined && score >= tiers.auto ? 'auto'
        : tiers.peer !== undefined && score >= tiers.peer ? 'peer'
          : tiers.committee !== undefined && score >= tiers.committee ? 'committee'
            : 'human';
      if (tier === 'auto') {
        ctx.verdict = { ...verdict, verdict: 'allow', stage: 'tier', tier, reason: `${verdict.reason}; approved automatically: trust ${score} reaches the auto tier (${tiers.auto})` };
        return;
      }
      ctx.verdict = { ...verdict, stage: 'tier', tier, reason: `${verdict.reason}; trust ${score} puts it to the ${tier} tier` };
    },
  };
}
