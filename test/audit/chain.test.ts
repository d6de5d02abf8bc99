import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  appendAudit,
  appendMany,
  AuditEntryError,
  canonicalJson,
  CanonicalJsonError,
  createAuditWriter,
  GENESIS_HASH,
  hashInput,
  MAX_PAYLOAD_BYTES,
  verifyAudit,
} from '../../src/audit/index.js';
import { AUDIT_GENESIS_HASH, openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../store/helpers.js';
import Database from 'better-sqlite3';

function withStore(fn: (store: Store) => void | Promise<void>) {
  return async () => {
    const store = openStore(tempHome('audit'));
    try {
      await fn(store);
    } finally {
      store.close();
    }
  };
}

describe('canonical JSON', () => {
  test('sorts keys by UTF-16 code units at every depth, with no whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ z: true, y: null }], A: 'x' }), '{"A":"x","a":[{"y":null,"z":true}],"b":1}');
    // U+00E9 (é) sorts before U+1F600 (an emoji, surrogate pair D83D...) and after 'z'.
    assert.equal(canonicalJson({ '😀': 1, é: 2, z: 3 }), '{"z":3,"é":2,"😀":1}');
    assert.equal(canonicalJson({ '\ufb01': 1, '\ud83d\ude00': 2 }), '{"😀":2,"ﬁ":1}', 'code units, not code points');
  });

  test('numbers and strings as JSON.stringify writes them; undefined members left out', () => {
    assert.equal(canonicalJson([1e21, 0.1, -0, 5, 1.5e-7]), '[1e+21,0.1,0,5,1.5e-7]');
    assert.equal(canonicalJson('line\n"quote"\u2028\ud800'), JSON.stringify('line\n"quote"\u2028\ud800'));
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
    assert.equal(canonicalJson({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}');
  });

  test('parsing and re-serialising canonical JSON is the identity', () => {
    const value = { z: [1, 2, { y: 'ü', x: [] }], a: { c: null, b: false }, n: -12.5e3 };
    const text = canonicalJson(value);
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });

  test('refuses what JSON cannot represent faithfully', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [undefined, NaN, Infinity, 10n, () => 1, Symbol('s'), [undefined], new Map([[1, 2]]), cyclic]) {
      assert.throws(() => canonicalJson(bad), CanonicalJsonError, String(typeof bad));
    }
    // The same object twice (not a cycle) is fine.
    const shared = { k: 1 };
    assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"k":1},"b":{"k":1}}');
  });
});

