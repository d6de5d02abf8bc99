import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type dgram from 'node:dgram';
import type net from 'node:net';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';
import type { Policy } from '../policy/index.js';
import { bwrapArgs, FD, WARDEN_DIR } from './bwrap.js';

/**
 * The files outside WARDEN_DIR warden may place: names warden answers on the sandbox's loopback,
 * and where name lookups go (warden's trap, which notices programs that ignore the proxy).
 */
const NETWORK_FILES = ['/etc/hosts', '/etc/resolv.conf'];
import { createSandboxCgroup, detectCgroups, type CgroupSupport, type SandboxCgroup } from './cgroups.js';
import { checkRunnable, resolveCommand } from './command.js';
import { sandboxEnvironment, SANDBOX_PATH } from './environment.js';
import { prepareHome, prepareWorkdir, WorkdirError, type Workdir } from './workdir.js';
import { homeInsideFor, resolveSandboxUser, sandboxAccountFiles, type SandboxUser } from './host-user.js';
import { landlockRules, planLandlock } from './landlock.js';
import { DEFAULT_LIMITS, resolveResources, rlimitArgs, type ResourceSettings, type SandboxLimits } from './limits.js';
import { checkMountPoints, homeMountPoint, planMounts, removePlaceholders, WORKDIR_MOUNT, type MountPlan } from './mounts.js';
import { SUPERVISOR_INSIDE } from './frames.js';
import { requireNativeHelper } from './native.js';
import { openListenersInSandbox } from './netns.js';
import { childrenOf, readProcStat } from './procfs.js';
import { findTool } from './tools.js';
import { buildSeccompFilter, hostSeccompArch } from './seccomp.js';
import { terminalSession } from './terminal.js';
import { leaseRunUid } from './uids.js';
import { launch, type LaunchedProcess } from './launch.js';

export interface RunOptions {
  policy: Policy;
  command: string[];
  /** Host directory mounted read-write at /sandbox; default: a fresh temporary directory. */
  workdir?: string;
  env?: Record<string, string>;
  name?: string;
  wardenHome: string;
  limits?: SandboxLimits;
  /** Where warden's own one-line warnings go (never the sandbox's output). */
  warn?: (message: string) => void;
  /**
   * Read-only files placed inside the sandbox under /.warden (e.g. a CA bundle); and /etc/hosts,
   * for the names warden answers on the sandbox's loopback (inference.local).
   */
  files?: SandboxFile[];
  /**
   * The sandbox's only way out: listeners on 127.0.0.1 inside its network namespace (the egress
   * proxy's port, inference.local's), handed to `attach` before CMD starts. Without them the
   * sandbox has no network at all.
   */
  network?: NetworkBridge;
  /**
   * For a sandbox that lives on (the gateway's): CMD's stdin, stdout and stderr are pipes handed
   * to `onStarted`, warden's own signals are not passed on, and aborting `stop` kills the sandbox.
   * Without it CMD shares warden's stdio and terminal.
   */
  service?: SandboxService;
  /**
   * The host uid and gid of this sandbox when warden runs as root: a named sandbox's own (see
   * uids.ts). Without it, a run leases a uid for as long as it lives.
   */
  hostIds?: { uid: number; gid: number };
  /** Resource settings on top of the policy's `limits:` (--memory, --cpus, --pids). */
  resources?: ResourceSettings;
  /**
   * Host directory that is the sandbox's home (HOME, /home/USER inside): a named sandbox's own,
   * kept across stops. Default: a private temporary directory, removed afterwards.
   */
  home?: string;
  /** Who should own a missing --workdir that warden creates (the invoking user behind sudo). */
  workdirOwner?: { uid: number; gid: number };
  /**
   * CMD runs on a terminal of its own inside the sandbox (a pty the supervisor opens, CMD's
   * controlling terminal, as for `warden connect`), relayed to warden's stdin and stdout, which
   * must be terminals. Without it a run's CMD shares warden's stdio. Ignored with `service`.
   */
  terminal?: boolean;
  /**
   * Host directories mounted at their own place inside, read-only unless `writable`: an agent's
   * provisioned layer (src/blueprint). Not a way around the policy: only warden's own callers set it.
   */
  binds?: ReadonlyArray<{ source: string; dest: string; writable?: boolean }>;
}

