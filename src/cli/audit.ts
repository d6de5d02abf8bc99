// `warden audit verify` and `warden audit export`: read the hash-chained log straight from the
// store (docs/audit.md). Neither needs the gateway: SQLite in WAL mode lets us read a consistent
// snapshot while the gateway appends.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  AUDIT_EXPORT_FORMATS, exportAudit, GENESIS_HASH, verifyAudit, type AuditExportFormat, type VerifyResult,
} from '../audit/index.js';
import type { AuditPosition, Store } from '../store/index.js';
import { databasePath, isBrokenPipe, openExistingStore, parseSeq, writeAllSync } from './audit-io.js';
import { CliError, printLine } from './output.js';

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
}

/** commander parser for `--anchor SEQ:HASH`. */
export function parseAnchor(value: string): AuditPosition {
  const match = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value);
  if (match === null) throw new InvalidArgumentError('expected SEQ:HASH, the head printed by an earlier `warden audit verify` (e.g. 42:9f86d0...)');
  return { seq: Number(match[1]), hash: match[2]! };
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
  const { result, head } = outcome;
  const broken = result.firstBroken;
  if (json) {
    printLine(1, JSON.stringify(broken === undefined
      ? { ok: true, records: result.records, head, database: file, exists }
      : { ok: false, records: result.records, first_broken: broken, database: file, exists, next: nextSteps(file, broken.seq) }));
    return;
  }
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

/** `warden audit verify`: 0 when the whole log (and the anchor, if given) checks out, 1 otherwise. */
export function auditVerifyCommand(opts: AuditVerifyOptions): number {
  const file = databasePath();
  const store = openExistingStore();
  let outcome: VerifyOutcome;
  if (store === undefined) {
    outcome = verifyMissingDatabase(opts.anchor);
  } else {
    try {
      outcome = verifyStore(store, opts.anchor);
    } finally {
      store.close();
    }
  }
  printVerifyOutcome(outcome, file, store !== undefined, opts.json);
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

/** Adds `warden audit verify` and `warden audit export` to the program. */
export function registerAuditCommands(program: Command, setExit: (code: number) => void, mode: { json: boolean }): void {
  const audit = program
    .command('audit')
    .summary('verify and export the audit log')
    .description('The audit log: one hash-chained record for every network verdict, sandbox lifecycle event, ' +
      'policy revision and command started in a sandbox. These commands read WARDEN_HOME directly; the gateway ' +
      'need not run. Format and guarantees: docs/audit.md.');

  audit
    .command('verify')
    .summary('prove the audit log is intact, or name the first broken record')
    .description([
      'Walk the whole audit log in one consistent snapshot and check every record: sequence numbers without gaps, ' +
        "each record's prev_hash equal to the previous record's hash, each hash matching its record, and the stored " +
        'head naming the last record. Stops at the first record it cannot vouch for and says why.',
      'Exit 0: intact; prints the record count and the head (SEQ:HASH). Exit 1: broken, or unreadable; prints ' +
        'the first broken record, the reason, and what to do next. 125: the store could not be opened.',
      'A log rewritten consistently from some record on (hashes and head recomputed) verifies by itself. Keep the ' +
        'head printed by an earlier run somewhere the log\'s writers cannot reach and pass it as --anchor: the record ' +
        'it names must still carry that hash.',
    ].join('\n\n'))
    .option('--anchor <SEQ:HASH>', 'a head printed by an earlier verify; the record SEQ must still have HASH', parseAnchor)
    .option('--json', 'print {ok, records, head} or {ok: false, records, first_broken: {seq, reason}, next} as JSON')
    .addHelpText('after', '\nExamples:\n  warden audit verify\n  warden audit verify --anchor 1200:3f0c...e9 --json')
    .action((opts: { json?: boolean; anchor?: AuditPosition }) => {
      mode.json = Boolean(opts.json);
      setExit(auditVerifyCommand({ json: Boolean(opts.json), ...(opts.anchor ? { anchor: opts.anchor } : {}) }));
    });

  audit
    .command('export')
    .summary('stream the audit log as JSON lines or OCSF events')
    .description([
      'Write the audit records present when the export starts, oldest first, one per line.',
      'jsonl: each record as canonical JSON with its hash (keys actor, hash, kind, payload, prev_hash, sandbox, seq, ts); ' +
        'removing "hash" and hashing the canonical JSON of the rest gives it back, so an export can be checked ' +
        'without warden. ocsf: one OCSF 1.3-shaped event per record, the original record under unmapped.warden.',
      'The export does not verify the log: run `warden audit verify` for that. With --output the file is written ' +
        'completely (mode 0600) or not at all.',
    ].join('\n\n'))
    .addOption(new Option('--format <format>', 'output format').choices(AUDIT_EXPORT_FORMATS).default('jsonl'))
    .option('-o, --output <file>', 'write to FILE instead of stdout (replaced atomically; a count is printed on stderr)')
    .option('--sandbox <name>', 'only records of this sandbox')
    .option('--since <seq>', 'only records after record number SEQ (seq > SEQ)', parseSeq)
    .addHelpText('after', '\nExamples:\n  warden audit export --format jsonl > audit.jsonl\n' +
      '  warden audit export --format ocsf --sandbox dev --output dev.ocsf.jsonl\n  warden audit export --since 1200')
    .action(async (opts: { format: AuditExportFormat; output?: string; sandbox?: string; since?: number }) => {
      setExit(await auditExportCommand(opts));
    });
}
