import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { IdentityError, descendantPids, identifyTcpPeer, parseNetTable, readParentPid, taintOf } from '../../src/egress/identity.js';
import { waitFor } from '../wait.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, remote: string, inode: number): string => `   0: ${local} ${remote} 01 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1\n`;

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A fake /proc: client pid 100 (parent 50, grandparent 1) holding socket 777. */
function fakeProc(): { root: string; bin: string; parentBin: string; cleanup(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-proc-'));
  const bin = path.join(root, 'client-bin');
  const parentBin = path.join(root, 'parent-bin');
  fs.writeFileSync(bin, 'client executable bytes');
  fs.writeFileSync(parentBin, 'parent executable bytes');
  const proc = (pid: number, stat: string, exe: string | null, fds: Record<string, string> = {}): void => {
    const d = path.join(root, String(pid));
    fs.mkdirSync(path.join(d, 'fd'), { recursive: true });
    fs.writeFileSync(path.join(d, 'stat'), stat);
    fs.writeFileSync(path.join(d, 'cmdline'), `prog${pid}\0--flag\0`);
    if (exe) fs.symlinkSync(exe, path.join(d, 'exe'));
    for (const [fd, target] of Object.entries(fds)) fs.symlinkSync(target, path.join(d, 'fd', fd));
  };
  proc(100, '100 (cli (ent)) S 50 100 100 0 -1', bin, { '0': '/dev/null', '3': 'socket:[777]' });
  proc(50, '50 (par ent) S 1 50 50 0 -1', parentBin, { '3': 'socket:[778]' });
  proc(1, '1 (init) S 0 1 1 0 -1', null);
  proc(200, '200 (other) S 1 200 200 0 -1', bin, { '5': 'socket:[999]' });
  fs.mkdirSync(path.join(root, 'self', 'net'), { recursive: true });
  // client 127.0.0.1:40000 -> proxy 127.0.0.1:8080 (inode 777), and the proxy's own end (778)
  fs.writeFileSync(path.join(root, 'self', 'net', 'tcp'), HEADER + row('0100007F:1F90', '0100007F:9C40', 778) + row('0100007F:9C40', '0100007F:1F90', 777));
  // an IPv6 client ::1 port 40001 -> [::1]:8080 (inode 999), and a v4-mapped one
  fs.writeFileSync(
    path.join(root, 'self', 'net', 'tcp6'),
    HEADER + row('00000000000000000000000001000000:9C41', '00000000000000000000000001000000:1F90', 999),
  );
  fs.mkdirSync(path.join(root, '4242', 'net'), { recursive: true });
  fs.writeFileSync(path.join(root, '4242', 'net', 'tcp'), HEADER);
  return { root, bin, parentBin, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

describe('identity from a /proc tree (fixture)', () => {
  test('parses the kernel connection table format', () => {
    const entries = parseNetTable(HEADER + row('0100007F:9C40', '0100007F:1F90', 777));
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.localPort, 40000);
    assert.equal(entries[0]!.remotePort, 8080);
    assert.deepEqual([...entries[0]!.local.bytes], [127, 0, 0, 1]);
  });

  test('finds the client-side socket, its holder, the exe hash and the ancestors', async () => {
    const fx = fakeProc();
    try {
      const id = await identifyTcpPeer({ procRoot: fx.root, peerAddress: '127.0.0.1', peerPort: 40000, localAddress: '127.0.0.1', localPort: 8080 });
      assert.equal(id.pid, 100);
      assert.equal(id.exe, fx.bin);
      assert.equal(id.exeSha256, sha256(fx.bin));
      assert.deepEqual(id.cmdline, ['prog100', '--flag']);
      assert.deepEqual(id.ancestors.map((a) => [a.pid, a.exe]), [[50, fx.parentBin]]);
      assert.equal(id.ancestors[0]!.exeSha256, sha256(fx.parentBin));
      assert.equal(readParentPid(fx.root, 100), 50);
      // processes at or above the sandbox boundary are not the caller's ancestors for policy
      const bounded = await identifyTcpPeer({ procRoot: fx.root, peerAddress: '127.0.0.1', peerPort: 40000, localAddress: '127.0.0.1', localPort: 8080, ancestorBoundary: 50 });
      assert.deepEqual(bounded.ancestors, []);
      // A named sandbox's supervisor is a boundary beside its init, read when each caller is identified.
      const supervised = await identifyTcpPeer({ procRoot: fx.root, peerAddress: '127.0.0.1', peerPort: 40000, localAddress: '127.0.0.1', localPort: 8080, ancestorBoundary: () => [1, 50] });
      assert.deepEqual(supervised.ancestors, []);
    } finally {
      fx.cleanup();
    }
  });

  test('a v4-mapped peer address matches the IPv4 table entry; IPv6 entries are found too', async () => {
    const fx = fakeProc();
    try {
      const mapped = await identifyTcpPeer({ procRoot: fx.root, peerAddress: '::ffff:127.0.0.1', peerPort: 40000, localAddress: '::ffff:127.0.0.1', localPort: 8080 });
      assert.equal(mapped.pid, 100);
      const v6 = await identifyTcpPeer({ procRoot: fx.root, peerAddress: '::1', peerPort: 40001, localAddress: '::1', localPort: 8080 });
      assert.equal(v6.pid, 200);
    } finally {
      fx.cleanup();
    }
  });

  test('fails closed: unknown connection, no holder among candidates, other namespace table', async () => {
    const fx = fakeProc();
    try {
      const base = { procRoot: fx.root, peerAddress: '127.0.0.1', peerPort: 40000, localAddress: '127.0.0.1', localPort: 8080 };
      await assert.rejects(identifyTcpPeer({ ...base, peerPort: 40002 }), IdentityError);
      await assert.rejects(identifyTcpPeer({ ...base, candidatePids: () => [50, 200] }), /no candidate process holds socket/);
      await assert.rejects(identifyTcpPeer({ ...base, netTablePid: 4242 }), IdentityError);
      // the server's own end of the connection must never be mistaken for the client
      await assert.rejects(identifyTcpPeer({ ...base, peerPort: 8080, localPort: 40000, candidatePids: () => [100] }), IdentityError);
    } finally {
      fx.cleanup();
    }
  });
});

function exeOf(pid: number): string {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

function waitForLine(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
}

describe('identity on this machine (/proc)', () => {
  test('identifies a child process by its real socket', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    // The child stays (its open socket keeps it alive) until it is killed below.
    const child = spawn(process.execPath, ['-e', `const s=require('net').connect(${port},'127.0.0.1',()=>console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const closed = new Promise((resolve) => child.once('close', resolve));
    try {
      await waitForLine(child);
      await waitFor(() => accepted.length > 0, 'the server to accept the connection');
      const s = accepted[0]!;
      const id = await identifyTcpPeer({
        peerAddress: s.remoteAddress!,
        peerPort: s.remotePort!,
        localAddress: s.localAddress!,
        localPort: s.localPort!,
        candidatePids: () => descendantPids(process.pid),
      });
      assert.equal(id.pid, child.pid);
      assert.equal(id.exe, fs.realpathSync(process.execPath));
      assert.equal(id.exeSha256, sha256(process.execPath));
      assert.equal(id.ancestors[0]?.pid, process.pid);
      // reading another namespace's table by pid works the same for our own namespace
      const again = await identifyTcpPeer({ peerAddress: s.remoteAddress!, peerPort: s.remotePort!, localAddress: s.localAddress!, localPort: s.localPort!, netTablePid: process.pid, candidatePids: () => [child.pid!] });
      assert.equal(again.pid, child.pid);
    } finally {
      child.kill('SIGKILL');
      await closed;
      for (const s of accepted) s.destroy();
      server.close();
    }
  });

  test('a socket inherited by a child is reported as shared between the two programs', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    // bash opens the socket as fd 3; sleep inherits it.
    const child = spawn('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; sleep 300 & echo up; wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await waitForLine(child);
      await waitFor(() => accepted.length > 0, 'the server to accept the connection');
      // "up" comes once bash has forked, maybe before the child has exec'd sleep.
      await waitFor(() => descendantPids(child.pid!).some((pid) => exeOf(pid).endsWith('/sleep')), 'bash\'s child to exec sleep');
      const s = accepted[0]!;
      const id = await identifyTcpPeer({ peerAddress: s.remoteAddress!, peerPort: s.remotePort!, localAddress: s.localAddress!, localPort: s.localPort!, candidatePids: () => descendantPids(process.pid) });
      assert.match(id.exe, /sleep$/);
      assert.equal(id.sharedWith?.length, 1);
      assert.match(id.sharedWith![0]!.exe, /bash$/);
    } finally {
      for (const pid of descendantPids(child.pid!).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const s of accepted) s.destroy();
      server.close();
    }
  });
});

describe('planted code (taintOf)', () => {
  function proc(maps: string, environ: string[]): { root: string; cleanup: () => void } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-taint-'));
    fs.mkdirSync(path.join(root, '7'));
    fs.writeFileSync(path.join(root, '7', 'maps'), maps);
    fs.writeFileSync(path.join(root, '7', 'environ'), environ.join('\0') + '\0');
    return { root, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
  }
  const clean = [
    '55d0c0000000-55d0c0010000 r-xp 00000000 08:01 131 /usr/bin/curl',
    '7f0000000000-7f0000100000 r-xp 00000000 08:01 140 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f0000200000-7f0000300000 rwxp 00000000 00:00 0 ',
    '7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]',
    '7f0000400000-7f0000500000 rw-p 00000000 08:01 150 /sandbox/data.bin',
  ].join('\n');
  const writable = ['/sandbox', '/tmp', '/dev/shm'];

  test('system code, JIT memory and data mapped from the workdir are fine', () => {
    const p = proc(clean, ['PATH=/usr/bin', 'LD_LIBRARY_PATH=/usr/lib/extra']);
    try {
      assert.equal(taintOf(p.root, 7, writable), undefined);
    } finally {
      p.cleanup();
    }
  });

  test('code mapped from a writable path, a memfd or a deleted file is not', () => {
    for (const [line, reason] of [
      ['7f0000600000-7f0000700000 r-xp 00000000 08:01 160 /sandbox/evil.so', /runs code from \/sandbox\/evil\.so, which the sandbox can write/],
      ['7f0000600000-7f0000700000 r-xp 00000000 00:01 161 /memfd:x (deleted)', /memory file/],
      ['7f0000600000-7f0000700000 r-xp 00000000 08:01 162 /usr/lib/old.so (deleted)', /deleted file/],
      ['7f0000600000-7f0000700000 r-xp 00000000 00:20 163 /dev/shm/payload', /\/dev\/shm\/payload/],
    ] as const) {
      const p = proc(`${clean}\n${line}`, []);
      try {
        assert.match(taintOf(p.root, 7, writable) ?? '', reason, line);
      } finally {
        p.cleanup();
      }
    }
  });

  test('loader variables naming a writable path (or a relative one) are not, even before anything is mapped', () => {
    for (const [entry, reason] of [
      ['LD_PRELOAD=/tmp/x.so', /LD_PRELOAD naming \/tmp\/x\.so/],
      ['LD_LIBRARY_PATH=/usr/lib:/sandbox/lib', /LD_LIBRARY_PATH naming \/sandbox\/lib/],
      ['LD_AUDIT=audit.so', /LD_AUDIT naming audit\.so/],
      ['LD_PRELOAD=/usr/lib/../../sandbox/x.so', /LD_PRELOAD naming/],
    ] as const) {
      const p = proc(clean, [entry]);
      try {
        assert.match(taintOf(p.root, 7, writable) ?? '', reason, entry);
      } finally {
        p.cleanup();
      }
    }
  });

  test('a process whose memory map cannot be read is not trusted', () => {
    assert.match(taintOf('/nonexistent-proc', 7, writable) ?? '', /cannot be read/);
  });
});
