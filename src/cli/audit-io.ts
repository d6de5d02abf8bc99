// What `warden audit ...` and `warden logs` share: opening the store read-mostly, the record
// number option, writing to stdout without Node streams, and making log text safe for terminals.
import { existsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { terminalHex as hex, terminalSafe } from '../audit/index.js';
import { DATABASE_FILE, openStore, StoreError, wardenHome, type Store } from '../store/index.js';
import { CliError } from './output.js';

/** Exit code when warden's own state cannot be opened (same meaning as for `warden run`). */
const STORE_UNUSABLE = 125;

export function databasePath(): string {
  return path.join(wardenHome(), DATABASE_FILE);
}

/**
 * Opens the store only if its database exists: reading the log must not create WARDEN_HOME as
 * a side effect (a mistyped WARDEN_HOME would otherwise look like a fresh, empty, intact log).
 */
export function openExistingStore(): Store | undefined {
  if (!existsSync(databasePath())) return undefined;
  try {
    return openStore(wardenHome());
  } catch (error) {
    if (error instanceof StoreError) throw new CliError('store_unusable', error.message, STORE_UNUSABLE);
    throw error;
  }
}


const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd` synchronously. Retries partial writes and EAGAIN (a descriptor
 * inherited in non-blocking mode); other errors, EPIPE included, are thrown.
 */
export function writeAllSync(fd: number, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** The reader of our stdout went away (`warden logs dev | head`): stop quietly. */
export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

// SECURITY: hostnames, paths, methods and binary names in the log come from inside a sandbox,
// i.e. from the agent: printed with control characters escaped (src/audit/terminal.ts).
// What JSON.stringify leaves raw among those (it already escapes U+0000-U+001F).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

export { terminalSafe };

/** JSON.stringify, with the controls it leaves raw escaped as \uNNNN: same value, safe to print. */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
