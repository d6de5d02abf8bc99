import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  openStore,
  WARDEN_HOME_MODE,
  wardenHome,
  DATABASE_FILE,
  SCHEMA_VERSION,
  StoreBusyError,
  StoreConflictError,
  StoreInputError,
  StoreSetupError,
  StoreVersionError,
  isValidSandboxName,
} from '../../src/store/index.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { tempHome } from './helpers.js';

const policy = { version: 1, network_policies: {} };

function rawCount(file: string, sql: string, ...params: unknown[]): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get(...params) as number;
  } finally {
    db.close();
  }
}

describe('wardenHome', () => {
  test('WARDEN_HOME wins, else ~/.warden', () => {
    assert.equal(wardenHome({ WARDEN_HOME: '/srv/w' }), '/srv/w');
    assert.match(wardenHome({ HOME: '/nonexistent' }), /\.warden$/);
    assert.match(wardenHome({ WARDEN_HOME: '' }), /\.warden$/);
  });
});

describe('openStore: files and settings', () => {
  test('creates WARDEN_HOME 0711 (traverse only) and warden.db 0600 with WAL, FULL sync, foreign keys and a busy timeout', () => {
    const home = tempHome();
    const store = openStore(home);
    try {
      assert.equal(fs.statSync(home).mode & 0o777, WARDEN_HOME_MODE);
      assert.equal(fs.statSync(path.join(home, DATABASE_FILE)).mode & 0o777, 0o600);
      const health = store.health();
      assert.equal(health.journalMode, 'wal');
      assert.equal(health.synchronous, 2, 'synchronous=FULL');
      assert.equal(health.foreignKeys, true);
      assert.equal(health.busyTimeoutMs, 5000);
      assert.equal(health.quickCheck, 'ok');
      assert.equal(health.schemaVersion, SCHEMA_VERSION);
      // The WAL side files inherit the database's mode.
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
      for (const side of ['-wal', '-shm']) {
        assert.equal(fs.statSync(path.join(home, DATABASE_FILE + side)).mode & 0o077, 0, side);
      }
    } finally {
      store.close();
    }
  });

  test('tightens a loose WARDEN_HOME and a loose database file of ours', () => {
    const home = tempHome();
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755);
    fs.writeFileSync(path.join(home, DATABASE_FILE), '', { mode: 0o644 });
    fs.chmodSync(path.join(home, DATABASE_FILE), 0o644);
    openStore(home).close();
    // Read bits go; search bits stay (sandboxes traverse to their workdirs below WARDEN_HOME).
    assert.equal(fs.statSync(home).mode & 0o777, 0o711);
    assert.equal(fs.statSync(path.join(home, DATABASE_FILE)).mode & 0o777, 0o600);
  });

  test('refuses a WARDEN_HOME that is a file, and a database that is a symlink', () => {
    const home = tempHome();
    fs.writeFileSync(home, 'not a directory');
    assert.throws(() => openStore(home), StoreSetupError);

    const other = tempHome();
    fs.mkdirSync(other, { mode: 0o700 });
    const elsewhere = path.join(path.dirname(other), 'elsewhere.db');
    fs.writeFileSync(elsewhere, '');
    fs.symlinkSync(elsewhere, path.join(other, DATABASE_FILE));
    assert.throws(() => openStore(other), (e: Error) => e instanceof StoreSetupError && /symbolic link/.test(e.message));
    assert.equal(fs.statSync(elsewhere).size, 0, 'the symlink target was not touched');
  });

  test('refuses a WARDEN_HOME owned by another user', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, () => {
    const home = tempHome();
    fs.mkdirSync(home, { mode: 0o700 });
    fs.chownSync(home, 65534, 65534);
    assert.throws(() => openStore(home), (e: Error) => e instanceof StoreSetupError && /belongs to uid 65534/.test(e.message));
    assert.equal(fs.existsSync(path.join(home, DATABASE_FILE)), false);
  });
});

