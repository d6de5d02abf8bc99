import { readFileSync } from 'node:fs';

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

/** The system account `npm install` creates when run as root; see scripts/setup.mjs. */
export const SANDBOX_ACCOUNT = 'warden-sandbox';
const NOBODY = 65534;

export class SandboxUserError extends Error {}

/**
 * Chooses the host uid/gid for a sandbox.
 *
 * Security invariant: the result is never uid 0 or gid 0. A user-namespace root that maps
 * to host root could read every root-owned file bound into the sandbox, so when warden runs
 * as root it drops to an unprivileged account (WARDEN_SANDBOX_UID/GID, else the
 * `warden-sandbox` account, else nobody) before bubblewrap runs at all.
 */
export function resolveSandboxUser(
  policyProcess: { run_as_user?: string; run_as_group?: string },
  env: NodeJS.ProcessEnv = process.env,
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
  if (myUid !== 0) {
    // Without privilege there is nothing to drop to: the sandbox runs as the caller's own uid,
    // which is exactly what that user could already reach outside.
    return { uid: myUid, gid: myGid, name, group, dropsPrivileges: false };
  }
  const account = lookupAccount(SANDBOX_ACCOUNT);
  const uid = parseId(env.WARDEN_SANDBOX_UID, 'WARDEN_SANDBOX_UID') ?? account?.uid ?? NOBODY;
  const gid = parseId(env.WARDEN_SANDBOX_GID, 'WARDEN_SANDBOX_GID') ?? account?.gid ?? NOBODY;
  return { uid, gid, name, group, dropsPrivileges: true };
}

function parseId(raw: string | undefined, variable: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0 || id > 0xfffffffe) {
    throw new SandboxUserError(`${variable}=${raw} is not a usable id: give a positive, non-root numeric id`);
  }
  return id;
}

function lookupAccount(name: string): { uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 4) {
      const uid = Number(fields[2]);
      const gid = Number(fields[3]);
      if (uid > 0 && gid > 0) return { uid, gid };
    }
  }
  return undefined;
}

/** /etc/passwd and /etc/group as the sandbox sees them: only its own user, and nobody. */
export function sandboxAccountFiles(user: SandboxUser): { passwd: string; group: string } {
  const lines = [`${user.name}:x:${user.uid}:${user.gid}:warden sandbox:/sandbox:/bin/sh`];
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
