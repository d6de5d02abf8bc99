import { appendFileSync, renameSync, statSync } from 'node:fs';
import type { DecisionKind, DecisionRecord } from '../audit/index.js';
import { type ApprovalDraft, approvalStage, type ApprovalMode, createCheckpoint, type Decision, type Verdict } from '../checkpoint/index.js';
import { type HoldContext, prepareSandboxNetwork, type SandboxNetworkSetup } from '../egress/index.js';
import { governanceStages, type BreakerTrip } from '../governance/index.js';
import { createInferenceService, INFERENCE_HOST, type Placeholders, placeholderSwapper, type ProviderStore } from '../inference/index.js';
import type { Policy } from '../policy/index.js';
import {
  childrenOf, FrameDecoder, requireNativeHelper, runInSandbox, SupervisorConnection, SUPERVISOR_INSIDE,
  type ExecChannel, type ExecSink, type TtySize,
} from '../sandbox/index.js';
import type { SandboxRecord } from '../store/index.js';
import { sandboxDirectory } from './paths.js';
import { type ProposalOutcome, proposalService, WARDEN_HOST } from './proposals.js';

const WORKDIR_INSIDE = '/sandbox';
/** The main command's log is cut over to main.log.1 beyond this, so it never fills the disk. */
export const MAIN_LOG_MAX_BYTES = 8 * 1024 * 1024;
export type { ExecChannel, ExecSink } from '../sandbox/index.js';

export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  /** Default: the workdir when the policy mounts one, else /. */
  cwd?: string;
  tty: TtySize | null;
}

/** What the sandbox's inference.local and credential placeholders are served from. */
export interface LiveSandboxCredentials {
  store: ProviderStore;
  /** The sandbox's placeholders (from --provider when it was created). */
  placeholders: Placeholders;
}

export interface LiveSandboxEvents {
  audit(kind: string, payload: unknown): void;
  /** Records a decision of the sandbox's checkpoint; an allowed action waits for it (and is refused if it fails). */
  decision(record: DecisionRecord, kind: DecisionKind): Promise<unknown>;
  /** A circuit breaker opened; for `stop`, the owner stops the sandbox. */
  tripped(trip: BreakerTrip): void;
  /** The sandbox ended without being asked to (its supervisor died, or setup failed late). */
  ended(code: number): void;
  /** A program in the sandbox looked a name up itself: it ignores the proxy (once per name, at most 64). */
  directLookup(name: string): void;
  /** An action the checkpoint put to an operator (ask mode): wait for the answer. */
  hold(ctx: HoldContext): Promise<Decision | { refuse: Verdict }>;
  /** A rule the agent proposed (warden.local): filed in the approvals inbox, or undefined past the limit. */
  propose(draft: ApprovalDraft, maxPending: number): ProposalOutcome;
}

/** What a blueprint adds to a sandbox: its layer, mounted read-only, and its read-only files below /.warden. */
export interface SandboxExtras {
  binds: Array<{ source: string; dest: string }>;
  files: Array<{ path: string; content: string }>;
}

/**
 * One running named sandbox: bubblewrap with warden's native supervisor as its command, the egress
 * proxy for it, and the execs running in it. The policy can be replaced while it runs.
 *
 * Security invariants: the supervisor is a static, non-dumpable binary (src/sandbox/native/
 * supervisor.c), so nothing in the sandbox can change what it reports; every frame it sends is
 * checked against its layout, and a frame that fails is a protocol error that ends the sandbox
 * (the supervisor is warden's own code: a bad frame means it was subverted). Frames from clients
 * are checked by the daemon before they reach a channel.
 */
