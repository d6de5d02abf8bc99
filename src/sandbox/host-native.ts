// warden's Node-API addon (src/sandbox/native/host-addon.c, built into dist/native/host.node):
// host operations Node has no call for. Loaded on first use only.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { nativeHelperPath } from './native.js';

interface HostAddon {
  peerCredentials(fd: number): PeerCredentials;
  makeDirectories(path: string, mode: number): string[];
  spawnDetached(file: string, argv: readonly string[], env: readonly string[], fds: readonly number[]): number;
  socketPair(): [number, number];
  watchExit(pid: number, callback: (code: number | null, signal: number | null) => void): void;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export class HostAddonError extends Error {}

let addon: HostAddon | undefined;

function load(): HostAddon {
  if (addon) return addon;
  const file = nativeHelperPath('host.node');
  try {
    addon = createRequire(import.meta.url)(file) as HostAddon;
  } catch (error) {
    throw new HostAddonError(`warden's native addon ${file} cannot be loaded (${(error as Error).message}): ` +
      'install a C compiler and Node\'s headers (Debian/Ubuntu: apt-get install gcc libnode-dev) and run `npm run build`');
  }
  return addon;
}

/** The process at the other end of a connected Unix socket descriptor, from the kernel (SO_PEERCRED). */
export function peerCredentials(fd: number): PeerCredentials {
  return load().peerCredentials(fd);
}

/**
 * Creates the missing directories of `absolute` (mode `mode`), never following a symbolic link
 * that neither root nor this user made; returns the directories created, outermost first. As
 * root, this is the only safe way to create a path that a sandbox may be able to write below.
 */
export function makeDirectoriesSafely(absolute: string, mode: number): string[] {
  if (process.getuid?.() !== 0) {
    // Without privilege a planted link leads nowhere this user could not already write.
    const first = mkdirSync(absolute, { recursive: true, mode });
    return first === undefined ? [] : [absolute];
  }
  return load().makeDirectories(absolute, mode);
}

/** Starts `file` with posix_spawn in a new session (see host-addon.c); returns its pid. */
export function spawnDetached(file: string, argv: readonly string[], env: readonly string[], fds: readonly number[]): number {
  return load().spawnDetached(file, argv, env, fds);
}

/** A close-on-exec Unix stream socket pair. */
export function socketPair(): [number, number] {
  return load().socketPair();
}

/** Calls `callback` once child `pid` has ended (and reaps it); keeps the event loop alive until then. */
export function watchExit(pid: number, callback: (code: number | null, signal: number | null) => void): void {
  load().watchExit(pid, callback);
}
