import { appendFileSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { prepareSandboxNetwork, type EgressEvent, type SandboxNetworkSetup } from '../egress/index.js';
import type { Policy } from '../policy/index.js';
import {
  encodeFrame, findNativeHelper, FRAME, FrameDecoder, frameJson, PTY_HELPER_INSIDE, runInSandbox, supervisorScript,
  type Frame,
} from '../sandbox/index.js';
import type { SandboxRecord } from '../store/index.js';
import { sandboxDirectory } from './paths.js';

const SUPERVISOR_INSIDE = '/.warden/supervisor.js';
const WORKDIR_INSIDE = '/sandbox';

export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  tty: { rows: number; cols: number } | null;
}

/** Where one exec's output and exit go (a client connection, or the main command's log). */
export interface ExecSink {
  frame(frame: Frame): void;
}

export interface LiveSandboxEvents {
  audit(kind: string, payload: unknown): void;
  verdict(event: EgressEvent): void;
  /** The sandbox ended without being asked to (its supervisor died, or setup failed late). */
  ended(code: number): void;
}

/**
 * One running named sandbox: bubblewrap with warden's supervisor as its command, the egress
 * proxy for it, and the execs running in it. The policy can be replaced while it runs.
 */
export class LiveSandbox {
  private readonly controller = new AbortController();
  private supervisor: Writable | undefined;
  private network: SandboxNetworkSetup | undefined;
  private readonly execs = new Map<number, ExecSink>();
  private nextChannel = 1;
  private stopping = false;
  initPid: number | undefined;
  readonly startedAt = new Date();
  exited: Promise<number> = Promise.resolve(0);

  constructor(
    readonly record: SandboxRecord,
    private policy: Policy,
    private readonly home: string,
    private readonly events: LiveSandboxEvents,
  ) {}

  /** Resolves once the supervisor runs inside the sandbox; rejects with the setup error otherwise. */
  start(): Promise<void> {
    const network = prepareSandboxNetwork({
      sandbox: this.record.name,
      policy: () => this.policy,
      onEvent: (event) => this.events.verdict(event),
    });
    this.network = network;
    const pty = findNativeHelper('pty-exec');
    return new Promise((resolve, reject) => {
      let started = false;
      this.exited = runInSandbox({
        policy: this.policy,
        name: this.record.name,
        command: [process.execPath, SUPERVISOR_INSIDE],
        workdir: this.record.workdir,
        wardenHome: this.home,
        env: { ...network.env, ...this.record.env },
        files: [
          ...network.files,
          { path: SUPERVISOR_INSIDE, content: readFileSync(supervisorScript()) },
          ...(pty ? [{ path: PTY_HELPER_INSIDE, content: readFileSync(pty), mode: 0o555 }] : []),
        ],
        network: network.network,
        warn: (message) => this.events.audit('sandbox.warning', { message }),
        service: {
          stop: this.controller.signal,
          onStarted: (io) => {
            started = true;
            this.initPid = io.initPid;
            this.supervisor = io.stdin;
            io.stdin.on('error', () => undefined);
            io.stderr.on('data', (chunk: Buffer) => this.events.audit('sandbox.supervisor', { message: chunk.toString('utf8').slice(0, 4096) }));
            const decoder = new FrameDecoder();
            io.stdout.on('data', (chunk: Buffer) => {
              try {
                for (const frame of decoder.push(chunk)) this.route(frame);
              } catch (error) {
                this.events.audit('sandbox.supervisor', { message: `protocol error: ${(error as Error).message}` });
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
          if (!started) reject(new Error(`the sandbox exited during setup (exit ${code})`));
          else if (!this.stopping) this.events.ended(code);
        },
        (error: unknown) => {
          this.endAll(125);
          void network.close();
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

  /** Replaces the policy; the proxy applies it to the next decision and re-checks open tunnels. */
  setPolicy(policy: Policy): number {
    this.policy = policy;
    return this.network?.revalidate() ?? 0;
  }

  /** Starts a command inside; its frames go to `sink`. Returns the channel for input frames. */
  exec(request: ExecRequest, sink: ExecSink): number {
    if (!this.supervisor) throw new Error('the sandbox is not running');
    const channel = this.nextChannel++;
    this.execs.set(channel, sink);
    this.supervisor.write(encodeFrame(FRAME.start, channel, { ...request, cwd: request.cwd ?? (this.policy.filesystem_policy.include_workdir ? WORKDIR_INSIDE : '/') }));
    return channel;
  }

  /** Passes a client's stdin, stdinEnd, resize or signal frame on to its exec. */
  input(channel: number, type: number, payload: Buffer): void {
    if (!this.execs.has(channel) || !this.supervisor) return;
    if (type !== FRAME.stdin && type !== FRAME.stdinEnd && type !== FRAME.resize && type !== FRAME.signal) return;
    this.supervisor.write(encodeFrame(type as typeof FRAME.stdin, channel, payload));
  }

  /** Ends an exec whose client went away: its processes are killed, like a closed ssh session's. */
  abandon(channel: number): void {
    if (!this.execs.has(channel)) return;
    this.input(channel, FRAME.signal, Buffer.from(JSON.stringify({ signal: 'SIGKILL' })));
    this.execs.set(channel, { frame: () => undefined });
  }

  /** Runs the sandbox's main command, its output appended to the sandbox's main.log. */
  startMain(command: string[], env: Record<string, string>): void {
    const log = sandboxDirectory(this.home, this.record.name).mainLog;
    this.exec({ argv: command, env, tty: null }, {
      frame: (frame) => {
        if (frame.type === FRAME.stdout || frame.type === FRAME.stderr) appendFileSync(log, frame.payload, { mode: 0o600 });
        if (frame.type === FRAME.exit) this.events.audit('sandbox.main_exited', { argv: command, ...frameJson<{ code: number }>(frame) });
        if (frame.type === FRAME.startFailed) this.events.audit('sandbox.main_failed', { argv: command, ...frameJson<object>(frame) });
      },
    });
  }

  get execCount(): number {
    return this.execs.size;
  }

  private route(frame: Frame): void {
    const sink = this.execs.get(frame.channel);
    if (!sink) return;
    sink.frame(frame);
    if (frame.type === FRAME.exit || frame.type === FRAME.startFailed) this.execs.delete(frame.channel);
  }

  private endAll(code: number): void {
    for (const [channel, sink] of this.execs) {
      sink.frame({ type: FRAME.exit, channel, payload: Buffer.from(JSON.stringify({ code: code || 137 })) });
    }
    this.execs.clear();
    this.supervisor = undefined;
  }
}
