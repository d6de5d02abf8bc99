// Typed accessors over the tables of schema version 1. Statements are prepared once per Store.
import type Database from 'better-sqlite3';
import { StoreConflictError, StoreInputError } from './errors.js';
import {
  APPROVAL_MODES,
  SANDBOX_STATES,
  type ApprovalMode,
  type ApprovalRecord,
  type ApprovalState,
  type ApprovalTable,
  type AuditPosition,
  type AuditRow,
  type AuditRowTable,
  type NewPolicyRevision,
  type NewSandbox,
  type PolicyRevision,
  type PolicyRevisionTable,
  type SandboxRecord,
  type SandboxState,
  type SandboxTable,
} from './types.js';

// Sandbox names become directory names under WARDEN_HOME/sandboxes: no separators, no dot-dot,
// nothing a shell or a path join could reinterpret.
const SANDBOX_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

export function isValidSandboxName(name: string): boolean {
  return SANDBOX_NAME.test(name);
}

function requireSandboxName(name: string): void {
  if (!isValidSandboxName(name)) {
    throw new StoreInputError(`invalid sandbox name ${JSON.stringify(name)}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

function requireState(state: string): asserts state is SandboxState {
  if (!(SANDBOX_STATES as readonly string[]).includes(state)) {
    throw new StoreInputError(`invalid sandbox state ${JSON.stringify(state)}: expected one of ${SANDBOX_STATES.join(', ')}`);
  }
}

function requireStringArray(what: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new StoreInputError(`${what} must be an array of strings`);
  return value;
}

function requireStringMap(what: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new StoreInputError(`${what} must be an object of string values`);
  }
  return value as Record<string, string>;
}

function toJson(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StoreInputError(`${what} is not JSON-serialisable: ${(error as Error).message}`);
  }
  if (text === undefined) throw new StoreInputError(`${what} is not JSON-serialisable`);
  return text;
}

const now = () => new Date().toISOString();

interface SandboxRow {
  name: string; state: string; created_at: string; updated_at: string; policy_rev: number;
  workdir: string; env: string; command: string; presets: string; approval_mode: string;
}

function sandboxFromRow(row: SandboxRow): SandboxRecord {
  requireState(row.state);
  return {
    name: row.name,
    state: row.state,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    policyRev: row.policy_rev,
    workdir: row.workdir,
    env: JSON.parse(row.env) as Record<string, string>,
    command: JSON.parse(row.command) as string[],
    presets: JSON.parse(row.presets) as string[],
    approvalMode: row.approval_mode === 'ask' ? 'ask' : 'deny',
  };
}

function requireApprovalMode(mode: string): asserts mode is ApprovalMode {
  if (!(APPROVAL_MODES as readonly string[]).includes(mode)) {
    throw new StoreInputError(`invalid approval mode ${JSON.stringify(mode)}: expected one of ${APPROVAL_MODES.join(', ')}`);
  }
}

interface PolicyRow {
  sandbox: string; rev: number; policy: string; author: string; reason: string | null; created_at: string; diff: string | null;
}

function revisionFromRow(row: PolicyRow): PolicyRevision {
  return {
    sandbox: row.sandbox,
    rev: row.rev,
    policy: JSON.parse(row.policy) as unknown,
    author: row.author,
    reason: row.reason,
    createdAt: row.created_at,
    diff: row.diff === null ? null : JSON.parse(row.diff) as unknown,
  };
}

type Transaction = <T>(fn: () => T) => T;

type StatementUse = Pick<Database.Statement, 'get' | 'run' | 'all' | 'iterate'>;

/**
 * A statement prepared on its first use, not when the store opens: a one-shot `warden run` uses
 * two of the thirty, and preparing the first statement of a connection also reads the schema.
 */
function lazyStatement(db: Database.Database, sql: string, configure: (statement: Database.Statement) => Database.Statement = (statement) => statement): StatementUse {
  let statement: Database.Statement | undefined;
  const prepared = () => (statement ??= configure(db.prepare(sql)));
  return {
    get: (...params: unknown[]) => prepared().get(...params),
    run: (...params: unknown[]) => prepared().run(...params),
    all: (...params: unknown[]) => prepared().all(...params),
    iterate: (...params: unknown[]) => prepared().iterate(...params),
  } as StatementUse;
}

export function sandboxTable(db: Database.Database, transaction: Transaction): SandboxTable {
  const insertSandbox = lazyStatement(db, `INSERT INTO sandboxes (name, state, created_at, updated_at, policy_rev, workdir, env, command, presets, approval_mode)
    VALUES (@name, @state, @created_at, @created_at, 1, @workdir, @env, @command, @presets, @approval_mode)`);
  const updateMode = lazyStatement(db, 'UPDATE sandboxes SET approval_mode = ?, updated_at = ? WHERE name = ?');
  const updateCommand = lazyStatement(db, 'UPDATE sandboxes SET command = ?, updated_at = ? WHERE name = ?');
  const insertRevision = lazyStatement(db, `INSERT INTO policy_revisions (sandbox, rev, policy, author, reason, created_at, diff)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const selectOne = lazyStatement(db, 'SELECT * FROM sandboxes WHERE name = ?');
  const selectAll = lazyStatement(db, 'SELECT * FROM sandboxes ORDER BY name');
  const updateState = lazyStatement(db, 'UPDATE sandboxes SET state = ?, updated_at = ? WHERE name = ?');
  const deleteOne = lazyStatement(db, 'DELETE FROM sandboxes WHERE name = ?');

  const get = (name: string) => {
    const row = selectOne.get(name) as SandboxRow | undefined;
    return row === undefined ? undefined : sandboxFromRow(row);
  };

  return {
    create(input: NewSandbox): SandboxRecord {
      requireSandboxName(input.name);
      const state = input.state ?? 'creating';
      requireState(state);
      if (typeof input.workdir !== 'string' || input.workdir === '') throw new StoreInputError('workdir must be a non-empty path');
      if (typeof input.author !== 'string' || input.author === '') throw new StoreInputError('author must be a non-empty string');
      const mode = input.approvalMode ?? 'deny';
      requireApprovalMode(mode);
      const row = {
        approval_mode: mode,
        name: input.name,
        state,
        created_at: now(),
        workdir: input.workdir,
        env: toJson('env', requireStringMap('env', input.env ?? {})),
        command: toJson('command', requireStringArray('command', input.command ?? [])),
        presets: toJson('presets', requireStringArray('presets', input.presets ?? [])),
      };
      const policy = toJson('policy', input.policy);
      return transaction(() => {
        if (selectOne.get(input.name) !== undefined) throw new StoreConflictError(`a sandbox named ${input.name} already exists: pick another name, or delete it first`);
        insertSandbox.run(row);
        insertRevision.run(input.name, 1, policy, input.author, input.reason ?? null, row.created_at, null);
        return get(input.name)!;
      });
    },
    get(name: string) {
      return get(name);
    },
    list() {
      return (selectAll.all() as SandboxRow[]).map(sandboxFromRow);
    },
    setState(name: string, state: SandboxState): SandboxRecord {
      requireState(state);
      return transaction(() => {
        if (updateState.run(state, now(), name).changes === 0) throw new StoreConflictError(`no sandbox named ${name}: see \`warden sandbox list\``);
        return get(name)!;
      });
    },
    delete(name: string): boolean {
      return transaction(() => deleteOne.run(name).changes > 0);
    },
    setApprovalMode(name: string, mode: ApprovalMode): SandboxRecord {
      requireApprovalMode(mode);
      return transaction(() => {
        if (updateMode.run(mode, now(), name).changes === 0) throw new StoreConflictError(`no sandbox named ${name}: see \`warden sandbox list\``);
        return get(name)!;
      });
    },
    setCommand(name: string, command: string[]): SandboxRecord {
      const text = toJson('command', requireStringArray('command', command));
      return transaction(() => {
        if (updateCommand.run(text, now(), name).changes === 0) throw new StoreConflictError(`no sandbox named ${name}: see \`warden sandbox list\``);
        return get(name)!;
      });
    },
  };
}

export function policyRevisionTable(db: Database.Database, transaction: Transaction): PolicyRevisionTable {
  const selectCurrentRev = lazyStatement(db, 'SELECT policy_rev FROM sandboxes WHERE name = ?', (statement) => statement.pluck());
  const selectMaxRev = lazyStatement(db, 'SELECT MAX(rev) FROM policy_revisions WHERE sandbox = ?', (statement) => statement.pluck());
  const insertRevision = lazyStatement(db, `INSERT INTO policy_revisions (sandbox, rev, policy, author, reason, created_at, diff)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const pointSandbox = lazyStatement(db, 'UPDATE sandboxes SET policy_rev = ?, updated_at = ? WHERE name = ?');
  const selectOne = lazyStatement(db, 'SELECT * FROM policy_revisions WHERE sandbox = ? AND rev = ?');
  const selectCurrent = lazyStatement(db, `SELECT r.* FROM policy_revisions r JOIN sandboxes s ON s.name = r.sandbox AND s.policy_rev = r.rev
    WHERE s.name = ?`);
  const selectAll = lazyStatement(db, 'SELECT * FROM policy_revisions WHERE sandbox = ? ORDER BY rev');

  const one = (row: unknown) => row === undefined ? undefined : revisionFromRow(row as PolicyRow);

  return {
    add(sandbox: string, input: NewPolicyRevision): PolicyRevision {
      if (typeof input.author !== 'string' || input.author === '') throw new StoreInputError('author must be a non-empty string');
      const policy = toJson('policy', input.policy);
      const diff = input.diff === undefined ? null : toJson('diff', input.diff);
      return transaction(() => {
        const current = selectCurrentRev.get(sandbox) as number | undefined;
        if (current === undefined) throw new StoreConflictError(`no sandbox named ${sandbox}: see \`warden sandbox list\``);
        if (input.expectedRev !== undefined && input.expectedRev !== current) {
          throw new StoreConflictError(`the policy of ${sandbox} changed meanwhile (now revision ${current}, the change was made against ${input.expectedRev}): look at \`warden policy get ${sandbox}\` and try again`);
        }
        // Past the highest stored revision, not just the current one: revision numbers are never reused.
        const rev = ((selectMaxRev.get(sandbox) as number | null) ?? 0) + 1;
        const at = now();
        insertRevision.run(sandbox, rev, policy, input.author, input.reason ?? null, at, diff);
        pointSandbox.run(rev, at, sandbox);
        return one(selectOne.get(sandbox, rev))!;
      });
    },
    get(sandbox: string, rev: number) {
      return one(selectOne.get(sandbox, rev));
    },
    current(sandbox: string) {
      return one(selectCurrent.get(sandbox));
    },
    list(sandbox: string) {
      return (selectAll.all(sandbox) as PolicyRow[]).map(revisionFromRow);
    },
  };
}

