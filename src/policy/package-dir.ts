// Where the warden package is installed: shipped data (presets/, providers/) lives at its root.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The nearest directory above this module with a package.json named "warden" (this module runs
 * from dist/src/policy or from a chunk of the dist/bundle build, so the depth is not fixed).
 */
export function wardenPackageDir(): string {
  if (cached !== undefined) return cached;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (isWardenPackage(dir)) {
      cached = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the warden package above ${here}`);
    dir = parent;
  }
}

function isWardenPackage(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === 'warden';
  } catch {
    return false;
  }
}
