/** The host identity that sandboxed processes run as. */
export interface SandboxUser {
  uid: number;
  gid: number;
  /** The name the sandbox's own /etc/passwd shows for `uid`. */
  name: string;
  group: string;
  /** True when warden drops from root to `uid` before starting bubblewrap. */
  dropsPrivileges: boolean;
}

const NOBODY = 65534;

export class SandboxUserError extends Error {}

/**
 * Chooses the host uid/gid for a sandbox.
 *
 * Security invariant: the result is never uid 0 or gid 0. A user-namespace root that maps to
 * host root could read every root-owned file bound into the sandbox, so when warden runs as root
 * the sandbox runs as `leased`, a uid of its own from the reserved range (see uids.ts), before
 * bubblewrap runs at all. Without privilege there is nothing to drop to: the sandbox runs as the
 * caller's own uid, which is exactly what that user could already reach outside.
 */
export function resolveSandboxUser(
  policyProcess: { run_as_user?: string; run_as_group?: string },
  leased?: { uid: number; gid: number },
): SandboxUser {
  for (const [what, value] of [['run_as_user', policyProcess.run_as_user], ['run_as_group', policyProcess.run_as_group]] as const) {
    if (value === 'root' || value === '0') {
      throw new SandboxUserError(`process.${what}: ${value} is refused: sandboxes never run as root`);
    }
  }
  const name = policyProcess.run_as_user ?? 'sandbox';
  const group = policyProcess.run_as_group ?? name;
  const myUid = process.getuid?.() ?? NOBODY;
  const myGid = process.getgid?.() ?? NOBODY;
  if (myUid !== 0) return { uid: myUid, gid: myGid, name, group, dropsPrivileges: false };
  if (leased === undefined || leased.uid <= 0 || leased.gid <= 0) {
    throw new SandboxUserError('internal: a sandbox started by root needs a uid of its own (none was leased)');
  }
  return { uid: leased.uid, gid: leased.gid, name, group, dropsPrivileges: true };
}

/**
 * Where the sandbox's home is inside: /home/USER (a directory of the sandbox's own, bound from
 * the host: never the workdir, so caches and shell history stay out of the user's project).
 */
export function homeInsideFor(user: Pick<SandboxUser, 'name'>): string {
  return `/home/${/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(user.name) ? user.name : 'sandbox'}`;
}

/** /etc/passwd and /etc/group as the sandbox sees them: only its own user, and nobody. */
export function sandboxAccountFiles(user: SandboxUser, home = homeInsideFor(user)): { passwd: string; group: string } {
  const lines = [`${user.name}:x:${user.uid}:${user.gid}:warden sandbox:${home}:/bin/sh`];
  const groups = [`${user.group}:x:${user.gid}:`];
  if (user.uid !== NOBODY) lines.push(`nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/usr/sbin/nologin`);
  if (user.gid !== NOBODY) groups.push(`nogroup:x:${NOBODY}:`);
  return { passwd: lines.join('\n') + '\n', group: groups.join('\n') + '\n' };
}

/**
 * Whether the sandbox's uid/gid may write or execute a file, judged by its mode bits: warden
 * itself may be root, for whom every check would pass.
 */
export function permits(stat: { uid: number; gid: number; mode: number }, user: { uid: number; gid: number }, access: 'write' | 'execute'): boolean {
  const bit = access === 'write' ? 0o2 : 0o1;
  if (stat.uid === user.uid) return (stat.mode & (bit << 6)) !== 0;
  if (stat.gid === user.gid) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}
