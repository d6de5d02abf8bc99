// The decision pipeline. One Checkpoint per sandbox: every action of that sandbox (a connection,
// a request, a model call, a tool call, a message, a request for permission, content reaching the
// agent) is decided here by ordered stages, recorded, and only then enforced by its caller.
//
// Security invariants:
// - deny by default: an action no stage decides is denied;
// - a denial is final: later stages cannot turn it into anything else;
// - no audit record, no action: an allow, ask or reroute is returned only after its record is
//   committed; when recording fails the action is denied (audit_unavailable).

import { performance } from 'node:perf_hooks';
import type { DecisionKind, DecisionRecord } from '../audit/index.js';
import { BinaryLedger, type Policy, PolicyCompiler } from '../policy/index.js';
import { buildRecord, decisionKind } from './record.js';
import { contentStage } from './stages/content.js';
import { identityStage } from './stages/identity.js';
import { modelCallStage } from './stages/inference.js';
import { networkPolicyStage } from './stages/network.js';
import {
  type Action, type ContentAction, type Decision, type ExplainTrace, type NetworkFacts, type Resolver, type Stage, STAGE_KINDS, type StageContext,
  type Subject, type Verdict,
} from './types.js';

/** Commits a record to the audit log; the promise settles when it is durable (or failed). */
export type Recorder = (record: DecisionRecord, kind: DecisionKind) => Promise<unknown> | void;

export interface CheckpointOptions {
  sandbox: string;
  /** Read on every decision, so a new policy object applies to the next action. */
  policy: () => Policy;
  /** Where decisions go. Without one nothing is recorded (explain). */
  recorder?: Recorder;
  /** Stages added after the built-in ones of the same kind. */
  stages?: readonly Stage[];
}

export interface DecideOptions {
  /** Name resolution for network actions; default: none (names cannot be decided). */
  resolve?: Resolver;
  /** performance.now() when the action arrived; default now. */
  startedAt?: number;
  /** False to decide without recording (re-checking an open connection, explaining). */
  record?: boolean;
  explain?: ExplainTrace;
  /**
   * Decide under this policy instead of the one in force: an action an operator approved once is
   * decided under the policy plus the approved rule, for this action only.
   */
  policy?: Policy;
}

const noResolver: Resolver = (host) => Promise.reject(new Error(`no resolver for ${host}`));

export class Checkpoint {
  private readonly stages: Stage[] = [];
  private readonly compiler = new PolicyCompiler();
  /** Trust on first use of each executable path, for this sandbox's lifetime. */
  readonly ledger = new BinaryLedger();
  private lastPolicy: Policy | undefined;
  private policyGeneration = 0;

  constructor(private readonly options: CheckpointOptions) {
    for (const stage of [identityStage, networkPolicyStage(this.compiler, this.ledger), modelCallStage, contentStage, ...(options.stages ?? [])]) this.register(stage);
  }

  get sandbox(): string {
    return this.options.sandbox;
  }

  /** Adds a stage after the others of its kind (stages run identity, policy, governance, tier). */
  register(stage: Stage): void {
    const rank = STAGE_KINDS.indexOf(stage.kind);
    if (rank < 0) throw new Error(`stage ${stage.name} has an unknown kind ${String(stage.kind)}`);
    const at = this.stages.findIndex((s) => STAGE_KINDS.indexOf(s.kind) > rank);
    if (at < 0) this.stages.push(stage);
    else this.stages.splice(at, 0, stage);
  }

  /** The stages in the order they run (for `policy explain` and tests). */
  get stageNames(): string[] {
    return this.stages.map((s) => `${s.kind}:${s.name}`);
  }

  /** The policy in force now. */
  policyInForce(): Policy {
    return this.currentPolicy();
  }

  /**
   * Whether any stage looks at content from `source` under the policy in force: an enforcement
   * point reads a body whole (and pays for it) only then.
   */
  collects(source: ContentAction['source']): boolean {
    const policy = this.currentPolicy();
    return this.stages.some((stage) => stage.collects?.(source, policy) === true);
  }

  /** Bumped whenever the policy object changes: what was decided under an older one is re-decided. */
  get generation(): number {
    this.currentPolicy();
    return this.policyGeneration;
  }