describe('migrations', () => {
  test('a fresh store runs every migration once; re-opening runs none', () => {
    const home = tempHome();
    openStore(home).close();
    const file = path.join(home, DATABASE_FILE);
    const first = new Database(file, { readonly: true });
    const applied = first.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all() as { version: number; applied_at: string }[];
    first.close();
    assert.deepEqual(applied.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));

    const again = openStore(home);
    assert.equal(again.schemaVersion, MIGRATIONS.length);
    again.close();
    const second = new Database(file, { readonly: true });
    const after = second.prepare('SELECT version, applied_at FROM schema_migrations ORDER BY version').all();
    second.close();
    assert.deepEqual(after, applied, 'nothing re-applied');
  });

  test('a database from a newer warden is refused, with a clear message, and left unchanged', () => {
    const home = tempHome();
    const store = openStore(home);
    store.sandboxes.create({ name: 'keep', workdir: '/w', policy, author: 't' });
    store.close();
    const file = path.join(home, DATABASE_FILE);
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(SCHEMA_VERSION + 1, 'future');
    raw.close();

    assert.throws(() => openStore(home), (e: Error) => {
      assert.ok(e instanceof StoreVersionError);
      assert.match(e.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
      assert.match(e.message, new RegExp(`up to ${SCHEMA_VERSION}`));
      assert.match(e.message, /upgrade warden/);
      return true;
    });
    assert.equal(rawCount(file, 'SELECT MAX(version) FROM schema_migrations'), SCHEMA_VERSION + 1);
    assert.equal(rawCount(file, "SELECT COUNT(*) FROM sandboxes WHERE name = 'keep'"), 1);
  });

  test('a failing migration leaves no trace, and earlier ones stay applied', () => {
    const home = tempHome();
    fs.mkdirSync(home);
    const file = path.join(home, 'm.db');
    const db = new Database(file);
    try {
      migrate(db, file, ['CREATE TABLE one (a INTEGER)']);
      assert.throws(() => migrate(db, file, ['CREATE TABLE one (a INTEGER)', 'CREATE TABLE two (b INTEGER); INSERT INTO missing VALUES (1)']), /no such table: missing/);
      assert.equal(db.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get(), 1);
      assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'two'").pluck().get(), 0);
      assert.equal(migrate(db, file, ['CREATE TABLE one (a INTEGER)', 'CREATE TABLE two (b INTEGER)']), 2);
      assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'two'").pluck().get(), 1);
    } finally {
      db.close();
    }
  });
});

