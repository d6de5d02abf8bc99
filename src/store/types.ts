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
  /** What happens to an action the policy denies: refused (deny), or held for an operator (ask). */
  approvalMode: ApprovalMode;
}

export type ApprovalMode = 'deny' | 'ask';
export const APPROVAL_MODES: readonly ApprovalMode[] = ['deny', 'ask'];
export type ApprovalState = 'pending' | 'approved' | 'denied' | 'closed';

/** A request the policy denied, held for an operator; identical ones are one draft while pending. */
export interface ApprovalRecord {
  id: number;
  sandbox: string;
  /** What identical requests share: (host, port, binary[, method, path]). */
  key: string;
  state: ApprovalState;
  /** What the operator is shown (the gateway's, opaque here); replaced by each newer request. */
  draft: unknown;
  hits: number;
  /** Requests held now, waiting for the decision. */
  waiting: number;
  /** Held requests whose client went away (or whose gateway restarted) before a decision. */
  gone: number;
  /** Bumped on every change of the draft: an approval names the version it saw. */
  version: number;
  firstSeen: string;
  lastSeen: string;
  decidedBy: string | null;
  decidedAt: string | null;
  /** once, always, denied, redundant, ... */
  decision: string | null;
}

export interface ApprovalTable {
  /** One more held request: a new pending draft for its key, or a hit on the pending one (its draft replaced by the newer). */
  hit(input: { sandbox: string; key: string; draft: unknown; waiting: boolean }): { record: ApprovalRecord; created: boolean };
  get(id: number): ApprovalRecord | undefined;
  /** Newest first. */
  list(filter?: { state?: ApprovalState; sandbox?: string }): ApprovalRecord[];
  /** `count` held requests of the draft were answered (gone = false) or lost their client (gone = true). */
  release(id: number, count: number, gone: boolean): void;
  /** Closes a pending draft; StoreConflictError when it is not pending (decided already) or changed since `version`. */
  decide(id: number, state: Exclude<ApprovalState, 'pending'>, by: string, decision: string, version?: number): ApprovalRecord;
  /** After a gateway restart: requests that were held are gone. Returns how many drafts had some. */
  abandonWaiting(): number;
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
  /** Default 'deny'. */
  approvalMode?: ApprovalMode;
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
  /** StoreConflictError when there is no such sandbox. */
  setApprovalMode(name: string, mode: ApprovalMode): SandboxRecord;
  /** The main command, run when the sandbox starts. StoreConflictError when there is no such sandbox. */
  setCommand(name: string, command: string[]): SandboxRecord;
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
  readonly approvals: ApprovalTable;
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
