// Operator approvals: the gateway's inbox of network actions that a sandbox in `ask` mode holds
// (the checkpoint's approvals stage asked; the proxy's hold hook waits here). Held actions are
// persisted as drafts, one per (sandbox, host, port, binary[, method, path]) while pending, pushed
// to every subscriber (`warden approvals watch`), and answered by an operator:
//
// - approve once: the held actions are decided again by the checkpoint under the policy plus the
//   draft's rule, for them only; they go through on their first try;
// - approve always: the rule becomes a new policy revision (the same path as `policy update`:
//   validated, audited, live) before the held actions are decided again under it;
// - deny: they are refused with code approval_denied, naming who decided and when.
//
// A held action is bounded in time (then refused with approval_timeout) and in number per sandbox.

import { type ApprovalDraft, type Decision, type DraftChange, explainAction, type Verdict } from '../checkpoint/index.js';
import type { HoldContext } from '../egress/index.js';
import type { Policy } from '../policy/index.js';
import { type ApprovalRecord, type ApprovalState, StoreConflictError, type Store } from '../store/index.js';
import { GatewayError } from './protocol.js';

/** How long a held action waits for an operator before it is refused (approval_timeout). */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 120_000;
/** How many actions one sandbox may have held at once; more are refused (approval_required) at once. */
export const MAX_HELD_PER_SANDBOX = 64;

export type HoldAnswer = Decision | { refuse: Verdict };

/** An approval as the CLI and the TUI see it: the draft shown, with the record's counters and state. */
export type ApprovalView = Omit<ApprovalRecord, 'key' | 'draft'> & Omit<ApprovalDraft, 'key' | 'code'> & { code: string };

export interface ApprovalEvent {
  /** pending: a new draft; hit: one more identical action; gone: a held client went away; decided: answered. */
  event: 'pending' | 'hit' | 'gone' | 'decided';
  approval: ApprovalView;
}

export interface ApprovalDeps {
  store: Store;
  /** The policy a running sandbox enforces now; undefined when it does not run. */
  policyOf(sandbox: string): Policy | undefined;
  /** `policy` with `changes` applied and validated (throws when they do not apply); with `inForce`, additions already in force are noted there and skipped. */
  withChanges(policy: Policy, changes: DraftChange[], inForce?: string[]): Policy;
  /** A new policy revision with `changes`, the way `policy update` makes one: validated, audited, live when it resolves. */
  revise(sandbox: string, changes: DraftChange[], actor: string, reason: string): Promise<{ rev: number }>;
  audit(kind: string, sandbox: string, actor: string, payload: unknown): void;
  log(line: string): void;
  timeoutMs?: number;
  maxHeld?: number;
}

interface Waiter {
  ctx: HoldContext;
  settle(answer: HoldAnswer): void;
}

export function approvalView(record: ApprovalRecord): ApprovalView {
  const draft = record.draft as ApprovalDraft;
  return {
    id: record.id, sandbox: record.sandbox, state: record.state, host: draft.host, port: draft.port, binary: draft.binary,
    ancestors: draft.ancestors, ...(draft.method !== undefined ? { method: draft.method } : {}), ...(draft.path !== undefined ? { path: draft.path } : {}),
    code: draft.code, reason: draft.reason, ruleMissing: draft.ruleMissing, ...(draft.addresses !== undefined ? { addresses: draft.addresses } : {}),
    changes: draft.changes, ...(draft.content !== undefined ? { content: draft.content } : {}), ...(draft.proposal !== undefined ? { proposal: draft.proposal } : {}),
    hits: record.hits, waiting: record.waiting, gone: record.gone, version: record.version,
    firstSeen: record.firstSeen, lastSeen: record.lastSeen, decidedBy: record.decidedBy, decidedAt: record.decidedAt, decision: record.decision,
  };
}

export class Approvals {
  /** Held actions by draft id. */
  private readonly waiters = new Map<number, Set<Waiter>>();
  private readonly heldBySandbox = new Map<string, number>();
  private readonly subscribers = new Set<(event: ApprovalEvent) => void>();
  /** Drafts being approved --always: their own revision does not close them as redundant. */
  private readonly approving = new Set<number>();
  private readonly timeoutMs: number;
  private readonly maxHeld: number;

