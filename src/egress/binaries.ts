// Binary matching: a rule's `binaries` list against the caller's executable path and the
// executable paths of its ancestors.

import type { NetworkBinary } from '../policy/types.js';
import { type Matcher, PATH_GLOB, compileGlob, isGlob } from './glob.js';

export class BinaryMatcher {
  private readonly exact = new Set<string>();
  private readonly globs: Array<{ pattern: string; match: Matcher }> = [];

  constructor(binaries: readonly NetworkBinary[]) {
    for (const b of binaries) {
      const p = b.path.trim();
      if (!p.startsWith('/') && !p.startsWith('*')) continue; // relative paths name nothing
      if (isGlob(p)) this.globs.push({ pattern: p, match: compileGlob(p, PATH_GLOB) });
      else this.exact.add(p);
    }
  }

  /** The pattern that matches `exe`, or null. */
  match(exe: string): string | null {
    if (exe === '' || isUnverifiableExe(exe)) return null;
    if (this.exact.has(exe)) return exe;
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