describe('appending', () => {
  test('records get consecutive seqs, chain from the genesis value and verify', withStore((store) => {
    assert.equal(GENESIS_HASH, AUDIT_GENESIS_HASH);
    assert.deepEqual(verifyAudit(store), { ok: true, records: 0 });
    const first = appendAudit(store, { kind: 'sandbox.created', sandbox: 'dev', actor: 'cli uid=0', payload: { workdir: '/w' } });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, GENESIS_HASH);
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.match(first.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const batch = appendMany(store, [{ kind: 'egress.verdict', payload: { verdict: 'deny' } }, { kind: 'policy.revision', sandbox: 'dev' }]);
    assert.deepEqual(batch.map((r) => r.seq), [2, 3]);
    assert.equal(batch[0]!.prevHash, first.hash);
    assert.equal(batch[1]!.prevHash, batch[0]!.hash);
    assert.equal(batch[0]!.sandbox, null);
    assert.deepEqual(batch[1]!.payload, {});
    assert.deepEqual(store.auditRows.head(), { seq: 3, hash: batch[1]!.hash });
    assert.deepEqual(verifyAudit(store), { ok: true, records: 3 });
  }));

  test('the stored hash is SHA-256 of the documented canonical record', withStore((store) => {
    const record = appendAudit(store, { kind: 'egress.verdict', sandbox: 'dev', actor: 'proxy', payload: { z: 1, a: 'é', n: [true, null] } });
    const row = store.auditRows.page(0, 1)[0]!;
    // Independent of the splicing fast path: build the object and canonicalise it whole.
    const documented = canonicalJson({
      seq: row.seq, ts: row.ts, kind: row.kind, sandbox: row.sandbox, actor: row.actor,
      payload: JSON.parse(row.payload), prev_hash: row.prevHash,
    });
    assert.equal(hashInput(row, row.payload), documented);
    assert.equal(createHash('sha256').update(documented, 'utf8').digest('hex'), record.hash);
    assert.equal(row.payload, '{"a":"é","n":[true,null],"z":1}', 'payload stored canonical');
  }));

  test('a bad entry is refused and nothing of its batch is written', withStore((store) => {
    appendAudit(store, { kind: 'test.ok' });
    const bad = [
      { kind: 'Egress' },
      { kind: 'egress' },
      { kind: 'egress.' },
      { kind: 'x.'.repeat(40) + 'y' },
      { kind: 'test.ok', sandbox: '' },
      { kind: 'test.ok', actor: 'a'.repeat(257) },
      { kind: 'test.ok', payload: { n: NaN } },
      { kind: 'test.ok', actor: 'half \ud800 a pair' },
      { kind: 'test.ok', payload: 'x'.repeat(MAX_PAYLOAD_BYTES) },
    ];
    for (const entry of bad) {
      assert.throws(() => appendMany(store, [{ kind: 'test.fine' }, entry]), AuditEntryError, JSON.stringify(entry).slice(0, 60));
    }
    assert.equal(store.auditRows.count(), 1);
    assert.deepEqual(verifyAudit(store), { ok: true, records: 1 });
  }));

  test('unusual but valid strings survive the round trip through SQLite and verify', withStore((store) => {
    const odd = ['nul\u0000inside', 'emoji 😀 and é', 'quote " backslash \\ newline \n tab \t', '\u2028\u2029'];
    appendMany(store, odd.map((text) => ({ kind: 'test.odd', sandbox: text, actor: text, payload: { text, lone: '\udc00' } })));
    const rows = store.auditRows.page(0, 10);
    assert.deepEqual(rows.map((r) => r.actor), odd);
    assert.deepEqual(rows.map((r) => JSON.parse(r.payload).lone), Array(odd.length).fill('\udc00'));
    assert.deepEqual(verifyAudit(store), { ok: true, records: odd.length });
  }));

  test('inside a store transaction, a change and its record commit or roll back together', withStore((store) => {
    assert.throws(() => store.transaction(() => {
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy: {}, author: 'op' });
      appendAudit(store, { kind: 'sandbox.created', sandbox: 'dev', actor: 'op' });
      throw new Error('later step failed');
    }), /later step failed/);
    assert.equal(store.auditRows.count(), 0);
    assert.deepEqual(store.auditRows.head(), { seq: 0, hash: GENESIS_HASH });
    store.transaction(() => {
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy: {}, author: 'op' });
      appendAudit(store, { kind: 'sandbox.created', sandbox: 'dev', actor: 'op' });
    });
    assert.equal(store.auditRows.count(), 1);
    assert.deepEqual(verifyAudit(store), { ok: true, records: 1 });
  }));
});

describe('the batching writer', () => {
  test('groups appends of one event-loop turn into one transaction and resolves each with its record', withStore(async (store) => {
    const writer = createAuditWriter(store, { maxBatch: 100 });
    const pending = Array.from({ length: 250 }, (_, i) => writer.append({ kind: 'egress.verdict', payload: { i } }));
    assert.equal(writer.pending, 50, 'two full batches were written at once, the rest waits for the next turn');
    const records = await Promise.all(pending);
    assert.deepEqual(records.map((r) => r.seq), Array.from({ length: 250 }, (_, i) => i + 1));
    assert.deepEqual(records.map((r) => (r.payload as { i: number }).i), Array.from({ length: 250 }, (_, i) => i));
    assert.equal(writer.pending, 0);
    assert.deepEqual(verifyAudit(store), { ok: true, records: 250 });
    await writer.close();
  }));

  test('an invalid entry rejects alone; a closed writer refuses', withStore(async (store) => {
    const writer = createAuditWriter(store);
    const good = writer.append({ kind: 'test.good' });
    await assert.rejects(writer.append({ kind: 'BAD' }), AuditEntryError);
    assert.equal((await good).seq, 1);
    const late = writer.append({ kind: 'test.late' });
    await writer.close();
    assert.equal((await late).seq, 2, 'close flushes');
    await assert.rejects(writer.append({ kind: 'test.after' }), /closed/);
    assert.equal(store.auditRows.count(), 2);
  }));

  test('a failed batch rejects every entry in it and writes none', withStore(async (store) => {
    appendAudit(store, { kind: 'test.first' });
    const writer = createAuditWriter(store);
    const a = writer.append({ kind: 'test.a' });
    const b = writer.append({ kind: 'test.b' });
    // Break the head so that the chain refuses to grow (as after a truncation). This must
    // happen in the same event-loop turn as the appends, before the writer flushes its batch.
    const raw = new Database(store.file);
    raw.exec('DROP TRIGGER audit_head_forward_only');
    raw.prepare('UPDATE audit_head SET seq = 5').run();
    raw.close();
    await assert.rejects(a, /does not match the audit head/);
    await assert.rejects(b, /does not match the audit head/);
    assert.equal(store.auditRows.count(), 1);
  }));
});
