// `warden audit verify` and `warden audit export`: read the hash-chained log straight from the
// store (docs/audit.md). Neither needs the gateway: SQLite in WAL mode lets us read a consistent
// snapshot while the gateway appends.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import {
  exportAudit, GENESIS_HASH, newestAnchor, verifyAudit, type AuditExportFormat, type VerifyResult,
} from '../audit/index.js';
import type { AuditPosition, Store } from '../store/index.js';
import { databasePath, isBrokenPipe, openExistingStore, terminalSafe, writeAllSync } from './audit-io.js';
import { CliError, printJsonResult, printLine } from './output.js';

const BROKEN = 1;

export interface AuditVerifyOptions {
  json: boolean;
  /** A head recorded earlier outside this database; the record at anchor.seq must still have anchor.hash. */
  anchor?: AuditPosition;
}

export interface AuditExportOptions {
  format: AuditExportFormat;
  /** Write here (atomically, mode 0600) instead of stdout. */
  output?: string;
  sandbox?: string;
  /** Only records with seq > since. */
  since?: number;
}

interface VerifyOutcome {
  result: VerifyResult;
  /** The stored head, read in the same snapshot as the walk. */
  head?: AuditPosition;
  /** Which anchor the log was checked against, if any, in words. */
  anchorNote?: string;
}

function verifyStore(store: Store, anchor: AuditPosition | undefined): VerifyOutcome {
  try {
    // One read transaction around both, so the head printed is the head that was verified.
    return store.snapshot(() => ({ result: verifyAudit(store, anchor ? { anchor } : {}), head: store.auditRows.head() }));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('audit_unreadable', `cannot read the audit log in ${store.file}: ${(error as Error).message}\n` +
      'The log cannot be vouched for. Copy the database files aside, then run `warden doctor`.', BROKEN);
  }
}

/** With no database there is nothing to walk; only an anchor can say that something is missing. */
function verifyMissingDatabase(anchor: AuditPosition | undefined): VerifyOutcome {
  if (anchor === undefined || anchor.seq === 0) return { result: { ok: true, records: 0 }, head: { seq: 0, hash: GENESIS_HASH } };
  return { result: { ok: false, records: 0, firstBroken: { seq: 1, reason: `the database does not exist, but the anchor says record ${anchor.seq} was written` } } };
}

function nextSteps(file: string, firstBroken: number): string {
  return `Do not trust records from ${firstBroken} on. Before anything else writes to it, copy ${file} (with its -wal and -shm files) ` +
    'aside as evidence; compare with a backup or an earlier `warden audit export --format jsonl` (every line carries its hash); ' +
    'and find out who could write WARDEN_HOME.';
}

function printVerifyOutcome(outcome: VerifyOutcome, file: string, exists: boolean, json: boolean): void {
  const { result, head, anchorNote } = outcome;
  const broken = result.firstBroken;
  if (json) {
    if (broken === undefined) printJsonResult({ records: result.records, head, database: file, exists, anchor: anchorNote });
    else {
      printJsonResult({ records: result.records, first_broken: broken, database: file, exists, anchor: anchorNote, next: nextSteps(file, broken.seq) },
        { code: 'audit_broken', message: `the audit log is broken at record ${broken.seq}: ${broken.reason}` });
    }
    return;
  }
  if (anchorNote) printLine(1, anchorNote);
  if (broken === undefined) {
    if (!exists) {
      printLine(1, `no audit log yet (${file} does not exist): 0 records`);
      return;
    }
    const headText = `${head!.seq}:${head!.hash}`;
    printLine(1, `audit log intact: ${result.records} records, head ${headText}`);
    if (result.records > 0) printLine(1, `To catch a rewrite of the whole log later, keep this head elsewhere and run: warden audit verify --anchor ${headText}`);
    return;
  }
  printLine(1, `audit log BROKEN at record ${broken.seq}: ${broken.reason}`);
  printLine(1, result.records > 0 ? `Records 1 to ${result.records} are intact.` : 'No record before it could be vouched for.');
  printLine(1, nextSteps(file, broken.seq));
}

