/**
 * Resource limits every sandbox starts with. They are applied with prlimit(1) to bubblewrap
 * itself and inherited by everything inside. RLIMIT_NPROC counts per host uid, so it bounds
 * all sandboxes sharing the sandbox account together, which is the point: a fork bomb in one
 * sandbox cannot exhaust the host's process table.
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

export function prlimitArgs(limits: SandboxLimits): string[] {
  const both = (value: number) => `${value}:${value}`;
  return [
    `--core=${both(limits.core)}`,
    `--nofile=${both(limits.openFiles)}`,
    `--nproc=${both(limits.processes)}`,
    `--fsize=${both(limits.fileSize)}`,
  ];
}