export interface SandboxService {
  onStarted: (io: SandboxIo) => void;
  stop: AbortSignal;
}

export interface SandboxIo {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** The sandbox's init (bubblewrap's pid 1 inside), as a host pid. */
  initPid: number;
}

/**
 * A read-only file bubblewrap creates in the sandbox, from `content` or from a copy of `hostFile`
 * (one of warden's own executables: warden opens it and hands bubblewrap the descriptor, so it
 * never passes through warden's memory and the sandbox uid need not reach warden's directory).
 */
export type SandboxFile = {
  /** Absolute path inside the sandbox, below /.warden. */
  path: string;
  /** Default 0444. */
  mode?: number;
} & ({ content: string | Buffer; hostFile?: never } | { hostFile: string; content?: never });

export interface NetworkBridge {
  /** Ports on the sandbox's loopback that warden serves (the proxy's, and inference.local's). */
  ports: readonly number[];
  /** UDP ports on the sandbox's loopback that warden serves (the name-lookup trap's). */
  datagramPorts?: readonly number[];
  /** Listeners in the order of `ports`; UDP sockets in the order of `datagramPorts`. */
  attach: (listeners: net.Server[], sandbox: { initPid: number; candidates: ProcessSource; datagrams: dgram.Socket[] }) => void;
}

/** Where the sandbox's processes are listed (read off the event loop, by whoever needs them). */
export type ProcessSource = { cgroupProcs: string } | { descendantsOf: number };

export interface RunResult {
  /** CMD's exit code, or 128+N when it was killed by signal N. */
  exitCode: number;
  sandboxName: string;
}

export class SandboxSetupError extends Error {}

/** Signals warden passes on to CMD; SIGKILL/SIGSTOP cannot be caught and need no forwarding. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT'];
/**
 * The signals a terminal sends to its whole foreground process group: these go to CMD's process
 * group, so Ctrl-C stops `sleep` under a shell script the way it would outside. The others
 * (`kill`, a supervisor) go to CMD alone.
 */
const TERMINAL_SIGNALS = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGWINCH']);

