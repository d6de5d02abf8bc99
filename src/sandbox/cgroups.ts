// Control groups: every sandbox runs in a cgroup of its own with memory, process and CPU limits,
// so that one sandbox cannot exhaust the host for the others (or for the gateway). Both cgroup v2
// (the unified hierarchy, most hosts) and the v1 controllers (memory, pids and cpu mounted
// separately, as on some VMs and older distributions) are supported. The sandbox is placed in its
// cgroup before bubblewrap runs: warden opens each cgroup.procs file and sandbox-exec, already the
// sandbox's uid, writes itself into it through that descriptor.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync, accessSync, constants } from 'node:fs';
import path from 'node:path';

export interface ResourceLimits {
  /** Memory (and tmpfs pages the sandbox fills) in bytes; swap is not allowed on top. */
  memoryBytes: number;
  /** CPU time as a number of CPUs (1.5 = one and a half cores' worth). */
  cpus: number;
  /** Processes and threads. */
  pids: number;
}

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof CONTROLLERS)[number];
const CPU_PERIOD_US = 100_000;

export type CgroupSupport =
  | { kind: 'v2'; parent: string }
  | { kind: 'v1'; parents: Record<Controller, string> }
  | { kind: 'none'; reason: string };

export interface SandboxCgroup {
  /** Directories made for this sandbox (one in v2, one per controller in v1). */
  directories: string[];
  /** Open cgroup.procs descriptors to hand to sandbox-exec (it closes its copies). */
  procsFds: number[];
  /** Closes warden's copies of procsFds (after the launcher has started). */
  closeFds(): void;
  /** The cgroup.procs file listing the sandbox's processes (no walk of all of /proc needed). */
  procsFile: string;
  /** Removes the cgroup; anything still in it is killed first. */
  remove(): void;
}

export class CgroupError extends Error {}

interface MountInfo {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function mounts(mountinfo: string): MountInfo[] {
  return mountinfo.split('\n').filter(Boolean).map((line) => {
    const [left = '', right = ''] = line.split(' - ');
    const fields = left.split(' ');
    const [fsType = '', , superOptions = ''] = right.split(' ');
    return { mountPoint: unescapeMount(fields[4] ?? ''), fsType, superOptions: superOptions.split(',') };
  });
}

function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** This process's cgroup path per v1 controller, and its v2 path ('' key). */
function ownCgroups(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers = '', cgroupPath = '/'] = line.split(/:(.*?):/);
    for (const controller of controllers.split(',')) result.set(controller, cgroupPath);
  }
  return result;
}