export class LiveSandbox {
  private readonly controller = new AbortController();
  private supervisor: SupervisorConnection | undefined;
  private network: SandboxNetworkSetup | undefined;
  private stopping = false;
  private readonly directLookups = new Set<string>();
  initPid: number | undefined;
  readonly startedAt = new Date();
  /** What happens to an action the policy denies: refused, or held for an operator. Changes live. */
  approvalMode: ApprovalMode;
  exited: Promise<number> = Promise.resolve(0);
  /** The main command's exit code, once it has exited. */
  mainExitCode: number | undefined;
  /** Whether a main command was started and has not ended. */
  mainRunning = false;

  constructor(
    readonly record: SandboxRecord,
    private policy: Policy,
    private readonly home: string,
    private readonly credentials: LiveSandboxCredentials,
    private readonly events: LiveSandboxEvents,
    private readonly hostIds: { uid: number; gid: number } | undefined,
    private readonly extras?: SandboxExtras,
  ) {
    this.approvalMode = record.approvalMode;
  }

  /** The policy enforced now. */
  get currentPolicy(): Policy {
    return this.policy;
  }

  /** Resolves once the supervisor runs inside the sandbox; rejects with the setup error otherwise. */
  start(): Promise<void> {
    const checkpoint = createCheckpoint({
      sandbox: this.record.name,
      policy: () => this.policy,
      recorder: (record, kind) => this.events.decision(record, kind),
      // The approvals stage runs last of all (after trust tiers): a policy denial it puts to an
      // operator is never approved automatically.
      stages: [...governanceStages({ onTrip: (trip) => this.events.tripped(trip) }), approvalStage(() => this.approvalMode)],
    });
    const inference = createInferenceService({
      checkpoint,
      store: this.credentials.store,
      recordCall: (call) => this.events.audit('inference.call', call),
    });
    const placeholders = this.credentials.placeholders;
    const network = prepareSandboxNetwork({
      checkpoint,
      policy: () => this.policy,
      hooks: {
        localServices: {
          [INFERENCE_HOST]: inference.service,
          [WARDEN_HOST]: proposalService({ sandbox: this.record.name, policy: () => this.policy, propose: (draft, max) => this.events.propose(draft, max) }),
        },
        hold: (ctx) => this.events.hold(ctx),
        ...(Object.keys(placeholders).length > 0 ? { prepareUpstream: placeholderSwapper(this.credentials.store, () => placeholders) } : {}),
      },
      // The supervisor is never anyone's ancestor for policy purposes: commands it starts have
      // the identity they would have under `warden run`.
      boundaries: () => this.supervisorPids(),
      // Once per name: a program that ignores the proxy (Node 20's fetch) fails to connect.
      onDirectLookup: (name) => {
        if (this.directLookups.size >= 64 || this.directLookups.has(name)) return;
        this.directLookups.add(name);
        this.events.directLookup(name);
      },
    });
    this.network = network;
    const supervisor = requireNativeHelper('supervisor');
    return new Promise((resolve, reject) => {
      let started = false;
      this.exited = runInSandbox({
        policy: this.policy,
        name: this.record.name,
        command: [SUPERVISOR_INSIDE],
        workdir: this.record.workdir,
        // HOME inside: the sandbox's own, kept across stops and starts (removed by --purge).
        home: sandboxDirectory(this.home, this.record.name).home,
        wardenHome: this.home,
        hostIds: this.hostIds,
        // Only inside a sandbox may the supervisor end by killing every process it can signal.
        env: { ...network.env, ...this.record.env, WARDEN_SUPERVISOR_SWEEP: '1' },
        files: [...network.files, ...(this.extras?.files ?? []), { path: SUPERVISOR_INSIDE, hostFile: supervisor, mode: 0o555 }],
        ...(this.extras !== undefined ? { binds: this.extras.binds } : {}),
        network: network.network,
        warn: (message) => this.events.audit('sandbox.warning', { message }),
        service: {
          stop: this.controller.signal,
          onStarted: (io) => {
            started = true;
            this.initPid = io.initPid;
            const supervisor = new SupervisorConnection(io.stdin);
            this.supervisor = supervisor;
            io.stdin.on('error', () => undefined);
            io.stderr.on('data', (chunk: Buffer) => this.events.audit('sandbox.supervisor', { message: chunk.toString('utf8').slice(0, 4096) }));
            const decoder = new FrameDecoder();
            io.stdout.on('data', (chunk: Buffer) => {
              try {
                for (const frame of decoder.push(chunk)) supervisor.route(frame);
              } catch (error) {
                this.events.audit('sandbox.supervisor', { message: `protocol error from the supervisor: ${(error as Error).message}; stopping the sandbox` });
                this.controller.abort();
              }
            });
            resolve();
          },
        },
      }).then((result) => result.exitCode);
      this.exited.then(
        (code) => {
          this.endAll(code);
          void network.close();
          inference.close();
          if (!started) reject(new Error(`the sandbox exited during setup (exit ${code})`));
          else if (!this.stopping) this.events.ended(code);
        },
        (error: unknown) => {
          this.endAll(125);
          void network.close();
          inference.close();
          if (!started) reject(error);
          else if (!this.stopping) this.events.ended(125);
        },
      );
    });
  }