/** Runs one command in a new sandbox, removes the sandbox afterwards, and returns CMD's exit code. */
export async function runInSandbox(options: RunOptions): Promise<RunResult> {
  const warn = options.warn ?? ((message: string) => writeSync(2, message + '\n'));
  const sandboxName = options.name ?? `run-${randomBytes(3).toString('hex')}`;
  const hostname = `warden-${sandboxName}`;
  const runLease = process.getuid?.() === 0 && options.hostIds === undefined ? leaseRunUid(sandboxName) : undefined;
  let plan: MountPlan | undefined;
  let cgroup: SandboxCgroup | undefined;
  let workdir: Workdir | undefined;
  let home: { path: string; release(): void } | undefined;
  try {
    const user = resolveSandboxUser(options.policy.process, options.hostIds ?? runLease);
    const homeInside = homeMountPoint(options.policy.filesystem_policy, homeInsideFor(user));
    const binds = options.binds ?? [];
    const landlock = planLandlock(options.policy.landlock, landlockRules(options.policy,
      [homeInside, ...binds.filter((b) => b.writable === true).map((b) => b.dest)], binds.filter((b) => b.writable !== true).map((b) => b.dest)));
    if (landlock.kind === 'none' && landlock.warning) warnOnce(warn, landlock.warning);
    const launcher = requireNativeHelper('sandbox-exec');
    const bwrap = findTool('bwrap', 'bubblewrap');
    const seccomp = buildSeccompFilter(hostSeccompArch());
    const resources = resolveResources(options.policy.limits, options.resources);

    if (!options.policy.filesystem_policy.include_workdir && options.workdir !== undefined && !options.service) {
      throw new WorkdirError(`--workdir ${options.workdir} is given, but the policy's filesystem_policy has include_workdir: false, so no ` +
        'workdir would be mounted: set include_workdir: true, or leave out --workdir');
    }
    workdir = options.policy.filesystem_policy.include_workdir ? prepareWorkdir(options.workdir, user, sandboxName, options.workdirOwner) : undefined;
    home = prepareHome(options.home, user, sandboxName);
    plan = planMounts({
      filesystem: options.policy.filesystem_policy, workdir: workdir?.source, wardenHome: options.wardenHome,
      writableProtected: options.policy.workdir_files?.writable, tmpBytes: resources.tmpBytes,
      home: { source: home.path, dest: homeInside },
      ...(options.binds !== undefined ? { binds: options.binds } : {}),
    });
    checkMountPoints(plan, user, { home: homeInside });
    for (const entry of plan.unprotected) {
      warn(`warden: ${entry} in the workdir is writable inside the sandbox (workdir_files.writable): code the agent puts there may run on the host`);
    }
    const cwd = workdir ? WORKDIR_MOUNT : '/';
    const env = sandboxEnvironment({
      user, hostname, sandboxName, cwd, home: homeInside,
      term: !options.service && isatty(0) ? process.env.TERM : undefined,
      extra: options.env ?? {},
    });
    const [program, ...args] = options.command;
    if (program === undefined) throw new SandboxSetupError('no command given');
    // warden's own executables (the supervisor) are placed by warden, not found through the plan.
    const placed = options.files?.some((file) => file.path === program && ((file.mode ?? 0o444) & 0o111) !== 0);
    const resolved = placed ? program : resolveCommand(plan, program, env.PATH ?? SANDBOX_PATH, cwd, user);
    if (!placed) checkRunnable(plan, resolved, user);
    // On a terminal, bubblewrap runs the supervisor, and the supervisor runs CMD on a pty.
    const onTerminal = options.terminal === true && !options.service;
    const sandboxCommand = onTerminal ? [SUPERVISOR_INSIDE] : [resolved, ...args];
    // The Landlock helper goes in by descriptor, like every warden file: the sandbox uid need
    // not be able to reach warden's installation directory.
    const files = [...(options.files ?? []),
      ...(onTerminal ? [{ path: SUPERVISOR_INSIDE, hostFile: requireNativeHelper('supervisor'), mode: 0o555 }] : []),
      ...(landlock.kind === 'wrap' ? [{ path: landlock.insidePath, hostFile: landlock.hostBinary, mode: 0o555 }] : [])];
    for (const file of files) {
      if (!file.path.startsWith(WARDEN_DIR + '/') && !NETWORK_FILES.includes(file.path)) throw new SandboxSetupError(`internal: sandbox file ${file.path} must be under ${WARDEN_DIR}`);
    }
    cgroup = sandboxCgroup(sandboxName, resources, warn);
    const cgroupFds = cgroup?.procsFds ?? [];
    const firstCgroupFd = FD.firstFile + files.length;
    const bwrapCall = bwrapArgs({
      plan, hostname, uid: user.uid, gid: user.gid, cwd,
      // The supervisor removes WARDEN_SUPERVISOR_SWEEP before it starts CMD; in the sandbox's own
      // PID namespace, it may end by killing everything CMD left behind.
      env: onTerminal ? { ...env, WARDEN_SUPERVISOR_SWEEP: '1' } : env,
      command: landlock.kind === 'wrap' ? [...landlock.prefix, ...sandboxCommand] : sandboxCommand,
      blockUntilReady: options.network !== undefined,
      files: files.map((file, index) => ({ fd: FD.firstFile + index, path: file.path, mode: file.mode ?? 0o444 })),
      firstPinFd: firstCgroupFd + cgroupFds.length,
    });
    const handedOver = [FD.seccomp, FD.info, FD.passwd, FD.group, ...(options.network ? [FD.block] : []), ...files.map((_, index) => FD.firstFile + index)];
    const argv = [
      ...cgroupFds.flatMap((_, index) => ['--cgroup-fd', String(firstCgroupFd + index)]),
      ...rlimitArgs(options.limits ?? { ...DEFAULT_LIMITS, processes: resources.pids }),
      ...bwrapCall.pins.flatMap((pin) => ['--pin', String(pin.fd), pin.path]),
      ...handedOver.flatMap((fd) => ['--keep-fd', String(fd)]),
      '--', bwrap, ...bwrapCall.args,
    ];
    const terminal = options.service ? undefined : saveTerminal();
    try {
      const setup = { user, home: homeInside, seccomp, files, cgroup, network: options.network };
      if (onTerminal) {
        const session = terminalSession({ argv: [resolved, ...args], env: {}, cwd }, new AbortController());
        const sandboxExit = await supervise(launcher, argv, { ...setup, service: session.service });
        // The supervisor exits only after CMD's exit was reported, or when it died (then CMD did too).
        return { exitCode: await Promise.race([session.exitCode, Promise.resolve(sandboxExit || 137)]), sandboxName };
      }
      const exitCode = await supervise(launcher, argv, { ...setup, service: options.service });
      return { exitCode, sandboxName };
    } finally {
      terminal?.restore();
    }
  } finally {
    if (plan) removePlaceholders(plan);
    cgroup?.remove();
    workdir?.release();
    home?.release();
    runLease?.release();
  }
}

