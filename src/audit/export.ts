import type { AuditRow, Store } from '../store/index.js';
import type { AuditRecord } from './append.js';
import { toOcsf } from './ocsf.js';

export type AuditExportFormat = 'jsonl' | 'ocsf';
export const AUDIT_EXPORT_FORMATS: readonly AuditExportFormat[] = ['jsonl', 'ocsf'];

export interface ExportOptions {
  /** Only records with seq > afterSeq. Default 0 (everything). */
  afterSeq?: number;
  /** Only records of this sandbox. */
  sandbox?: string;
  /** Records read from the database at a time. Default 1000. */
  pageSize?: number;
}

const optional = (value: string | null) => value === null ? 'null' : JSON.stringify(value);

/**
 * One JSONL line: the whole record as canonical JSON (sorted keys), payload spliced in as
 * stored. Removing "hash" from the parsed line and hashing canonicalJson() of the rest gives
 * "hash" back: an export can be verified without warden.
 */
function jsonlLine(row: AuditRow): string {
  return `{"actor":${optional(row.actor)},"hash":${JSON.stringify(row.hash)},"kind":${JSON.stringify(row.kind)}` +
    `,"payload":${row.payload},"prev_hash":${JSON.stringify(row.prevHash)},"sandbox":${optional(row.sandbox)}` +
    `,"seq":${row.seq},"ts":${JSON.stringify(row.ts)}}\n`;
}

function toRecord(row: AuditRow): AuditRecord {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    throw new Error(`audit record ${row.seq} has a payload that is not JSON: the log was changed outside warden; run \`warden audit verify\``);
  }
  return { seq: row.seq, ts: row.ts, kind: row.kind, sandbox: row.sandbox, actor: row.actor, payload, prevHash: row.prevHash, hash: row.hash };
}

/**
 * Streams the log, oldest first, one line per record to `write` (awaited, so a slow consumer
 * applies back-pressure). Exports the records present when it starts; later appends are left
 * for the next export. Does not verify: run verifyAudit for that. Returns the count written.
 */
export async function exportAudit(
  store: Store,
  format: AuditExportFormat,
  write: (line: string) => void | Promise<void>,
  options: ExportOptions = {},
): Promise<number> {
  if (!AUDIT_EXPORT_FORMATS.includes(format)) throw new TypeError(`unknown audit export format ${JSON.stringify(format)}: use jsonl or ocsf`);
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 1000));
  const upTo = store.auditRows.last()?.seq ?? 0;
  let after = Math.max(0, Math.floor(options.afterSeq ?? 0));
  let written = 0;
  while (after < upTo) {
    // Read a page, then write it: no statement stays open across an await.
    const page = store.auditRows.page(after, pageSize, upTo);
    if (page.length === 0) break;
    for (const row of page) {
      if (options.sandbox !== undefined && row.sandbox !== options.sandbox) continue;
      const line = format === 'jsonl' ? jsonlLine(row) : `${JSON.stringify(toOcsf(toRecord(row)))}\n`;
      const pending = write(line);
      if (pending !== undefined) await pending;
      written++;
    }
    after = page[page.length - 1]!.seq;
  }
  return written;
}