  constructor(private readonly deps: ApprovalDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
    this.maxHeld = deps.maxHeld ?? MAX_HELD_PER_SANDBOX;
    // Held clients do not survive a gateway restart; their drafts do, marked so.
    const abandoned = deps.store.approvals.abandonWaiting();
    if (abandoned > 0) deps.log(`${abandoned} pending approval(s) had held requests when the gateway stopped: their clients are gone, the drafts stay pending`);
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  /** The proxy's hold hook for `sandbox`: persists the draft, tells subscribers, waits for the answer. */
  hold(sandbox: string, ctx: HoldContext): Promise<HoldAnswer> {
    const asked = ctx.decision.verdict;
    const draft = asked.approval;
    if (draft === undefined) return Promise.resolve({ refuse: { ...asked, verdict: 'deny', code: 'approval_required', reason: `${asked.reason}; nothing names what to approve` } });
    const held = this.heldBySandbox.get(sandbox) ?? 0;
    const full = held >= this.maxHeld;
    const { record, created } = this.deps.store.approvals.hit({ sandbox, key: draft.key, draft, waiting: !full });
    this.publish(created ? 'pending' : 'hit', record);
    if (full) {
      return Promise.resolve({ refuse: {
        ...asked, verdict: 'deny', code: 'approval_required',
        reason: `${asked.reason}; sandbox ${sandbox} has ${held} requests held already (at most ${this.maxHeld}), so this one is refused now`,
        hint: `approval #${record.id} stays pending: approve it (--always) and retry`,
      } });
    }
    const id = record.id;
    this.heldBySandbox.set(sandbox, held + 1);
    return new Promise<HoldAnswer>((resolve) => {
      let done = false;
      const set = this.waiters.get(id) ?? new Set<Waiter>();
      this.waiters.set(id, set);
      const onAbort = () => {
        this.deps.store.approvals.release(id, 1, true);
        const now = this.deps.store.approvals.get(id);
        if (now) this.publish('gone', now);
        waiter.settle({ refuse: { ...asked, verdict: 'deny', code: 'connection_closed', stage: 'transport', reason: `the client went away while approval #${id} was pending`, hint: '' } });
      };
      const timer = setTimeout(() => {
        this.deps.store.approvals.release(id, 1, false);
        waiter.settle({ refuse: {
          ...asked, verdict: 'deny', code: 'approval_timeout', stage: 'tier',
          reason: `${asked.reason}; no operator answered approval #${id} within ${Math.round(this.timeoutMs / 1000)} s`,
          hint: `it stays pending: \`warden approvals approve ${id} --always\` admits it for next time`,
        } });
      }, this.timeoutMs);
      const waiter: Waiter = {
        ctx,
        settle: (answer) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
          set.delete(waiter);
          if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
          this.heldBySandbox.set(sandbox, Math.max(0, (this.heldBySandbox.get(sandbox) ?? 1) - 1));
          resolve(answer);
        },
      };
      set.add(waiter);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * An agent's own proposal (warden.local/v1/proposals): a pending draft that holds nothing and is
   * never approved without an operator. An identical pending proposal is counted again, not added;
   * past `maxPending` proposals of the sandbox, undefined (refused).
   */
  propose(sandbox: string, draft: ApprovalDraft, maxPending: number): { filed: ApprovalView; created: boolean } | { refused: 'limit' | 'invalid' | 'in_force'; message: string } {
    // The rule must apply to the policy in force (a bad host is refused now, not at approval time).
    const current = this.deps.policyOf(sandbox);
    if (current !== undefined) {
      const inForce: string[] = [];
      try {
        this.deps.withChanges(current, draft.changes, inForce);
      } catch (error) {
        return { refused: 'invalid', message: `the proposed rule does not apply: ${(error as Error).message}` };
      }
      if (inForce.length > 0) return { refused: 'in_force', message: `the policy admits it already (${inForce.join('; ')})` };
    }
    const pendingProposals = this.deps.store.approvals.list({ sandbox, state: 'pending' }).filter((r) => (r.draft as ApprovalDraft).proposal !== undefined);
    if (pendingProposals.length >= maxPending && !pendingProposals.some((r) => r.key === draft.key)) {
      return { refused: 'limit', message: `sandbox ${sandbox} has ${maxPending} proposals waiting for an operator already (governance.proposals.max_pending)` };
    }
    const { record, created } = this.deps.store.approvals.hit({ sandbox, key: draft.key, draft, waiting: false });
    // One record per proposal filed; the same proposal again only counts a hit (no record per repeat).
    if (created) {
      this.deps.audit('approval.proposed', sandbox, `agent ${draft.proposal?.binary ?? '?'} pid ${draft.proposal?.pid ?? '?'}`, {
        id: record.id, key: draft.key, changes: draft.changes, reason: draft.proposal?.reason, ancestors: draft.proposal?.ancestors,
      });
    }
    this.publish(created ? 'pending' : 'hit', record);
    return { filed: approvalView(record), created };
  }

  list(filter: { sandbox?: string; state?: ApprovalState } = {}): ApprovalView[] {
    return this.deps.store.approvals.list(filter).map(approvalView);
  }

  /**
   * Approves a pending draft. `version`, when given, must be the one the operator was shown (a
   * draft that changed since is refused: show it again). With `always`, the rule is a new policy
   * revision, live before anything held is released.
   */
  async approve(id: number, options: { always: boolean; version?: number | undefined }, actor: string): Promise<ApprovalView & { rev?: number; released: number }> {
    const record = this.pending(id, options.version);
    const draft = record.draft as ApprovalDraft;
    if (draft.content !== undefined && options.always) {
      throw new GatewayError('not_a_rule', `approval #${id} is a response the directive scanner quarantined: it adds no rule, so it can only be approved once (without --always) or denied`);
    }
    // A proposal holds no request that approving once could release: it is a rule, or nothing.
    if (draft.proposal !== undefined && !options.always) {
      throw new GatewayError('proposal', `approval #${id} is an agent's proposal (nothing is held): approve it with --always (writes its rule) or deny it`);
    }
    let rev: number | undefined;
    if (options.always) {
      // Through the same validation and audit as `policy update`; failing, nothing is decided.
      this.approving.add(id);
      try {
        rev = (await this.deps.revise(record.sandbox, draft.changes, actor, `approval #${id}: ${describe(draft)}`)).rev;
      } finally {
        this.approving.delete(id);
      }
    }
    const decided = this.decide(id, 'approved', actor, options.always ? 'always' : 'once', options.always ? undefined : options.version);
    this.deps.audit('approval.approved', record.sandbox, actor, { id, always: options.always, ...(rev !== undefined ? { rev } : {}), key: draft.key, changes: draft.changes, hits: record.hits });
    const held = this.take(id);
    let overlay: Policy | undefined;
    if (!options.always && draft.content === undefined) {
      const current = this.deps.policyOf(record.sandbox);
      try {
        overlay = current === undefined ? undefined : this.deps.withChanges(current, draft.changes);
      } catch {
        // The policy admits it already (changed meanwhile): decided under the policy in force.
        overlay = undefined;
      }
    }
    for (const waiter of held) {
      // A held response is released by the operator's word alone; an action is decided again.
      const answered = draft.content !== undefined ? releasedBy(waiter.ctx, actor) : waiter.ctx.redecide(overlay);
      answered.then(waiter.settle, (error: unknown) => waiter.settle({ refuse: {
        ...waiter.ctx.decision.verdict, verdict: 'deny', code: 'approval_required', reason: `approved, but deciding it again failed: ${(error as Error).message}`,
      } }));
    }
    this.deps.store.approvals.release(id, held.length, false);
    this.publish('decided', decided);
    return { ...approvalView(this.deps.store.approvals.get(id)!), ...(rev !== undefined ? { rev } : {}), released: held.length };
  }

  /** Denies a pending draft: what is held gets 403 approval_denied with who and when. */
  deny(id: number, actor: string, version?: number): ApprovalView & { released: number } {
    const record = this.pending(id, version);
    const decided = this.decide(id, 'denied', actor, 'denied', version);
    const draft = record.draft as ApprovalDraft;
    this.deps.audit('approval.denied', record.sandbox, actor, { id, key: draft.key, hits: record.hits });
    const held = this.take(id);
    for (const waiter of held) {
      waiter.settle({ refuse: {
        ...waiter.ctx.decision.verdict, verdict: 'deny', code: 'approval_denied', stage: 'tier',
        reason: `an operator (${actor}) denied it at ${decided.decidedAt}`, rule_missing: draft.ruleMissing, hint: 'ask the operator',
        decidedBy: actor, decidedAt: decided.decidedAt!,
      } });
    }
    this.deps.store.approvals.release(id, held.length, false);
    this.publish('decided', decided);
    return { ...approvalView(this.deps.store.approvals.get(id)!), released: held.length };
  }

  /**
   * After a new policy revision of `sandbox`: pending drafts it now admits are closed as redundant,
   * and what they held is decided again (under the policy in force) and released.
   */
  async policyChanged(sandbox: string, policy: Policy): Promise<number> {
    let closed = 0;
    for (const record of this.deps.store.approvals.list({ sandbox, state: 'pending' })) {
      if (this.approving.has(record.id)) continue;
      const draft = record.draft as ApprovalDraft;
      // Security invariant: a quarantined response is released by an operator only. The policy
      // admitting its request (it always did) says nothing about what the response says.
      if (draft.content !== undefined) continue;
      const explained = await explainAction(policy, {
        binary: draft.binary, ancestors: draft.ancestors, host: draft.host, port: draft.port,
        ...(draft.method !== undefined ? { method: draft.method, path: draft.path ?? '/' } : {}),
        ...(draft.addresses !== undefined ? { resolve: { [draft.host]: draft.addresses } } : {}),
      }).catch((error: unknown) => { this.deps.log(`explain #${record.id}: ${(error as Error).message}`); return undefined; });
      if (explained?.verdict !== 'allow') continue;
      let decided: ApprovalRecord;
      try {
        decided = this.deps.store.approvals.decide(record.id, 'closed', 'gateway', 'redundant');
      } catch {
        continue;
      }
      closed++;
      this.deps.audit('approval.closed', sandbox, 'gateway', { id: record.id, key: draft.key, reason: 'a policy change admits it' });
      const held = this.take(record.id);
      for (const waiter of held) {
        waiter.ctx.redecide().then(waiter.settle, (error: unknown) => waiter.settle({ refuse: {
          ...waiter.ctx.decision.verdict, verdict: 'deny', code: 'approval_required', reason: `deciding it again failed: ${(error as Error).message}`,
        } }));
      }
      this.deps.store.approvals.release(record.id, held.length, false);
      this.publish('decided', decided);
    }
    return closed;
  }

  /** Told every event from now on, until the returned function is called. */
  subscribe(listener: (event: ApprovalEvent) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  private pending(id: number, version: number | undefined): ApprovalRecord {
    const record = this.deps.store.approvals.get(id);
    if (!record) throw new GatewayError('not_found', `no approval #${id} (\`warden approvals list\` shows them)`);
    if (record.state !== 'pending') throw new GatewayError('decided', `approval #${id} is ${record.state} already${record.decidedBy ? ` (${record.decision} by ${record.decidedBy} at ${record.decidedAt})` : ''}`);
    if (version !== undefined && version !== record.version) {
      throw new GatewayError('draft_changed', `approval #${id} changed since it was shown (version ${version}, now ${record.version}, ${record.hits} hits): look at it again before deciding`);
    }
    return record;
  }

  private decide(id: number, state: 'approved' | 'denied', actor: string, decision: string, version: number | undefined): ApprovalRecord {
    try {
      return this.deps.store.approvals.decide(id, state, actor, decision, version);
    } catch (error) {
      if (error instanceof StoreConflictError) throw new GatewayError('decided', error.message);
      throw error;
    }
  }

  private take(id: number): Waiter[] {
    const set = this.waiters.get(id);
    this.waiters.delete(id);
    return set ? [...set] : [];
  }

  private publish(event: ApprovalEvent['event'], record: ApprovalRecord): void {
    if (this.subscribers.size === 0) return;
    const message: ApprovalEvent = { event, approval: approvalView(record) };
    for (const listener of this.subscribers) {
      try {
        listener(message);
      } catch (error) {
        this.deps.log(`an approvals subscriber failed: ${(error as Error).message}`);
      }
    }
  }
}

function releasedBy(ctx: HoldContext, actor: string): Promise<HoldAnswer> {
  if (ctx.release === undefined) return Promise.resolve({ refuse: { ...ctx.decision.verdict, verdict: 'deny', code: 'approval_required', reason: 'approved, but what was held cannot be released' } });
  return ctx.release(actor);
}

/** One line about a draft: `curl -> 127.0.0.1:8080 GET /x`. */
export function describe(draft: Pick<ApprovalDraft, 'binary' | 'host' | 'port' | 'method' | 'path'>): string {
  return `${draft.binary} -> ${draft.host}:${draft.port}${draft.method !== undefined ? ` ${draft.method} ${draft.path ?? ''}` : ''}`;
}
