// The audit log's live tail, for subscribers (`warden term`'s audit pane): committed records only,
// pushed in batches after the appends that made them, never by polling. An append runs inside a
// transaction that may still roll back, so the records are read on the next turn of the event
// loop, when that transaction has committed or rolled back, and a rolled-back record is never told.
import type { AuditRow, Store } from '../store/index.js';
import { onAppended } from './append.js';

/** One audit record as the tail shows it: the payload cut to a bounded summary. */
export interface AuditTailRecord {
  seq: number;
  ts: string;
  kind: string;
  sandbox: string | null;
  actor: string | null;
  /** The payload's canonical JSON (already redacted when it was appended), at most SUMMARY_CHARS. */
  summary: string;
}

/** Longest payload summary pushed: a record's payload may be up to 1 MiB. */
export const SUMMARY_CHARS = 400;
/** Most records read per batch: a burst is told in pages, each page once. */
const PAGE = 1000;

function tailRecord(row: AuditRow): AuditTailRecord {
  const summary = row.payload.length > SUMMARY_CHARS ? `${row.payload.slice(0, SUMMARY_CHARS - 1)}…` : row.payload;
  return { seq: row.seq, ts: row.ts, kind: row.kind, sandbox: row.sandbox, actor: row.actor, summary };
}

/** The newest `limit` committed records, oldest first. */
export function auditTail(store: Store, limit: number): AuditTailRecord[] {
  const head = store.auditRows.head()?.seq ?? 0;
  return store.auditRows.page(Math.max(0, head - limit), limit, head).map(tailRecord);
}

/**
 * Tells `listener` every record committed to `store`'s log from now on, in seq order, in batches
 * (one per turn of the event loop in which something was appended). Stops when the returned
 * function is called.
 */
export function followAudit(store: Store, listener: (records: AuditTailRecord[]) => void): () => void {
  let told = store.auditRows.head()?.seq ?? 0;
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;
  const drain = () => {
    scheduled = undefined;
    if (stopped) return;
    for (;;) {
      const rows = store.auditRows.page(told, PAGE);
      if (rows.length === 0) return;
      told = rows.at(-1)!.seq;
      listener(rows.map(tailRecord));
      if (rows.length < PAGE) return;
    }
  };
  const unsubscribe = onAppended(store, () => {
    scheduled ??= setImmediate(drain);
  });
  return () => {
    stopped = true;
    unsubscribe();
    if (scheduled !== undefined) clearImmediate(scheduled);
  };
}