const warned = new Set<string>();
/** Some conditions (no Landlock, no cgroups) hold for the whole machine: say so once per process. */
function warnOnce(warn: (message: string) => void, message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  warn(message);
}

let cgroupSupport: CgroupSupport | undefined;
/** The sandbox's cgroup, or undefined (said once, never silently) when this host cannot give one. */
function sandboxCgroup(sandboxName: string, resources: ReturnType<typeof resolveResources>, warn: (message: string) => void): SandboxCgroup | undefined {
  cgroupSupport ??= detectCgroups();
  if (cgroupSupport.kind === 'none') {
    warnOnce(warn, `warden: no cgroup limits on this host (${cgroupSupport.reason}): memory, CPU and process-count limits are NOT enforced; ` +
      'rlimits and tmpfs sizes still apply (`warden doctor` explains)');
    return undefined;
  }
  return createSandboxCgroup(cgroupSupport, `${sandboxName}-${randomBytes(4).toString('hex')}`, resources);
}

/**
 * The sandbox shares the user's terminal (when stdin is one) and may leave it changed
 * (`stty -echo`, raw mode); warden puts the settings back when CMD is gone.
 */
function saveTerminal(): { restore(): void } | undefined {
  if (!isatty(0)) return undefined;
  let stty: string;
  try {
    stty = findTool('stty', 'coreutils');
  } catch {
    return undefined;
  }
  const saved = spawnSync(stty, ['-g'], { stdio: [0, 'pipe', 'ignore'], encoding: 'utf8' });
  const settings = saved.status === 0 ? saved.stdout.trim() : '';
  if (!settings) return undefined;
  return { restore: () => void spawnSync(stty, [settings], { stdio: [0, 'ignore', 'ignore'] }) };
}

/**
 * Starts bubblewrap and stays with it until CMD ends. warden forwards signals to CMD itself
 * because the sandbox runs in its own session: a terminal's Ctrl-C reaches warden, and
 * warden alone decides what crosses into the sandbox.
 */
