import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appendAudit, auditTail, type AuditTailRecord, decisionNotice, followAudit, type AuditWriter, type DecisionRecord } from '../audit/index.js';
import type { Policy, PolicyLoader } from '../policy/index.js';
import { proxyIgnoredNotice } from '../egress/index.js';
import { createWorkdir, leaseSandboxUid, makeDirectoriesSafely, releaseSandboxUid, resolveSandboxUser, startProblem } from '../sandbox/index.js';
import { isValidSandboxName, secureHomeMode, StoreConflictError, type SandboxRecord, type Store } from '../store/index.js';
import { makePlaceholders, type Placeholders, type ProviderStore, uninspectedCredentialEndpoints } from '../inference/index.js';
import { LiveSandbox, type ExecChannel, type ExecSink, type SandboxExtras } from './live.js';
import { checkLayer } from '../blueprint/index.js';
import { Forwards, forwardsFile, type ForwardView } from './forwards.js';
import { Approvals } from './approvals.js';
import { ProviderOps } from './providers.js';
import { gatewayPaths, sandboxDirectory } from './paths.js';
import type { Op, OpArgs } from './api.js';
import { GatewayError } from './protocol.js';

export interface SandboxView extends SandboxRecord {
  pid?: number;
  startedAt?: string;
  execs?: number;
  /** The exit code of the sandbox's main command, once it has exited (the sandbox still runs). */
  mainExitCode?: number;
  /** Set by create when the default workdir kept by an earlier plain delete is used again. */
  reusedWorkdir?: string;
  /** The blueprint it was launched from (`warden launch`). */
  blueprint?: string;
  /** Its ports forwarded to the host (`warden forward`). */
  forwards?: ForwardView[];
}

/** What a blueprint's sandbox keeps beside its other files (blueprint.json, 0600): its layer and files. */
export interface BlueprintAttachment {
  name: string;
  layer: string;
  files: Array<{ path: string; content: string }>;
  values?: Record<string, string>;
}

/** A sandbox's blueprint attachment as kept on the host (for its launcher), or undefined. */
export function readBlueprintAttachment(home: string, sandboxName: string): BlueprintAttachment | undefined {
  try {
    return JSON.parse(readFileSync(path.join(sandboxDirectory(home, sandboxName).dir, 'blueprint.json'), 'utf8')) as BlueprintAttachment;
  } catch {
    return undefined;
  }
}

/** What `sandbox delete` did: what it removed and what it kept (and where). */
export interface DeleteResult {
  name: string;
  /** The default workdir when it was removed (kept for older clients), else null. */
  purged: string | null;
  removed: string[];
  kept: string[];
}


/**
 * The gateway's sandboxes: their records in the store (which outlive the gateway) and the live
 * ones in this process. Every change is committed, with its audit record, before it is reported.
 */
