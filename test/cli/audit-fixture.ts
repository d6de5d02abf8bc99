// A WARDEN_HOME with a known audit log, written through the real store and audit code, and a way
// to tamper with it the way someone with write access to the file would.
import Database from 'better-sqlite3';
import path from 'node:path';
import { appendMany, type AuditEntry, type AuditRecord } from '../../src/audit/index.js';
import { DATABASE_FILE, openStore, type Store } from '../../src/store/index.js';
import { tempDir } from '../e2e/helpers.js';

export interface AuditHome {
  /** The WARDEN_HOME directory. */
  home: string;
  env: NodeJS.ProcessEnv;
  cleanup: () => void;
}

export function auditHome(prefix: string): AuditHome {
  const parent = tempDir(prefix);
  const home = path.join(parent.dir, 'home');
  return { home, env: { WARDEN_HOME: home }, cleanup: parent.cleanup };
}

export function withStore<T>(home: string, fn: (store: Store) => T): T {
  const store = openStore(home);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function append(home: string, entries: AuditEntry[]): AuditRecord[] {
  return withStore(home, (store) => appendMany(store, entries));
}

export const egress = (sandbox: string, verdict: 'allow' | 'deny', host: string, extra: Record<string, unknown> = {}): AuditEntry => ({
  kind: 'egress.verdict', sandbox, actor: 'proxy',
  payload: {
    ts: '2025-01-01T00:00:00.000Z', sandbox, kind: 'egress', verdict, code: verdict === 'allow' ? 'allowed' : 'no_endpoint',
    layer: 'connect', binary: { path: '/usr/bin/curl', pid: 4242, ancestors: ['/bin/sh'] },
    destination: { host, port: 443 }, reason: verdict === 'allow' ? 'allowed' : `no network policy allows ${host}:443`,
    latency_ms: 2, ...extra,
  },
});

/** A mixed log of 20 records over sandboxes dev and ci. */
export function mixedLog(): AuditEntry[] {
  const entries: AuditEntry[] = [
    { kind: 'sandbox.created', sandbox: 'dev', actor: 'cli uid=1000', payload: { workdir: '/w/dev' } },
    { kind: 'sandbox.created', sandbox: 'ci', actor: 'cli uid=1000', payload: { workdir: '/w/ci' } },
  ];
  for (let i = 0; i < 16; i++) entries.push(egress(i % 2 ? 'dev' : 'ci', i % 3 ? 'allow' : 'deny', `h${i}.example`, i % 4 === 0 ? { method: 'GET', path: `/p${i}`, layer: 'l7' } : {}));
  entries.push({ kind: 'policy.revision', sandbox: 'dev', actor: 'operator alice', payload: { rev: 2, author: 'alice', reason: 'add pypi', diff: { added: ['pypi'] } } });
  entries.push({ kind: 'sandbox.stopped', sandbox: 'ci', actor: 'gateway', payload: {} });
  return entries;
}

/** Runs SQL on the database through an unrelated connection, dropping the append-only triggers first. */
export function tamper(home: string, ...statements: string[]): void {
  const file = path.join(home, DATABASE_FILE);
  const db = new Database(file);
  try {
    db.exec(`DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;
      DROP TRIGGER IF EXISTS audit_head_no_delete; DROP TRIGGER IF EXISTS audit_head_forward_only;`);
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
}

export function lines(output: string): string[] {
  return output.split('\n').filter((l) => l !== '');
}
