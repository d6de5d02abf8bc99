// Caller identity from the kernel. Given the two ends of a TCP connection, find the socket in
// the network namespace's connection table (/proc/<pid>/net/tcp{,6}), then the processes that
// hold that socket (a `socket:[inode]` link under /proc/<pid>/fd), then their executables and
// ancestors, and whether code they run could have been planted. Nothing the client sends over the
// connection is used.
//
// The work is synchronous file reads: it runs in a worker thread (identity-service.ts), never on
// the gateway's event loop, and each identification is bounded (IdentifyBudget) because a sandbox
// decides how many processes and descriptors there are to search.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AncestorIdentity, type IpAddress, ipEquals, parseIp, type ProcessIdentity, unmapIPv4 } from '../policy/index.js';
import { readProcStat } from '../sandbox/index.js';

export class IdentityError extends Error {
  override name = 'IdentityError';
}

export interface IdentifyTcpPeerOptions {
  /** Root of the proc filesystem; default '/proc'. Tests point it at a fixture tree. */
  procRoot?: string;
  /**
   * Read the connection table of this process's network namespace
   * (<procRoot>/<pid>/net/tcp); default <procRoot>/self/net, the proxy's own namespace.
   */
  netTablePid?: number;
  /** The connection as the proxy sees it: peer = the client's socket. */
  peerAddress: string;
  peerPort: number;
  localAddress: string;
  localPort: number;
  /** Processes that may hold the client's socket; default every numeric entry of procRoot. */
  candidatePids?: () => number[] | Promise<number[]>;
  /** Shared hash cache; default one per process. */
  hashes?: ExeHashCache;
  /**
   * The sandbox's init process (and a named sandbox's supervisor): ancestors stop below them.
   * Security invariant: processes above a sandbox (bubblewrap, warden, the user's shell) and the
   * supervisor are not the caller's ancestors for policy purposes, or allowing `node` would allow
   * everything warden (a node program) runs.
   */
  ancestorBoundary?: number | (() => readonly number[]);
  /**
   * Paths the sandbox can write (as the sandbox sees them). A process that runs code from below
   * them (an executable mapping, LD_PRELOAD...) is marked `tainted`: it could be any program
   * wearing an allowed binary's name. Without it, no such check is made.
   */
  writable?: readonly string[];
  budget?: IdentifyBudget;
  /** Where socket inodes seen in earlier searches were held (kept across identifications). */
  sockets?: SocketIndex;
}

/** Bounds on one identification: a sandbox must not be able to make it arbitrarily long. */
export interface IdentifyBudget {
  /** Descriptor links read across all candidates. */
  maxDescriptors: number;
  /** Wall time in milliseconds. */
  maxMs: number;
}

export const DEFAULT_BUDGET: IdentifyBudget = { maxDescriptors: 100_000, maxMs: 500 };

interface TableEntry {
  local: IpAddress;
  localPort: number;
  remote: IpAddress;
  remotePort: number;
  inode: number;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Decode the kernel's hex address: 32-bit words in host byte order. */
function decodeHexAddress(hex: string): IpAddress | null {
  if (hex.length !== 8 && hex.length !== 32) return null;
  const bytes = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    for (let b = 0; b < 4; b++) {
      const pair = hex.slice(w * 8 + b * 2, w * 8 + b * 2 + 2);
      const target = LITTLE_ENDIAN ? w * 4 + (3 - b) : w * 4 + b;
      bytes[target] = parseInt(pair, 16);
    }
  }
  return unmapIPv4({ family: hex.length === 8 ? 4 : 6, bytes });
}

