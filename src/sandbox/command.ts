import { closeSync, lstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { permits } from './host-user.js';
import { hostPathOf, type MountPlan } from './mounts.js';

export class CommandNotFoundError extends Error {
  constructor(readonly command: string, readonly searched: string[], readonly reason: 'missing' | 'not-executable') {
    super(reason === 'missing'
      ? `${command}: command not found inside the sandbox (looked in ${searched.join(', ')}); ` +
        'the sandbox sees only the paths its policy lists'
      : `${command}: found inside the sandbox but it is not an executable file`);
  }
}

/**
 * Finds the executable the sandbox will run, the way execvp would inside it, by mapping
 * sandbox paths through the mount plan. Doing this before starting lets warden report
 * "not found" (exit 127) clearly instead of a bubblewrap error that looks like CMD's own.
 */
export function resolveCommand(plan: MountPlan, command: string, searchPath: string, cwd: string, runAs: { uid: number; gid: number }): string {
  const candidates = command.includes('/')
    ? [path.posix.resolve(cwd, command)]
    : searchPath.split(':').filter(Boolean).map((dir) => path.posix.join(dir, command));
  let sawNonExecutable = false;
  for (const inside of candidates) {
    const host = hostPathOf(plan, inside);
    if (host === undefined) continue;
    const stat = statOrUndefined(host);
    if (!stat?.isFile()) continue;
    if (permits(stat, runAs, 'execute')) return inside;
    sawNonExecutable = true;
  }
  throw new CommandNotFoundError(command, command.includes('/') ? candidates : searchPath.split(':'),
    sawNonExecutable ? 'not-executable' : 'missing');
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES/ENOTDIR on the way: not reachable, so not found
  }
}

/** CMD exists inside the sandbox but cannot start there: its loader or interpreter is not visible. */
export class CommandNotRunnableError extends Error {}

/**
 * Checks that `inside` (found by resolveCommand) can start in the sandbox: a dynamically linked
 * program needs its loader (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2) and a script its
 * interpreter (#!) to be visible inside too. Otherwise the kernel answers ENOENT and the user
 * sees "No such file or directory" for a program that is plainly there (a policy that leaves
 * out /lib on a merged-/usr system). Shared libraries are not followed: their loader says which.
 */
export function checkRunnable(plan: MountPlan, inside: string, runAs: { uid: number; gid: number }, depth = 0): void {
  const host = resolveInside(plan, inside);
  if (host === undefined || depth > 4) return;
  let head: Buffer;
  try {
    head = readHead(host, 4096);
  } catch {
    return; // unreadable from here: the kernel decides
  }
  const needs = head.subarray(0, 2).toString('latin1') === '#!'
    ? { what: 'interpreter', path: head.subarray(2).toString('latin1').split('\n')[0]!.trim().split(/\s+/)[0] ?? '' }
    : { what: 'loader', path: elfInterpreter(host, head) ?? '' };
  if (!needs.path.startsWith('/')) return;
  const found = resolveInside(plan, needs.path);
  const stat = found === undefined ? undefined : statOrUndefined(found);
  if (stat?.isFile()) {
    if (needs.what === 'interpreter') checkRunnable(plan, needs.path, runAs, depth + 1);
    return;
  }
  const top = `/${needs.path.split('/').filter(Boolean)[0] ?? ''}`;
  const linked = plan.steps.find((step) => step.kind === 'symlink' && step.dest === top);
  throw new CommandNotRunnableError(`${inside} cannot start in this sandbox: its ${needs.what} ${needs.path} is not visible inside ` +
    `(the policy's filesystem_policy does not make ${top} visible${linked ? `, only the link ${top} -> ${linked.kind === 'symlink' ? linked.target : ''}` : ''}). ` +
    `Add ${top}${top === '/lib64' || top === '/lib' ? ' (and /lib, /lib64 on merged-/usr systems, where they are links into /usr)' : ''} ` +
    'to filesystem_policy.read_only.');
}

/**
 * The host path of `inside` as the sandbox would resolve it: symbolic links are followed inside
 * the sandbox's own view (an absolute link target means the sandbox's /, not the host's).
 */
export function resolveInside(plan: MountPlan, inside: string, hops = 0): string | undefined {
  const parts = inside.split('/').filter(Boolean);
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = path.posix.join(current, parts[i]!);
    const host = hostPathOf(plan, next);
    if (host === undefined) return undefined;
    let stat: Stats | undefined;
    try {
      stat = lstatSync(host, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (stat === undefined) return undefined;
    if (stat.isSymbolicLink()) {
      if (hops >= 40) return undefined;
      const target = path.posix.resolve(current, readlinkSync(host), parts.slice(i + 1).join('/'));
      return resolveInside(plan, target, hops + 1);
    }
    current = next;
  }
  return hostPathOf(plan, current);
}

function readHead(file: string, bytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/** The PT_INTERP of a little-endian ELF file, or undefined (not ELF, static, or unreadable). */
function elfInterpreter(file: string, head: Buffer): string | undefined {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f454c46 || head[5] !== 1) return undefined;
  const is64 = head[4] === 2;
  if (is64 && head.length < 64) return undefined;
  const phoff = is64 ? Number(head.readBigUInt64LE(32)) : head.readUInt32LE(28);
  const phentsize = head.readUInt16LE(is64 ? 54 : 42);
  const phnum = head.readUInt16LE(is64 ? 56 : 44);
  if (phnum === 0 || phentsize < (is64 ? 56 : 32) || phnum > 512) return undefined;
  const table = readAt(file, phoff, phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const entry = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (entry.length < (is64 ? 56 : 32) || entry.readUInt32LE(0) !== 3 /* PT_INTERP */) continue;
    const offset = is64 ? Number(entry.readBigUInt64LE(8)) : entry.readUInt32LE(4);
    const size = is64 ? Number(entry.readBigUInt64LE(32)) : entry.readUInt32LE(16);
    if (size <= 1 || size > 4096) return undefined;
    return readAt(file, offset, size).toString('latin1').replace(/\0.*$/s, '');
  }
  return undefined;
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    return buffer.subarray(0, readSync(fd, buffer, 0, length, offset));
  } finally {
    closeSync(fd);
  }
}
