// The sandbox's workdir (/sandbox inside): a host directory the sandbox may write.
//
// When warden runs as root every sandbox has a uid of its own (uids.ts), which does not own the
// user's project. Rather than hand the project to that uid (chown) or open it to everyone, warden
// mounts it idmapped (idmap-mount.c): on disk every file stays its owner's, inside the sandbox the
// owner's files appear as the sandbox uid's, and what the sandbox creates is written as the owner's.
// So a project owned by a normal user works as the workdir with no manual step, and the sandbox is
// still never root and never writes a root-owned file. A root-owned workdir is refused for that
// reason. Without root the sandbox runs as the caller, who owns the project already.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirectoriesSafely } from './host-native.js';
import { permits, type SandboxUser } from './host-user.js';
import { requireNativeHelper } from './native.js';

export class WorkdirError extends Error {}

export interface Workdir {
  /** The directory as the user named it (canonical). */
  path: string;
  /** What /sandbox is bound from: `path`, or the idmapped view of it. */
  source: string;
  /** warden made it for this run and removes it afterwards. */
  temporary: boolean;
  /** Detaches the idmapped view (if any) and removes a temporary workdir. */
  release(): void;
}

const MOUNTS = existsSync('/run') ? '/run/warden/mounts' : '/var/lib/warden/mounts';

/**
 * The workdir for a sandbox running as `user`: `requested` (created when missing, without following
 * links a sandbox could have planted) or a fresh temporary directory. `label` names the idmapped view.
 * `owner` is who should own a directory warden creates (the invoking user behind sudo, as told by
 * the client); see createWorkdir for the rule.
 */
