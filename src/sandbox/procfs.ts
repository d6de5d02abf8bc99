// Reading /proc, the one place warden parses it: a process's stat line, its children, its
// namespaces. `root` is /proc except in tests, which point it at a fixture tree.

import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ProcStat {
  ppid: number;
  /** Process group. */
  pgrp: number;
  /** Start time in clock ticks since boot (field 22): tells a reused pid apart. */
  startTime: string | undefined;
}

/**
 * The fields of /proc/PID/stat warden uses, or undefined when the process is gone. The command
 * name (field 2) may contain spaces and parentheses, so fields are counted from its last ')'.
 */
export function readProcStat(pid: number, root = '/proc'): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(path.join(root, String(pid), 'stat'), 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") ": state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt, cmajflt,
  // utime, stime, cutime, cstime, priority, nice, num_threads, itrealvalue, starttime...
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (!Number.isSafeInteger(ppid) || !Number.isSafeInteger(pgrp)) return undefined;
  return { ppid, pgrp, startTime };
}

/** The direct children of a process (its main thread's), or [] when it is gone. */
export function childrenOf(pid: number, root = '/proc'): number[] {
  try {
    return readFileSync(path.join(root, String(pid), 'task', String(pid), 'children'), 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The namespace a process is in (`net:[4026531993]`), or undefined when it cannot be read. */
export function namespaceOf(pid: number | 'self', kind: 'net' | 'mnt' | 'pid' | 'user', root = '/proc'): string | undefined {
  try {
    return readlinkSync(path.join(root, String(pid), 'ns', kind));
  } catch {
    return undefined;
  }
}
