import { lstatSync, readdirSync, readlinkSync, realpathSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FilesystemPolicy, PROTECTED_WORKDIR_FILES } from '../policy/index.js';
import { permits } from './host-user.js';

/** One step of building the sandbox's filesystem, in the order bubblewrap must apply it. */
export type MountStep =
  /** `source` is canonical: the launcher pins it and bubblewrap mounts the pinned object. */
  | { kind: 'ro-bind' | 'bind'; source: string; dest: string }
  | { kind: 'symlink'; target: string; dest: string }
  /** `secret`: empty, mode 0000, read-only (hides a host secret); `placeholder`: empty, 0555, read-only. */
  | { kind: 'tmpfs'; dest: string; secret?: boolean; placeholder?: boolean; sizeBytes?: number }
  | { kind: 'proc' | 'dev'; dest: string }
  | { kind: 'remount-ro'; dest: string }
  | { kind: 'mask-file'; dest: string };

export interface MountPlan {
  steps: MountStep[];
  /** Policy paths that were not mounted, and why (missing on the host, managed by warden...). */
  skipped: Array<{ path: string; reason: string }>;
  /**
   * Host paths in the workdir that bubblewrap creates as mount points for protected files that
   * did not exist (empty files or directories); removed again when the sandbox is gone.
   */
  placeholders: Array<{ path: string; directory: boolean }>;
  /** Protected workdir paths the policy made writable (each worth a warning). */
  unprotected: string[];
}

/** How deep below the workdir nested repositories get their .git/hooks and .git/config protected. */
const NESTED_GIT_DEPTH = 3;

/** Default sizes of the in-memory filesystems every sandbox gets (also bounded by its memory limit). */
export const DEFAULT_TMP_BYTES = 1024 ** 3;
export const DEFAULT_SHM_BYTES = 256 * 1024 ** 2;

export class MountPlanError extends Error {}

export const WORKDIR_MOUNT = '/sandbox';

/** Paths warden builds itself; policy entries for them (or below them) are not host binds. */
const MANAGED = ['/proc', '/dev', '/tmp'];

/**
 * Host secrets hidden even when a policy binds a tree that contains them (for example
 * `read_only: [/]` or `[/home]`). Directories get an empty tmpfs, files an unreadable node.
 */
function secretPaths(wardenHome: string, homes: string[]): string[] {
  const perHome = ['.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker', '.config/gcloud', '.config/gh',
    '.netrc', '.npmrc', '.pypirc', '.git-credentials', '.warden'];
  return [wardenHome, '/etc/shadow', '/etc/gshadow', '/etc/sudoers', '/etc/ssh',
    ...homes.flatMap((home) => perHome.map((entry) => path.join(home, entry)))];
}

export interface MountPlanInput {
  filesystem: FilesystemPolicy;
  /** Host directory mounted at /sandbox, or undefined when the policy does not include it. */
  workdir?: string;
  wardenHome: string;
  /** Entries of PROTECTED_WORKDIR_FILES the policy makes writable. */
  writableProtected?: readonly string[];
  tmpBytes?: number;
  shmBytes?: number;
  /** The sandbox's home: a host directory bound writable at `dest` (below /home). */
  home?: { source: string; dest: string };
  /**
   * Host directories bound at a path of their own inside (an agent's provisioned layer at
   * /opt/warden/NAME): read-only unless `writable`. Their destination must not be one the policy
   * binds from the host, nor below one (the mount point could not be made there).
   */
  binds?: ReadonlyArray<{ source: string; dest: string; writable?: boolean }>;
}

/**
 * Where the sandbox's own home is mounted inside: /home/NAME, unless the policy binds an ancestor
 * of it from the host (`/home`, `/`) that has no NAME to mount on, where bubblewrap could not
 * create the mount point in the read-only bind: then /tmp/home-NAME (in warden's own /tmp). The
 * source, and so what persists, is the same either way.
 */
