// Binary matching: a rule's `binaries` list against the caller's executable path and the
// executable paths of its ancestors.

import { realpathSync } from 'node:fs';
import type { NetworkBinary } from './types.js';
import { type Matcher, PATH_GLOB, compileGlob, isGlob } from './glob.js';

export class BinaryMatcher {
  private readonly exact = new Set<string>();
  private readonly globs: Array<{ pattern: string; match: Matcher }> = [];
  /** Resolved symlink target -> the path the policy wrote, for reporting. */
  private readonly aliases = new Map<string, string>();

  constructor(binaries: readonly NetworkBinary[]) {
    for (const b of binaries) {
      const p = b.path.trim();
      if (!p.startsWith('/') && !p.startsWith('*')) continue; // relative paths name nothing
      if (isGlob(p)) {
        this.globs.push({ pattern: p, match: compileGlob(p, PATH_GLOB) });
        continue;
      }
      this.exact.add(p);
      // The kernel names the file a process runs, after symlinks: /usr/bin/python3 runs as
      // /usr/bin/python3.11. System directories are bound into sandboxes at the same paths,
      // so the host's resolution is the sandbox's.
      const resolved = resolveLink(p);
      if (resolved !== undefined && resolved !== p) {
        this.exact.add(resolved);
        this.aliases.set(resolved, p);
      }
    }
  }

  /** The pattern that matches `exe`, or null. */
  match(exe: string): string | null {
    if (exe === '' || isUnverifiableExe(exe)) return null;
    if (this.exact.has(exe)) return this.aliases.get(exe) ?? exe;
    for (const g of this.globs) if (g.match(exe)) return g.pattern;
    return null;
  }
}

/**
 * The kernel appends " (deleted)" when the file a process runs has been removed or replaced;
 * such a process cannot be tied to a path any more, so it never matches a rule.
 */
export function isUnverifiableExe(exe: string): boolean {
  return exe.endsWith(' (deleted)');
}

function resolveLink(file: string): string | undefined {
  try {
    return realpathSync.native(file);
  } catch {
    return undefined;
  }
}