async function supervise(launcher: string, argv: string[], setup: {
  user: SandboxUser;
  home: string;
  seccomp: Buffer;
  files: SandboxFile[];
  cgroup: SandboxCgroup | undefined;
  network?: NetworkBridge;
  service?: SandboxService;
}): Promise<number> {
  const { user, network, service, cgroup } = setup;
  const io = service ? 'pipe' : 'inherit';
  const accounts = sandboxAccountFiles(user, setup.home);
  const hostFiles = openHostFiles(setup.files);
  let child: LaunchedProcess;
  try {
    // Security invariant: the launcher drops to the unprivileged sandbox uid before anything else
    // (--user), so bubblewrap and no process of the sandbox is ever host root, not even in setup.
    child = launch(launcher, [...(user.dropsPrivileges ? ['--user', `${user.uid}:${user.gid}`] : []), ...argv], {
      fds: [io, io, io, 'pipe', 'pipe', 'pipe', 'pipe', network ? 'pipe' : 'ignore', ...hostFiles.map((fd) => fd ?? 'pipe'), ...(cgroup?.procsFds ?? [])],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
  } catch (error) {
    throw new SandboxSetupError(`cannot start bubblewrap: ${(error as Error).message}`);
  } finally {
    // The launcher has its own copies (or never started): warden's must not leak elsewhere.
    for (const fd of hostFiles) if (fd !== undefined) closeSync(fd);
    cgroup?.closeFds();
  }
  let exited = false;
  const exit = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
  // A sandbox of the gateway has no terminal to say why its setup failed: keep what bubblewrap and
  // the launcher said until it runs, for the error.
  let setupMessages = '';
  const collectSetupMessages = (chunk: Buffer) => {
    if (setupMessages.length < 8192) setupMessages += chunk.toString('utf8');
  };
  if (service) child.stderr!.on('data', collectSetupMessages);
  let initPid: Promise<number | undefined>;
  try {
    writeAll(child, FD.seccomp, setup.seccomp);
    writeAll(child, FD.passwd, accounts.passwd);
    writeAll(child, FD.group, accounts.group);
    setup.files.forEach((file, index) => {
      if (file.content !== undefined) writeAll(child, FD.firstFile + index, file.content);
    });
    initPid = readInitPid(child);
  } catch (error) {
    // Nothing of the sandbox may outlive a setup that failed here.
    killSandbox(child);
    throw error;
  }

  const running = () => !exited;
  const pending: NodeJS.Signals[] = [];
  let nsInit: number | undefined;
  const forward = (signal: NodeJS.Signals) => {
    if (nsInit === undefined) pending.push(signal);
    else signalCommand(nsInit, signal, running);
  };
  const forwarded = service ? [] : FORWARDED_SIGNALS;
  for (const signal of forwarded) process.on(signal, forward);
  const stop = () => killSandbox(child);
  service?.stop.addEventListener('abort', stop);
  if (service?.stop.aborted) stop();
  let listeners: Array<net.Server | dgram.Socket> = [];
  try {
    const pid = await Promise.race([initPid, exit.then(() => undefined)]);
    if (pid === undefined) {
      const code = await exit;
      const said = setupMessages.trim().replace(/^warden: /, '');
      throw new SandboxSetupError(service && said !== ''
        ? `the sandbox could not be set up (exit ${code}): ${said}`
        : `the sandbox could not be set up (exit ${code}; the reason is above)`);
    }
    {
      if (network) {
        try {
          const opened = await openListenersInSandbox(pid, network.ports, process.getuid?.() === 0, network.datagramPorts);
          listeners = [...opened.servers, ...opened.datagrams];
          network.attach(opened.servers, { initPid: pid, candidates: cgroup ? { cgroupProcs: cgroup.procsFile } : { descendantsOf: pid }, datagrams: opened.datagrams });
        } catch (error) {
          // Fail closed: CMD never starts without the network it was promised. If bubblewrap
          // died on its own it has said why on stderr; that, not the listener, is the cause.
          const diedFirst = exited;
          killSandbox(child);
          await exit.catch(() => undefined);
          if (diedFirst) throw new SandboxSetupError('bubblewrap could not build the sandbox (its message is above)');
          throw error;
        }
      }
      nsInit = pid;
      for (const signal of pending.splice(0)) signalCommand(pid, signal, running);
      if (service) {
        child.stderr!.off('data', collectSetupMessages);
        service.onStarted({ stdin: child.stdin!, stdout: child.stdout!, stderr: child.stderr!, initPid: pid });
      }
    }
    // CMD is held until now (bubblewrap's --block-fd); this releases it.
    if (network) writeAll(child, FD.block, 'go');
    return await exit;
  } finally {
    for (const signal of forwarded) process.off(signal, forward);
    service?.stop.removeEventListener('abort', stop);
    for (const listener of listeners) listener.close();
  }
}

/**
 * Kills bubblewrap and the sandbox's init together: both are in the process group of the
 * launcher's own session. Killing bubblewrap alone is not enough: an init still held on its block
 * fd was seen to outlive it, keeping warden's pipes open.
 */
function killSandbox(child: LaunchedProcess): void {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Read-only descriptors of the files copied from the host, in the order of `files`. */
function openHostFiles(files: SandboxFile[]): Array<number | undefined> {
  const fds: Array<number | undefined> = [];
  try {
    for (const file of files) fds.push(file.hostFile !== undefined ? openSync(file.hostFile, constants.O_RDONLY) : undefined);
  } catch (error) {
    for (const fd of fds) if (fd !== undefined) closeSync(fd);
    throw new SandboxSetupError(`cannot open warden's own file: ${(error as Error).message}`);
  }
  return fds;
}

function writeAll(child: LaunchedProcess, fd: number, data: Buffer | string): void {
  const stream = child.stdio[fd] as NodeJS.WritableStream | null;
  if (!stream) throw new SandboxSetupError(`internal: fd ${fd} to bubblewrap is not open`);
  // bubblewrap may exit before reading (a setup error); that is reported by its exit status.
  (stream as NodeJS.WritableStream & { on(event: 'error', cb: () => void): void }).on('error', () => undefined);
  stream.end(data);
}

function readInitPid(child: LaunchedProcess): Promise<number | undefined> {
  const stream = child.stdio[FD.info] as NodeJS.ReadableStream | null;
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no info fd'));
    let settled = false;
    let text = '';
    // bubblewrap's info is ASCII JSON: decoded per chunk (a decoding stream loads more of Node).
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const match = /"child-pid":\s*(\d+)/.exec(text);
      if (match && !settled) {
        settled = true;
        resolve(Number(match[1]));
      }
    });
    stream.on('error', reject);
    // No pid: the launcher or bubblewrap failed before the sandbox existed (they said why on stderr).
    stream.on('end', () => {
      if (!settled) resolve(undefined);
    });
  });
}