export function homeMountPoint(filesystem: Pick<FilesystemPolicy, 'read_only' | 'read_write'>, preferred: string): string {
  const bound = [...filesystem.read_only, ...filesystem.read_write].map(normalise)
    .some((p) => p !== preferred && isUnder(preferred, p) && !MANAGED.some((m) => isUnder(p, m)));
  if (!bound) return preferred;
  const exists = statSync(preferred, { throwIfNoEntry: false })?.isDirectory() === true;
  return exists ? preferred : `/tmp/home-${path.posix.basename(preferred)}`;
}

export function planMounts(input: MountPlanInput): MountPlan {
  const { filesystem } = input;
  const skipped: MountPlan['skipped'] = [];
  const steps: MountStep[] = [];
  const readOnly = new Set(filesystem.read_only.map(normalise));
  const readWrite = new Set(filesystem.read_write.map(normalise).filter((p) => !readOnly.has(p)));
  const workdir = filesystem.include_workdir ? input.workdir : undefined;
  if (filesystem.include_workdir && workdir === undefined) {
    throw new MountPlanError('the policy includes the workdir but no workdir was given');
  }

  const home = input.home;
  const wanted: Array<{ dest: string; writable: boolean; source?: string }> = [...readOnly].map((p) => ({ dest: p, writable: false }))
    .concat([...readWrite].map((p) => ({ dest: p, writable: true })))
    .filter((w) => {
      if (home === undefined || !isUnder(w.dest, home.dest)) return true;
      skipped.push({ path: w.dest, reason: `provided by warden: the sandbox's own home (${home.dest})` });
      return false;
    });
  if (workdir !== undefined) {
    wanted.push({ dest: WORKDIR_MOUNT, writable: true });
  }
  if (home !== undefined) wanted.push({ dest: home.dest, writable: true, source: home.source });
  for (const bind of input.binds ?? []) {
    const dest = normalise(bind.dest);
    if (!path.posix.isAbsolute(dest) || dest === '/' || MANAGED.some((m) => isUnder(dest, m)) || isUnder(dest, WORKDIR_MOUNT) ||
      (home !== undefined && (isUnder(dest, home.dest) || isUnder(home.dest, dest)))) {
      throw new MountPlanError(`cannot mount ${bind.source} at ${bind.dest}: that place is warden's own (/, /proc, /dev, /tmp, /sandbox, the home)`);
    }
    const clash = wanted.find((w) => isUnder(dest, w.dest) || isUnder(w.dest, dest));
    if (clash !== undefined) {
      throw new MountPlanError(`cannot mount ${bind.source} at ${dest}: the policy's filesystem_policy binds ${clash.dest} there; ` +
        `remove ${clash.dest} from the policy (or list only what the sandbox needs, outside ${dest})`);
    }
    wanted.push({ dest, writable: bind.writable === true, source: bind.source });
  }
  for (const managed of MANAGED) {
    if (wanted.some((w) => w.dest === managed)) {
      skipped.push({ path: managed, reason: `provided by warden: ${managedDescription(managed)}` });
    }
  }
  const builtIn: Array<{ dest: string; writable: boolean; managed: MountStep }> = [
    { dest: '/proc', writable: false, managed: { kind: 'proc', dest: '/proc' } },
    { dest: '/dev', writable: false, managed: { kind: 'dev', dest: '/dev' } },
    { dest: '/tmp', writable: true, managed: { kind: 'tmpfs', dest: '/tmp', sizeBytes: input.tmpBytes ?? DEFAULT_TMP_BYTES } },
  ];
  const ordered: Array<{ dest: string; writable: boolean; managed?: MountStep; source?: string }> = [
    ...builtIn,
    ...wanted.filter((w) => !MANAGED.includes(w.dest)),
  ];
  // Parents before children: bubblewrap applies mounts in order, and a later mount of a
  // parent would hide everything mounted below it.
  ordered.sort((a, b) => depth(a.dest) - depth(b.dest) || (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));

  for (const { dest, writable, managed: managedStep, source: given } of ordered) {
    if (managedStep !== undefined) {
      steps.push(managedStep);
      // /dev is read-only (nothing can be created there to run), apart from a bounded /dev/shm.
      if (managedStep.kind === 'dev') {
        steps.push({ kind: 'tmpfs', dest: '/dev/shm', sizeBytes: input.shmBytes ?? DEFAULT_SHM_BYTES }, { kind: 'remount-ro', dest: '/dev' });
      }
      continue;
    }
    if (given !== undefined) {
      steps.push({ kind: writable ? 'bind' : 'ro-bind', source: realpathSync.native(given), dest });
      continue;
    }
    const managed = MANAGED.find((m) => dest.startsWith(m + '/'));
    if (managed !== undefined && managed !== '/tmp') {
      skipped.push({ path: dest, reason: `provided by warden: ${managedDescription(managed)}` });
      continue;
    }
    if (isUnder(dest, WORKDIR_MOUNT) && dest !== WORKDIR_MOUNT) {
      if (workdir === undefined) {
        skipped.push({ path: dest, reason: 'the policy does not include the workdir' });
        continue;
      }
      const source = insideWorkdir(workdir, dest);
      if (source === undefined) {
        skipped.push({ path: dest, reason: 'does not exist in the workdir' });
        continue;
      }
      steps.push({ kind: writable ? 'bind' : 'ro-bind', source, dest });
      continue;
    }
    const source = dest === WORKDIR_MOUNT && workdir !== undefined ? workdir : dest;
    const writableParent = [...readWrite].find((w) => w !== dest && isUnder(dest, w));
    if (writableParent !== undefined) refuseLinksBelow(writableParent, dest);
    const stat = lstatOrUndefined(source);
    if (stat === undefined) {
      skipped.push({ path: dest, reason: 'does not exist on this host' });
      continue;
    }
    if (stat.isSymbolicLink() && source === dest) {
      // /lib -> usr/lib on merged-/usr systems: recreate the link so paths inside resolve
      // the same way as outside; the link grants nothing unless its target is bound too.
      steps.push({ kind: 'symlink', target: readlinkSync(source), dest });
      continue;
    }
    steps.push({ kind: writable ? 'bind' : 'ro-bind', source: realpathSync.native(source), dest });
  }

  const protection = workdir === undefined
    ? { steps: [], placeholders: [], unprotected: [] }
    : protectWorkdirFiles(workdir, input.writableProtected ?? []);
  steps.push(...protection.steps);
  steps.push(...maskSecrets(steps, input.wardenHome));
  return { steps, skipped, placeholders: protection.placeholders, unprotected: protection.unprotected };
}

