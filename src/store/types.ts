export type SandboxState = 'creating' | 'running' | 'stopped' | 'failed';

export const SANDBOX_STATES: readonly SandboxState[] = ['creating', 'running', 'stopped', 'failed'];

export interface SandboxRecord {
  name: string;
  state: SandboxState;
  /** ISO-8601 UTC, millisecond precision. */
  createdAt: string;
  updatedAt: string;
  /** The revision in force (policy_revisions.rev). */
  policyRev: number;
  workdir: string;
  /** Non-secret environment only: credentials never reach a sandbox's environment (DESIGN.md). */
  env: Record<string, string>;
  command: string[];
  presets: string[];
}

export interface NewSandbox {
  name: string;
  workdir: string;
  env?: Record<string, string>;
  command?: string[];
  presets?: string[];
  /** Default 'creating'. */
  state?: SandboxState;
  /** The first policy revision (rev 1), stored in the same transaction. */
  policy: unknown;
  author: string;
  reason?: string;
}

export interface PolicyRevision {
  sandbox: string;
  rev: number;
  policy: unknown;
  author: string;
  reason: string | null;
  createdAt: string;
  /** Before/after difference to the previous revision; null for rev 1. */
  diff: unknown;
}

export interface NewPolicyRevision {
  policy: unknown;
  author: string;
  reason?: string;
  diff?: unknown;
  /**
   * The revision the change was computed against. When given and no longer current, the add is
   * refused (StoreConflictError) instead of silently overwriting someone else's change.
   */
  expectedRev?: number;
}

/** One audit row exactly as stored; `payload` is the canonical JSON text that was hashed. */
export interface AuditRow {
  seq: number;
  ts: string;
  kind: string;
  sandbox: string | null;
  actor: string | null;
  payload: string;
  prevHash: string;
  hash: string;
}

/** The position of the last audit record: seq 0 and the genesis hash when the log is empty. */
export interface AuditPosition {
  seq: number;
  hash: string;
}

export interface SandboxTable {
  /** Inserts the sandbox and its policy revision 1 atomically. StoreConflictError if the name is taken. */
  create(input: NewSandbox): SandboxRecord;
  get(name: string): SandboxRecord | undefined;
  /** Ordered by name. */
  list(): SandboxRecord[];
  /** StoreConflictError when there is no such sandbox. */
  setState(name: string, state: SandboxState): SandboxRecord;
  /** Removes the sandbox and its policy revisions (the audit log keeps their history). */
  delete(name: string): boolean;
}

export interface PolicyRevisionTable {
  /** Stores the next revision and makes it the sandbox's current one, atomically. */
  add(sandbox: string, input: NewPolicyRevision): PolicyRevision;
  get(sandbox: string, rev: number): PolicyRevision | undefined;
  current(sandbox: string): PolicyRevision | undefined;
  /** Oldest first. */
  list(sandbox: string): PolicyRevision[];
}

/**
 * Raw access to the audit tables, for src/audit only: it owns the hash chain. Anything else
 * writes audit records through src/audit so that every record is chained.
 */
export interface AuditRowTable {
  /** The stored head (audit_head); undefined only if that row was deleted behind warden's back. */
  head(): AuditPosition | undefined;
  /** seq and hash of the highest-numbered record; undefined when the table is empty. */
  last(): AuditPosition | undefined;
  insert(row: AuditRow): void;
  /** Moves the head forward; call in the same transaction as insert(). */
  setHead(position: AuditPosition): void;
  /** Records with afterSeq < seq <= upToSeq in seq order, at most `limit`. */
  page(afterSeq: number, limit: number, upToSeq?: number): AuditRow[];
  /** Every record in seq order, streamed from SQLite; run it inside Store.snapshot(). */
  iterate(): IterableIterator<AuditRow>;
  count(): number;
}

export interface Store {
  /** The WARDEN_HOME directory. */
  readonly home: string;
  /** The database file. */
  readonly file: string;
  readonly schemaVersion: number;
  readonly sandboxes: SandboxTable;
  readonly policies: PolicyRevisionTable;
  readonly auditRows: AuditRowTable;
  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so a
   * read-then-write inside cannot race another process). Commits when `fn` returns, rolls back
   * if it throws. Nested calls become savepoints. `fn` must be synchronous. With the store's
   * synchronous=FULL, a returned transaction is on disk.
   */
  transaction<T>(fn: () => T): T;
  /** Runs `fn` in one read transaction: every read inside sees the same snapshot. */
  snapshot<T>(fn: () => T): T;
  /** The connection's settings and SQLite's quick_check, for `warden doctor` (reads every page). */
  health(): StoreHealth;
  close(): void;
}

export interface StoreHealth {
  journalMode: string;
  /** SQLite's level: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  schemaVersion: number;
  /** 'ok', or SQLite's first complaints about the file. */
  quickCheck: string;
}

export interface OpenStoreOptions {
  /** How long a write waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}