/** Parse the text of /proc/net/tcp or /proc/net/tcp6. */
export function parseNetTable(text: string): TableEntry[] {
  const out: TableEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [localHex, localPortHex] = (f[1] ?? '').split(':');
    const [remoteHex, remotePortHex] = (f[2] ?? '').split(':');
    const local = decodeHexAddress(localHex ?? '');
    const remote = decodeHexAddress(remoteHex ?? '');
    const inode = Number(f[9]);
    if (!local || !remote || !Number.isSafeInteger(inode)) continue;
    out.push({ local, localPort: parseInt(localPortHex ?? '', 16), remote, remotePort: parseInt(remotePortHex ?? '', 16), inode });
  }
  return out;
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Inode of the client's socket: local end = our peer, remote end = our local address. */
export function findClientSocketInode(o: IdentifyTcpPeerOptions): number | null {
  const root = o.procRoot ?? '/proc';
  const dir = path.join(root, o.netTablePid === undefined ? 'self' : String(o.netTablePid), 'net');
  const peer = parseIp(o.peerAddress);
  const local = parseIp(o.localAddress);
  if (!peer || !local) return null;
  const clientAddr = unmapIPv4(peer);
  const serverAddr = unmapIPv4(local);
  for (const table of ['tcp', 'tcp6']) {
    for (const e of parseNetTable(readIfExists(path.join(dir, table)))) {
      if (e.inode === 0) continue;
      if (e.localPort === o.peerPort && e.remotePort === o.localPort && ipEquals(e.local, clientAddr) && ipEquals(e.remote, serverAddr)) {
        return e.inode;
      }
    }
  }
  return null;
}