/**
 * Read-only binds over the protected files of the workdir and of repositories nested in it. A
 * protected path that does not exist gets an empty read-only mount point (bubblewrap creates it
 * on the host), so the sandbox cannot create it either; the plan lists those for removal.
 */
function protectWorkdirFiles(workdir: string, writable: readonly string[]) {
  const steps: MountStep[] = [];
  const placeholders: MountPlan['placeholders'] = [];
  const unprotected = PROTECTED_WORKDIR_FILES.filter((entry) => writable.includes(entry) || writable.includes(entry.replace(/\/$/, '')));
  const wanted = PROTECTED_WORKDIR_FILES.filter((entry) => !unprotected.includes(entry));
  const gitProtected = wanted.filter((entry) => entry.startsWith('.git/'));
  const repositories = nestedRepositories(workdir);
  const entries = [
    ...wanted.filter((entry) => !entry.startsWith('.git/') || repositories.includes('')),
    ...repositories.filter((repo) => repo !== '').flatMap((repo) => gitProtected.map((entry) => `${repo}/${entry}`)),
  ];
  // A .git file (a worktree or submodule checkout) names the repository git uses: rewritten, it
  // would point the host's git at hooks the sandbox made.
  if (lstatOrUndefined(path.join(workdir, '.git'))?.isFile() && !unprotected.includes('.git/config')) entries.push('.git');
  for (const entry of entries) {
    const directory = entry.endsWith('/');
    const relative = directory ? entry.slice(0, -1) : entry;
    const dest = path.posix.join(WORKDIR_MOUNT, relative);
    const host = path.join(workdir, relative);
    const stat = lstatOrUndefined(host);
    if (stat?.isSymbolicLink()) {
      // The link itself lives in the writable workdir: the sandbox could replace it, whatever is bound at its target.
      throw new MountPlanError(`${relative} in the workdir is a symbolic link, which warden cannot keep read-only inside the sandbox: ` +
        `replace it with the file it points to, or list it in the policy's workdir_files.writable`);
    }
    if (stat !== undefined) {
      steps.push({ kind: 'ro-bind', source: insideWorkdir(workdir, dest)!, dest });
      continue;
    }
    // Missing: an empty read-only mount point at the outermost missing component (for
    // .claude/settings.json without .claude, the whole .claude), so nothing can be created there.
    let missing = relative;
    while (path.posix.dirname(missing) !== '.' && lstatOrUndefined(path.join(workdir, path.posix.dirname(missing))) === undefined) {
      missing = path.posix.dirname(missing);
    }
    const asDirectory = directory || missing !== relative;
    const placeholder = path.join(workdir, missing);
    if (placeholders.some((p) => isUnder(placeholder, p.path)) || !lstatOrUndefined(path.dirname(placeholder))?.isDirectory()) continue;
    const at = path.posix.join(WORKDIR_MOUNT, missing);
    steps.push(asDirectory ? { kind: 'tmpfs', dest: at, placeholder: true, sizeBytes: 4096 } : { kind: 'mask-file', dest: at });
    placeholders.push({ path: placeholder, directory: asDirectory });
  }
  return { steps, placeholders, unprotected };
}