  /** Kills every process of the sandbox and waits until it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.controller.abort();
    await this.exited.catch(() => undefined);
  }

  /** Replaces the policy; the proxy applies it to the next decision and re-decides open relays. */
  setPolicy(policy: Policy): Promise<number> {
    this.policy = policy;
    return this.network?.revalidate() ?? Promise.resolve(0);
  }

  /** Starts a command inside; its events go to `sink`. */
  exec(request: ExecRequest, sink: ExecSink): ExecChannel {
    if (!this.supervisor) throw new Error('the sandbox is not running');
    const cwd = request.cwd ?? (this.policy.filesystem_policy.include_workdir ? WORKDIR_INSIDE : '/');
    try {
      return this.supervisor.exec({ ...request, cwd }, sink);
    } catch (error) {
      throw new Error(`sandbox ${this.record.name}: ${(error as Error).message}`);
    }
  }

  /** Runs the sandbox's main command, its output appended to main.log (bounded, see MAIN_LOG_MAX_BYTES). */
  startMain(command: string[], env: Record<string, string>): void {
    const log = sandboxDirectory(this.home, this.record.name).mainLog;
    // Declared first: the sink's callbacks refer to the channel exec returns.
    let channel: ExecChannel | undefined;
    // eslint-disable-next-line prefer-const
    channel = this.exec({ argv: command, env, tty: null }, {
      started: () => undefined,
      output: (_stream, data) => {
        appendBounded(log, data);
        channel?.consumed(data.length);
      },
      failed: (code, message) => {
        this.mainRunning = false;
        this.events.audit('sandbox.main_failed', { argv: command, code, message });
      },
      exited: (code) => {
        this.mainRunning = false;
        this.mainExitCode = code;
        this.events.audit('sandbox.main_exited', { argv: command, code });
      },
      stdinReady: () => undefined,
    });
    this.mainRunning = true;
    this.mainExitCode = undefined;
    channel.endStdin();
  }

  get execCount(): number {
    return this.supervisor?.size ?? 0;
  }

  /** The supervisor's host pid (bubblewrap's init's child), the boundary of every ancestor chain. */
  private supervisorPids(): number[] {
    if (this.initPid === undefined) return [];
    return [this.initPid, ...childrenOf(this.initPid)];
  }

  private endAll(code: number): void {
    this.supervisor?.endAll(code);
    this.supervisor = undefined;
  }
}

/** Appends to a log file that is cut over to FILE.1 (replacing the older one) past MAIN_LOG_MAX_BYTES. */
function appendBounded(file: string, data: Buffer): void {
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    // not there yet
  }
  if (size + data.length > MAIN_LOG_MAX_BYTES) {
    try {
      renameSync(file, `${file}.1`);
    } catch {
      // nothing to rotate
    }
  }
  appendFileSync(file, data, { mode: 0o600 });
}
