// Tampering with a real log: a separate SQLite connection edits the database file the way an
// attacker with write access would (dropping the append-only triggers first), then
// verification must fail and name the first broken record.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { appendAudit, appendMany, auditHead, AuditIntegrityError, recordHash, verifyAudit, type VerifyResult } from '../../src/audit/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../store/helpers.js';

const RECORDS = 20;

function populatedStore(): Store {
  const store = openStore(tempHome('tamper'));
  appendAudit(store, { kind: 'sandbox.created', sandbox: 'dev', actor: 'cli uid=1000', payload: { workdir: '/w' } });
  appendMany(store, Array.from({ length: RECORDS - 2 }, (_, i) => ({
    kind: 'egress.verdict', sandbox: i % 2 ? 'dev' : 'ci', actor: 'proxy',
    payload: { verdict: i % 3 ? 'allow' : 'deny', destination: { host: `h${i}.example`, port: 443 } },
  })));
  appendAudit(store, { kind: 'policy.revision', sandbox: 'dev', actor: 'operator', payload: { rev: 2, diff: { added: ['pypi'] } } });
  assert.deepEqual(verifyAudit(store), { ok: true, records: RECORDS });
  return store;
}

/** Runs SQL on the store's file through an unrelated connection, as an attacker would. */
function tamper(store: Store, ...statements: string[]): void {
  const db = new Database(store.file);
  try {
    db.exec(`DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;
      DROP TRIGGER IF EXISTS audit_head_no_delete; DROP TRIGGER IF EXISTS audit_head_forward_only;`);
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
}

function assertBrokenAt(result: VerifyResult, seq: number, reason: RegExp): void {
  assert.equal(result.ok, false, 'verification must fail');
  assert.equal(result.firstBroken?.seq, seq, `first broken record: ${JSON.stringify(result.firstBroken)}`);
  assert.match(result.firstBroken!.reason, reason);
  assert.equal(result.records, Math.min(seq - 1, RECORDS), 'records counts the intact prefix');
}

function tamperTest(name: string, fn: (store: Store) => void) {
  test(name, () => {
    const store = populatedStore();
    try {
      fn(store);
    } finally {
      store.close();
    }
  });
}

describe('an untouched log', () => {
  tamperTest('verifies, including against an anchor taken earlier', (store) => {
    const anchor = auditHead(store);
    appendAudit(store, { kind: 'test.more' });
    assert.deepEqual(verifyAudit(store, { anchor }), { ok: true, records: RECORDS + 1 });
  });

  tamperTest('cannot be edited through the database without dropping the triggers first', (store) => {
    const db = new Database(store.file);
    try {
      assert.throws(() => db.exec("UPDATE audit SET payload = '{}' WHERE seq = 3"), /append-only/);
      assert.throws(() => db.exec('DELETE FROM audit WHERE seq = 20'), /append-only/);
      assert.throws(() => db.exec('UPDATE audit_head SET seq = 3'), /only moves forward/);
      assert.throws(() => db.exec('DELETE FROM audit_head'), /cannot be deleted/);
    } finally {
      db.close();
    }
    assert.deepEqual(verifyAudit(store), { ok: true, records: RECORDS });
  });
});

describe('an edited record fails verification at that record', () => {
  tamperTest('payload changed', (store) => {
    tamper(store, `UPDATE audit SET payload = '{"destination":{"host":"evil.example","port":443},"verdict":"allow"}' WHERE seq = 7`);
    assertBrokenAt(verifyAudit(store), 7, /field of this record was changed/);
  });

  tamperTest('payload re-serialised with the same meaning (whitespace only)', (store) => {
    const row = store.auditRows.page(8, 1)[0]!;
    tamper(store, `UPDATE audit SET payload = '${JSON.stringify(JSON.parse(row.payload), null, 1)}' WHERE seq = 9`);
    assertBrokenAt(verifyAudit(store), 9, /changed/);
  });

  for (const [column, value] of [['ts', "'2001-01-01T00:00:00.000Z'"], ['kind', "'test.other'"], ['sandbox', 'NULL'], ['actor', "'someone else'"]] as const) {
    tamperTest(`${column} changed`, (store) => {
      tamper(store, `UPDATE audit SET ${column} = ${value} WHERE seq = 4`);
      assertBrokenAt(verifyAudit(store), 4, /changed/);
    });
  }

  tamperTest('hash changed', (store) => {
    tamper(store, `UPDATE audit SET hash = '${'f'.repeat(64)}' WHERE seq = 12`);
    assertBrokenAt(verifyAudit(store), 12, /changed/);
  });

  tamperTest('prev_hash changed', (store) => {
    tamper(store, `UPDATE audit SET prev_hash = '${'e'.repeat(64)}' WHERE seq = 1`);
    assertBrokenAt(verifyAudit(store), 1, /genesis/);
  });

  tamperTest('edited and re-hashed: caught at the next record', (store) => {
    const row = store.auditRows.page(4, 1)[0]!;
    const payload = '{"verdict":"allow"}';
    tamper(store, `UPDATE audit SET payload = '${payload}', hash = '${recordHash(row, payload)}' WHERE seq = 5`);
    assertBrokenAt(verifyAudit(store), 6, /prev_hash does not match the hash of record 5/);
  });

  tamperTest('the last record edited and re-hashed: caught by the head', (store) => {
    const row = store.auditRows.page(RECORDS - 1, 1)[0]!;
    tamper(store, `UPDATE audit SET actor = 'nobody', hash = '${recordHash({ ...row, actor: 'nobody' }, row.payload)}' WHERE seq = ${RECORDS}`);
    assertBrokenAt(verifyAudit(store), RECORDS, /last record was replaced/);
  });
});

describe('deleted, reordered and added records fail verification', () => {
  tamperTest('a record deleted in the middle', (store) => {
    tamper(store, 'DELETE FROM audit WHERE seq = 10');
    assertBrokenAt(verifyAudit(store), 10, /record 10 is missing \(the next record present is 11\)/);
  });

  tamperTest('a record deleted and the rest renumbered', (store) => {
    tamper(store, 'DELETE FROM audit WHERE seq = 10', 'UPDATE audit SET seq = seq - 1 WHERE seq > 10', `UPDATE audit_head SET seq = ${RECORDS - 1}`);
    assertBrokenAt(verifyAudit(store), 10, /prev_hash/);
  });

  tamperTest('the first record deleted', (store) => {
    tamper(store, 'DELETE FROM audit WHERE seq = 1');
    assertBrokenAt(verifyAudit(store), 1, /record 1 is missing/);
  });

  tamperTest('the tail deleted (truncation)', (store) => {
    tamper(store, `DELETE FROM audit WHERE seq > ${RECORDS - 3}`);
    assertBrokenAt(verifyAudit(store), RECORDS - 2, new RegExp(`records ${RECORDS - 2} to ${RECORDS} are missing.*truncated`));
    // Appending now would move the head and erase the evidence: refused.
    assert.throws(() => appendAudit(store, { kind: 'test.after' }), AuditIntegrityError);
    assertBrokenAt(verifyAudit(store), RECORDS - 2, /truncated/);
  });

  tamperTest('every record deleted', (store) => {
    tamper(store, 'DELETE FROM audit');
    assertBrokenAt(verifyAudit(store), 1, /records 1 to 20 are missing/);
  });

  tamperTest('the tail and the head row deleted', (store) => {
    tamper(store, `DELETE FROM audit WHERE seq > 15`, 'DELETE FROM audit_head');
    assertBrokenAt(verifyAudit(store), 16, /head is missing/);
    assert.throws(() => appendAudit(store, { kind: 'test.after' }), AuditIntegrityError);
  });

  tamperTest("two records' seqs swapped", (store) => {
    tamper(store, 'UPDATE audit SET seq = 1000 WHERE seq = 5', 'UPDATE audit SET seq = 5 WHERE seq = 6', 'UPDATE audit SET seq = 6 WHERE seq = 1000');
    assertBrokenAt(verifyAudit(store), 5, /prev_hash/);
  });

  tamperTest("two records' contents swapped", (store) => {
    tamper(store,
      'CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (13, 14)',
      'UPDATE audit SET payload = (SELECT payload FROM t WHERE seq = 14), sandbox = (SELECT sandbox FROM t WHERE seq = 14) WHERE seq = 13',
      'UPDATE audit SET payload = (SELECT payload FROM t WHERE seq = 13), sandbox = (SELECT sandbox FROM t WHERE seq = 13) WHERE seq = 14');
    assertBrokenAt(verifyAudit(store), 13, /changed/);
  });

  tamperTest('a record appended outside warden (head not moved)', (store) => {
    const last = store.auditRows.page(RECORDS - 1, 1)[0]!;
    const forged = { seq: RECORDS + 1, ts: new Date().toISOString(), kind: 'test.forged', sandbox: null, actor: null, prevHash: last.hash };
    tamper(store, `INSERT INTO audit VALUES (${forged.seq}, '${forged.ts}', '${forged.kind}', NULL, NULL, '{}', '${last.hash}', '${recordHash(forged, '{}')}')`);
    const result = verifyAudit(store);
    assert.equal(result.firstBroken?.seq, RECORDS + 1);
    assert.match(result.firstBroken!.reason, /past the head/);
  });
});

describe('a consistently rewritten chain', () => {
  tamperTest('is only caught with an anchor recorded outside the database', (store) => {
    const anchor = auditHead(store);
    // Rewrite record 3 and every record after it, and the head: internally consistent again.
    const rows = store.auditRows.page(0, RECORDS);
    const statements: string[] = [];
    let prevHash = rows[1]!.hash;
    for (const row of rows.slice(2)) {
      const payload = row.seq === 3 ? '{"verdict":"allow"}' : row.payload;
      const hash = recordHash({ ...row, prevHash }, payload);
      statements.push(`UPDATE audit SET payload = '${payload}', prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${row.seq}`);
      prevHash = hash;
    }
    statements.push(`UPDATE audit_head SET hash = '${prevHash}'`);
    tamper(store, ...statements);
    // Without an anchor the chain is self-consistent: this is the limit of a hash chain alone.
    assert.equal(verifyAudit(store).ok, true);
    const anchored = verifyAudit(store, { anchor });
    assert.equal(anchored.ok, false);
    assert.equal(anchored.firstBroken?.seq, RECORDS);
    assert.match(anchored.firstBroken!.reason, /differs from the anchor/);
  });

  tamperTest('an anchor past the end of a rebuilt, shorter log is caught', (store) => {
    const anchor = auditHead(store);
    tamper(store, 'DELETE FROM audit WHERE seq > 10', `UPDATE audit_head SET seq = 10, hash = (SELECT hash FROM audit WHERE seq = 10)`);
    assert.equal(verifyAudit(store).ok, true);
    const anchored = verifyAudit(store, { anchor });
    assert.equal(anchored.firstBroken?.seq, RECORDS);
    assert.match(anchored.firstBroken!.reason, /no longer exists/);
  });
});
