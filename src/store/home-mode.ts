// WARDEN_HOME's mode: the one rule, used by the store (when it opens), the gateway (before it
// starts a sandbox) and `warden doctor` (which checks it and prints the fix), so that they can
// never disagree and doctor's fix never breaks warden.
import fs from 'node:fs';

/**
 * The mode warden gives WARDEN_HOME: its owner does everything; group and others may only
 * traverse it (search, no read, no write). Traversal is needed when warden runs as root: each
 * sandbox then runs as a uid of its own and must reach its workdir and home below
 * WARDEN_HOME/sandboxes/. Nothing in WARDEN_HOME can be listed, and its files are 0600.
 */
export const WARDEN_HOME_MODE = 0o711;

/**
 * What is wrong with `mode` (permission bits) for WARDEN_HOME, or undefined when nothing is.
 * Reading or writing by group or others is always wrong; as root, so is a home the sandbox uids
 * cannot traverse (0700), because their workdirs are below it.
 */
export function homeModeProblem(mode: number, asRoot = process.getuid?.() === 0): string | undefined {
  const bits = mode & 0o777;
  if ((bits & 0o066) !== 0) return `readable or writable by others (mode ${bits.toString(8)})`;
  if (asRoot && (bits & 0o011) !== 0o011) {
    return `not traversable by the sandboxes' uids (mode ${bits.toString(8)}): named sandboxes cannot reach their workdirs below it`;
  }
  if ((bits & 0o700) !== 0o700) return `not fully usable by its owner (mode ${bits.toString(8)})`;
  return undefined;
}

/** The fix doctor prints, which is exactly what secureHomeMode() does. */
export function homeModeFix(home: string): string {
  return `chmod ${WARDEN_HOME_MODE.toString(8)} ${home}`;
}

/** Gives WARDEN_HOME (an existing directory of ours) the mode of the rule, if it does not have it. */
export function secureHomeMode(home: string): void {
  const mode = fs.statSync(home).mode & 0o777;
  if (homeModeProblem(mode) !== undefined) fs.chmodSync(home, WARDEN_HOME_MODE);
}