/** '' for the workdir itself when it holds a .git directory, then nested repositories (relative). */
function nestedRepositories(workdir: string): string[] {
  const found: string[] = [];
  const visit = (relative: string, depth: number) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(path.join(workdir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.name === '.git' && e.isDirectory())) found.push(relative);
    if (depth >= NESTED_GIT_DEPTH) return;
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name !== '.git' && entry.name !== 'node_modules') visit(relative === '' ? entry.name : `${relative}/${entry.name}`, depth + 1);
    }
  };
  visit('', 0);
  return found;
}

/**
 * Removes the mount points bubblewrap left for protected files that did not exist, if they are
 * still what it made (an empty file or directory): anything with content is the user's.
 */
export function removePlaceholders(plan: Pick<MountPlan, 'placeholders'>): void {
  for (const { path: host, directory } of plan.placeholders) {
    try {
      const stat = lstatSync(host);
      if (directory && stat.isDirectory()) rmdirSync(host);
      else if (!directory && stat.isFile() && stat.size === 0) unlinkSync(host);
    } catch {
      // gone already, or not empty: leave it
    }
  }
}

/**
 * Masks for the host secrets that the binds would show. Security invariant: every secret path is
 * compared in its canonical form, like the bind sources (realpath'd in planMounts): a WARDEN_HOME
 * or a home directory spelled through a symbolic link is still found under a bind of its real path.
 */
function maskSecrets(binds: MountStep[], wardenHome: string): MountStep[] {
  const bound = binds.filter((s): s is Extract<MountStep, { kind: 'bind' | 'ro-bind' }> => s.kind === 'bind' || s.kind === 'ro-bind');
  const homes = [...new Set([os.homedir(), '/root', ...listHomes()])];
  const masks: MountStep[] = [];
  const seen = new Set<string>();
  for (const spelled of secretPaths(wardenHome, homes)) {
    const found = existingSecret(spelled);
    if (found === undefined || seen.has(found.path)) continue;
    const { path: secret, directory } = found;
    seen.add(secret);
    // Find where the secret would appear inside: under every bind whose host source contains it.
    for (const bind of bound) {
      if (!isUnder(secret, bind.source)) continue;
      const dest = path.join(bind.dest, path.relative(bind.source, secret));
      masks.push(directory ? { kind: 'tmpfs', dest, secret: true } : { kind: 'mask-file', dest });
    }
  }
  return masks;
}