/**
 * `warden audit verify`: 0 when the whole log checks out against its head and an anchor, 1
 * otherwise. The anchor is the one given (`--anchor`), else the newest the gateway wrote outside
 * the database (the anchor file, the system journal): that is what catches a truncated tail.
 */
export function auditVerifyCommand(opts: AuditVerifyOptions): number {
  const file = databasePath();
  const found = opts.anchor === undefined ? newestAnchor(path.dirname(file), { journal: true }) : undefined;
  const anchor = opts.anchor ?? found;
  const store = openExistingStore();
  let outcome: VerifyOutcome;
  if (store === undefined) {
    outcome = verifyMissingDatabase(anchor);
  } else {
    try {
      outcome = verifyStore(store, anchor);
    } finally {
      store.close();
    }
  }
  const anchorNote = opts.anchor !== undefined ? `checked against the anchor given: record ${opts.anchor.seq}`
    : found !== undefined ? `checked against the newest anchor: record ${found.seq}, from ${found.source}${found.ts ? `, written ${found.ts}` : ''}`
    : 'no anchor found outside the database: a truncated tail cannot be detected (the gateway writes anchors as the log grows)';
  printVerifyOutcome({ ...outcome, anchorNote }, file, store !== undefined, opts.json);
  return outcome.result.ok ? 0 : BROKEN;
}

/** Collects lines and writes them to `fd` in chunks: one write per line would dominate a large export. */
function chunkedWriter(fd: number): { write: (line: string) => void; flush: () => void } {
  const CHUNK = 64 * 1024;
  let buffered: string[] = [];
  let size = 0;
  const flush = () => {
    if (buffered.length === 0) return;
    const text = buffered.join('');
    buffered = [];
    size = 0;
    writeAllSync(fd, text);
  };
  return {
    write(line) {
      buffered.push(line);
      size += line.length;
      if (size >= CHUNK) flush();
    },
    flush,
  };
}

async function exportTo(fd: number, store: Store | undefined, opts: AuditExportOptions): Promise<number> {
  if (store === undefined) return 0;
  const out = chunkedWriter(fd);
  const count = await exportAudit(store, opts.format, out.write, {
    ...(opts.since !== undefined ? { afterSeq: opts.since } : {}),
    ...(opts.sandbox !== undefined ? { sandbox: opts.sandbox } : {}),
  });
  out.flush();
  return count;
}

/**
 * Exports into a temporary file next to `file` and renames it into place once complete and
 * synced: a failed export never leaves a truncated file that looks like a whole one. Mode 0600:
 * the log describes everything the sandboxes did.
 */
async function exportToFile(file: string, store: Store | undefined, opts: AuditExportOptions): Promise<number> {
  const target = path.resolve(file);
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.warden-${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw new CliError('output_unusable', `cannot write ${target}: ${(error as Error).message}`, 1);
  }
  try {
    const count = await exportTo(fd, store, opts);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(temporary, target);
    return count;
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // already renamed or never written: nothing to clean up
    }
    if (error instanceof CliError) throw error;
    throw new CliError('export_failed', `exporting to ${target} failed, nothing was written there: ${(error as Error).message}`, 1);
  }
}

/**
 * `warden audit export`: streams the records present when it starts, oldest first. Does not
 * verify (that is `audit verify`); every exported record carries its hashes.
 */
export async function auditExportCommand(opts: AuditExportOptions): Promise<number> {
  const store = openExistingStore();
  try {
    if (opts.sandbox !== undefined && (store === undefined || !(await import('./logs.js')).sandboxKnown(store, opts.sandbox))) {
      throw new CliError('no_such_sandbox', `no sandbox named ${terminalSafe(opts.sandbox)} has records in this audit log (\`warden sandbox list\` shows the sandboxes)`, 1);
    }
    if (opts.output === undefined) {
      try {
        await exportTo(1, store, opts);
      } catch (error) {
        if (!isBrokenPipe(error)) throw error;
      }
      return 0;
    }
    const count = await exportToFile(opts.output, store, opts);
    printLine(2, `exported ${count} record${count === 1 ? '' : 's'} (${opts.format}) to ${path.resolve(opts.output)}`);
    return 0;
  } finally {
    store?.close();
  }
}
