// Starts the sandbox's launcher (sandbox-exec, then bubblewrap) with posix_spawn through warden's
// addon, not with child_process.spawn: libuv forks, and forking a Node process of this size costs
// about 10 ms (page tables copied, then torn down by exec), every sandbox start. The object returned
// has the parts of a ChildProcess that the sandbox runtime uses.
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { spawnDetached, socketPair, watchExit } from './host-native.js';

/** A child descriptor: a new socket pair ('pipe'), warden's own 0-2 ('inherit'), nothing, or a descriptor of warden's. */
export type ChildFd = 'pipe' | 'inherit' | 'ignore' | number;

export interface LaunchedProcess extends EventEmitter {
  readonly pid: number;
  /** warden's end of each 'pipe' descriptor, by child descriptor number; null for the others. */
  readonly stdio: ReadonlyArray<net.Socket | null>;
  readonly stdin: net.Socket | null;
  readonly stdout: net.Socket | null;
  readonly stderr: net.Socket | null;
  /** Sends `signal` unless the process has ended (its pid may then belong to another). */
  kill(signal: NodeJS.Signals): void;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

class Launched extends EventEmitter implements LaunchedProcess {
  private ended = false;
  constructor(readonly pid: number, readonly stdio: ReadonlyArray<net.Socket | null>) {
    super();
    watchExit(pid, (code, signalNumber) => {
      this.ended = true;
      if (signalNumber === null) {
        // (null, null): it could not be waited for, which never happens to a child of ours.
        this.emit('exit', code ?? 125, null);
        return;
      }
      const signal = signalName(signalNumber);
      // A signal Node has no name for (a real-time one) is reported as its exit code, as shells do.
      if (signal === null) this.emit('exit', 128 + signalNumber, null);
      else this.emit('exit', null, signal);
    });
  }

  get stdin() { return this.stdio[0] ?? null; }
  get stdout() { return this.stdio[1] ?? null; }
  get stderr() { return this.stdio[2] ?? null; }

  kill(signal: NodeJS.Signals): void {
    if (!this.ended) process.kill(this.pid, signal);
  }
}

function signalName(number: number): NodeJS.Signals | null {
  const entry = Object.entries(os.constants.signals).find(([, value]) => value === number);
  return (entry?.[0] as NodeJS.Signals | undefined) ?? null;
}

/**
 * Starts `file` in a session of its own (like `detached: true`), with exactly `env` and the
 * descriptors `fds`. Every descriptor warden opened for it is closed in warden once it runs.
 * Throws (nothing started) when it cannot be started.
 */
export function launch(file: string, argv: readonly string[], options: { env: Record<string, string>; fds: readonly ChildFd[] }): LaunchedProcess {
  const pairs: Array<[number, number] | undefined> = [];
  let pid: number;
  try {
    for (const fd of options.fds) pairs.push(fd === 'pipe' ? socketPair() : undefined);
    const childFds = options.fds.map((fd, index) =>
      fd === 'pipe' ? pairs[index]![1] : fd === 'inherit' ? (index <= 2 ? index : -1) : fd === 'ignore' ? -1 : fd);
    pid = spawnDetached(file, [file, ...argv], Object.entries(options.env).map(([name, value]) => `${name}=${value}`), childFds);
  } catch (error) {
    for (const pair of pairs) if (pair !== undefined) for (const fd of pair) closeSync(fd);
    throw error;
  }
  // Started: from here on nothing throws before the child is watched, and each descriptor is
  // closed exactly once (the child's ends here; warden's ends by their sockets).
  for (const pair of pairs) if (pair !== undefined) closeSync(pair[1]);
  const stdio = pairs.map((pair) => (pair === undefined ? null : new net.Socket({ fd: pair[0], readable: true, writable: true })));
  return new Launched(pid, stdio);
}
