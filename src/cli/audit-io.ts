// What `warden audit ...` and `warden logs` share: opening the store read-mostly, the record
// number option, writing to stdout without Node streams, and making log text safe for terminals.
import { existsSync, writeSync } from 'node:fs';
import path from 'node:path';
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
// i.e. from the agent. Printed raw they could carry terminal escape sequences (rewrite or hide
// lines, retitle the window) or bidirectional overrides (make DENY read as something else).
// C0 and C1 controls, DEL, line/paragraph separators and bidi controls are shown escaped.
const UNSAFE_FOR_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
// What JSON.stringify leaves raw among those (it already escapes U+0000-U+001F).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const hex = (char: string, width: number) => char.codePointAt(0)!.toString(16).padStart(width, '0');

/** `text` with every character that could control a terminal written as \xNN or \uNNNN. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, (c) => c.codePointAt(0)! <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);
}

/** JSON.stringify, with the controls it leaves raw escaped as \uNNNN: same value, safe to print. */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