export class SandboxManager {
  private readonly live = new Map<string, LiveSandbox>();
  /** Set while the audit log refuses records: every action that needs one is refused meanwhile. */
  private auditFault: string | undefined;
  /** Per sandbox, the execs that print its network denials on their client's stderr. */
  private readonly noticeSinks = new Map<string, Set<(line: string) => void>>();
  /** One lifecycle change at a time per sandbox: a start racing a delete must not resurrect it. */
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly providerOps: ProviderOps;
  readonly approvals: Approvals;
  private readonly forwards: Forwards;
  /** Told every decision record of every sandbox once it is in the audit log (`warden term`). */
  private readonly decisionListeners = new Set<(record: DecisionRecord) => void>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    /** The policy loader: every policy the gateway stores or applies is checked as a file is. */
    private readonly loader: PolicyLoader,
    private readonly home: string,
    private readonly log: (line: string) => void,
    private readonly providers: ProviderStore,
  ) {
    mkdirSync(gatewayPaths(home).sandboxes, { recursive: true, mode: 0o711 });
    this.forwards = new Forwards((sandbox) => forwardsFile(sandboxDirectory(home, sandbox).dir), log);
    this.providerOps = new ProviderOps(providers, (kind, payload, actor) => this.audit(kind, null, actor, payload));
    const timeout = Number(process.env.WARDEN_APPROVAL_TIMEOUT_MS);
    this.approvals = new Approvals({
      store,
      policyOf: (sandboxName) => this.live.get(sandboxName)?.currentPolicy,
      withChanges: (policy, changes, inForce) => this.loader.applyPolicyChanges(policy, changes, inForce !== undefined ? { inForce } : {}),
      revise: (sandboxName, changes, actor, reason) => this.serialised(sandboxName, () =>
        this.revise(sandboxName, (current) => this.loader.applyPolicyChanges(current, changes), actor, reason)),
      audit: (kind, sandboxName, actor, payload) => this.audit(kind, sandboxName, actor, payload),
      log,
      ...(Number.isInteger(timeout) && timeout > 0 ? { timeoutMs: timeout } : {}),
    });
  }

  /** Operations served here (exec and gateway.stop are the daemon's own). Arguments are already checked against api.ts. */
  private readonly handlers: { [O in Exclude<Op, 'exec' | 'gateway.stop' | 'approvals.watch'>]: (args: OpArgs<O>, actor: string) => Promise<unknown> | unknown } = {
    ping: () => ({ pid: process.pid, sandboxes: this.live.size, ...(this.auditFault ? { auditFault: this.auditFault } : {}) }),
    'sandbox.list': () => this.store.sandboxes.list().map((record) => this.view(record)),
    'sandbox.get': (args) => this.view(this.mustGet(args.name)),
    'sandbox.create': (args, actor) => this.serialised(args.name, () => this.create(args, actor)),
    'sandbox.start': (args, actor) => this.serialised(args.name, () => this.start(args.name, actor)),
    'sandbox.stop': (args, actor) => this.serialised(args.name, () => this.stop(args.name, actor)),
    'sandbox.delete': (args, actor) => this.serialised(args.name, () => this.delete(args.name, args.purge === true, actor)),
    'policy.set': (args, actor) => this.serialised(args.name, () => this.revise(args.name, () => this.validated(args.policy), actor, args.reason)),
    'policy.update': (args, actor) => this.serialised(args.name, () =>
      this.revise(args.name, (current, inForce) => this.loader.applyPolicyChanges(current, args.changes, { inForce }), actor, args.reason)),
    'policy.add-preset': (args, actor) => this.serialised(args.name, () =>
      this.revise(args.name, (current) => this.loader.mergePolicies(current, this.loader.loadPreset(args.preset)), actor, args.reason ?? `preset ${args.preset}`)),
    'sandbox.update': (args, actor) => this.serialised(args.name, () => Promise.resolve(this.update(args, actor))),
    'approvals.list': (args) => {
      if (args.sandbox !== undefined) this.requireSandbox(args.sandbox);
      return this.approvals.list({
        ...(args.sandbox !== undefined ? { sandbox: args.sandbox } : {}),
        ...(args.state !== undefined ? { state: args.state } : args.all === true ? {} : { state: 'pending' as const }),
      });
    },
    'approvals.approve': (args, actor) => this.approvals.approve(args.id, { always: args.always === true, version: args.version }, actor),
    'approvals.deny': (args, actor) => this.approvals.deny(args.id, actor, args.version),
    'audit.tail': (args) => this.auditTail(args.limit ?? 100, args.sandbox),
    'policy.history': (args) => this.policyHistory(args.name),
    'provider.create': (args, actor) => this.providerOps.create(args, actor),
    'provider.list': () => this.providerOps.list(),
    'provider.get': (args) => this.providerOps.get(args),
    'provider.update': (args, actor) => this.providerOps.update(args, actor),
    'provider.delete': (args, actor) => this.providerOps.delete(args, actor),
    'inference.set': (args, actor) => this.providerOps.setRoute(args, actor),
    'inference.get': () => this.providerOps.routes(),
    'provider.check': (args) => this.providerOps.check(args),
    'forward.add': (args, actor) => this.serialised(args.name, () => this.addForward(args, actor)),
    'forward.remove': (args, actor) => this.serialised(args.name, () => Promise.resolve(this.removeForward(args, actor))),
    'forward.list': (args) => {
      if (args.name !== undefined) {
        this.mustGet(args.name);
        return this.forwards.list(args.name);
      }
      return this.store.sandboxes.list().flatMap((record) => this.forwards.list(record.name));
    },
  };

  async call<O extends Exclude<Op, 'exec' | 'gateway.stop' | 'approvals.watch'>>(op: O, args: OpArgs<O>, actor: string): Promise<unknown> {
    const handler = this.handlers[op] as (args: OpArgs<O>, actor: string) => Promise<unknown> | unknown;
    return handler(args, actor);
  }

  /** Told every decision record from now on, until the returned function is called. */
  onDecision(listener: (record: DecisionRecord) => void): () => void {
    this.decisionListeners.add(listener);
    return () => this.decisionListeners.delete(listener);
  }

  /** Told every audit record once it is committed, in batches, until the returned function is called. */
  onAudit(listener: (records: AuditTailRecord[]) => void): () => void {
    return followAudit(this.store, listener);
  }

  /** The newest `limit` audit records (of `sandbox` only, when given), oldest first. */
  private auditTail(limit: number, sandbox: string | undefined): AuditTailRecord[] {
    if (sandbox === undefined) return auditTail(this.store, limit);
    // Records of one sandbox are among the newest few thousand, or too old for a tail.
    return auditTail(this.store, Math.max(limit, 5000)).filter((r) => r.sandbox === sandbox).slice(-limit);
  }

  /** Each revision with its difference to the one before, rendered as the CLI's `policy diff` does. */
  private policyHistory(sandboxName: string): Array<{ rev: number; createdAt: string; author: string; reason: string | null; diff: string[] }> {
    this.mustGet(sandboxName);
    return this.store.policies.list(sandboxName).map((r) => ({
      rev: r.rev, createdAt: r.createdAt, author: r.author, reason: r.reason,
      diff: r.diff === null ? [] : this.loader.renderDiff(r.diff as Parameters<PolicyLoader['renderDiff']>[0]).split('\n'),
    }));
  }

  private tellDecision(record: DecisionRecord): void {
    for (const listener of this.decisionListeners) {
      try {
        listener(record);
      } catch (error) {
        this.log(`a decision subscriber failed: ${(error as Error).message}`);
      }
    }
  }

  /** After a gateway restart (or a reboot): sandboxes that were running run again. */
  async restoreRunning(): Promise<void> {
    for (const record of this.store.sandboxes.list()) {
      if (record.state !== 'running' && record.state !== 'creating') continue;
      // Its processes ended with the previous gateway (stopped, killed or crashed): say so in the
      // audit log before it starts again, so that the log has no start without a stop.
      // Committed now, so that it precedes the new sandbox.started in the log.
      try {
        this.store.transaction(() => appendAudit(this.store, {
          kind: 'sandbox.stopped', sandbox: record.name, actor: 'gateway', payload: { reason: 'its processes ended with the previous gateway; restarting it' },
        }));
      } catch (error) {
        this.log(`could not record that sandbox ${record.name} stopped with the previous gateway: ${(error as Error).message}`);
      }
      try {
        await this.launch(record, 'gateway');
        this.log(`restored sandbox ${record.name}`);
      } catch (error) {
        this.log(`could not restore sandbox ${record.name}: ${(error as Error).message}`);
      }
    }
  }

  async shutdown(): Promise<void> {
    // Records keep their state: the sandboxes come back when the gateway does.
    await Promise.all([...this.live.values()].map((sandbox) => sandbox.stop()));
    this.live.clear();
  }

  /**
   * Starts a command in a running sandbox for a client. The audit records of the exec are the
   * gateway's own: who asked (from the socket's peer credentials), what it asked to run, when the
   * supervisor started it and how it ended, with the bytes the gateway relayed each way.
   */
  openExec(args: OpArgs<'exec'>, actor: string, sink: ExecSink): ExecChannel & { sandbox: string } {
    const sandboxName = args.name;
    const sandbox = this.live.get(sandboxName);
    if (!sandbox) {
      const record = this.store.sandboxes.get(sandboxName);
      throw record
        ? new GatewayError('not_running', `sandbox ${sandboxName} is ${record.state}: start it with \`warden sandbox start ${sandboxName}\``)
        : notFound(sandboxName);
    }
    const argv = args.argv;
    const env = args.env ?? {};
    const tty = args.tty ?? null;
    const cwd = args.cwd;
    const problem = startProblem({ argv, env, cwd: cwd ?? '/', tty });
    if (problem) throw new GatewayError('bad_request', `exec: ${problem}`);
    // No audit record, no action: who asked to run what is committed before anything starts.
    try {
      appendAudit(this.store, { kind: 'exec.requested', sandbox: sandboxName, actor, payload: { argv, tty: tty !== null, ...(cwd !== undefined ? { cwd } : {}) } });
      this.auditFault = undefined;
    } catch (error) {
      this.auditFault = `the audit log refused a record (${(error as Error).message}); actions that need a record are refused`;
      throw new GatewayError('audit_unavailable', `the exec could not be recorded in the audit log, so it was not started: ${(error as Error).message}`);
    }
    const startedAt = Date.now();
    const relayed = { stdin: 0, stdout: 0, stderr: 0 };
    let execId = 0;
    const record = (kind: string, payload: object) => this.audit(kind, sandboxName, actor, { id: execId, argv, tty: tty !== null, ...payload });
    // While it runs, the sandbox's denials go to this client's stderr too, as `warden run` prints them.
    const tell = args.denials !== false && sink.notice ? sink.notice.bind(sink) : undefined;
    const notices = this.noticeSinks.get(sandboxName) ?? new Set<(line: string) => void>();
    if (tell) {
      notices.add(tell);
      this.noticeSinks.set(sandboxName, notices);
    }
    const stopTelling = () => {
      if (tell === undefined) return;
      notices.delete(tell);
      if (notices.size === 0 && this.noticeSinks.get(sandboxName) === notices) this.noticeSinks.delete(sandboxName);
    };
    let channel: ExecChannel;
    try {
      channel = sandbox.exec({ argv, env, tty, ...(cwd !== undefined ? { cwd } : {}) }, {
        started: (pid) => {
          record('exec.started', { pid });
          sink.started(pid);
        },
        output: (stream, data) => {
          relayed[stream] += data.length;
          sink.output(stream, data);
        },
        failed: (code, message) => {
          stopTelling();
          record('exec.exited', { code, failed: message, duration_ms: Date.now() - startedAt, bytes: relayed });
          sink.failed(code, message);
        },
        exited: (code) => {
          stopTelling();
          record('exec.exited', { code, duration_ms: Date.now() - startedAt, bytes: relayed });
          sink.exited(code);
        },
        stdinReady: () => sink.stdinReady(),
      });
    } catch (error) {
      stopTelling();
      throw new GatewayError('busy', (error as Error).message);
    }
    execId = channel.id;
    return {
      ...channel,
      sandbox: sandboxName,
      stdin: (data) => {
        relayed.stdin += data.length;
        return channel.stdin(data);
      },
    };
  }

  private async create(args: OpArgs<'sandbox.create'>, actor: string): Promise<SandboxView> {
    const sandboxName = args.name;
    if (!isValidSandboxName(sandboxName)) {
      throw new GatewayError('bad_name', `${JSON.stringify(sandboxName)} is not a valid name: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if (this.store.sandboxes.get(sandboxName)) throw new GatewayError('exists', `a sandbox named ${sandboxName} exists already (\`warden sandbox get ${sandboxName}\`)`);
    const policy = this.validated(args.policy);
    // Whether warden's directory for this name is left from an earlier sandbox (a plain delete).
    const ownBefore = existsSync(sandboxDirectory(this.home, sandboxName).dir);
    if (!policy.filesystem_policy.include_workdir && args.workdir !== undefined) {
      throw new GatewayError('bad_workdir', `--workdir ${args.workdir} is given, but the policy's filesystem_policy has include_workdir: false, ` +
        'so no workdir would be mounted: set include_workdir: true, or leave out --workdir');
    }
    const credentials = this.placeholdersFor(args.providers ?? [], policy, args.env ?? {});
    if (args.blueprint !== undefined) this.blueprintExtras(args.blueprint);
    const forwards = (args.forwards ?? []).map((f) => ({ port: f.port, hostPort: f.hostPort }));
    for (const [i, spec] of forwards.entries()) {
      if (forwards.findIndex((other) => other.port === spec.port || other.hostPort === spec.hostPort) !== i) {
        throw new GatewayError('bad_request', `--forward ${spec.port}:${spec.hostPort} repeats a port`);
      }
      this.forwards.check(sandboxName, spec, () => this.allForwards());
    }
    const { workdir, reused } = this.prepareWorkdir(sandboxName, args.workdir, policy);
    this.writeOwn(sandboxName, 'blueprint.json', args.blueprint);
    this.forwards.forget(sandboxName);
    for (const spec of forwards) this.forwards.saveOnly(sandboxName, spec);
    if (credentials.providers.length > 0) this.writePlaceholders(sandboxName, credentials.placeholders);
    else rmSync(path.join(sandboxDirectory(this.home, sandboxName).dir, 'placeholders.json'), { force: true });
    let record: SandboxRecord;
    try {
      record = this.store.transaction(() => {
        const created = this.store.sandboxes.create({
          name: sandboxName, workdir, env: { ...args.env, ...credentials.env }, command: args.command ?? [],
          presets: args.presets ?? [], policy, author: actor, reason: args.reason ?? 'created', approvalMode: args.approvalMode ?? 'deny',
        });
        appendAudit(this.store, { kind: 'sandbox.created', sandbox: sandboxName, actor, payload: {
          workdir, presets: created.presets, command: created.command, policyRev: 1, providers: credentials.providers, approvalMode: created.approvalMode,
          ...(args.blueprint !== undefined ? { blueprint: args.blueprint.name, layer: args.blueprint.layer } : {}),
          ...(forwards.length > 0 ? { forwards } : {}),
        } });
        return created;
      });
    } catch (error) {
      if (error instanceof StoreConflictError) throw new GatewayError('exists', `a sandbox named ${sandboxName} exists already`);
      throw error;
    }
    try {
      await this.launch(record, actor);
    } catch (error) {
      // A sandbox that never started is not kept: the name is free again, and what this create
      // made for it goes (a kept directory from an earlier sandbox stays, as does a --workdir).
      this.store.transaction(() => {
        this.store.sandboxes.delete(sandboxName);
        appendAudit(this.store, { kind: 'sandbox.deleted', sandbox: sandboxName, actor, payload: { purge: !ownBefore, reason: 'its first start failed' } });
      });
      this.writeOwn(sandboxName, 'blueprint.json', undefined);
      this.forwards.forget(sandboxName);
      if (!ownBefore) {
        rmSync(sandboxDirectory(this.home, sandboxName).dir, { recursive: true, force: true });
        if (isRoot()) releaseSandboxUid(this.home, sandboxName);
      }
      if (error instanceof GatewayError) throw new GatewayError(error.code, `${error.message}\nThe sandbox was not created: fix the cause and create it again.`);
      throw error;
    }
    return { ...this.view(this.mustGet(sandboxName)), ...(reused ? { reusedWorkdir: workdir } : {}) };
  }

  /**
   * Settings that change live: the approval mode applies to the next action; a new main command
   * is recorded and, when the sandbox runs with no main command running, started now.
   */
  private update(args: OpArgs<'sandbox.update'>, actor: string): SandboxView {
    const before = this.mustGet(args.name);
    const record = this.store.transaction(() => {
      let updated = before;
      if (args.approvalMode !== undefined) updated = this.store.sandboxes.setApprovalMode(args.name, args.approvalMode);
      if (args.command !== undefined) updated = this.store.sandboxes.setCommand(args.name, args.command);
      appendAudit(this.store, { kind: 'sandbox.updated', sandbox: args.name, actor, payload: {
        ...(args.approvalMode !== undefined ? { approvalMode: { before: before.approvalMode, after: args.approvalMode } } : {}),
        ...(args.command !== undefined ? { command: { before: before.command, after: args.command } } : {}),
      } });
      return updated;
    });
    const live = this.live.get(args.name);
    if (live) {
      live.approvalMode = record.approvalMode;
      if (args.command !== undefined && !live.mainRunning) live.startMain(record.command, {});
    }
    return this.view(record);
  }

  private async start(sandboxName: string, actor: string): Promise<SandboxView> {
    const record = this.mustGet(sandboxName);
    if (!this.live.has(sandboxName)) await this.launch(record, actor);
    return this.view(this.mustGet(sandboxName));
  }

  private async stop(sandboxName: string, actor: string): Promise<SandboxView> {
    this.mustGet(sandboxName);
    await this.halt(sandboxName);
    this.store.transaction(() => {
      this.store.sandboxes.setState(sandboxName, 'stopped');
      appendAudit(this.store, { kind: 'sandbox.stopped', sandbox: sandboxName, actor, payload: {} });
    });
    return this.view(this.mustGet(sandboxName));
  }

  /**
   * Deletes a sandbox's record (its audit history stays). Nothing the agent wrote goes with it
   * unless `purge` says so: without it warden's directory for the sandbox (the default workdir,
   * its home, main.log) and its uid stay, and `sandbox create NAME` uses them again. With it,
   * warden's own directory and uid go; a workdir the user gave with --workdir is never deleted
   * (it is the user's project: warden did not make it). A name with no record but a kept
   * directory can be purged too (the second step after a plain delete).
   */
  private async delete(sandboxName: string, purge: boolean, actor: string): Promise<DeleteResult> {
    const record = this.store.sandboxes.get(sandboxName);
    const own = sandboxDirectory(this.home, sandboxName);
    if (!record && !(purge && isValidSandboxName(sandboxName) && existsSync(own.dir))) throw notFound(sandboxName);
    if (record) {
      await this.halt(sandboxName);
      this.store.transaction(() => {
        this.store.sandboxes.delete(sandboxName);
        appendAudit(this.store, { kind: 'sandbox.deleted', sandbox: sandboxName, actor, payload: { purge, workdir: record.workdir } });
      });
    } else {
      appendAudit(this.store, { kind: 'sandbox.deleted', sandbox: sandboxName, actor, payload: { purge, keptDirectory: own.dir } });
    }
    const given = record !== undefined && record.workdir !== own.workdir ? record.workdir : undefined;
    const present = (file: string) => existsSync(file) ? [file] : [];
    // The credential placeholders are warden's, for this sandbox only: never kept for a later one;
    // nor are its blueprint (a later sandbox of the name is launched afresh) and its forwards.
    rmSync(path.join(own.dir, 'placeholders.json'), { force: true });
    rmSync(path.join(own.dir, 'blueprint.json'), { force: true });
    this.forwards.forget(sandboxName);
    if (!purge) {
      return { name: sandboxName, purged: null, removed: [], kept: [...present(own.workdir), ...present(own.home), ...(given ? [given] : [])] };
    }
    const removed = [...present(own.workdir), ...present(own.home), ...present(own.mainLog)];
    rmSync(own.dir, { recursive: true, force: true });
    if (isRoot()) releaseSandboxUid(this.home, sandboxName);
    return { name: sandboxName, purged: removed.includes(own.workdir) ? own.workdir : null, removed, kept: given ? [given] : [] };
  }

  /**
   * A new policy revision: validated whole, refused when it changes a static section of a running
   * sandbox, committed with its audit record (before/after diff), then pushed to the live proxy
   * before the call returns, so `--wait` means "enforced".
   */
  private async revise(sandboxName: string, next: (current: Policy, inForce: string[]) => Policy, actor: string, reason: string | undefined) {
    this.mustGet(sandboxName);
    const current = this.store.policies.current(sandboxName);
    if (!current) throw new GatewayError('internal', `sandbox ${sandboxName} has no policy revision`);
    const before = this.validated(current.policy);
    const inForce: string[] = [];
    let after: Policy;
    try {
      after = this.validated(next(before, inForce));
    } catch (error) {
      const { PolicyChangeError, PresetError, PolicyMergeError } = this.loader;
      if (error instanceof PolicyChangeError || error instanceof PresetError || error instanceof PolicyMergeError) {
        throw new GatewayError('policy_change', `${error.message}. Nothing was changed.`);
      }
      throw error;
    }
    const credentialProblems = uninspectedCredentialEndpoints(after, this.credentialHosts(this.placeholders(sandboxName)));
    if (credentialProblems.length > 0) throw new GatewayError('policy_change', `${credentialProblems.join('; ')}. Nothing was changed.`);
    const live = this.live.get(sandboxName);
    const frozen = this.loader.staticChanges(before, after);
    if (live && frozen.length > 0) {
      throw new GatewayError('static_section', `${frozen.join(', ')} cannot change while sandbox ${sandboxName} runs: they are applied when it starts. ` +
        `Stop it (\`warden sandbox stop ${sandboxName}\`), set the policy, and start it again. Nothing was changed.`);
    }
    const diff = this.loader.diffPolicies(before, after);
    // Asking for what is already in force succeeds (and says so): no new revision, nothing pushed.
    if (diff.changes.length === 0) {
      return { name: sandboxName, rev: current.rev, live: live !== undefined, closedConnections: 0, diff, unchanged: true, inForce };
    }
    const revision = this.store.transaction(() => {
      const added = this.store.policies.add(sandboxName, {
        policy: after, author: actor, reason, diff, expectedRev: current.rev,
      });
      appendAudit(this.store, { kind: 'policy.revision', sandbox: sandboxName, actor, payload: { rev: added.rev, reason: added.reason, diff } });
      return added;
    });
    const closed = live ? await live.setPolicy(after) : 0;
    // Pending approvals the new revision admits are closed (and what they held is released).
    await this.approvals.policyChanged(sandboxName, after).catch((error: unknown) => this.log(`approvals after a policy change of ${sandboxName}: ${(error as Error).message}`));
    return { name: sandboxName, rev: revision.rev, live: live !== undefined, closedConnections: closed, diff, unchanged: false, inForce };
  }

  private async launch(record: SandboxRecord, actor: string): Promise<void> {
    // The one rule for WARDEN_HOME's mode, again: it may have been changed while the gateway ran.
    secureHomeMode(this.home);
    // Its directory (home, main.log; the default workdir) is one the sandbox's uid can traverse.
    makeDirectoriesSafely(sandboxDirectory(this.home, record.name).dir, 0o711);
    const revision = this.store.policies.current(record.name);
    if (!revision) throw new GatewayError('internal', `sandbox ${record.name} has no policy revision`);
    const attachment = this.readOwn<BlueprintAttachment>(record.name, 'blueprint.json');
    let extras: SandboxExtras | undefined;
    try {
      extras = attachment === undefined ? undefined : this.blueprintExtras(attachment);
    } catch (error) {
      this.store.transaction(() => {
        this.store.sandboxes.setState(record.name, 'failed');
        appendAudit(this.store, { kind: 'sandbox.failed', sandbox: record.name, actor, payload: { error: (error as Error).message } });
      });
      throw new GatewayError('start_failed', `sandbox ${record.name} could not start: ${(error as Error).message}`);
    }
    const sandbox = new LiveSandbox(record, this.validated(revision.policy), this.home, { store: this.providers, placeholders: this.placeholders(record.name) }, {
      audit: (kind, payload) => this.audit(kind, record.name, 'gateway', payload),
      decision: (decision, kind) => {
        const notice = decisionNotice(decision);
        if (notice !== undefined) for (const tell of this.noticeSinks.get(record.name) ?? []) tell(notice);
        const appended = this.recorded(this.writer.append({ kind, sandbox: record.name, actor: null, payload: decision }));
        if (this.decisionListeners.size > 0) appended.then(() => this.tellDecision(decision), () => undefined);
        return appended;
      },
      tripped: (trip) => {
        this.audit('governance.breaker', record.name, 'gateway', trip);
        if (trip.action === 'stop') {
          void this.serialised(record.name, () => this.stop(record.name, 'gateway')).catch((error: unknown) => this.log(`could not stop sandbox ${record.name} after its breaker opened: ${(error as Error).message}`));
        }
      },
      hold: (ctx) => this.approvals.hold(record.name, ctx),
      propose: (draft, maxPending) => this.approvals.propose(record.name, draft, maxPending),
      directLookup: (name) => {
        this.audit('egress.direct_lookup', record.name, 'gateway', { host: name });
        const notice = proxyIgnoredNotice(name);
        for (const tell of this.noticeSinks.get(record.name) ?? []) tell(notice);
      },
      ended: (code) => {
        if (this.live.get(record.name) !== sandbox) return;
        this.live.delete(record.name);
        this.forwards.stopped(record.name);
        this.store.transaction(() => {
          this.store.sandboxes.setState(record.name, 'failed');
          appendAudit(this.store, { kind: 'sandbox.failed', sandbox: record.name, actor: 'gateway', payload: { exitCode: code } });
        });
      },
    }, this.hostIds(record.name), extras);
    try {
      await sandbox.start();
    } catch (error) {
      this.store.transaction(() => {
        this.store.sandboxes.setState(record.name, 'failed');
        appendAudit(this.store, { kind: 'sandbox.failed', sandbox: record.name, actor, payload: { error: (error as Error).message } });
      });
      throw new GatewayError('start_failed', `sandbox ${record.name} could not start: ${(error as Error).message}`);
    }
    this.live.set(record.name, sandbox);
    mkdirSync(sandboxDirectory(this.home, record.name).dir, { recursive: true, mode: 0o711 });
    this.store.transaction(() => {
      this.store.sandboxes.setState(record.name, 'running');
      appendAudit(this.store, { kind: 'sandbox.started', sandbox: record.name, actor, payload: { pid: sandbox.initPid, policyRev: revision.rev } });
    });
    if (record.command.length > 0) sandbox.startMain(record.command, {});
    for (const problem of await this.forwards.started(record.name, sandbox.initPid!)) {
      this.audit('forward.failed', record.name, 'gateway', { message: problem });
      this.log(`sandbox ${record.name}: ${problem}`);
    }
  }

  /** A blueprint's layer and files, checked: the layer must be sealed, ours, and writable by nobody else. */
  private blueprintExtras(attachment: BlueprintAttachment): SandboxExtras {
    let layer;
    try {
      layer = checkLayer(attachment.layer);
    } catch (error) {
      throw new GatewayError('bad_layer', (error as Error).message);
    }
    if (layer.manifest.blueprint !== attachment.name) throw new GatewayError('bad_layer', `the layer ${attachment.layer} is of blueprint ${layer.manifest.blueprint}, not ${attachment.name}`);
    return {
      binds: [{ source: layer.path, dest: layer.manifest.mount }],
      files: attachment.files.map((file) => ({ path: file.path, content: file.content })),
    };
  }

  /** A file of warden's in the sandbox's directory (owner-only), or none when `value` is undefined. */
  private writeOwn(sandboxName: string, file: string, value: unknown): void {
    const { dir } = sandboxDirectory(this.home, sandboxName);
    if (value === undefined) {
      rmSync(path.join(dir, file), { force: true });
      return;
    }
    makeDirectoriesSafely(dir, 0o711);
    writeFileSync(path.join(dir, file), JSON.stringify(value) + '\n', { mode: 0o600 });
  }

  private readOwn<T>(sandboxName: string, file: string): T | undefined {
    try {
      return JSON.parse(readFileSync(path.join(sandboxDirectory(this.home, sandboxName).dir, file), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private allForwards(): Array<{ sandbox: string; specs: Array<{ port: number; hostPort: number }> }> {
    return this.store.sandboxes.list().map((record) => ({ sandbox: record.name, specs: this.forwards.saved(record.name) }));
  }

  private async addForward(args: OpArgs<'forward.add'>, actor: string): Promise<ForwardView> {
    this.mustGet(args.name);
    const spec = { port: args.port, hostPort: args.hostPort ?? args.port };
    this.forwards.check(args.name, spec, () => this.allForwards());
    const view = await this.forwards.add(args.name, spec);
    this.audit('forward.added', args.name, actor, { port: spec.port, hostPort: spec.hostPort, address: '127.0.0.1', active: view.active });
    return view;
  }

  private removeForward(args: OpArgs<'forward.remove'>, actor: string): { sandbox: string; port: number; hostPort: number } {
    this.mustGet(args.name);
    const removed = this.forwards.remove(args.name, args.port);
    if (!removed) throw new GatewayError('not_found', `sandbox ${args.name} has no forward of port ${args.port} (\`warden forward ${args.name}\` lists them)`);
    this.audit('forward.removed', args.name, actor, { port: removed.port, hostPort: removed.hostPort });
    return { sandbox: args.name, ...removed };
  }

  /**
   * Placeholders for the providers a new sandbox takes: every provider must exist, no variable may
   * be set twice, and every policy endpoint that would carry their credentials must be inspected.
   */
  private placeholdersFor(names: string[], policy: Policy, env: Record<string, string>): { providers: string[]; env: Record<string, string>; placeholders: Placeholders } {
    const providers = [...new Set(names)];
    for (const name of providers) {
      if (!this.providers.has(name)) throw new GatewayError('not_found', `no provider named ${name}; create it first: warden provider create ${name} --type TYPE --credential VAR`);
    }
    let made: ReturnType<typeof makePlaceholders>;
    try {
      made = makePlaceholders(this.providers, providers);
    } catch (error) {
      throw new GatewayError('bad_request', (error as Error).message);
    }
    const clash = Object.keys(made.env).find((variable) => Object.hasOwn(env, variable));
    if (clash !== undefined) throw new GatewayError('bad_request', `--env ${clash} and provider credentials both set ${clash}: drop one`);
    const problems = uninspectedCredentialEndpoints(policy, this.credentialHosts(made.placeholders));
    if (problems.length > 0) throw new GatewayError('bad_policy', `the policy cannot carry the providers' credentials: ${problems.join('; ')}`);
    return { providers, ...made };
  }

  private credentialHosts(placeholders: Placeholders): string[] {
    const names = new Set(Object.values(placeholders).map((owner) => owner.provider));
    return [...names].flatMap((name) => this.providers.has(name) ? this.providers.hostsOf(this.providers.get(name)) : []);
  }

  /** Kept beside the sandbox's other files (not in its workdir): which placeholder stands for which value. */
  private writePlaceholders(sandboxName: string, placeholders: Placeholders): void {
    const { dir } = sandboxDirectory(this.home, sandboxName);
    makeDirectoriesSafely(dir, 0o711);
    writeFileSync(path.join(dir, 'placeholders.json'), JSON.stringify(placeholders) + '\n', { mode: 0o600 });
  }

  private placeholders(sandboxName: string): Placeholders {
    try {
      return JSON.parse(readFileSync(path.join(sandboxDirectory(this.home, sandboxName).dir, 'placeholders.json'), 'utf8')) as Placeholders;
    } catch {
      return {};
    }
  }

  private async halt(sandboxName: string): Promise<void> {
    const sandbox = this.live.get(sandboxName);
    if (!sandbox) return;
    this.live.delete(sandboxName);
    this.forwards.stopped(sandboxName);
    await sandbox.stop();
  }

  /**
   * The default workdir is warden's own (kept from an earlier sandbox of the same name when a
   * plain delete left it: then it is used again, and `reused` says so). A given one is created
   * when missing, as `warden run` does (owned by the owner of its nearest existing parent when
   * that is not root, else by the sandbox's uid; never by root).
   */
  private prepareWorkdir(sandboxName: string, given: string | undefined, policy: Policy): { workdir: string; reused: boolean } {
    const user = resolveSandboxUser(policy.process, this.hostIds(sandboxName));
    if (given !== undefined) {
      const resolved = path.resolve(given);
      if (!existsSync(resolved)) createWorkdir(resolved, user);
      if (!statSync(resolved).isDirectory()) throw new GatewayError('bad_workdir', `--workdir ${resolved} is not a directory`);
      return { workdir: resolved, reused: false };
    }
    const { dir, workdir } = sandboxDirectory(this.home, sandboxName);
    makeDirectoriesSafely(dir, 0o711);
    const created = makeDirectoriesSafely(workdir, 0o700);
    if (user.dropsPrivileges && created.includes(workdir)) chownSync(workdir, user.uid, user.gid);
    return { workdir, reused: !created.includes(workdir) };
  }

  /** As root, each named sandbox has a uid (and gid) of its own, kept until it is purged. */
  private hostIds(sandboxName: string): { uid: number; gid: number } | undefined {
    return isRoot() ? leaseSandboxUid(this.home, sandboxName) : undefined;
  }

  private async serialised<T>(sandboxName: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(sandboxName) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.busy.set(sandboxName, next);
    try {
      return await next;
    } finally {
      if (this.busy.get(sandboxName) === next) this.busy.delete(sandboxName);
    }
  }

  private audit(kind: string, sandbox: string | null, actor: string | null, payload: unknown): void {
    this.recorded(this.writer.append({ kind, sandbox, actor, payload })).catch(() => undefined);
  }

  /**
   * The outcome of an append, noted: a failure becomes the gateway's audit fault (shown by
   * `warden gateway status` and `warden doctor`) until an append succeeds again.
   */
  private async recorded<T>(append: Promise<T>): Promise<T> {
    try {
      const record = await append;
      this.auditFault = undefined;
      return record;
    } catch (error) {
      this.auditFault = `the audit log refused a record (${(error as Error).message}); actions that need a record are refused`;
      this.log(this.auditFault);
      throw error;
    }
  }

  /** Every policy the gateway stores or applies goes through the same schema as a file. */
  private validated(policy: unknown): Policy {
    try {
      return this.loader.parsePolicy(JSON.stringify(policy), '<policy>');
    } catch (error) {
      if (error instanceof this.loader.PolicyError) throw new GatewayError('policy_invalid', `invalid policy:\n${error.format()}\nNothing was changed.`);
      throw error;
    }
  }

  /** Throws no_such_sandbox (the one code for it in every command) unless the sandbox exists. */
  requireSandbox(sandboxName: string): void {
    this.mustGet(sandboxName);
  }

  private mustGet(sandboxName: string): SandboxRecord {
    const record = this.store.sandboxes.get(sandboxName);
    if (!record) throw notFound(sandboxName);
    return record;
  }

  private view(record: SandboxRecord): SandboxView {
    const blueprint = this.readOwn<BlueprintAttachment>(record.name, 'blueprint.json')?.name;
    const forwards = this.forwards.list(record.name);
    const extra = { ...(blueprint !== undefined ? { blueprint } : {}), ...(forwards.length > 0 ? { forwards } : {}) };
    const live = this.live.get(record.name);
    if (!live) return { ...record, ...extra };
    const main = live.mainExitCode === undefined ? {} : { mainExitCode: live.mainExitCode };
    return { ...record, pid: live.initPid, startedAt: live.startedAt.toISOString(), execs: live.execCount, ...main, ...extra };
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function notFound(sandboxName: string): GatewayError {
  return new GatewayError('no_such_sandbox', `no sandbox named ${sandboxName} (\`warden sandbox list\` shows them)`);
}