describe('sandboxes and policy revisions', () => {
  test('create stores the sandbox with revision 1; get and list read it back', () => {
    const store = openStore(tempHome());
    try {
      const created = store.sandboxes.create({
        name: 'dev', workdir: '/home/u/code', env: { LANG: 'C.UTF-8' }, command: ['claude', '--x'], presets: ['npm'],
        policy, author: 'cli uid=0', reason: 'first',
      });
      assert.equal(created.state, 'creating');
      assert.equal(created.policyRev, 1);
      assert.deepEqual(created.env, { LANG: 'C.UTF-8' });
      assert.deepEqual(created.command, ['claude', '--x']);
      assert.deepEqual(store.sandboxes.get('dev'), created);
      assert.equal(store.sandboxes.get('nope'), undefined);
      const rev = store.policies.current('dev');
      assert.equal(rev?.rev, 1);
      assert.deepEqual(rev?.policy, policy);
      assert.equal(rev?.reason, 'first');
      assert.equal(rev?.diff, null);
      store.sandboxes.create({ name: 'alpha', workdir: '/a', policy, author: 't' });
      assert.deepEqual(store.sandboxes.list().map((s) => s.name), ['alpha', 'dev']);
    } finally {
      store.close();
    }
  });

  test('a taken name, a bad name, a bad state or bad JSON shapes are refused and write nothing', () => {
    const store = openStore(tempHome());
    try {
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
      assert.throws(() => store.sandboxes.create({ name: 'dev', workdir: '/other', policy, author: 't' }), StoreConflictError);
      assert.equal(store.sandboxes.get('dev')?.workdir, '/w');
      for (const name of ['', '..', '.hidden', 'a/b', 'a b', '-x', 'x'.repeat(64), 'é']) {
        assert.equal(isValidSandboxName(name), false, name);
        assert.throws(() => store.sandboxes.create({ name, workdir: '/w', policy, author: 't' }), StoreInputError, name);
      }
      for (const name of ['a', 'dev-1', 'My_box.2', 'x'.repeat(63)]) assert.equal(isValidSandboxName(name), true, name);
      assert.throws(() => store.sandboxes.create({ name: 'e1', workdir: '/w', env: { A: 1 as unknown as string }, policy, author: 't' }), StoreInputError);
      assert.throws(() => store.sandboxes.create({ name: 'e2', workdir: '/w', command: 'ls' as unknown as string[], policy, author: 't' }), StoreInputError);
      assert.throws(() => store.sandboxes.setState('dev', 'exploded' as 'running'), StoreInputError);
      assert.throws(() => store.sandboxes.setState('ghost', 'running'), StoreConflictError);
      assert.deepEqual(store.sandboxes.list().map((s) => s.name), ['dev']);
    } finally {
      store.close();
    }
  });

  test('revisions count up, are never reused, and honour expectedRev', () => {
    const store = openStore(tempHome());
    try {
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
      const two = store.policies.add('dev', { policy: { v: 2 }, author: 'op', reason: 'add pypi', diff: { added: ['pypi'] }, expectedRev: 1 });
      assert.equal(two.rev, 2);
      assert.deepEqual(two.diff, { added: ['pypi'] });
      assert.equal(store.sandboxes.get('dev')?.policyRev, 2);
      assert.throws(() => store.policies.add('dev', { policy: { v: 3 }, author: 'op', expectedRev: 1 }), (e: Error) => e instanceof StoreConflictError && /now revision 2/.test(e.message));
      assert.equal(store.policies.add('dev', { policy: { v: 3 }, author: 'op' }).rev, 3);
      assert.deepEqual(store.policies.list('dev').map((r) => r.rev), [1, 2, 3]);
      assert.deepEqual(store.policies.get('dev', 2)?.policy, { v: 2 });
      assert.equal(store.policies.get('dev', 9), undefined);
      assert.throws(() => store.policies.add('ghost', { policy, author: 'op' }), StoreConflictError);
    } finally {
      store.close();
    }
  });

  test('setState moves the state; delete cascades to the revisions (foreign keys are on)', () => {
    const home = tempHome();
    const store = openStore(home);
    try {
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
      store.policies.add('dev', { policy, author: 't' });
      assert.equal(store.sandboxes.setState('dev', 'running').state, 'running');
      assert.equal(store.sandboxes.get('dev')?.state, 'running');
      assert.equal(store.sandboxes.delete('dev'), true);
      assert.equal(store.sandboxes.delete('dev'), false);
      assert.equal(rawCount(store.file, "SELECT COUNT(*) FROM policy_revisions WHERE sandbox = 'dev'"), 0);
      // A recreated sandbox starts its history again at revision 1.
      assert.equal(store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' }).policyRev, 1);
    } finally {
      store.close();
    }
  });

  test('the database itself refuses a sandbox pointing at a revision that does not exist', () => {
    const home = tempHome();
    const store = openStore(home);
    store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
    store.close();
    const raw = new Database(path.join(home, DATABASE_FILE));
    raw.pragma('foreign_keys = ON');
    try {
      assert.throws(() => raw.prepare("UPDATE sandboxes SET policy_rev = 7 WHERE name = 'dev'").run(), /FOREIGN KEY/);
      assert.throws(() => raw.prepare("INSERT INTO sandboxes VALUES ('x', 'weird', 'a', 'a', 1, '/w', '{}', '[]', '[]', 'deny')").run(), /CHECK/);
    } finally {
      raw.close();
    }
  });

  test('transaction commits all or nothing, and nests', () => {
    const store = openStore(tempHome());
    try {
      assert.throws(() => store.transaction(() => {
        store.sandboxes.create({ name: 'a', workdir: '/w', policy, author: 't' });
        store.sandboxes.create({ name: 'b', workdir: '/w', policy, author: 't' });
        throw new Error('abort');
      }), /abort/);
      assert.deepEqual(store.sandboxes.list(), []);
      store.transaction(() => {
        store.sandboxes.create({ name: 'a', workdir: '/w', policy, author: 't' });
        assert.throws(() => store.transaction(() => {
          store.sandboxes.create({ name: 'b', workdir: '/w', policy, author: 't' });
          throw new Error('inner');
        }), /inner/);
      });
      assert.deepEqual(store.sandboxes.list().map((s) => s.name), ['a']);
    } finally {
      store.close();
    }
  });
});

describe('several processes', () => {
  test('processes opening a fresh store at the same instant all succeed and migrate it once', async () => {
    const child = new URL('./fixtures/open-child.js', import.meta.url).pathname;
    for (let round = 0; round < 8; round++) {
      const home = tempHome('open-race');
      // Every child starts, says it is ready, and waits for this file: they then open the store
      // together, whatever time each took to start.
      const go = path.join(path.dirname(home), 'go');
      const children = Array.from({ length: 5 }, (_, i) => {
        const proc = spawn(process.execPath, [child, home, go, `c${i}`], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
        const result = new Promise<string>((resolve) => proc.on('exit', (code) => resolve(code === 0 ? 'ok' : `exit ${code}: ${stderr}`)));
        const ready = new Promise<void>((resolve, reject) => {
          proc.stdout.once('data', () => resolve());
          void result.then((r) => reject(new Error(`c${i} ended before it was ready: ${r}`)));
        });
        return { proc, result, ready };
      });
      try {
        await Promise.all(children.map((c) => c.ready));
        fs.writeFileSync(go, '');
        assert.deepEqual(await Promise.all(children.map((c) => c.result)), Array(5).fill('ok'));
      } finally {
        for (const { proc } of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
      const file = path.join(home, DATABASE_FILE);
      assert.equal(rawCount(file, 'SELECT COUNT(*) FROM schema_migrations'), SCHEMA_VERSION);
      assert.equal(rawCount(file, 'SELECT COUNT(*) FROM sandboxes'), 5);
    }
  });
});

/**
 * Resolves once another process holds the lock, for `holdMs` or until `release()` is called.
 * `released` resolves when it has let go; `releasing` tells whether it has begun to.
 */
async function holdWriteLock(file: string, hold: number | 'until-told'): Promise<{ released: Promise<void>; release: () => void; releasing: () => boolean }> {
  const proc = spawn(process.execPath, [new URL('./fixtures/lock-child.js', import.meta.url).pathname, file, String(hold)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', () => resolve());
    proc.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return { released: done, release: () => proc.stdin.end(), releasing: () => fs.existsSync(`${file}.releasing`) };
}

describe('a write lock held by another process', () => {
  test('a write waits for it (busy timeout) and then succeeds', async () => {
    const store = openStore(tempHome());
    try {
      // The write below is synchronous (it blocks this event loop), so only time can end the hold:
      // that 1 s hold is what this test is about, and well within the 5 s busy timeout.
      const { released, releasing } = await holdWriteLock(store.file, 1000);
      assert.equal(releasing(), false, 'the lock is still held when the write starts');
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
      assert.equal(releasing(), true, 'the write went through once the holder had let go, not before');
      await released;
      assert.equal(store.sandboxes.get('dev')?.name, 'dev');
    } finally {
      store.close();
    }
  });

  test('a write that waits longer than the busy timeout fails with StoreBusyError and writes nothing', async () => {
    const store = openStore(tempHome(), { busyTimeoutMs: 100 });
    try {
      const { released, release } = await holdWriteLock(store.file, 'until-told');
      try {
        assert.throws(() => store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' }), (e: Error) => e instanceof StoreBusyError && /locked by another process/.test(e.message));
      } finally {
        release();
      }
      await released;
      assert.equal(store.sandboxes.get('dev'), undefined);
      store.sandboxes.create({ name: 'dev', workdir: '/w', policy, author: 't' });
    } finally {
      store.close();
    }
  });
});

describe('opening a store whose schema is current', () => {
  test('takes no write lock: it opens while another process holds one', async () => {
    const home = tempHome();
    openStore(home).close();
    const file = path.join(home, DATABASE_FILE);
    const { released, release } = await holdWriteLock(file, 'until-told');
    try {
      const store = openStore(home, { busyTimeoutMs: 50 });
      assert.equal(store.schemaVersion, SCHEMA_VERSION);
      store.close();
    } finally {
      release();
    }
    await released;
  });
});

describe('durability', () => {
  test('what a process committed survives it being SIGKILLed without closing the store', async () => {
    const home = tempHome();
    const child = spawn(process.execPath, [new URL('./fixtures/commit-child.js', import.meta.url).pathname, home, 'dev'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('committed')) resolve(); });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.ok(fs.existsSync(path.join(home, `${DATABASE_FILE}-wal`)), 'killed with the WAL still there');
    const store = openStore(home);
    try {
      assert.equal(store.sandboxes.get('dev')?.policyRev, 2);
      assert.deepEqual(store.policies.get('dev', 2)?.diff, { added: ['pypi'] });
      assert.equal(store.health().quickCheck, 'ok');
    } finally {
      store.close();
    }
  });
});
