import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** warden's C helpers (src/sandbox/native/*.c), built by `npm run build` into dist/native/. */
export type NativeHelper = 'landlock-exec' | 'netns-enter' | 'sandbox-exec' | 'supervisor' | 'idmap-mount' | 'host.node';

export class NativeHelperMissingError extends Error {}

/** The helper's path; throws a NativeHelperMissingError saying how to build it when it is not there. */
export function requireNativeHelper(name: NativeHelper): string {
  const found = findNativeHelper(name);
  if (found !== undefined) return found;
  throw new NativeHelperMissingError(`warden's native helper ${name} is not built (${nativeHelperPath(name)} is missing), and sandboxes cannot be ` +
    'started safely without it. Install a C compiler and static libc (Debian/Ubuntu: apt-get install gcc libc6-dev) and run `npm run build`.');
}

/** The helper's path when it has been built and is executable, else undefined. */
export function findNativeHelper(name: NativeHelper): string | undefined {
  const candidate = nativeHelperPath(name);
  return isExecutableFile(candidate) ? candidate : undefined;
}

/** Where the build puts the helper, whether or not it is there. */
export function nativeHelperPath(name: NativeHelper): string {
  return path.join(distDirectory(), 'native', name);
}

/**
 * This module runs from dist/src/sandbox/ (tests) or from a chunk in dist/bundle/ (the CLI);
 * both live below the `dist` directory that holds native/.
 */
function distDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (path.basename(dir) === 'dist') return dir;
    if (path.dirname(dir) === dir) return path.dirname(here);
  }
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