/** The canonical path of an existing secret and whether it is a directory, or undefined when missing. */
function existingSecret(p: string): { path: string; directory: boolean } | undefined {
  let canonical: string;
  try {
    // Most secret paths do not exist on a given host: a stat that does not throw finds that out
    // without the cost of an exception each (a few dozen per sandbox).
    if (statSync(p, { throwIfNoEntry: false }) === undefined) return undefined;
    canonical = realpathSync.native(path.resolve(p));
  } catch {
    return undefined; // missing (or unreachable): nothing to hide
  }
  // Fail closed: a secret found but not inspectable stops the plan (the error propagates).
  return { path: canonical, directory: statSync(canonical, { throwIfNoEntry: false })?.isDirectory() ?? false };
}

function listHomes(): string[] {
  try {
    return readdirSync('/home').map((name) => path.join('/home', name));
  } catch {
    return [];
  }
}

/**
 * Maps a path below /sandbox to the host path under the workdir.
 *
 * Security invariant: the workdir is writable by the sandbox, so anything in it may be a
 * symlink planted by an earlier run; the resolved host path must stay inside the workdir,
 * or a planted link to /etc/shadow would be bound into the sandbox by warden itself.
 */
function insideWorkdir(workdir: string, dest: string): string | undefined {
  const candidate = path.join(workdir, path.relative(WORKDIR_MOUNT, dest));
  let resolved: string;
  try {
    resolved = realpathSync.native(candidate);
  } catch {
    return undefined;
  }
  const root = realpathSync.native(workdir);
  if (!isUnder(resolved, root)) {
    throw new MountPlanError(`${dest} resolves to ${resolved}, outside the workdir ${root}: refusing to bind it`);
  }
  return resolved;
}

/**
 * Security invariant: a sandbox may have planted symlinks anywhere in a host path it can
 * write. A policy path below such a path must resolve on the host to exactly that place, or
 * warden itself would bind whatever the link points to (as insideWorkdir does for /sandbox).
 */
function refuseLinksBelow(writable: string, dest: string): void {
  let real: string;
  try {
    real = realpathSync.native(dest);
  } catch {
    return; // missing: skipped later
  }
  let expected: string;
  try {
    expected = path.join(realpathSync.native(writable), path.relative(writable, dest));
  } catch {
    return;
  }
  if (real !== expected) {
    throw new MountPlanError(`${dest} resolves to ${real} through a symbolic link below the writable path ${writable}: ` +
      'refusing to bind it (a sandbox could have planted the link). Remove the link or change the policy.');
  }
}

function managedDescription(managed: string): string {
  switch (managed) {
    case '/proc': return 'the sandbox has its own /proc';
    case '/dev': return 'a minimal /dev: null, zero, full, random, urandom, tty, pts, shm';
    default: return 'a private, writable /tmp';
  }
}

function normalise(p: string): string {
  const resolved = path.posix.normalize(p);
  return resolved.length > 1 && resolved.endsWith('/') ? resolved.slice(0, -1) : resolved;
}

function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

export function isUnder(child: string, parent: string): boolean {
  if (parent === '/') return child.startsWith('/');
  return child === parent || child.startsWith(parent + '/');
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES, ENOTDIR: as good as missing for planning
  }
}

/** Where a path inside the sandbox lives on the host, following the plan's binds and links. */
export function hostPathOf(plan: MountPlan, insidePath: string, linksFollowed = 0): string | undefined {
  let best: MountStep | undefined;
  for (const step of plan.steps) {
    if (isUnder(insidePath, step.dest) && (best === undefined || step.dest.length >= best.dest.length)) best = step;
  }
  if (best === undefined || (best.kind !== 'bind' && best.kind !== 'ro-bind' && best.kind !== 'symlink')) return undefined;
  const rest = path.relative(best.dest, insidePath);
  if (best.kind === 'symlink') {
    if (linksFollowed > 8) return undefined;
    const target = path.posix.resolve(path.posix.dirname(best.dest), best.target, rest);
    return hostPathOf(plan, target, linksFollowed + 1);
  }
  return path.join(best.source, rest);
}

