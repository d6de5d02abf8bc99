// `warden run` on a terminal: CMD runs on a pseudo-terminal of its own that the supervisor
// (native/supervisor.c, the same as `warden connect`'s) opens inside the sandbox, as the
// controlling terminal of CMD's session; warden relays the caller's terminal to it.
//
// Security invariants: the caller's terminal never enters the sandbox (bubblewrap's stdio are
// pipes to warden, so nothing inside can TIOCSTI or TIOCLINUX it); the pty's master is held by the
// non-dumpable supervisor alone (opened close-on-exec, closed before CMD's execve); a frame from
// the supervisor that fails its layout ends the sandbox.
import { FrameDecoder, type ExecSignal, type TtySize } from './frames.js';
import { SupervisorConnection, type ExecChannel, type ExecRequest } from './supervisor-client.js';
import type { SandboxIo, SandboxService } from './run.js';

/** Signals sent to warden (`kill`, a closed terminal window) that go on to CMD's foreground job. */
const RELAYED_SIGNALS: readonly ExecSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export interface TerminalSession {
  service: SandboxService;
  /** CMD's exit code (128+N for signal N), or 125-127 when it did not start. */
  exitCode: Promise<number>;
}

/**
 * A sandbox service that starts `start` on a new terminal once the supervisor runs, relays
 * warden's stdin and stdout to it (the caller's terminal in raw mode, so Ctrl-C and Ctrl-Z are
 * bytes for the sandbox's terminal, not signals for warden), passes window size changes on, and
 * ends the sandbox when CMD has exited.
 */
export function terminalSession(start: Omit<ExecRequest, 'tty'>, stop: AbortController): TerminalSession {
  let settle!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (settle = resolve));
  const service: SandboxService = {
    stop: stop.signal,
    onStarted: (io) => {
      const relay = relayTerminal(io, start, (code) => {
        relay.detach();
        // The end of the control channel makes the supervisor kill what CMD left behind and exit.
        io.stdin.end();
        settle(code);
      }, (problem) => {
        relay.detach();
        process.stderr.write(`warden: ${problem}; the sandbox was stopped\n`);
        stop.abort();
        settle(125);
      });
    },
  };
  return { service, exitCode };
}

function relayTerminal(io: SandboxIo, start: Omit<ExecRequest, 'tty'>, ended: (code: number) => void, broken: (problem: string) => void): { detach(): void } {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const size = (): TtySize => ({ rows: stdout.rows || 24, cols: stdout.columns || 80 });
  const connection = new SupervisorConnection(io.stdin);
  io.stdin.on('error', () => undefined);
  // The supervisor's own log lines (it says why it exits, every time) are not CMD's output.
  io.stderr.resume();
  const decoder = new FrameDecoder();
  let detached = false;
  io.stdout.on('data', (chunk: Buffer) => {
    try {
      for (const frame of decoder.push(chunk)) connection.route(frame);
    } catch (error) {
      if (!detached) broken(`protocol error from the sandbox's supervisor: ${(error as Error).message}`);
    }
  });
  // The supervisor died before CMD's exit was reported: CMD is gone with it.
  io.stdout.on('end', () => connection.endAll(137));

  let channel: ExecChannel | undefined;
  const onInput = (chunk: Buffer) => {
    if (channel && !channel.stdin(chunk)) stdin.pause();
  };
  const onInputEnd = () => channel?.endStdin();
  const onResize = () => channel?.resize(size());
  const onSignal = (signal: NodeJS.Signals) => channel?.signal(signal as ExecSignal);
  const restore = () => {
    if (stdin.isTTY) stdin.setRawMode(false);
  };
  const detach = () => {
    if (detached) return;
    detached = true;
    stdin.off('data', onInput);
    stdin.off('end', onInputEnd);
    stdin.pause();
    stdout.off('resize', onResize);
    for (const signal of RELAYED_SIGNALS) process.off(signal, onSignal);
    process.off('exit', restore);
    restore();
  };

  channel = connection.exec({ ...start, tty: size() }, {
    started: () => undefined,
    // Acknowledged once written: a slow terminal pauses CMD instead of growing warden's memory.
    output: (stream, data) => void (stream === 'stdout' ? stdout : process.stderr).write(data, () => channel?.consumed(data.length)),
    failed: (code, message) => {
      detach();
      process.stderr.write(`warden: ${message}\n`);
      ended(code);
    },
    exited: (code) => {
      detach();
      ended(code);
    },
    stdinReady: () => {
      if (!detached) stdin.resume();
    },
  });
  // Every way out puts the caller's terminal back, an uncaught error in warden included.
  process.once('exit', restore);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onInput);
  stdin.on('end', onInputEnd);
  stdin.resume();
  stdout.on('resize', onResize);
  for (const signal of RELAYED_SIGNALS) process.on(signal, onSignal);
  return { detach };
}
