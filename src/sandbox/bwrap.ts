import type { MountPlan } from './mounts.js';

/** File descriptors handed to bubblewrap, by position in the child's stdio array. */
export const FD = { seccomp: 3, info: 4, passwd: 5, group: 6, block: 7, firstFile: 8 } as const;

/** warden's own directory inside every sandbox (CA bundle, helpers); read-only. */
export const WARDEN_DIR = '/.warden';

export interface BwrapInput {
  plan: MountPlan;
  hostname: string;
  uid: number;
  gid: number;
  cwd: string;
  env: Record<string, string>;
  command: string[];
  /** Hold CMD until warden writes to FD.block (set up the network bridge first). */
  blockUntilReady?: boolean;
  /** Read-only files to create from descriptors, under WARDEN_DIR. */
  files?: Array<{ fd: number; path: string; mode: number }>;
  /** The first descriptor number free for pinned bind sources (after every other handed-over fd). */
  firstPinFd: number;
}

/** A bind source the launcher opens at `fd` (sandbox-exec --pin) for bubblewrap's --bind-fd. */
export interface Pin {
  fd: number;
  path: string;
}

/**
 * The bubblewrap command line. Order matters: bubblewrap applies mounts in argument order,
 * so parents come before children and the secret masks come last, over the binds.
 */
export function bwrapArgs(input: BwrapInput): { args: string[]; pins: Pin[] } {
  const pins: Pin[] = [];
  const pin = (source: string) => {
    const fd = input.firstPinFd + pins.length;
    pins.push({ fd, path: source });
    return String(fd);
  };
  const args = [
    '--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try',
    // The sandbox dies with warden (SIGKILL via PDEATHSIG), and cannot nest user namespaces.
    '--die-with-parent', '--disable-userns',
    // A new session detaches the sandbox from the host terminal's job control (and TIOCSTI).
    '--new-session',
    '--cap-drop', 'ALL',
    '--uid', String(input.uid), '--gid', String(input.gid),
    '--hostname', input.hostname,
    '--seccomp', String(FD.seccomp),
    '--info-fd', String(FD.info),
  ];
  if (input.blockUntilReady) args.push('--block-fd', String(FD.block));
  for (const step of input.plan.steps) {
    switch (step.kind) {
      // By descriptor: the object mounted is the one the launcher opened and checked.
      case 'ro-bind': args.push('--ro-bind-fd', pin(step.source), step.dest); break;
      case 'bind': args.push('--bind-fd', pin(step.source), step.dest); break;
      case 'symlink': args.push('--symlink', step.target, step.dest); break;
      case 'proc': args.push('--proc', step.dest); break;
      case 'dev': args.push('--dev', step.dest); break;
      case 'remount-ro': args.push('--remount-ro', step.dest); break;
      case 'tmpfs':
        if (step.secret || step.placeholder) args.push('--perms', step.secret ? '0000' : '0555', '--size', '4096', '--tmpfs', step.dest, '--remount-ro', step.dest);
        else args.push(...(step.sizeBytes !== undefined ? ['--size', String(step.sizeBytes)] : []), '--tmpfs', step.dest);
        break;
      case 'mask-file': args.push('--ro-bind', '/dev/null', step.dest); break;
    }
  }
  args.push('--ro-bind-data', String(FD.passwd), '/etc/passwd', '--ro-bind-data', String(FD.group), '/etc/group');
  for (const file of input.files ?? []) args.push('--perms', file.mode.toString(8).padStart(4, '0'), '--ro-bind-data', String(file.fd), file.path);
  // Nothing outside the policy's writable paths may be written: not even the sandbox's own
  // root tmpfs, where bubblewrap created the mount points.
  args.push('--remount-ro', '/');
  args.push('--chdir', input.cwd, '--clearenv');
  for (const [key, value] of Object.entries(input.env)) args.push('--setenv', key, value);
  args.push('--', ...input.command);
  return { args, pins };
}