export function prepareWorkdir(requested: string | undefined, user: SandboxUser, label: string, owner?: HostIds): Workdir {
  if (requested === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-run-'));
    if (user.dropsPrivileges) chownSync(dir, user.uid, user.gid);
    return { path: dir, source: dir, temporary: true, release: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const absolute = path.resolve(requested);
  if (!existsSync(absolute)) createWorkdir(absolute, user, owner);
  const real = realpathSync.native(absolute);
  const stat = statSync(real);
  if (!stat.isDirectory()) throw new WorkdirError(`--workdir ${requested}: not a directory`);
  if (real === '/') throw new WorkdirError('--workdir /: refusing to give the sandbox the whole host filesystem');
  if (!user.dropsPrivileges) return { path: real, source: real, temporary: false, release: () => undefined };
  if (stat.uid === 0) {
    throw new WorkdirError(`--workdir ${real} is owned by root, and a sandbox must never create root-owned files: ` +
      `give it to the user it belongs to (chown -R USER: ${real}), or omit --workdir for a directory of warden's own`);
  }
  // The sandbox's own directory it can reach directly; anything else (a person's project, or its
  // own directory below a parent it cannot enter, such as /root at 0700) through an idmapped view
  // that root attaches where the sandbox can reach it.
  if (stat.uid === user.uid && reachableBy(path.dirname(real), user)) return { path: real, source: real, temporary: false, release: () => undefined };
  const view = attachIdmapped(real, { uid: stat.uid, gid: stat.gid }, user, label);
  return { path: real, source: view, temporary: false, release: () => detach(view) };
}

export interface HostIds {
  uid: number;
  gid: number;
}

/**
 * Creates a missing workdir (and its missing parents). As root its owner is `owner` when given
 * and not root (the client's SUDO_UID), else the person behind sudo (this process's SUDO_UID),
 * else the owner of the nearest existing parent when that is not root, else the sandbox itself.
 * Never root. Returns the directories created, outermost first.
 */
export function createWorkdir(absolute: string, user: SandboxUser, owner?: HostIds): string[] {
  // Parents warden creates stay traversable; the workdir itself is private to its owner.
  // The directories made, in their canonical spelling (a trusted link may have been followed).
  const created = makeDirectoriesSafely(absolute, 0o755);
  const workdir = created.at(-1);
  if (workdir === undefined) return created;
  chmodSync(workdir, 0o700);
  if (!user.dropsPrivileges) return created;
  const chosen = (owner !== undefined && owner.uid > 0 && owner.gid > 0 ? owner : undefined) ??
    sudoCaller() ?? nonRootOwnerAbove(created[0]!) ?? { uid: user.uid, gid: user.gid };
  for (const dir of created) chownSync(dir, chosen.uid, chosen.gid);
  return created;
}

/** Whether `user` may traverse every directory from / down to `dir` (by mode bits; warden may be root). */
export function reachableBy(dir: string, user: HostIds): boolean {
  let current = '/';
  for (const part of ['', ...dir.split('/').filter(Boolean)]) {
    current = path.join(current, part);
    const stat = statSync(current, { throwIfNoEntry: false });
    if (!stat || !permits(stat, user, 'execute')) return false;
  }
  return true;
}

/**
 * The sandbox's home (HOME inside, below /home): `requested` when given (a named sandbox's own,
 * kept across stops; created here when missing), else a private temporary directory removed
 * afterwards. Owned by the sandbox's uid, mode 0700: never inside the user's project.
 */
export function prepareHome(requested: string | undefined, user: SandboxUser, label = 'home'): { path: string; release(): void } {
  if (requested === undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-home-'));
    if (user.dropsPrivileges) chownSync(dir, user.uid, user.gid);
    const view = reachableView(dir, user, label);
    return {
      path: view ?? dir,
      release: () => {
        if (view !== undefined) detach(view);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const created = makeDirectoriesSafely(requested, 0o700);
  if (created.includes(requested) && user.dropsPrivileges) chownSync(requested, user.uid, user.gid);
  const stat = lstatSync(requested);
  if (!stat.isDirectory()) throw new WorkdirError(`the sandbox's home ${requested} is not a directory`);
  if (user.dropsPrivileges && stat.uid !== user.uid) {
    throw new WorkdirError(`the sandbox's home ${requested} belongs to uid ${stat.uid}, not to the sandbox's uid ${user.uid}: ` +
      'delete the sandbox with --purge and create it again');
  }
  const view = reachableView(requested, user, label);
  return view === undefined ? { path: requested, release: () => undefined } : { path: view, release: () => detach(view) };
}

/**
 * A directory of the sandbox's own that its uid cannot reach (below WARDEN_HOME in /root, 0700):
 * shown to it through a view that root attaches where it can (an idmapped mount onto itself:
 * on disk and inside, the sandbox's uid). Undefined when it can reach it directly.
 */
function reachableView(dir: string, user: SandboxUser, label: string): string | undefined {
  if (!user.dropsPrivileges || reachableBy(path.dirname(dir), user)) return undefined;
  return attachIdmapped(dir, { uid: user.uid, gid: user.gid }, user, `${label}-home`);
}

function sudoCaller(): { uid: number; gid: number } | undefined {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  return Number.isInteger(uid) && uid > 0 && Number.isInteger(gid) && gid > 0 ? { uid, gid } : undefined;
}

function nonRootOwnerAbove(absolute: string): { uid: number; gid: number } | undefined {
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (stat) return stat.uid > 0 ? { uid: stat.uid, gid: stat.gid } : undefined;
    if (dir === '/') return undefined;
  }
}

function attachIdmapped(real: string, owner: { uid: number; gid: number }, user: SandboxUser, label: string): string {
  const helper = requireNativeHelper('idmap-mount');
  // Traversable, not listable: the sandbox uid opens the view by its exact name to bind it.
  mkdirSync(MOUNTS, { recursive: true, mode: 0o711 });
  chmodSync(path.dirname(MOUNTS), 0o711);
  chmodSync(MOUNTS, 0o711);
  removeAbandonedViews();
  const view = mkdtempSync(path.join(MOUNTS, `${process.pid}-${label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}-`));
  const result = spawnSync(helper, ['--owner', `${owner.uid}:${owner.gid}`, '--as', `${user.uid}:${user.gid}`, real, view], { encoding: 'utf8' });
  if (result.status !== 0) {
    rmdirSync(view);
    throw new WorkdirError(`--workdir ${real} (owner uid ${owner.uid}) cannot be shown to the sandbox as its own: ` +
      `${(result.stderr || result.error?.message || '').trim().replace(/^warden: idmap-mount: /, '')}`);
  }
  return view;
}

function detach(view: string): void {
  spawnSync(requireNativeHelper('idmap-mount'), ['--unmount', view]);
  try {
    rmdirSync(view);
  } catch {
    // still busy: left for removeAbandonedViews
  }
}

/** Views whose warden process is gone (killed before it could detach them). */
function removeAbandonedViews(): void {
  let entries: string[];
  try {
    entries = readdirSync(MOUNTS);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry.split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || existsSync(`/proc/${pid}`)) continue;
    detach(path.join(MOUNTS, entry));
  }
}
