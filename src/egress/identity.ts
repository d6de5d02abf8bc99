// Caller identity from the kernel. Given the two ends of a TCP connection, find the socket in
// the network namespace's connection table (/proc/<pid>/net/tcp{,6}), then the processes that
// hold that socket (a `socket:[inode]` link under /proc/<pid>/fd), then their executables and
// ancestors. Nothing the client sends over the connection is used.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { type IpAddress, ipEquals, parseIp, unmapIPv4 } from './ip.js';
import type { AncestorIdentity, ProcessIdentity } from './types.js';

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
   * The sandbox's init process: ancestors stop below it. Security invariant: processes above
   * a sandbox (bubblewrap, warden, the user's shell) are not the caller's ancestors for
   * policy purposes, or allowing `node` would allow everything warden (a node program) runs.
   */
  ancestorBoundary?: number | (() => readonly number[]);
}

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

/** Pids among `pids` with an open file descriptor on socket `inode`. */
export function pidsHoldingSocket(root: string, pids: readonly number[], inode: number): number[] {
  const wanted = `socket:[${inode}]`;
  const out: number[] = [];
  for (const pid of pids) {
    const fdDir = path.join(root, String(pid), 'fd');
    let fds: string[];
    try {
      fds = fs.readdirSync(fdDir);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(path.join(fdDir, fd));
      } catch {
        continue;
      }
      if (target === wanted) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Parent pid from /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function readParentPid(root: string, pid: number): number | null {
  const stat = readIfExists(path.join(root, String(pid), 'stat'));
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isSafeInteger(ppid) ? ppid : null;
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
  private readonly pending = new Map<string, Promise<string>>();

  async hashOf(exeLink: string): Promise<string> {
    const st = await fs.promises.stat(exeLink);
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.done.get(key);
    if (known) return known;
    let p = this.pending.get(key);
    if (!p) {
      p = hashFile(exeLink).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    const sha = await p;
    this.done.set(key, sha);
    return sha;
  }
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    const s = fs.createReadStream(file, { highWaterMark: 1 << 20 });
    s.on('data', (chunk) => h.update(chunk));
    s.on('error', reject);
    s.on('end', () => resolve(h.digest('hex')));
  });
}

const defaultHashes = new ExeHashCache();
const MAX_ANCESTORS = 64;

async function describeProcess(root: string, pid: number, hashes: ExeHashCache, boundaries: ReadonlySet<number>): Promise<ProcessIdentity> {
  const exe = readExe(root, pid);
  if (!exe) throw new IdentityError(`cannot read the executable of pid ${pid}`);
  let exeSha256: string;
  try {
    exeSha256 = await hashes.hashOf(path.join(root, String(pid), 'exe'));
  } catch (err) {
    throw new IdentityError(`cannot hash the executable of pid ${pid}: ${(err as Error).message}`);
  }
  const ancestors: AncestorIdentity[] = [];
  const seen = new Set([pid]);
  for (let ppid = readParentPid(root, pid); ppid && ppid > 0 && !boundaries.has(ppid) && !seen.has(ppid) && ancestors.length < MAX_ANCESTORS; ppid = readParentPid(root, ppid)) {
    seen.add(ppid);
    const aexe = readExe(root, ppid);
    if (!aexe) continue; // an ancestor we may not inspect (e.g. outside our privileges) adds nothing
    const ancestor: AncestorIdentity = { pid: ppid, exe: aexe };
    try {
      ancestor.exeSha256 = await hashes.hashOf(path.join(root, String(ppid), 'exe'));
    } catch {
      // without a hash this ancestor can still be named, but never trusted (see decision.ts)
    }
    ancestors.push(ancestor);
  }
  const cmdline = readCmdline(root, pid);
  return { pid, exe, exeSha256, ancestors, ...(cmdline ? { cmdline } : {}) };
}

function chainKey(p: ProcessIdentity): string {
  return [p.exe, p.exeSha256, ...p.ancestors.map((a) => a.exe)].join('\n');
}

/**
 * Identify the process on the client side of a TCP connection. Throws IdentityError when it
 * cannot: the caller must then refuse the connection.
 */
export async function identifyTcpPeer(o: IdentifyTcpPeerOptions): Promise<ProcessIdentity> {
  const root = o.procRoot ?? '/proc';
  const inode = findClientSocketInode(o);
  if (inode === null) throw new IdentityError(`no socket ${o.peerAddress}:${o.peerPort} -> ${o.localAddress}:${o.localPort} in the connection table`);
  const pids = o.candidatePids ? await o.candidatePids() : allPids(root);
  const holders = pidsHoldingSocket(root, pids, inode);
  if (holders.length === 0) throw new IdentityError(`no candidate process holds socket inode ${inode}`);

  const hashes = o.hashes ?? defaultHashes;
  const boundaries = new Set(typeof o.ancestorBoundary === 'function' ? o.ancestorBoundary() : o.ancestorBoundary === undefined ? [] : [o.ancestorBoundary]);
  const described = await Promise.all(holders.map((pid) => describeProcess(root, pid, hashes, boundaries)));
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
  return sharedWith.length > 0 ? { ...primary, sharedWith } : primary;
}

export interface SocketIdentifierOptions {
  procRoot?: string;
  netTablePid?: number;
  candidatePids?: () => number[] | Promise<number[]>;
  ancestorBoundary?: number | (() => readonly number[]);
}

/** An `identify` function for createEgressProxy, reading /proc for each accepted socket. */
export function socketIdentifier(o: SocketIdentifierOptions = {}): (socket: Socket) => Promise<ProcessIdentity> {
  const hashes = new ExeHashCache();
  return async (socket) => {
    const { remoteAddress, remotePort, localAddress, localPort } = socket;
    if (!remoteAddress || !remotePort || !localAddress || !localPort) throw new IdentityError('socket is not a connected TCP socket');
    return identifyTcpPeer({ ...o, peerAddress: remoteAddress, peerPort: remotePort, localAddress, localPort, hashes });
  };
}

/** Pids of `root` and all its descendants (via /proc/<pid>/stat), for candidatePids. */
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