/**
 * Checks, before anything starts, that bubblewrap can build every mount of the plan as `user`:
 * a mount inside a host directory bound from the host needs its mount point there, reachable by
 * the sandbox's uid, and (inside a read-only bind) already existing. Otherwise bubblewrap would
 * stop with a bare "Can't mkdir ..." that names neither the policy entry nor the fix.
 */
export function checkMountPoints(plan: MountPlan, user: { uid: number; gid: number }, context: { home?: string } = {}): void {
  const parents: Array<Extract<MountStep, { kind: 'bind' | 'ro-bind' }> | Extract<MountStep, { kind: 'tmpfs' | 'proc' | 'dev' | 'symlink' }>> = [];
  for (const step of plan.steps) {
    if (step.kind === 'remount-ro') continue;
    let parent: (typeof parents)[number] | undefined;
    for (const candidate of parents) {
      if (candidate.dest !== step.dest && isUnder(step.dest, candidate.dest) && (parent === undefined || candidate.dest.length > parent.dest.length)) parent = candidate;
    }
    if (step.kind !== 'mask-file') parents.push(step as (typeof parents)[number]);
    if (parent === undefined || (parent.kind !== 'bind' && parent.kind !== 'ro-bind')) continue;
    const what = describeMount(step, context);
    const host = path.join(parent.source, path.relative(parent.dest, step.dest));
    // Every directory between the bind and the mount point must be one the sandbox's uid can enter.
    for (let dir = path.dirname(host); isUnder(dir, parent.source); dir = path.dirname(dir)) {
      const stat = lstatOrUndefined(dir);
      if (stat === undefined) continue;
      if (!stat.isDirectory() || !permits(stat, user, 'execute')) {
        const inside = path.join(parent.dest, path.relative(parent.source, dir));
        throw new MountPlanError(`${what} must be placed at ${step.dest}, inside ${inside}, which the policy binds from the host but the sandbox's uid ` +
          `cannot enter (${describeOwner(stat)}): the sandbox could not use ${inside} anyway. Remove ${parent.dest} from the policy's ` +
          `filesystem_policy (or list only what the sandbox needs below it).`);
      }
      if (dir === parent.source) break;
    }
    if (lstatOrUndefined(host) !== undefined) continue;
    if (parent.kind === 'ro-bind') {
      throw new MountPlanError(`${what} must be placed at ${step.dest}, inside ${parent.dest}, which the policy binds read-only from the host, ` +
        `and ${host} does not exist there to mount it on. Remove ${parent.dest} from the policy's filesystem_policy ` +
        `(or list only what the sandbox needs below it)${step.dest === context.home ? '; the sandbox has a home of its own' : ''}.`);
    }
    const dirStat = lstatOrUndefined(path.dirname(host));
    if (dirStat === undefined || !permits(dirStat, user, 'write')) {
      throw new MountPlanError(`${what} must be placed at ${step.dest}, inside ${parent.dest}, and ${host} does not exist on the host, ` +
        `where the sandbox's uid cannot create it (${dirStat ? describeOwner(dirStat) : 'its parent is missing'}). Create it on the host first, ` +
        `or remove ${parent.dest} from the policy's filesystem_policy.`);
    }
  }
}

function describeMount(step: MountStep, context: { home?: string }): string {
  if (step.dest === WORKDIR_MOUNT) return 'the workdir';
  if (step.dest === context.home) return "the sandbox's home";
  if (step.kind === 'tmpfs' && step.secret) return `warden's mask over the host secret ${step.dest}`;
  if (step.kind === 'mask-file' && !isUnder(step.dest, WORKDIR_MOUNT)) return `warden's mask over the host secret ${step.dest}`;
  if (isUnder(step.dest, WORKDIR_MOUNT)) return `the read-only protection of ${step.dest}`;
  return `the policy's path ${step.dest}`;
}

function describeOwner(stat: Stats): string {
  return `mode ${(stat.mode & 0o7777).toString(8)}, owner uid ${stat.uid}`;
}