/**
 * Delivers a signal to CMD. bubblewrap's init is pid 1 of the sandbox and ignores signals it
 * has no handler for, so the signal goes to its child, CMD, found through /proc.
 */
function signalCommand(initPid: number, signal: NodeJS.Signals, running: () => boolean, attempt = 0): void {
  // Security invariant: never touch the pid once bubblewrap has exited; it may belong to
  // an unrelated process by then, and warden may be root.
  if (!running()) return;
  // No child (yet, or any more): the sandbox is starting or gone.
  const commandPid = childrenOf(initPid)[0] ?? 0;
  if (!Number.isInteger(commandPid) || commandPid <= 0) {
    // A signal that arrives while bubblewrap's init is still forking CMD must not be lost.
    if (attempt < 200) setTimeout(() => signalCommand(initPid, signal, running, attempt + 1), 5).unref();
    return;
  }
  try {
    // bubblewrap's --new-session makes the sandbox's init lead a session and process group of
    // its own inside the sandbox; nothing outside the sandbox can be a member of it.
    const toGroup = TERMINAL_SIGNALS.has(signal) && readProcStat(commandPid)?.pgrp === initPid;
    process.kill(toGroup ? -initPid : commandPid, signal);
  } catch {
    // CMD already exited; the sandbox is going away.
  }
}
