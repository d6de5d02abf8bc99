// `warden audit verify` and `warden audit export`, run as the real CLI against a WARDEN_HOME
// written through the store and audit code, then tampered with directly in SQLite.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson, startAnchoring, verifyAudit, type AuditRecord } from '../../src/audit/index.js';
import { warden, type Result } from '../e2e/helpers.js';
import { append, auditHome, lines, mixedLog, tamper, withStore, type AuditHome } from './audit-fixture.js';

const BROKEN = 1;
const USAGE = 2;

function show(r: Result): string {
  return `status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** A home with the mixed log; runs fn and cleans up. */
function withLog(fn: (home: AuditHome, records: AuditRecord[]) => void): () => void {
  return () => {
    const home = auditHome('warden-cli-audit-');
    try {
      fn(home, append(home.home, mixedLog()));
    } finally {
      home.cleanup();
    }
  };
}

interface VerifyJson { ok: boolean; records: number; head?: { seq: number; hash: string }; first_broken?: { seq: number; reason: string }; next?: string }

function verifyJson(home: AuditHome, extra: string[] = []): { r: Result; report: VerifyJson } {
  const r = warden(['audit', 'verify', '--json', ...extra], { env: home.env });
  const out = lines(r.stdout);
  assert.equal(out.length, 1, show(r));
  const envelope = JSON.parse(out[0]!) as { ok: boolean; result: Omit<VerifyJson, 'ok'>; error?: { code: string } };
  if (!envelope.ok) assert.equal(envelope.error?.code, 'audit_broken');
  return { r, report: { ok: envelope.ok, ...envelope.result } };
}

function assertBrokenAt(home: AuditHome, seq: number, reason: RegExp): void {
  const human = warden(['audit', 'verify'], { env: home.env });
  assert.equal(human.status, BROKEN, show(human));
  assert.match(human.stdout, new RegExp(`^audit log BROKEN at record ${seq}: `, 'm'));
  assert.match(human.stdout, reason);
  assert.match(human.stdout, /Do not trust records from \d+ on\. .*copy .*warden\.db/);
  const { r, report } = verifyJson(home);
  assert.equal(r.status, BROKEN);
  assert.equal(report.ok, false);
  assert.equal(report.first_broken?.seq, seq, JSON.stringify(report));
  assert.equal(report.records, seq - 1, 'the intact prefix');
}

describe('warden audit verify', () => {
  test('an intact log: exit 0 with the record count and the head', withLog((home, records) => {
    const last = records[records.length - 1]!;
    const r = warden(['audit', 'verify'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, new RegExp(`^audit log intact: ${records.length} records, head ${last.seq}:${last.hash}$`, 'm'));
    const { r: jr, report } = verifyJson(home);
    assert.equal(jr.status, 0);
    assert.deepEqual({ ok: report.ok, records: report.records, head: report.head }, { ok: true, records: 20, head: { seq: last.seq, hash: last.hash } });
  }));

  test('no database yet: 0 records, exit 0, and WARDEN_HOME is not created', () => {
    const home = auditHome('warden-cli-audit-');
    try {
      const r = warden(['audit', 'verify'], { env: home.env });
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, /no audit log yet .*: 0 records/);
      assert.equal(existsSync(home.home), false, 'verify must not create WARDEN_HOME');
      // An anchor says records were written: a missing database is then a broken log.
      const anchored = warden(['audit', 'verify', '--anchor', `3:${'a'.repeat(64)}`], { env: home.env });
      assert.equal(anchored.status, BROKEN, show(anchored));
      assert.match(anchored.stdout, /does not exist, but the anchor says record 3 was written/);
    } finally {
      home.cleanup();
    }
  });

  test('a payload edited in the database: exit 1 naming that record', withLog((home) => {
    tamper(home.home, `UPDATE audit SET payload = '{"verdict":"allow"}' WHERE seq = 7`);
    assertBrokenAt(home, 7, /the hash does not match the record/);
  }));

  test('a deleted record: exit 1 naming the missing seq', withLog((home) => {
    tamper(home.home, 'DELETE FROM audit WHERE seq = 5');
    assertBrokenAt(home, 5, /record 5 is missing/);
  }));

  test("two records' seqs swapped: exit 1 at the first of them", withLog((home) => {
    tamper(home.home, 'UPDATE audit SET seq = 1000 WHERE seq = 3', 'UPDATE audit SET seq = 3 WHERE seq = 4', 'UPDATE audit SET seq = 4 WHERE seq = 1000');
    assertBrokenAt(home, 3, /prev_hash does not match/);
  }));

  test('the tail deleted with the head left alone: exit 1 at the first missing record', withLog((home) => {
    tamper(home.home, 'DELETE FROM audit WHERE seq >= 18');
    assertBrokenAt(home, 18, /truncated/);
  }));

  test('tail truncation with the head moved back is caught by the anchor written outside the database', withLog((home, records) => {
    // What the gateway does as the log grows: the head goes to WARDEN_HOME/audit.anchors.
    withStore(home.home, (store) => startAnchoring(store, home.home, { journal: false }).stop());
    const intact = warden(['audit', 'verify'], { env: home.env });
    assert.equal(intact.status, 0, show(intact));
    assert.match(intact.stdout, new RegExp(`checked against the newest anchor: record ${records.length}, from .*audit\\.anchors`));
    // Delete the last records and move the head back: the shorter chain is consistent in itself.
    const kept = records[14]!;
    tamper(home.home, 'DELETE FROM audit WHERE seq > 15', `UPDATE audit_head SET seq = ${kept.seq}, hash = '${kept.hash}'`);
    withStore(home.home, (store) => assert.equal(verifyAudit(store).ok, true, 'without the anchor, the truncation does not show'));
    const truncated = warden(['audit', 'verify'], { env: home.env });
    assert.equal(truncated.status, BROKEN, show(truncated));
    assert.match(truncated.stdout, new RegExp(`BROKEN at record ${records.length}: record ${records.length} named by the anchor no longer exists`));
  }));

  test('a long anchor file: anchoring reads its end, and adds a line only when the head moved', withLog((home, records) => {
    const file = path.join(home.home, 'audit.anchors');
    const head = records[records.length - 1]!;
    const old = (seq: number) => JSON.stringify({ seq, hash: 'a'.repeat(64), ts: new Date(0).toISOString() });
    // Well over the 4 KiB read, so the read starts in the middle of a line.
    const history = Array.from({ length: 2000 }, (_, i) => old((i % (head.seq - 1)) + 1)).join('\n') + '\n';
    writeFileSync(file, history + JSON.stringify({ seq: head.seq, hash: head.hash, ts: new Date().toISOString() }) + '\n');
    const before = statSync(file).size;
    withStore(home.home, (store) => startAnchoring(store, home.home, { journal: false }).stop());
    assert.equal(statSync(file).size, before, 'the newest anchor, at the end, already names the head');
    writeFileSync(file, history);
    withStore(home.home, (store) => startAnchoring(store, home.home, { journal: false }).stop());
    assert.equal(JSON.parse(lines(readFileSync(file, 'utf8')).at(-1)!).seq, head.seq, 'the head moved past the anchors: one is added');
  }));

  test('--anchor: the recorded head must still hold; a malformed anchor is a usage error', withLog((home, records) => {
    const at = records[9]!;
    assert.equal(warden(['audit', 'verify', '--anchor', `${at.seq}:${at.hash}`], { env: home.env }).status, 0);
    const wrong = warden(['audit', 'verify', '--anchor', `${at.seq}:${records[8]!.hash}`], { env: home.env });
    assert.equal(wrong.status, BROKEN, show(wrong));
    assert.match(wrong.stdout, new RegExp(`BROKEN at record ${at.seq}:`));
    for (const bad of ['10', `x:${at.hash}`, `10:${at.hash.slice(1)}`, `10:${at.hash.toUpperCase()}`]) {
      const r = warden(['audit', 'verify', '--anchor', bad], { env: home.env });
      assert.equal(r.status, USAGE, `${bad}: ${show(r)}`);
      assert.match(r.stderr, /expected SEQ:HASH/);
    }
  }));
});

const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

describe('warden audit export', () => {
  test('jsonl: one canonical line per record, each verifiable without warden', withLog((home, records) => {
    const r = warden(['audit', 'export', '--format', 'jsonl'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    const out = lines(r.stdout);
    assert.equal(out.length, records.length);
    let prev = '0'.repeat(64);
    out.forEach((line, i) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(canonicalJson(parsed), line, 'each line is canonical JSON');
      const { hash, ...rest } = parsed;
      assert.equal(sha256(canonicalJson(rest)), hash, `record ${i + 1} hashes to its hash`);
      assert.equal(parsed.prev_hash, prev);
      prev = hash as string;
      assert.equal(parsed.seq, records[i]!.seq);
      assert.deepEqual(parsed.payload, records[i]!.payload);
    });
  }));

  test('ocsf: one event per record, mapped by kind, the original record under unmapped.warden', withLog((home, records) => {
    const r = warden(['audit', 'export', '--format', 'ocsf'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    const events = lines(r.stdout).map((l) => JSON.parse(l) as { class_uid: number; metadata: { sequence: number; uid: string }; unmapped: { warden: { kind: string; hash: string } } });
    assert.equal(events.length, records.length);
    events.forEach((event, i) => {
      const record = records[i]!;
      assert.equal(event.metadata.sequence, record.seq);
      assert.equal(event.unmapped.warden.hash, record.hash);
      const method = (record.payload as { method?: string }).method;
      const expected = record.kind === 'egress.verdict' ? (method ? 4002 : 4001) : 3004;
      assert.equal(event.class_uid, expected, `${record.kind} seq ${record.seq}`);
    });
  }));

  test('--sandbox and --since filter the records', withLog((home, records) => {
    const dev = warden(['audit', 'export', '--sandbox', 'dev'], { env: home.env });
    const devSeqs = lines(dev.stdout).map((l) => (JSON.parse(l) as { seq: number; sandbox: string }));
    assert.deepEqual(devSeqs.map((d) => d.seq), records.filter((x) => x.sandbox === 'dev').map((x) => x.seq));
    assert.ok(devSeqs.length > 0 && devSeqs.length < records.length);
    const since = warden(['audit', 'export', '--since', '15', '--sandbox', 'ci', '--format', 'ocsf'], { env: home.env });
    assert.deepEqual(lines(since.stdout).map((l) => (JSON.parse(l) as { metadata: { sequence: number } }).metadata.sequence),
      records.filter((x) => x.seq > 15 && x.sandbox === 'ci').map((x) => x.seq));
    // A name with no records is a mistake, not an empty export (issue 11).
    const none = warden(['audit', 'export', '--sandbox', 'nobody'], { env: home.env });
    assert.equal(none.status, 1);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no sandbox named nobody has records in this audit log/);
  }));

  test('--output writes the same export to a 0600 file, replacing it whole, and reports the count', withLog((home, records) => {
    const stdout = warden(['audit', 'export'], { env: home.env }).stdout;
    const file = path.join(path.dirname(home.home), 'out.jsonl');
    writeFileSync(file, 'old content that must disappear\n');
    const r = warden(['audit', 'export', '--output', file], { env: home.env });
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`exported ${records.length} records \\(jsonl\\) to ${file}`));
    assert.equal(readFileSync(file, 'utf8'), stdout);
    assert.deepEqual(readdirSync(path.dirname(file)).filter((f) => f.includes('.tmp')), [], 'no temporary file left behind');
    const fresh = path.join(path.dirname(home.home), 'fresh.jsonl');
    assert.equal(warden(['audit', 'export', '-o', fresh], { env: home.env }).status, 0);
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const missingDir = warden(['audit', 'export', '-o', path.join(home.home, 'no', 'such', 'dir', 'x')], { env: home.env });
    assert.equal(missingDir.status, 1, show(missingDir));
    assert.match(missingDir.stderr, /cannot write/);
  }));

  test('a bad format or --since is a usage error naming what is valid', withLog((home) => {
    const format = warden(['audit', 'export', '--format', 'xml'], { env: home.env });
    assert.equal(format.status, USAGE, show(format));
    assert.match(format.stderr, /'xml' is invalid\. Allowed choices are jsonl, ocsf/);
    assert.equal(format.stdout, '');
    for (const since of ['-1', 'abc', '1.5']) {
      const r = warden(['audit', 'export', '--since', since], { env: home.env });
      assert.equal(r.status, USAGE, `${since}: ${show(r)}`);
      assert.match(r.stderr, /expected a record number/);
    }
  }));

  test('an edited payload is exported as stored (export does not verify; verify does)', withLog((home) => {
    tamper(home.home, `UPDATE audit SET payload = '{"verdict":"allow"}' WHERE seq = 7`);
    const r = warden(['audit', 'export', '--since', '6', '--format', 'jsonl'], { env: home.env });
    assert.equal(r.status, 0, show(r));
    const line = JSON.parse(lines(r.stdout)[0]!) as Record<string, unknown>;
    const { hash, ...rest } = line;
    assert.notEqual(sha256(canonicalJson(rest)), hash, 'the exported line exposes the mismatch');
  }));
});

test('the CLI offers exactly the export formats the audit component has', async () => {
  const { EXPORT_FORMATS } = await import('../../src/cli/audit-commands.js');
  const { AUDIT_EXPORT_FORMATS } = await import('../../src/audit/index.js');
  assert.deepEqual([...EXPORT_FORMATS].sort(), [...AUDIT_EXPORT_FORMATS].sort());
});
