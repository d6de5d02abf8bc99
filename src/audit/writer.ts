// Group commit for high-rate producers (the egress proxy's verdicts): entries appended during
// one turn of the event loop are written in one transaction, so the log pays one fsync per
// batch instead of one per record. Nothing waits on a timer: an idle writer flushes on the
// next setImmediate, so a lone record is as fast as appendAudit.
import type { Store } from '../store/index.js';
import { appendPrepared, prepareEntry, type AuditEntry, type AuditRecord } from './append.js';

export interface AuditWriterOptions {
  /** Most records per transaction; a full batch is written at once. Default 2000. */
  maxBatch?: number;
}

export interface AuditWriter {
  /**
   * Queues an entry; resolves with the record once it is committed (durable), rejects if its
   * batch failed (the batch is then absent as a whole). An invalid entry rejects at once and
   * never affects other entries.
   */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void>;
  /** Flushes, then refuses further appends. */
  close(): Promise<void>;
  /** Entries queued and not yet written. */
  readonly pending: number;
}

interface Waiting {
  entry: ReturnType<typeof prepareEntry>;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

export function createAuditWriter(store: Store, options: AuditWriterOptions = {}): AuditWriter {
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 2000));
  const queue: Waiting[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;

  function writeBatch(batch: Waiting[]): void {
    let records: AuditRecord[];
    try {
      records = appendPrepared(store, batch.map((w) => w.entry));
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => w.resolve(records[i]!));
  }

  function drain(): void {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    while (queue.length > 0) {
      writeBatch(queue.splice(0, maxBatch));
    }
  }

  return {
    append(entry: AuditEntry): Promise<AuditRecord> {
      if (closed) return Promise.reject(new Error('the audit writer is closed'));
      let prepared: ReturnType<typeof prepareEntry>;
      try {
        prepared = prepareEntry(entry);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<AuditRecord>((resolve, reject) => {
        queue.push({ entry: prepared, resolve, reject });
        if (queue.length >= maxBatch) drain();
        else scheduled ??= setImmediate(drain);
      });
    },
    async flush(): Promise<void> {
      drain();
    },
    async close(): Promise<void> {
      closed = true;
      drain();
    },
    get pending() {
      return queue.length;
    },
  };
}