function below(mountPoint: string, cgroupPath = '/'): string {
  return cgroupPath === '/' ? mountPoint : path.join(mountPoint, cgroupPath);
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readWords(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Where this process can make sandbox cgroups. `proc` lets tests point at a fixture tree
 * (its `self/mountinfo` and `self/cgroup`).
 */
export function detectCgroups(proc = '/proc'): CgroupSupport {
  let mountinfo: string;
  let own: Map<string, string>;
  try {
    mountinfo = readFileSync(path.join(proc, 'self', 'mountinfo'), 'utf8');
    own = ownCgroups(readFileSync(path.join(proc, 'self', 'cgroup'), 'utf8'));
  } catch (error) {
    return { kind: 'none', reason: `cannot read this process's cgroups (${(error as Error).message})` };
  }
  const all = mounts(mountinfo);
  const v1 = detectV1(all, own);
  if (v1.kind === 'v1') return v1;
  const v2 = detectV2(all, own);
  if (v2.kind === 'v2') return v2;
  return { kind: 'none', reason: `${v2.reason}; ${v1.reason}` };
}

type Unsupported = Extract<CgroupSupport, { kind: 'none' }>;

function detectV1(all: MountInfo[], own: Map<string, string>): Extract<CgroupSupport, { kind: 'v1' }> | Unsupported {
  const parents: Partial<Record<Controller, string>> = {};
  for (const controller of CONTROLLERS) {
    const mount = all.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
    if (!mount) return { kind: 'none', reason: `cgroup v1: no ${controller} controller mounted` };
    // Nested below this process's own cgroup, so any limit on warden itself applies to its sandboxes.
    parents[controller] = below(mount.mountPoint, own.get(controller));
  }
  const readOnly = Object.values(parents).find((parent) => !writable(parent));
  if (readOnly !== undefined) return { kind: 'none', reason: `cgroup v1: ${readOnly} is not writable (run warden as root)` };
  return { kind: 'v1', parents: parents as Record<Controller, string> };
}

function detectV2(all: MountInfo[], own: Map<string, string>): Extract<CgroupSupport, { kind: 'v2' }> | Unsupported {
  const mount = all.find((m) => m.fsType === 'cgroup2');
  if (!mount) return { kind: 'none', reason: 'cgroup v2: not mounted' };
  const root = mount.mountPoint;
  const available = readWords(path.join(root, 'cgroup.controllers'));
  const missing = CONTROLLERS.filter((c) => !available.includes(c));
  if (missing.length > 0) {
    return { kind: 'none', reason: `cgroup v2 at ${root}: controller${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not available (bound to v1, or not delegated)` };
  }
  if (process.getuid?.() === 0) return { kind: 'v2', parent: path.join(root, 'warden') };
  // Without root: the deepest ancestor of this process's cgroup that is delegated to this user
  // and already passes the controllers to its children (systemd's user@UID.service does).
  for (let dir = below(root, own.get('')); dir.startsWith(root) && dir !== root; dir = path.dirname(dir)) {
    const enabled = readWords(path.join(dir, 'cgroup.subtree_control'));
    if (writable(dir) && CONTROLLERS.every((c) => enabled.includes(c))) return { kind: 'v2', parent: dir };
  }
  return { kind: 'none', reason: 'cgroup v2: no cgroup is delegated to this user with the memory, pids and cpu controllers (run as root, or under systemd with Delegate=yes)' };
}

/** Creates the cgroup for one sandbox (`id` unique on the machine) and writes its limits. */
export function createSandboxCgroup(support: Exclude<CgroupSupport, { kind: 'none' }>, id: string, limits: ResourceLimits): SandboxCgroup {
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new CgroupError(`internal: bad cgroup name ${JSON.stringify(id)}`);
  const directories: string[] = [];
  try {
    if (support.kind === 'v2') {
      enableV2Controllers(support.parent);
      const dir = path.join(support.parent, `warden-${id}`);
      mkdirSync(dir);
      directories.push(dir);
      writeLimit(dir, 'memory.max', String(limits.memoryBytes));
      if (existsSync(path.join(dir, 'memory.swap.max'))) writeLimit(dir, 'memory.swap.max', '0');
      writeLimit(dir, 'pids.max', String(limits.pids));
      writeLimit(dir, 'cpu.max', `${Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
    } else {
      for (const controller of CONTROLLERS) {
        const dir = path.join(support.parents[controller], 'warden', id);
        mkdirSync(dir, { recursive: true });
        directories.push(dir);
      }
      const [memory, pids, cpu] = directories as [string, string, string];
      writeLimit(memory, 'memory.limit_in_bytes', String(limits.memoryBytes));
      if (existsSync(path.join(memory, 'memory.memsw.limit_in_bytes'))) writeLimit(memory, 'memory.memsw.limit_in_bytes', String(limits.memoryBytes));
      writeLimit(pids, 'pids.max', String(limits.pids));
      writeLimit(cpu, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      writeLimit(cpu, 'cpu.cfs_quota_us', String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))));
    }
  } catch (error) {
    for (const dir of directories.reverse()) rmdirQuietly(dir);
    throw new CgroupError(`cannot set up the sandbox's cgroup: ${(error as Error).message}`);
  }
  const procsFds = directories.map((dir) => openSync(path.join(dir, 'cgroup.procs'), 'w'));
  let fdsOpen = true;
  const closeFds = () => {
    if (!fdsOpen) return;
    fdsOpen = false;
    for (const fd of procsFds) closeSync(fd);
  };
  return {
    directories,
    procsFds,
    closeFds,
    procsFile: path.join(directories[0]!, 'cgroup.procs'),
    remove: () => {
      closeFds();
      for (const dir of directories) removeCgroup(dir);
    },
  };
}

function enableV2Controllers(parent: string): void {
  if (!existsSync(parent)) mkdirSync(parent);
  for (const dir of [path.dirname(parent), parent]) {
    const enabled = readWords(path.join(dir, 'cgroup.subtree_control'));
    const wanted = CONTROLLERS.filter((c) => !enabled.includes(c));
    if (wanted.length > 0) writeFileSync(path.join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
  }
}

function writeLimit(dir: string, file: string, value: string): void {
  writeFileSync(path.join(dir, file), value);
}

function rmdirQuietly(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Kills what is left (a sandbox's processes die with it; this is the safety net) and removes the directory. */
function removeCgroup(dir: string): void {
  if (rmdirQuietly(dir)) return;
  if (existsSync(path.join(dir, 'cgroup.kill'))) {
    try {
      writeFileSync(path.join(dir, 'cgroup.kill'), '1');
    } catch {
      // fall through to killing by pid
    }
  }
  for (let attempt = 0; attempt < 50 && existsSync(dir); attempt++) {
    for (const pid of readWords(path.join(dir, 'cgroup.procs')).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (rmdirQuietly(dir)) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/**
 * Removes empty sandbox cgroups left by a warden that was killed (-9) before it could. Only those
 * older than a minute: a younger one may belong to a sandbox another warden is starting now.
 */
export function removeAbandonedCgroups(support: CgroupSupport, now = Date.now()): void {
  const parents = support.kind === 'v2' ? [support.parent] : support.kind === 'v1' ? Object.values(support.parents).map((p) => path.join(p, 'warden')) : [];
  for (const parent of parents) {
    let entries: string[];
    try {
      entries = readdirSync(parent);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = path.join(parent, entry);
      const stat = statSync(dir, { throwIfNoEntry: false });
      if ((support.kind === 'v1' || entry.startsWith('warden-')) && stat?.isDirectory() && now - stat.mtimeMs > 60_000) rmdirQuietly(dir);
    }
  }
}
