// Host uids for sandboxes. When warden runs as root, every sandbox gets a uid (and a gid of the
// same number) of its own from a reserved range, so that no sandbox can reach another's files or
// processes, and a setuid file planted in one workdir (refused anyway, see seccomp.ts) would give
// nothing beyond that one sandbox. The leases are machine-wide (several WARDEN_HOMEs share the
// range): one small file per uid under /var/lib/warden/uids, taken under a lock file.
//
//   a named sandbox keeps its uid until it is purged (the files it wrote stay its own);
//   a `warden run` holds its uid while its process lives, then the uid is free again.

import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { readProcStat } from './procfs.js';

export const UID_RANGE_SIZE = 65_536;
const DEFAULT_UID_BASE = 1_800_000_000;
const REGISTRY = '/var/lib/warden/uids';
const LOCK_WAIT_MS = 10_000;

export class UidLeaseError extends Error {}

export interface UidRange {
  base: number;
  size: number;
}

/** The reserved range: WARDEN_UID_BASE (default 1,800,000,000) and the 65,536 ids after it. */
export function uidRange(env: NodeJS.ProcessEnv = process.env): UidRange {
  const raw = env.WARDEN_UID_BASE;
  if (raw === undefined || raw === '') return { base: DEFAULT_UID_BASE, size: UID_RANGE_SIZE };
  const base = Number(raw);
  if (!Number.isInteger(base) || base < 65_536 || base + UID_RANGE_SIZE > 0x7fff_ffff) {
    throw new UidLeaseError(`WARDEN_UID_BASE=${raw} is not usable: give an integer from 65536 to ${0x7fff_ffff - UID_RANGE_SIZE} (the range must not hold system or user accounts)`);
  }
  return { base, size: UID_RANGE_SIZE };
}

type Holder =
  | { kind: 'sandbox'; home: string; name: string }
  | { kind: 'run'; name: string; pid: number; start: string };

interface LeaseFile {
  holder: Holder;
  takenAt: string;
}

export interface UidLease {
  uid: number;
  gid: number;
}

/** The uid a named sandbox of WARDEN_HOME `home` runs as: the one it had, or a new one. */
export function leaseSandboxUid(home: string, name: string, registry = REGISTRY, range = uidRange()): UidLease {
  return withRegistry(registry, () => {
    const holder: Holder = { kind: 'sandbox', home, name };
    const existing = findLease(registry, range, (h) => h.kind === 'sandbox' && h.home === home && h.name === name);
    if (existing !== undefined) return { uid: existing, gid: existing };
    return take(registry, range, holder);
  });
}

/** Frees a purged sandbox's uid. */
export function releaseSandboxUid(home: string, name: string, registry = REGISTRY, range = uidRange()): void {
  withRegistry(registry, () => {
    const uid = findLease(registry, range, (h) => h.kind === 'sandbox' && h.home === home && h.name === name);
    if (uid !== undefined) rmSync(path.join(registry, String(uid)), { force: true });
  });
}

/** A uid for one `warden run`, held while this process lives; `release` frees it at once. */
export function leaseRunUid(name: string, registry = REGISTRY, range = uidRange()): UidLease & { release(): void } {
  const lease = withRegistry(registry, () => take(registry, range, { kind: 'run', name, pid: process.pid, start: processStart(process.pid) ?? '' }));
  return {
    ...lease,
    release: () => {
      try {
        withRegistry(registry, () => {
          const file = path.join(registry, String(lease.uid));
          const current = readLease(file);
          if (current?.holder.kind === 'run' && current.holder.pid === process.pid) rmSync(file, { force: true });
        });
      } catch {
        // a lease left behind is reclaimed once this process is gone
      }
    },
  };
}

/**
 * The next free uid after the one taken last (a cursor file), not the lowest free one: a uid is
 * used again only after the whole range has gone round, so a run never starts as the uid that
 * the run before it had (and finds the files it left in a shared writable path its own).
 */
function take(registry: string, range: UidRange, holder: Holder): UidLease {
  const cursorFile = path.join(registry, '.cursor');
  let cursor = Number(readOrEmpty(cursorFile));
  if (!Number.isInteger(cursor) || cursor < range.base || cursor >= range.base + range.size) cursor = range.base;
  for (let step = 0; step < range.size; step++) {
    const uid = range.base + ((cursor - range.base + step) % range.size);
    const file = path.join(registry, String(uid));
    const lease = readLease(file);
    if (lease !== undefined && !isStale(lease.holder)) continue;
    const temporary = `${file}.new-${process.pid}`;
    writeFileSync(temporary, JSON.stringify({ holder, takenAt: new Date().toISOString() } satisfies LeaseFile), { mode: 0o600 });
    renameSync(temporary, file);
    writeFileSync(cursorFile, String(uid + 1 < range.base + range.size ? uid + 1 : range.base), { mode: 0o600 });
    return { uid, gid: uid };
  }
  throw new UidLeaseError(`all ${range.size} sandbox uids from ${range.base} are in use: purge sandboxes you no longer need (\`warden sandbox delete NAME --purge\`)`);
}

function findLease(registry: string, range: UidRange, match: (holder: Holder) => boolean): number | undefined {
  for (const entry of readdirSync(registry)) {
    if (!/^\d+$/.test(entry)) continue;
    const uid = Number(entry);
    if (uid < range.base || uid >= range.base + range.size) continue;
    const lease = readLease(path.join(registry, entry));
    if (lease !== undefined && match(lease.holder)) return uid;
  }
  return undefined;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readLease(file: string): LeaseFile | undefined {
  try {
    const lease = JSON.parse(readFileSync(file, 'utf8')) as LeaseFile;
    return typeof lease?.holder?.kind === 'string' ? lease : undefined;
  } catch {
    return undefined; // missing, or torn by a crash: free
  }
}

/** A run's lease is stale once its process is gone; a sandbox's once its WARDEN_HOME is. */
function isStale(holder: Holder): boolean {
  if (holder.kind === 'run') return processStart(holder.pid) !== holder.start;
  return !existsSync(holder.home);
}

/** The process's start time, which tells a reused pid apart. */
function processStart(pid: number): string | undefined {
  return readProcStat(pid)?.startTime;
}

/** Runs `fn` holding the registry's lock file (O_EXCL, with the holder's pid; a dead holder's lock is broken). */
function withRegistry<T>(registry: string, fn: () => T): T {
  mkdirSync(registry, { recursive: true, mode: 0o700 });
  const lock = path.join(registry, '.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${processStart(process.pid) ?? ''}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockAbandoned(lock)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new UidLeaseError(`the uid registry ${registry} stays locked (${lock}); remove the lock file if no warden is running`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function lockAbandoned(lock: string): boolean {
  try {
    const [pid, start] = readFileSync(lock, 'utf8').split(' ');
    if (pid === undefined || !/^\d+$/.test(pid)) return Date.now() - statSync(lock).mtimeMs > 5_000;
    return processStart(Number(pid)) !== start;
  } catch {
    return false;
  }
}
