// Numbered schema migrations. MIGRATIONS[i] takes the schema from version i to version i + 1.
// Append new entries; never edit or reorder a released one (databases in the field already ran
// it). Each runs inside the same transaction as its schema_migrations row, so a failing
// migration leaves the database exactly as it was. (A future migration that rebuilds a table must
// also run with foreign keys off, which SQLite only allows outside a transaction: add a hook then.)
import type Database from 'better-sqlite3';
import { StoreVersionError } from './errors.js';

/** prev_hash of the first audit record, and the audit head of an empty log. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

const V1_INITIAL = `
CREATE TABLE sandboxes (
  name        TEXT PRIMARY KEY,
  state       TEXT NOT NULL CHECK (state IN ('creating', 'running', 'stopped', 'failed')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  policy_rev  INTEGER NOT NULL CHECK (policy_rev >= 1),
  workdir     TEXT NOT NULL,
  env         TEXT NOT NULL CHECK (json_valid(env) AND json_type(env) = 'object'),
  command     TEXT NOT NULL CHECK (json_valid(command) AND json_type(command) = 'array'),
  presets     TEXT NOT NULL CHECK (json_valid(presets) AND json_type(presets) = 'array'),
  -- A sandbox always points at a revision that exists; checked at COMMIT so that a sandbox and
  -- its first revision can be inserted in one transaction.
  FOREIGN KEY (name, policy_rev) REFERENCES policy_revisions (sandbox, rev) DEFERRABLE INITIALLY DEFERRED
) STRICT;

CREATE TABLE policy_revisions (
  sandbox     TEXT NOT NULL REFERENCES sandboxes (name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  rev         INTEGER NOT NULL CHECK (rev >= 1),
  policy      TEXT NOT NULL CHECK (json_valid(policy)),
  author      TEXT NOT NULL,
  reason      TEXT,
  created_at  TEXT NOT NULL,
  diff        TEXT CHECK (diff IS NULL OR json_valid(diff)),
  PRIMARY KEY (sandbox, rev)
) STRICT, WITHOUT ROWID;

-- seq is assigned by the writer (it is part of the hashed record), never by AUTOINCREMENT.
CREATE TABLE audit (
  seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
  ts          TEXT NOT NULL,
  kind        TEXT NOT NULL,
  sandbox     TEXT,
  actor       TEXT,
  payload     TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_sandbox ON audit (sandbox, seq);

-- seq and hash of the last record, written in the same transaction as the records, so that
-- deleting records from the end of the log is detected. One row, seeded with the genesis value:
-- a missing row is itself evidence of tampering.
CREATE TABLE audit_head (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         INTEGER NOT NULL CHECK (seq >= 0),
  hash        TEXT NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${AUDIT_GENESIS_HASH}');

-- Append-only, enforced by the database against warden's own bugs. Someone who can write the
-- file can drop these triggers; the hash chain is what catches that.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
  BEGIN SELECT RAISE(ABORT, 'the audit head cannot be deleted'); END;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head WHEN NEW.seq <= OLD.seq
  BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
`;

// Operator approvals (issue 13): a sandbox's approval mode, and the requests its policy denied that
// wait (or waited) for an operator, de-duplicated into one draft per key while pending.
const V2_APPROVALS = `
ALTER TABLE sandboxes ADD COLUMN approval_mode TEXT NOT NULL DEFAULT 'deny' CHECK (approval_mode IN ('deny', 'ask'));

CREATE TABLE approvals (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  sandbox     TEXT NOT NULL REFERENCES sandboxes (name) ON DELETE CASCADE,
  -- (host, port, binary[, method, path]) as JSON: one pending draft per key and sandbox.
  key         TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'closed')),
  draft       TEXT NOT NULL CHECK (json_valid(draft) AND json_type(draft) = 'object'),
  hits        INTEGER NOT NULL CHECK (hits >= 1),
  -- Held requests waiting now, and those whose client went away (or whose gateway restarted) unanswered.
  waiting     INTEGER NOT NULL DEFAULT 0 CHECK (waiting >= 0),
  gone        INTEGER NOT NULL DEFAULT 0 CHECK (gone >= 0),
  version     INTEGER NOT NULL DEFAULT 1,
  first_seen  TEXT NOT NULL,
  last_seen   TEXT NOT NULL,
  decided_by  TEXT,
  decided_at  TEXT,
  decision    TEXT
) STRICT;
CREATE UNIQUE INDEX approvals_pending_key ON approvals (sandbox, key) WHERE state = 'pending';
CREATE INDEX approvals_by_state ON approvals (state, id);
`;

export const MIGRATIONS: readonly string[] = [V1_INITIAL, V2_APPROVALS];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

function appliedVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

function currentVersionIfAny(db: Database.Database): number | undefined {
  const table = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'").get();
  return table === undefined ? undefined : appliedVersion(db);
}

/**
 * Brings the schema up to `migrations.length`, all in one IMMEDIATE transaction, so two
 * processes opening a fresh database at once cannot both migrate it. Returns the version.
 * Refuses a database newer than the code without changing it.
 */
export function migrate(db: Database.Database, file: string, migrations: readonly string[] = MIGRATIONS): number {
  // The common case, a current schema, is read without taking the write lock (a busy gateway
  // holds it often): every CLI command and `warden run` opens the store.
  const current = currentVersionIfAny(db);
  if (current === migrations.length) return current;
  if (current !== undefined && current > migrations.length) throw new StoreVersionError(file, current, migrations.length);
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY CHECK (version >= 1),
      applied_at TEXT NOT NULL
    ) STRICT`);
    const current = appliedVersion(db);
    if (current > migrations.length) throw new StoreVersionError(file, current, migrations.length);
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (let version = current + 1; version <= migrations.length; version++) {
      db.exec(migrations[version - 1]!);
      record.run(version, new Date().toISOString());
    }
    return migrations.length;
  });
  return run.immediate();
}