interface AuditDbRow {
  seq: number; ts: string; kind: string; sandbox: string | null; actor: string | null; payload: string; prev_hash: string; hash: string;
}

function auditFromRow(row: AuditDbRow): AuditRow {
  return {
    seq: row.seq, ts: row.ts, kind: row.kind, sandbox: row.sandbox, actor: row.actor,
    payload: row.payload, prevHash: row.prev_hash, hash: row.hash,
  };
}

export function auditRowTable(db: Database.Database): AuditRowTable {
  const selectHead = lazyStatement(db, 'SELECT seq, hash FROM audit_head WHERE id = 1');
  const selectLast = lazyStatement(db, 'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
  const insert = lazyStatement(db, `INSERT INTO audit (seq, ts, kind, sandbox, actor, payload, prev_hash, hash)
    VALUES (@seq, @ts, @kind, @sandbox, @actor, @payload, @prevHash, @hash)`);
  const updateHead = lazyStatement(db, 'UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1');
  const selectPage = lazyStatement(db, 'SELECT * FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?');
  // Raw arrays: verification reads every row, and better-sqlite3 builds plain arrays much faster than objects.
  const selectAll = lazyStatement(db, 'SELECT seq, ts, kind, sandbox, actor, payload, prev_hash, hash FROM audit ORDER BY seq', (statement) => statement.raw(true));
  const selectCount = lazyStatement(db, 'SELECT COUNT(*) FROM audit', (statement) => statement.pluck());

  return {
    head: () => selectHead.get() as AuditPosition | undefined,
    last: () => selectLast.get() as AuditPosition | undefined,
    insert(row: AuditRow) {
      insert.run(row);
    },
    setHead(position: AuditPosition) {
      if (updateHead.run(position.seq, position.hash).changes !== 1) throw new StoreConflictError('the audit head row is missing: run `warden audit verify`');
    },
    page(afterSeq: number, limit: number, upToSeq = Number.MAX_SAFE_INTEGER) {
      return (selectPage.all(afterSeq, upToSeq, limit) as AuditDbRow[]).map(auditFromRow);
    },
    *iterate() {
      for (const r of selectAll.iterate() as IterableIterator<[number, string, string, string | null, string | null, string, string, string]>) {
        yield { seq: r[0], ts: r[1], kind: r[2], sandbox: r[3], actor: r[4], payload: r[5], prevHash: r[6], hash: r[7] };
      }
    },
    count: () => selectCount.get() as number,
  };
}

interface ApprovalDbRow {
  id: number; sandbox: string; key: string; state: string; draft: string; hits: number; waiting: number; gone: number; version: number;
  first_seen: string; last_seen: string; decided_by: string | null; decided_at: string | null; decision: string | null;
}

function approvalFromRow(row: ApprovalDbRow): ApprovalRecord {
  return {
    id: row.id, sandbox: row.sandbox, key: row.key, state: row.state as ApprovalState, draft: JSON.parse(row.draft) as unknown,
    hits: row.hits, waiting: row.waiting, gone: row.gone, version: row.version, firstSeen: row.first_seen, lastSeen: row.last_seen,
    decidedBy: row.decided_by, decidedAt: row.decided_at, decision: row.decision,
  };
}

export function approvalTable(db: Database.Database, transaction: Transaction): ApprovalTable {
  const selectPending = lazyStatement(db, "SELECT * FROM approvals WHERE sandbox = ? AND key = ? AND state = 'pending'");
  const insert = lazyStatement(db, `INSERT INTO approvals (sandbox, key, state, draft, hits, waiting, version, first_seen, last_seen)
    VALUES (?, ?, 'pending', ?, 1, ?, 1, ?, ?)`);
  const bump = lazyStatement(db, 'UPDATE approvals SET draft = ?, hits = hits + 1, waiting = waiting + ?, version = version + 1, last_seen = ? WHERE id = ?');
  const selectOne = lazyStatement(db, 'SELECT * FROM approvals WHERE id = ?');
  const selectAll = lazyStatement(db, `SELECT * FROM approvals WHERE (@state IS NULL OR state = @state) AND (@sandbox IS NULL OR sandbox = @sandbox)
    ORDER BY id DESC`);
  const answered = lazyStatement(db, 'UPDATE approvals SET waiting = MAX(0, waiting - ?) WHERE id = ?');
  const lost = lazyStatement(db, 'UPDATE approvals SET waiting = MAX(0, waiting - ?), gone = gone + MIN(waiting, ?) WHERE id = ?');
  const close = lazyStatement(db, "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, decision = ?, version = version + 1 WHERE id = ? AND state = 'pending'");
  const abandon = lazyStatement(db, 'UPDATE approvals SET gone = gone + waiting, waiting = 0 WHERE waiting > 0');

  const one = (id: number) => {
    const row = selectOne.get(id) as ApprovalDbRow | undefined;
    return row === undefined ? undefined : approvalFromRow(row);
  };

  return {
    hit({ sandbox, key, draft, waiting }) {
      const text = toJson('draft', draft);
      return transaction(() => {
        const at = now();
        const existing = selectPending.get(sandbox, key) as ApprovalDbRow | undefined;
        if (existing) {
          bump.run(text, waiting ? 1 : 0, at, existing.id);
          return { record: one(existing.id)!, created: false };
        }
        const id = Number(insert.run(sandbox, key, text, waiting ? 1 : 0, at, at).lastInsertRowid);
        return { record: one(id)!, created: true };
      });
    },
    get: one,
    list(filter = {}) {
      return (selectAll.all({ state: filter.state ?? null, sandbox: filter.sandbox ?? null }) as ApprovalDbRow[]).map(approvalFromRow);
    },
    release(id, count, gone) {
      if (count <= 0) return;
      if (gone) lost.run(count, count, id);
      else answered.run(count, id);
    },
    decide(id, state, by, decision, version) {
      return transaction(() => {
        const current = one(id);
        if (!current) throw new StoreConflictError(`no approval #${id}: see \`warden approvals list\``);
        if (current.state !== 'pending') throw new StoreConflictError(`approval #${id} is ${current.state} already${current.decidedBy ? ` (by ${current.decidedBy} at ${current.decidedAt})` : ''}`);
        if (version !== undefined && version !== current.version) {
          throw new StoreConflictError(`approval #${id} changed since it was shown (version ${version}, now ${current.version}: ${current.hits} hits): look at it again`);
        }
        close.run(state, by, now(), decision, id);
        return one(id)!;
      });
    },
    abandonWaiting() {
      return abandon.run().changes;
    },
  };
}
