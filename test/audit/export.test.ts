import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { appendAudit, appendMany, exportAudit, toOcsf, type AuditRecord } from '../../src/audit/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempHome } from '../store/helpers.js';

function populated(): Store {
  const store = openStore(tempHome('export'));
  appendAudit(store, { kind: 'sandbox.created', sandbox: 'dev', actor: 'cli uid=1000', payload: { workdir: '/w', reason: 'new project' } });
  appendMany(store, [
    { kind: 'egress.verdict', sandbox: 'dev', actor: 'proxy', payload: { verdict: 'allow', layer: 'connect', destination: { host: 'pypi.org', port: 443, ip: '151.101.0.223' }, reason: 'allowed by pypi' } },
    { kind: 'egress.verdict', sandbox: 'ci', actor: 'proxy', payload: { verdict: 'deny', layer: 'l7', method: 'post', path: '/upload?x=1', destination: { host: 'api.github.com', port: 443 }, reason: 'no rule allows POST' } },
    { kind: 'policy.revision', sandbox: 'dev', actor: 'operator', payload: { rev: 2, reason: 'allow pypi', diff: { added: ['pypi'] } } },
    { kind: 'sandbox.stopped', sandbox: 'dev', actor: 'cli uid=1000' },
    { kind: 'breaker.tripped', actor: 'gateway', payload: { pair: ['a', 'b'] } },
  ]);
  return store;
}

async function collect(store: Store, format: 'jsonl' | 'ocsf', options = {}): Promise<string[]> {
  const lines: string[] = [];
  const count = await exportAudit(store, format, async (line) => { lines.push(line); }, options);
  assert.equal(count, lines.length);
  return lines;
}

/** A verifier written only from docs/audit.md: sort keys, no whitespace, SHA-256, hex. */
function independentCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(independentCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${independentCanonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('JSONL export', () => {
  test('one canonical line per record, oldest first, verifiable without warden', async () => {
    const store = populated();
    try {
      const lines = await collect(store, 'jsonl', { pageSize: 2 });
      assert.equal(lines.length, 6);
      let prev = '0'.repeat(64);
      lines.forEach((line, i) => {
        assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
        const record = JSON.parse(line) as Record<string, unknown>;
        assert.equal(record.seq, i + 1);
        assert.equal(independentCanonical(record) + '\n', line, 'the line is canonical JSON');
        const { hash, ...rest } = record;
        assert.equal(rest.prev_hash, prev);
        assert.equal(createHash('sha256').update(independentCanonical(rest)).digest('hex'), hash);
        prev = hash as string;
      });
    } finally {
      store.close();
    }
  });

  test('afterSeq and sandbox filters; records appended during the export are left for the next one', async () => {
    const store = populated();
    try {
      assert.deepEqual((await collect(store, 'jsonl', { afterSeq: 4 })).map((l) => JSON.parse(l).seq), [5, 6]);
      assert.deepEqual((await collect(store, 'jsonl', { sandbox: 'dev' })).map((l) => JSON.parse(l).seq), [1, 2, 4, 5]);
      const seen: number[] = [];
      await exportAudit(store, 'jsonl', (line) => {
        seen.push(JSON.parse(line).seq);
        if (seen.length === 1) appendAudit(store, { kind: 'test.during' });
      }, { pageSize: 1 });
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
      await assert.rejects(exportAudit(store, 'csv' as 'jsonl', () => {}), /unknown audit export format/);
    } finally {
      store.close();
    }
  });
});

describe('OCSF export', () => {
  test('maps each kind to its class and activity, and keeps the whole record', async () => {
    const store = populated();
    try {
      // Nested OCSF objects are read by path below; a loose type keeps the assertions readable.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      type Event = Record<string, any>;
      const events = (await collect(store, 'ocsf')).map((l) => JSON.parse(l) as Event);
      const [created, allowed, denied, revision, stopped, other] = events as [Event, Event, Event, Event, Event, Event];
      for (const event of events) {
        assert.equal(event.type_uid, event.class_uid * 100 + event.activity_id);
        assert.equal(event.metadata.version, '1.3.0');
        assert.equal(event.metadata.product.name, 'warden');
        assert.equal(event.metadata.uid, event.unmapped.warden.hash);
        assert.equal(event.time, Date.parse(event.unmapped.warden.ts));
      }
      assert.deepEqual([created.class_uid, created.category_uid, created.activity_id], [3004, 3, 1]);
      assert.deepEqual(created.entity, { type: 'sandbox', name: 'dev' });
      assert.equal(created.comment, 'new project');
      assert.deepEqual(created.actor, { user: { name: 'cli uid=1000' } });

      assert.deepEqual([allowed.class_uid, allowed.activity_id, allowed.activity_name], [4001, 1, 'Open']);
      assert.deepEqual([allowed.action_id, allowed.disposition_id, allowed.status_id], [1, 1, 1]);
      assert.deepEqual(allowed.dst_endpoint, { hostname: 'pypi.org', port: 443, ip: '151.101.0.223' });
      assert.deepEqual(allowed.src_endpoint, { name: 'dev' });

      assert.deepEqual([denied.class_uid, denied.activity_id, denied.activity_name], [4002, 6, 'Post']);
      assert.deepEqual([denied.action_id, denied.action, denied.disposition_id, denied.status_id], [2, 'Denied', 2, 2]);
      assert.deepEqual(denied.http_request, { http_method: 'POST', url: { hostname: 'api.github.com', port: 443, path: '/upload', query_string: 'x=1' } });
      assert.equal(denied.message, 'no rule allows POST');

      assert.deepEqual([revision.class_uid, revision.activity_id], [3004, 3]);
      assert.deepEqual(revision.entity, { type: 'policy', name: 'dev', version: '2' });
      assert.deepEqual(revision.unmapped.warden.payload.diff, { added: ['pypi'] });

      assert.deepEqual([stopped.class_uid, stopped.activity_id, stopped.activity_name], [3004, 99, 'Stopped']);
      assert.deepEqual([other.class_uid, other.category_uid, other.activity_id], [0, 0, 99]);
      assert.deepEqual(other.unmapped.warden.payload, { pair: ['a', 'b'] });
    } finally {
      store.close();
    }
  });

  test('a connection-level denial is a Refuse; an unknown method is Other', () => {
    const record = (payload: unknown): AuditRecord => ({ seq: 1, ts: '2025-01-01T00:00:00.000Z', kind: 'egress.verdict', sandbox: null, actor: null, payload, prevHash: '0', hash: '1' });
    const refused = toOcsf(record({ verdict: 'deny', destination: { host: '169.254.169.254', port: 80 } }));
    assert.deepEqual([refused.class_uid, refused.activity_id, refused.action_id], [4001, 5, 2]);
    assert.equal(refused.src_endpoint, undefined);
    const odd = toOcsf(record({ verdict: 'allow', method: 'PROPFIND', path: '/' }));
    assert.deepEqual([odd.class_uid, odd.activity_id, odd.activity_name], [4002, 99, 'Other']);
  });
});
