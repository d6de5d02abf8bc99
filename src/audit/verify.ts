import type { AuditPosition, AuditRow, Store } from '../store/index.js';
import { GENESIS_HASH, recordHash } from './chain.js';

export interface VerifyOptions {
  /**
   * A position recorded earlier outside this database (e.g. `auditHead()` written to another
   * machine): the record at anchor.seq must still exist with exactly this hash. This is what
   * catches someone who rewrote the whole chain and its head consistently.
   */
  anchor?: AuditPosition;
}

export interface VerifyResult {
  ok: boolean;
  /** Records found intact, counted from seq 1 up to (not including) the first broken one. */
  records: number;
  /** The first record that cannot be vouched for, and why. Absent when ok. */
  firstBroken?: { seq: number; reason: string };
}

type Check = { seq: number; reason: string } | undefined;

function checkRecord(row: AuditRow, expectedSeq: number, prevHash: string): Check {
  if (row.seq !== expectedSeq) {
    return row.seq > expectedSeq
      ? { seq: expectedSeq, reason: `record ${expectedSeq} is missing (the next record present is ${row.seq})` }
      : { seq: row.seq, reason: `record ${row.seq} is out of order (expected ${expectedSeq})` };
  }
  if (row.prevHash !== prevHash) {
    const previous = expectedSeq === 1 ? 'the genesis value' : `the hash of record ${expectedSeq - 1}`;
    return { seq: row.seq, reason: `prev_hash does not match ${previous}: a record before it was removed, replaced or reordered` };
  }
  if (recordHash(row, row.payload) !== row.hash) {
    return { seq: row.seq, reason: 'the hash does not match the record: a field of this record was changed' };
  }
  return undefined;
}

function checkTail(head: AuditPosition | undefined, lastSeq: number, lastHash: string): Check {
  if (head === undefined) return { seq: lastSeq + 1, reason: `the audit head is missing: records after ${lastSeq} may have been deleted` };
  if (head.seq > lastSeq) {
    const missing = head.seq === lastSeq + 1 ? `record ${head.seq} is` : `records ${lastSeq + 1} to ${head.seq} are`;
    return { seq: lastSeq + 1, reason: `${missing} missing: the head says the log ends at ${head.seq} (truncated)` };
  }
  if (head.seq < lastSeq) return { seq: head.seq + 1, reason: `record ${head.seq + 1} is past the head (${head.seq}): it was added outside warden` };
  if (head.hash !== lastHash) return { seq: lastSeq, reason: `record ${lastSeq} does not match the hash in the head: the last record was replaced` };
  return undefined;
}

function checkAnchor(anchor: AuditPosition, row: AuditRow | undefined): Check {
  if (row === undefined) return { seq: anchor.seq, reason: `record ${anchor.seq} named by the anchor no longer exists` };
  if (row.hash !== anchor.hash) return { seq: anchor.seq, reason: `record ${anchor.seq} differs from the anchor: the chain was rewritten` };
  return undefined;
}

/**
 * Walks the whole log in one read snapshot: seqs are 1..n without gaps, each prev_hash is the
 * previous hash, each hash matches its record, the stored head names the last record, and the
 * anchor (if given) still holds. Stops at the first failure.
 */
export function verifyAudit(store: Store, options: VerifyOptions = {}): VerifyResult {
  return store.snapshot(() => {
    const head = store.auditRows.head();
    const anchor = options.anchor;
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let anchored: AuditRow | undefined;
    const broken = (checked: number, firstBroken: { seq: number; reason: string }): VerifyResult =>
      ({ ok: false, records: Math.max(0, Math.min(checked, firstBroken.seq - 1)), firstBroken });
    for (const row of store.auditRows.iterate()) {
      const problem = checkRecord(row, expectedSeq, prevHash);
      if (problem !== undefined) return broken(expectedSeq - 1, problem);
      if (anchor !== undefined && row.seq === anchor.seq) {
        anchored = row;
        const mismatch = checkAnchor(anchor, row);
        if (mismatch !== undefined) return broken(expectedSeq - 1, mismatch);
      }
      prevHash = row.hash;
      expectedSeq++;
    }
    const records = expectedSeq - 1;
    const tail = checkTail(head, records, prevHash);
    if (tail !== undefined) return broken(records, tail);
    if (anchor !== undefined && anchor.seq > 0 && anchored === undefined) return broken(records, checkAnchor(anchor, undefined)!);
    return { ok: true, records };
  });
}

/** The current head: record it somewhere else to verify later with `{ anchor }`. */
export function auditHead(store: Store): AuditPosition {
  const head = store.auditRows.head();
  if (head === undefined) throw new Error('the audit head is missing: run `warden audit verify`');
  return head;
}
