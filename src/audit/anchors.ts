// Anchors: the log's head (sequence number and hash), written outside the database as the log
// grows, so that deleting its last records and moving the head row back (which leaves a shorter,
// internally consistent chain) is still caught. Without anchors nothing in the database can tell a
// truncated log from a short one.
//
// Where they go: a file beside the database that warden only ever appends to
// (WARDEN_HOME/audit.anchors), and the system journal where one runs (`logger -t warden-audit`).
// Someone who can rewrite WARDEN_HOME can rewrite that file too; the journal is out of their reach
// unless they are root, and `warden audit verify --anchor SEQ:HASH` takes a head kept anywhere else.
// (The file is not made immutable with `chattr +a`: that needs root to undo, so a user could no
// longer remove their own WARDEN_HOME, for little gain: WARDEN_HOME is its owner's alone.)

import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import type { AuditPosition, Store } from '../store/index.js';
import { onAppended } from './append.js';

export const ANCHOR_FILE = 'audit.anchors';
const JOURNAL_TAG = 'warden-audit';
const JOURNAL_SOCKETS = ['/run/systemd/journal/socket', '/dev/log'];

export interface Anchor extends AuditPosition {
  ts: string;
  /** Where it was read from: the anchor file, or the journal. */
  source: string;
}

export interface AnchoringOptions {
  /** An anchor at least every this many records (default 1000). */
  everyRecords?: number;
  /** And at least this often while the log grows, in milliseconds (default 10 s). */
  everyMs?: number;
  /** Also send anchors to the system journal when one runs (default true). */
  journal?: boolean;
}

export interface Anchoring {
  /** Writes an anchor now if the head moved since the last one. */
  anchorNow(): void;
  stop(): void;
}

/** Keeps anchors of `store`'s log in `home` while the log grows (the gateway runs this). */
export function startAnchoring(store: Store, home: string, options: AnchoringOptions = {}): Anchoring {
  const everyRecords = options.everyRecords ?? 1000;
  const file = path.join(home, ANCHOR_FILE);
  const journal = (options.journal ?? true) && JOURNAL_SOCKETS.some((socket) => existsSync(socket));
  // Only the file's end: the file gains a line per run and per gateway anchor, and this runs at
  // the start of every `warden run`. An older anchor read here only means one extra anchor line.
  let last = maxSeq(fileAnchors(file, RECENT_ANCHOR_BYTES)) ?? 0;
  let scheduled = false;
  const anchorNow = () => {
    scheduled = false;
    const head = store.auditRows.head();
    if (head === undefined || head.seq <= last) return;
    const line = JSON.stringify({ seq: head.seq, hash: head.hash, ts: new Date().toISOString() });
    appendFileSync(file, line + '\n', { mode: 0o600 });
    if (journal) sendToJournal(home, line);
    last = head.seq;
  };
  // After a commit only: the head is read on the next turn of the event loop, when the
  // transaction that appended (perhaps a caller's) has committed or rolled back.
  const unsubscribe = onAppended(store, (head) => {
    if (head.seq - last >= everyRecords && !scheduled) {
      scheduled = true;
      setImmediate(anchorNow);
    }
  });
  const timer = setInterval(anchorNow, options.everyMs ?? 10_000);
  timer.unref();
  return {
    anchorNow,
    stop: () => {
      clearInterval(timer);
      unsubscribe();
      anchorNow();
    },
  };
}

function sendToJournal(home: string, line: string): void {
  const child = spawn('logger', ['-t', JOURNAL_TAG, `anchor home=${home} ${line}`], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** The newest anchor that can be found for `home`: the anchor file's last line, or the journal's. */
export function newestAnchor(home: string, options: { journal?: boolean } = {}): Anchor | undefined {
  const candidates = [...fileAnchors(path.join(home, ANCHOR_FILE)), ...((options.journal ?? false) ? journalAnchors(home) : [])];
  return candidates.sort((a, b) => b.seq - a.seq)[0];
}

// About 35 lines: the newest anchor is (nearly always) the last line.
const RECENT_ANCHOR_BYTES = 4 * 1024;

function maxSeq(anchors: Anchor[]): number | undefined {
  return anchors.length === 0 ? undefined : Math.max(...anchors.map((anchor) => anchor.seq));
}

/** The anchors in `file`, or in its last `tailBytes` bytes (a cut first line is skipped). */
function fileAnchors(file: string, tailBytes = Infinity): Anchor[] {
  let text: string;
  try {
    text = readTail(file, tailBytes);
  } catch {
    return [];
  }
  return text.split('\n').flatMap((line) => parseAnchor(line, file));
}

function readTail(file: string, tailBytes: number): string {
  if (tailBytes === Infinity) return readFileSync(file, 'utf8');
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - tailBytes);
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    const text = buffer.subarray(0, read).toString('utf8');
    return start === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    closeSync(fd);
  }
}

function journalAnchors(home: string): Anchor[] {
  const result = spawnSync('journalctl', ['-t', JOURNAL_TAG, '-o', 'cat', '--no-pager', '-n', '200'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return [];
  const prefix = `anchor home=${home} `;
  return result.stdout.split('\n').filter((line) => line.startsWith(prefix)).flatMap((line) => parseAnchor(line.slice(prefix.length), 'the system journal'));
}

function parseAnchor(line: string, source: string): Anchor[] {
  try {
    const value = JSON.parse(line) as { seq?: unknown; hash?: unknown; ts?: unknown };
    if (Number.isSafeInteger(value.seq) && typeof value.hash === 'string' && /^[0-9a-f]{64}$/.test(value.hash)) {
      return [{ seq: value.seq as number, hash: value.hash, ts: String(value.ts ?? ''), source }];
    }
  } catch {
    // a torn last line (a crash while appending): not an anchor
  }
  return [];
}
