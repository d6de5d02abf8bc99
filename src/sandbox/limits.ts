import os from 'node:os';
import type { ResourceLimits } from './cgroups.js';
import { DEFAULT_TMP_BYTES } from './mounts.js';

/**
 * Resource limits every sandbox process starts with, set by sandbox-exec on bubblewrap itself and
 * inherited by everything inside. RLIMIT_NPROC counts per host uid, and each sandbox has a uid of
 * its own when warden runs as root, so it bounds that one sandbox: a fork bomb in it cannot
 * exhaust the host's process table (the cgroup's pids limit bounds it too).
 */
export interface SandboxLimits {
  /** Maximum core file size in bytes: 0, so a crashing agent never dumps its memory. */
  core: number;
  /** Open file descriptors per process. */
  openFiles: number;
  /** Processes and threads for the sandbox uid. */
  processes: number;
  /** Largest file a process may create, in bytes. */
  fileSize: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  core: 0,
  openFiles: 4096,
  processes: 4096,
  fileSize: 16 * 1024 ** 3,
};

export function rlimitArgs(limits: SandboxLimits): string[] {
  return [
    '--rlimit', `core=${limits.core}`,
    '--rlimit', `nofile=${limits.openFiles}`,
    '--rlimit', `nproc=${limits.processes}`,
    '--rlimit', `fsize=${limits.fileSize}`,
  ];
}

/** What a sandbox may use of the host: its cgroup's limits and the size of its /tmp. */
export interface SandboxResources extends ResourceLimits {
  tmpBytes: number;
}

/** As policies and the CLI give them (`limits:`, --memory, --cpus, --pids); absent = default. */
export interface ResourceSettings {
  memory?: number;
  cpus?: number;
  pids?: number;
  tmp_size?: number;
}

/**
 * Defaults (docs/security-model.md): memory 4 GiB or half the host's RAM if that is less; all the
 * host's CPUs; 4096 processes and threads; /tmp 1 GiB (its pages count against memory too).
 */
export function defaultResources(): SandboxResources {
  return {
    memoryBytes: Math.min(4 * 1024 ** 3, Math.floor(os.totalmem() / 2)),
    cpus: os.availableParallelism(),
    pids: DEFAULT_LIMITS.processes,
    tmpBytes: DEFAULT_TMP_BYTES,
  };
}

/** The policy's `limits:` section with any per-sandbox settings on top. */
export function resolveResources(...settings: Array<ResourceSettings | undefined>): SandboxResources {
  const resources = defaultResources();
  for (const s of settings) {
    if (s?.memory !== undefined) resources.memoryBytes = s.memory;
    if (s?.cpus !== undefined) resources.cpus = s.cpus;
    if (s?.pids !== undefined) resources.pids = s.pids;
    if (s?.tmp_size !== undefined) resources.tmpBytes = s.tmp_size;
  }
  return resources;
}