function allPids(root: string): number[] {
  return fs
    .readdirSync(root)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/**
 * Where socket inodes were last seen: every socket descriptor met while searching a process is
 * remembered, so the next connection of a process that opened several at once is found with one
 * check (is that descriptor still that socket?) instead of another search.
 */
export class SocketIndex {
  private readonly seen = new Map<number, { pid: number; fd: string }>();

  constructor(private readonly limit = 16_384) {}

  remember(inode: number, pid: number, fd: string): void {
    if (this.seen.size >= this.limit) this.seen.clear();
    this.seen.set(inode, { pid, fd });
  }

  /** Pids known to hold `inode`, each checked against its descriptor now. */
  holders(root: string, inode: number): number[] {
    const hit = this.seen.get(inode);
    if (!hit) return [];
    try {
      if (fs.readlinkSync(path.join(root, String(hit.pid), 'fd', hit.fd)) === `socket:[${inode}]`) return [hit.pid];
    } catch {
      // gone
    }
    this.seen.delete(inode);
    return [];
  }
}

/** A search over candidates' descriptors that stops when its budget is spent. */
class DescriptorSearch {
  private links = 0;
  private readonly deadline: number;

  constructor(private readonly root: string, private readonly budget: IdentifyBudget, private readonly index?: SocketIndex) {
    this.deadline = Date.now() + budget.maxMs;
  }

  /** Pids among `pids` with an open descriptor on socket `inode`. */
  holders(pids: readonly number[], inode: number): number[] {
    const wanted = `socket:[${inode}]`;
    const out: number[] = [];
    for (const pid of pids) {
      const fdDir = path.join(this.root, String(pid), 'fd');
      let fds: string[];
      try {
        fds = fs.readdirSync(fdDir);
      } catch {
        continue; // gone, or not ours to read
      }
      for (const fd of fds) {
        this.spend();
        let target: string;
        try {
          target = fs.readlinkSync(path.join(fdDir, fd));
        } catch {
          continue;
        }
        if (!target.startsWith('socket:[')) continue;
        if (target === wanted) {
          out.push(pid);
        } else if (this.index) {
          this.index.remember(Number(target.slice(8, -1)), pid, fd);
        }
      }
    }
    return out;
  }

  private spend(): void {
    this.links++;
    if (this.links > this.budget.maxDescriptors || (this.links % 1024 === 0 && Date.now() > this.deadline)) {
      throw new IdentityError(`the caller could not be found within the identification limit (${this.budget.maxDescriptors} descriptors, ${this.budget.maxMs} ms): the sandbox holds too many open descriptors`);
    }
  }
}

/** Pids among `pids` with an open file descriptor on socket `inode` (no budget). */
export function pidsHoldingSocket(root: string, pids: readonly number[], inode: number): number[] {
  return new DescriptorSearch(root, { maxDescriptors: Number.POSITIVE_INFINITY, maxMs: Number.POSITIVE_INFINITY }).holders(pids, inode);
}

/** Parent pid from /proc/<pid>/stat, or null when the process is gone. */
export function readParentPid(root: string, pid: number): number | null {
  return readProcStat(pid, root)?.ppid ?? null;
}

function readExe(root: string, pid: number): string | null {
  try {
    return fs.readlinkSync(path.join(root, String(pid), 'exe'));
  } catch {
    return null;
  }
}

function readCmdline(root: string, pid: number): string[] | undefined {
  const raw = readIfExists(path.join(root, String(pid), 'cmdline'));
  if (!raw) return undefined;
  return raw.replace(/\0$/, '').split('\0');
}

/**
 * sha256 of executables, read through /proc/<pid>/exe (the file the process actually runs,
 * even if its path now names another file). Cached by the file's identity and change times,
 * so an unchanged binary is hashed once.
 */
export class ExeHashCache {
  private readonly done = new Map<string, string>();

  hashOf(exeLink: string): string {
    const st = fs.statSync(exeLink);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.done.get(key);
    if (known) return known;
    const sha = hashFile(exeLink);
    if (this.done.size > 4096) this.done.clear();
    this.done.set(key, sha);
    return sha;
  }
}

function hashFile(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

const defaultHashes = new ExeHashCache();
const MAX_ANCESTORS = 64;
const LOADER_VARIABLES = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT'];

function isBelow(file: string, dirs: readonly string[]): boolean {
  return dirs.some((dir) => file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
}

/**
 * Why the process may be running code that is not its binary's, or undefined. Security
 * invariant: a binary rule trusts the file the kernel names as the executable; a process that also
 * maps executable code from a place the sandbox can write (a library injected with LD_PRELOAD, a
 * memfd, a file deleted after loading) could be doing anything under that name.
 */
export function taintOf(root: string, pid: number, writable: readonly string[]): string | undefined {
  let maps: string;
  try {
    maps = fs.readFileSync(path.join(root, String(pid), 'maps'), 'utf8');
  } catch {
    return 'its memory map cannot be read';
  }
  for (const line of maps.split('\n')) {
    const fields = line.split(/\s+/);
    const perms = fields[1] ?? '';
    if (!perms.includes('x')) continue;
    const file = fields.slice(5).join(' ');
    if (file === '' || file.startsWith('[')) continue; // anonymous (JIT) or the kernel's own (vdso)
    if (file.startsWith('/memfd:')) return `it runs code from a memory file (${file})`;
    if (file.endsWith(' (deleted)')) return `it runs code from a deleted file (${file})`;
    if (isBelow(file, writable)) return `it runs code from ${file}, which the sandbox can write`;
  }
  const environ = readIfExists(path.join(root, String(pid), 'environ'));
  for (const entry of environ.split('\0')) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    if (!LOADER_VARIABLES.includes(name)) continue;
    const paths = entry.slice(eq + 1).split(/[:\s]+/).filter(Boolean);
    const planted = paths.find((p) => !p.startsWith('/') || isBelow(path.posix.normalize(p), writable));
    if (planted !== undefined) return `it was started with ${name} naming ${planted}, which the sandbox can write`;
  }
  return undefined;
}

function describeProcess(root: string, pid: number, hashes: ExeHashCache, boundaries: ReadonlySet<number>, writable?: readonly string[]): ProcessIdentity {
  const exe = readExe(root, pid);
  if (!exe) throw new IdentityError(`cannot read the executable of pid ${pid}`);
  let exeSha256: string;
  try {
    exeSha256 = hashes.hashOf(path.join(root, String(pid), 'exe'));
  } catch (err) {
    throw new IdentityError(`cannot hash the executable of pid ${pid}: ${(err as Error).message}`);
  }
  const ancestors: AncestorIdentity[] = [];
  const seen = new Set([pid]);
  let tainted = writable ? taintOf(root, pid, writable) : undefined;
  for (let ppid = readParentPid(root, pid); ppid && ppid > 0 && !boundaries.has(ppid) && !seen.has(ppid) && ancestors.length < MAX_ANCESTORS; ppid = readParentPid(root, ppid)) {
    seen.add(ppid);
    const aexe = readExe(root, ppid);
    if (!aexe) continue; // an ancestor we may not inspect (e.g. outside our privileges) adds nothing
    const ancestor: AncestorIdentity = { pid: ppid, exe: aexe };
    try {
      ancestor.exeSha256 = hashes.hashOf(path.join(root, String(ppid), 'exe'));
    } catch {
      // without a hash this ancestor can still be named, but never trusted (see decision.ts)
    }
    // An allowed ancestor lends its rules to the caller: it must be clean too.
    if (writable && tainted === undefined) {
      const why = taintOf(root, ppid, writable);
      if (why !== undefined) tainted = `its ancestor ${aexe} (pid ${ppid}): ${why}`;
    }
    ancestors.push(ancestor);
  }
  const cmdline = readCmdline(root, pid);
  return { pid, exe, exeSha256, ancestors, ...(cmdline ? { cmdline } : {}), ...(tainted ? { tainted } : {}) };
}

function chainKey(p: ProcessIdentity): string {
  return [p.exe, p.exeSha256, ...p.ancestors.map((a) => a.exe)].join('\n');
}

/** `pid`'s parent and children among the candidates. */
function family(root: string, candidates: readonly number[], pid: number): number[] {
  const parent = readParentPid(root, pid);
  return candidates.filter((candidate) => candidate === parent || readParentPid(root, candidate) === pid);
}

/** The candidates most likely to hold the socket first: recent callers, then the newest processes. */
function searchOrder(pids: readonly number[], recent: readonly number[]): number[] {
  const known = new Set(pids);
  const first = recent.filter((pid) => known.has(pid));
  const rest = pids.filter((pid) => !first.includes(pid)).sort((a, b) => b - a);
  return [...first, ...rest];
}

/**
 * Identify the process on the client side of a TCP connection, synchronously. Throws
 * IdentityError when it cannot: the caller must then refuse the connection.
 */
export function identifyTcpPeerSync(o: IdentifyTcpPeerOptions & { candidates: readonly number[]; recent?: readonly number[] }): ProcessIdentity {
  const root = o.procRoot ?? '/proc';
  const inode = findClientSocketInode(o);
  if (inode === null) throw new IdentityError(`no socket ${o.peerAddress}:${o.peerPort} -> ${o.localAddress}:${o.localPort} in the connection table`);
  const search = new DescriptorSearch(root, o.budget ?? DEFAULT_BUDGET, o.sockets);
  const known = o.sockets?.holders(root, inode) ?? [];
  // A remembered holder is checked with its family only (the processes a socket is inherited
  // between), not with every process again: that is the search a sandbox could make expensive.
  const searched = known.length > 0 ? family(root, o.candidates, known[0]!) : searchOrder(o.candidates, o.recent ?? []);
  const holders = [...new Set([...known, ...search.holders(searched.filter((pid) => !known.includes(pid)), inode)])];
  if (holders.length === 0) throw new IdentityError(`no candidate process holds socket inode ${inode}`);

  const hashes = o.hashes ?? defaultHashes;
  const boundaries = new Set(typeof o.ancestorBoundary === 'function' ? o.ancestorBoundary() : o.ancestorBoundary === undefined ? [] : [o.ancestorBoundary]);
  const described = holders.map((pid) => describeProcess(root, pid, hashes, boundaries, o.writable));
  // The deepest holder (not an ancestor of another holder) is the one that made the call;
  // every other distinct holder must be allowed too.
  const ancestorPids = new Set(described.flatMap((d) => d.ancestors.map((a) => a.pid)));
  const primary = described.find((d) => !ancestorPids.has(d.pid)) ?? described[0]!;
  const seen = new Set([chainKey(primary)]);
  const sharedWith: ProcessIdentity[] = [];
  for (const d of described) {
    if (d === primary || seen.has(chainKey(d))) continue;
    seen.add(chainKey(d));
    sharedWith.push(d);
  }
  const tainted = primary.tainted ?? sharedWith.find((d) => d.tainted)?.tainted;
  return { ...primary, ...(sharedWith.length > 0 ? { sharedWith } : {}), ...(tainted ? { tainted } : {}) };
}

/** The same, for callers that have the candidates behind a function (tests, fixtures). */
export async function identifyTcpPeer(o: IdentifyTcpPeerOptions): Promise<ProcessIdentity> {
  const candidates = o.candidatePids ? await o.candidatePids() : allPids(o.procRoot ?? '/proc');
  return identifyTcpPeerSync({ ...o, candidates });
}

/** Pids of `root` and all its descendants (via /proc/<pid>/stat). Walks all of /proc: for workers. */
export function descendantPids(rootPid: number, procRoot = '/proc'): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids(procRoot)) {
    const ppid = readParentPid(procRoot, pid);
    if (ppid === null) continue;
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}
