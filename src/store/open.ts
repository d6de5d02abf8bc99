import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import { StoreBusyError, StoreError, StoreSetupError } from './errors.js';
import { secureHomeMode } from './home-mode.js';
import { migrate } from './migrations.js';
import { approvalTable, auditRowTable, policyRevisionTable, sandboxTable } from './tables.js';
import type { OpenStoreOptions, Store } from './types.js';

export const DATABASE_FILE = 'warden.db';

const ownUid = () => process.getuid?.() ?? -1;

/**
 * WARDEN_HOME holds the database, sandbox workdirs, the gateway socket and CA keys: only its
 * owner may enter it. An existing directory owned by someone else is refused (they could swap
 * files under us); one of ours gets the mode of the one rule (home-mode.ts: 0711).
 */
function prepareHome(home: string): void {
  try {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreSetupError(`cannot create WARDEN_HOME ${home}: ${(error as Error).message}`, { cause: error });
  }
  const stat = fs.statSync(home);
  if (!stat.isDirectory()) throw new StoreSetupError(`WARDEN_HOME ${home} is not a directory: point WARDEN_HOME at a directory`);
  if (stat.uid !== ownUid()) {
    throw new StoreSetupError(`WARDEN_HOME ${home} belongs to uid ${stat.uid}, not to you (uid ${ownUid()}): use your own directory`);
  }
  secureHomeMode(home);
}

/**
 * Creates the database file 0600 before SQLite opens it (SQLite would use the umask), and
 * refuses anything but a regular file of ours. SQLite gives -wal and -shm the same mode.
 */
function prepareDatabaseFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'it is a symbolic link; move it away' : (error as Error).message;
    throw new StoreSetupError(`cannot use ${file}: ${why}`, { cause: error });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new StoreSetupError(`${file} is not a regular file: move it away`);
    if (stat.uid !== ownUid()) throw new StoreSetupError(`${file} belongs to uid ${stat.uid}, not to you: move it away`);
    if ((stat.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
}

/** Settings only benchmarks change; warden itself always runs with the defaults. */
export interface StoreTuning {
  synchronous?: 'FULL' | 'NORMAL';
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Retries `fn` while SQLite answers SQLITE_BUSY, until `busyTimeoutMs` has passed. Needed on top
 * of busy_timeout: when two processes open a fresh database at once, switching it to WAL can
 * return SQLITE_BUSY at once (SQLite skips the busy handler where waiting could deadlock).
 */
function retryWhileBusy<T>(busyTimeoutMs: number, fn: () => T): T {
  const deadline = Date.now() + busyTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      Atomics.wait(pause, 0, 0, Math.min(50, 1 + attempt * 5));
    }
  }
}

function configure(db: Database.Database, file: string, busyTimeoutMs: number, tuning: StoreTuning): void {
  // First, so that everything after waits for other processes.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  const mode = retryWhileBusy(busyTimeoutMs, () => db.pragma('journal_mode = WAL', { simple: true }));
  if (mode !== 'wal') {
    throw new StoreSetupError(`${file}: SQLite could not use write-ahead logging (journal mode is ${String(mode)}); put WARDEN_HOME on a local file system`);
  }
  // FULL: every commit is fsynced before it returns, so "the CLI reported success" implies "on
  // disk" even across a power loss. NORMAL would only survive process crashes. See bench/audit.ts
  // for the cost; batching (src/audit) pays one fsync per batch.
  db.pragma(`synchronous = ${tuning.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // The schema is ours; nothing in it should run functions with side effects.
  db.pragma('trusted_schema = OFF');
}

/**
 * Opens (creating if needed) the store in `home`: WARDEN_HOME 0700, warden.db 0600, WAL,
 * synchronous=FULL, foreign keys on, migrations applied. Throws StoreVersionError for a
 * database written by a newer warden, StoreSetupError for an unsafe or unusable home.
 */
export function openStore(home: string, options: OpenStoreOptions = {}, tuning: StoreTuning = {}): Store {
  const resolvedHome = path.resolve(home);
  prepareHome(resolvedHome);
  const file = path.join(resolvedHome, DATABASE_FILE);
  prepareDatabaseFile(file);
  let db: Database.Database;
  try {
    db = new Database(file, { nativeBinding: sqliteAddonFile() });
  } catch (error) {
    if (error instanceof StoreSetupError) throw error;
    throw new StoreSetupError(`cannot open ${file}: ${(error as Error).message}`, { cause: error });
  }
  let schemaVersion: number;
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  try {
    configure(db, file, busyTimeoutMs, tuning);
    schemaVersion = retryWhileBusy(busyTimeoutMs, () => migrate(db, file));
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreSetupError(`cannot prepare ${file}: ${(error as Error).message}`, { cause: error });
  }

  const transaction = <T>(fn: () => T): T => {
    try {
      return db.transaction(fn).immediate();
    } catch (error) {
      if (isBusy(error) && !db.inTransaction) {
        throw new StoreBusyError(`${file} stayed locked by another process for over ${busyTimeoutMs} ms: nothing was written; try again, and check \`warden doctor\``, { cause: error });
      }
      throw error;
    }
  };
  const snapshot = <T>(fn: () => T): T => db.transaction(fn).deferred();
  return {
    home: resolvedHome,
    file,
    schemaVersion,
    sandboxes: sandboxTable(db, transaction),
    policies: policyRevisionTable(db, transaction),
    approvals: approvalTable(db, transaction),
    auditRows: auditRowTable(db),
    transaction,
    snapshot,
    health: () => ({
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      synchronous: Number(db.pragma('synchronous', { simple: true })),
      foreignKeys: Number(db.pragma('foreign_keys', { simple: true })) === 1,
      busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
      schemaVersion,
      quickCheck: (db.pragma('quick_check(5)') as { quick_check: string }[]).map((r) => r.quick_check).join('; '),
    }),
    close: () => db.close(),
  };
}

let addonFile: string | undefined;
/**
 * better-sqlite3's JavaScript is bundled with warden's (Node finding and loading its ten files
 * cost more than the rest of opening the store); its native addon loads on first open, from
 * where npm builds it, and from nowhere else: better-sqlite3's own fallback lookup (the `bindings`
 * package) would search directories relative to warden's for any file of that name.
 */
function sqliteAddonFile(): string {
  if (addonFile !== undefined) return addonFile;
  const require = createRequire(import.meta.url);
  const built = path.join(path.dirname(require.resolve('better-sqlite3')), '..', 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(built)) throw new StoreSetupError(`SQLite's native addon is missing (${built}): run \`npm rebuild better-sqlite3\` in warden's directory`);
  addonFile = built;
  return addonFile;
}