  async decide(action: Action, subject: Subject, options: DecideOptions = {}): Promise<Decision> {
    const startedAt = options.startedAt ?? performance.now();
    const ctx: StageContext = {
      action,
      subject,
      policy: options.policy ?? this.currentPolicy(),
      verdict: undefined,
      network: undefined,
      resolve: options.resolve ?? noResolver,
      explain: options.explain,
    };
    for (const stage of this.stages) {
      const pending = stage.run(ctx);
      if (pending !== undefined) await pending;
      if (ctx.verdict?.verdict === 'deny') {
        await this.review(ctx, ctx.verdict);
        break;
      }
    }
    const verdict = ctx.verdict ?? noDecision(action);
    for (const stage of this.stages) stage.observe?.(action, verdict, ctx.policy);
    if (options.record === false || this.options.recorder === undefined) return withNetwork({ verdict }, ctx.network);
    return this.commit(action, subject, verdict, ctx.network, startedAt);
  }

  /**
   * Records an outcome the enforcement point reached itself (a malformed request, a failed
   * upstream, a connection closed after a policy change) as the same typed record. Never awaited
   * by the caller: these are refusals.
   */
  report(action: Action, subject: Subject, verdict: Verdict, startedAt = performance.now(), network?: NetworkFacts): DecisionRecord {
    const record = buildRecord({ action, subject, verdict, network, startedAt });
    this.send(record, decisionKind(action)).catch(() => undefined);
    return record;
  }

  /**
   * A denial is final, with one exception: a denial of the policy stage may be put to an operator
   * (an ask) by a stage that reviews denials. Security invariant: only an ask is taken from a
   * reviewer, so no stage can turn a denial into an allow; identity, governance and transport
   * denials are never reviewed.
   */
  private async review(ctx: StageContext, denial: Verdict): Promise<void> {
    if (denial.stage !== 'policy' || ctx.explain !== undefined) return;
    for (const stage of this.stages) {
      if (stage.review === undefined) continue;
      const asked = await stage.review(ctx, denial);
      if (asked?.verdict === 'ask') {
        ctx.verdict = asked;
        return;
      }
    }
  }

  private async commit(action: Action, subject: Subject, verdict: Verdict, network: NetworkFacts | undefined, startedAt: number): Promise<Decision> {
    const record = buildRecord({ action, subject, verdict, network, startedAt });
    if (verdict.verdict === 'deny') {
      this.send(record, decisionKind(action)).catch(() => undefined);
      return withNetwork({ verdict, record }, network);
    }
    try {
      await this.send(record, decisionKind(action));
      return withNetwork({ verdict, record }, network);
    } catch {
      const refused: Verdict = {
        verdict: 'deny',
        code: 'audit_unavailable',
        stage: 'audit',
        ...(verdict.policy !== undefined ? { policy: verdict.policy } : {}),
        reason: 'the decision could not be recorded in the audit log, so the action is refused',
        rule_missing: 'a working audit log',
        hint: 'the operator can check with `warden doctor`',
      };
      return { verdict: refused, record: this.report(action, subject, refused, startedAt, network) };
    }
  }

  private async send(record: DecisionRecord, kind: DecisionKind): Promise<void> {
    await this.options.recorder?.(record, kind);
  }

  private currentPolicy(): Policy {
    const policy = this.options.policy();
    if (policy !== this.lastPolicy) {
      this.lastPolicy = policy;
      this.policyGeneration++;
    }
    return policy;
  }
}

function withNetwork(decision: Decision, network: NetworkFacts | undefined): Decision {
  if (network !== undefined) decision.network = network;
  return decision;
}

function noDecision(action: Action): Verdict {
  return {
    verdict: 'deny',
    code: 'no_decision',
    stage: 'policy',
    reason: `nothing in warden decides ${action.type.replace('_', ' ')} actions yet, so it is denied`,
    rule_missing: `a stage that decides ${action.type} actions`,
    hint: 'actions warden cannot decide are always refused',
  };
}

export function createCheckpoint(options: CheckpointOptions): Checkpoint {
  return new Checkpoint(options);
}
