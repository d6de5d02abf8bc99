// A one-shot `warden run` writes to the same hash-chained audit log as the gateway (WARDEN_HOME's
// database), under its sandbox name `run-<id>`, so `warden logs` and `warden audit export` see it:
// that it started (committed before the command starts), every decision of its proxy, and how it
// ended. Denials are also printed on stderr, one line each, as they happen.

import { createAuditWriter, decisionNotice, startAnchoring, type AuditWriter, type Anchoring, type DecisionKind, type DecisionRecord } from '../audit/index.js';
import { openStore, StoreError, type Store } from '../store/index.js';
import { CliError, printLine } from './output.js';

const SETUP_FAILED = 125;

export interface RunRecords {
  /** Records a decision; an allowed action waits for it (the checkpoint's recorder). */
  decision(record: DecisionRecord, kind: DecisionKind): Promise<unknown>;
  /** Records something the run's services did (a model call through inference.local). */
  event(kind: string, payload: unknown): void;
  /** Records how the run ended, writes an anchor and closes the log. */
  finish(exitCode: number): Promise<void>;
}

/**
 * Opens the audit log and commits `run.started` before anything runs: no audit record, no action.
 * Fails (exit 125, nothing run) when the log cannot take the record.
 */
export async function openRunRecords(home: string, sandbox: string, started: { argv: string[]; networked: boolean; workdir?: string }): Promise<RunRecords> {
  let store: Store;
  try {
    store = openStore(home);
  } catch (error) {
    if (error instanceof StoreError) throw new CliError('store_unusable', `${error.message}\nNothing was run: warden records every run in its audit log first.`, SETUP_FAILED);
    throw error;
  }
  const writer: AuditWriter = createAuditWriter(store);
  const anchoring: Anchoring = startAnchoring(store, home);
  const actor = `uid ${process.getuid?.() ?? '?'} pid ${process.pid}`;
  try {
    await writer.append({ kind: 'run.started', sandbox, actor, payload: started });
  } catch (error) {
    anchoring.stop();
    store.close();
    throw new CliError('audit_unavailable', `the run could not be recorded in the audit log, so nothing was run: ${(error as Error).message}\nCheck it with \`warden doctor\`.`, SETUP_FAILED);
  }
  return {
    decision: (record, kind) => {
      // Built from the redacted record; hosts, paths and names come from the sandbox, so no
      // terminal escapes reach the user either.
      const notice = decisionNotice(record);
      if (notice !== undefined) printLine(2, notice);
      return writer.append({ kind, sandbox, actor: null, payload: record });
    },
    event: (kind, payload) => {
      writer.append({ kind, sandbox, actor: null, payload }).catch(() => undefined);
    },
    finish: async (exitCode) => {
      await writer.append({ kind: 'run.exited', sandbox, actor, payload: { code: exitCode } }).catch(() => undefined);
      await writer.close();
      anchoring.stop();
      store.close();
    },
  };
}
