// Escape attempts against real sandboxes. Every attempt is paired with the same action on
// the host, which must succeed there: otherwise the test would pass for the wrong reason.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  IS_ROOT, PROJECT_OWNER, SKIP_NO_BWRAP, SKIP_NOT_ROOT, WARDEN, inSandbox, onHost, onHostAsProjectOwner, projectDir, tempDir, testEnv, waitFor, warden, writePolicy,
} from './helpers.js';

const PY = '/usr/bin/python3';
const HAS_PY = existsSync(PY);
const SKIP_PY = SKIP_NO_BWRAP || (HAS_PY ? false : 'needs /usr/bin/python3');

function py(code: string): string {
  return `${PY} -c '${code.replace(/'/g, `'"'"'`)}'`;
}

describe('sandbox identity', { skip: SKIP_NO_BWRAP }, () => {
  test('runs as an unprivileged host uid, never root', { skip: SKIP_NOT_ROOT }, () => {
    const r = inSandbox('id -u; grep -E "^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status');
    assert.equal(r.status, 0, r.stderr);
    const [uid] = r.stdout.split('\n');
    assert.notEqual(Number(uid), 0);
    assert.match(r.stdout, /CapEff:\s+0{16}/);
    assert.match(r.stdout, /CapBnd:\s+0{16}/);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    // The host sees the same unprivileged uid for the sandbox's processes.
    assert.notEqual(onHost('id -u').stdout.trim(), uid, 'the host side of this test runs as root, the sandbox must not');
  });

  test('hostname is warden-<name> and the host environment does not leak in', () => {
    const r = inSandbox('hostname; env', ['--name', 'e2e-id', '--env', 'PASSED=yes'], { env: { WARDEN_E2E_CANARY: 'canary-8e1f' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'warden-e2e-id');
    assert.doesNotMatch(r.stdout, /canary-8e1f/);
    assert.match(r.stdout, /^PASSED=yes$/m);
    const control = spawnSync('sh', ['-c', 'env'], { env: { ...process.env, WARDEN_E2E_CANARY: 'canary-8e1f' }, encoding: 'utf8' });
    assert.match(control.stdout, /canary-8e1f/, 'without the sandbox the variable is inherited');
  });
});

describe('host secrets', { skip: SKIP_NO_BWRAP }, () => {
  test('/etc/shadow cannot be read', { skip: SKIP_NOT_ROOT }, () => {
    assert.equal(onHost('head -c1 /etc/shadow >/dev/null').status, 0, 'host root reads it');
    assert.notEqual(inSandbox('head -c1 /etc/shadow').status, 0);
  });

  test('/root and unlisted host directories do not exist inside', () => {
    const secret = tempDir('warden-e2e-secret-', '/var/tmp');
    try {
      chmodSync(secret.dir, 0o755);
      writeFileSync(path.join(secret.dir, 'token'), 'top-secret');
      chmodSync(path.join(secret.dir, 'token'), 0o644);
      assert.equal(onHostAsProjectOwner(`cat ${secret.dir}/token`).stdout, 'top-secret', 'readable outside by the same uid');
      const r = inSandbox(`cat ${secret.dir}/token; ls -d /root /var /home 2>&1`);
      assert.notEqual(r.status, 0);
      assert.doesNotMatch(r.stdout, /top-secret/);
      assert.match(r.stdout, /cannot access '\/root': No such file or directory/);
    } finally {
      secret.cleanup();
    }
  });

  test('a policy binding /home and /var still hides home secrets and WARDEN_HOME', { skip: SKIP_NOT_ROOT }, () => {
    const home = `/home/warden-e2e-${process.pid}`;
    const work = tempDir('warden-e2e-');
    const wardenHome = tempDir('warden-e2e-home-', '/var/tmp');
    try {
      mkdirSync(path.join(home, '.ssh'), { recursive: true });
      chmodSync(home, 0o755);
      chmodSync(path.join(home, '.ssh'), 0o755);
      writeFileSync(path.join(home, '.ssh', 'id_ed25519'), 'PRIVATE-KEY');
      chmodSync(path.join(home, '.ssh', 'id_ed25519'), 0o644);
      chmodSync(wardenHome.dir, 0o755);
      writeFileSync(path.join(wardenHome.dir, 'state'), 'WARDEN-STATE');
      chmodSync(path.join(wardenHome.dir, 'state'), 0o644);
      // Outside, the sandbox uid could read both (permissions alone would not protect them).
      assert.equal(onHostAsProjectOwner(`cat ${home}/.ssh/id_ed25519 ${wardenHome.dir}/state`).stdout, 'PRIVATE-KEYWARDEN-STATE');
      const policy = writePolicy(work.dir, 'version: 1\nfilesystem_policy:\n  read_only: [/usr, /lib, /lib64, /bin, /etc, /home, /var]\n');
      const r = inSandbox(`cat ${home}/.ssh/id_ed25519; cat ${wardenHome.dir}/state; ls /usr/bin/env`,
        ['--policy', policy], { env: { WARDEN_HOME: wardenHome.dir } });
      assert.doesNotMatch(r.stdout, /PRIVATE-KEY|WARDEN-STATE/);
      assert.match(r.stdout, /\/usr\/bin\/env/, 'the bound trees are visible, so the masks did the hiding');
    } finally {
      spawnSync('rm', ['-rf', home]);
      work.cleanup();
      wardenHome.cleanup();
    }
  });
});

describe('writes outside writable paths', { skip: SKIP_NO_BWRAP }, () => {
  test('system paths and the sandbox root are read-only; /sandbox and /tmp are writable', () => {
    const r = inSandbox('for p in /usr/x /etc/x /x /proc/self/root/etc/x; do (echo hi > $p) 2>/dev/null && echo "WROTE $p"; done; ' +
      'echo ok > /sandbox/f && echo ok > /tmp/f && cat /sandbox/f /tmp/f');
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /WROTE/);
    assert.equal(r.stdout, 'ok\nok\n');
  });

  test('symlinks planted in /sandbox do not lead outside', () => {
    const work = projectDir('warden-e2e-');
    const target = tempDir('warden-e2e-target-', '/var/tmp');
    try {
      const victim = path.join(target.dir, 'victim');
      writeFileSync(victim, 'original');
      chmodSync(target.dir, 0o755);
      if (IS_ROOT) chownSync(victim, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      symlinkSync(victim, path.join(work.dir, 'link'));
      assert.equal(onHostAsProjectOwner(`cat ${work.dir}/link`).stdout, 'original', 'outside, the link leads to the file');
      const r = inSandbox('echo pwned > /sandbox/link; ln -s /etc/passwd /sandbox/l2; echo pwned >> /sandbox/l2', ['--workdir', work.dir]);
      assert.notEqual(r.status, 0);
      assert.equal(readFileSync(victim, 'utf8'), 'original');
      assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), /pwned/);
    } finally {
      work.cleanup();
      target.cleanup();
    }
  });

  test('hard links from read-only mounts into /sandbox are refused', () => {
    const work = projectDir('warden-e2e-');
    try {
      const r = inSandbox('ln /etc/hostname /sandbox/h 2>&1; ln /usr/bin/env /sandbox/e 2>&1; ls /sandbox', ['--workdir', work.dir]);
      // Refused by the mount boundary (EXDEV) and by Landlock's REFER right, whichever the kernel checks first.
      assert.match(r.stdout, /Invalid cross-device link|Operation not permitted|Permission denied/);
      assert.equal(existsSync(path.join(work.dir, 'h')) || existsSync(path.join(work.dir, 'e')), false);
      // Control: the same kind of link works on the host when source and target share a mount.
      const ctl = onHost(`touch ${work.dir}/src && ln ${work.dir}/src ${work.dir}/dst && echo linked`);
      assert.equal(ctl.stdout.trim(), 'linked');
    } finally {
      work.cleanup();
    }
  });

  test('/proc/1/root and /proc/1/cwd show the sandbox, not the host', { skip: SKIP_NOT_ROOT }, () => {
    // On the host these lead to the real root (pid 1 may be out of reach here, so use self).
    assert.equal(onHost('head -c1 /proc/self/root/etc/shadow >/dev/null && ls /proc/self/root/root >/dev/null && echo host').stdout.trim(), 'host');
    const r = inSandbox('ls /proc/1/root/; (echo x > /proc/1/cwd/../usr/x) 2>&1; ls -d /proc/1/root/root /proc/self/root/root 2>&1; head -c1 /proc/self/root/etc/shadow 2>&1');
    assert.doesNotMatch(r.stdout, /^root$/m);
    assert.match(r.stdout, /No such file or directory/);
    // The read-only mount refuses it, and Landlock (on by default) before it.
    assert.match(r.stdout, /Read-only file system|Permission denied/);
  });

  test('/sandbox/.agent-config stays read-only inside the writable workdir', () => {
    const work = projectDir('warden-e2e-');
    try {
      mkdirSync(path.join(work.dir, '.agent-config'));
      writeFileSync(path.join(work.dir, '.agent-config', 'rules'), 'be good');
      if (IS_ROOT) {
        for (const p of [path.join(work.dir, '.agent-config'), path.join(work.dir, '.agent-config', 'rules')]) chownSync(p, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      }
      const policy = writePolicy(work.dir, 'version: 1\nfilesystem_policy:\n  include_workdir: true\n' +
        '  read_only: [/usr, /lib, /lib64, /bin, /etc, /sandbox/.agent-config]\n  read_write: [/tmp]\n', '.policy.yaml');
      assert.equal(onHostAsProjectOwner(`echo changed >> ${work.dir}/.agent-config/rules && echo ok`).stdout.trim(), 'ok', 'writable outside');
      writeFileSync(path.join(work.dir, '.agent-config', 'rules'), 'be good');
      const r = inSandbox('echo evil > /sandbox/.agent-config/rules; echo fine > /sandbox/other && cat /sandbox/other', ['--policy', policy, '--workdir', work.dir]);
      assert.equal(r.stdout, 'fine\n');
      assert.equal(readFileSync(path.join(work.dir, '.agent-config', 'rules'), 'utf8'), 'be good');
    } finally {
      work.cleanup();
    }
  });
});

describe('processes', { skip: SKIP_NO_BWRAP }, () => {
  test('host processes are invisible and cannot be signalled', () => {
    const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid!;
      assert.equal(onHost(`kill -0 ${pid} && echo alive`).stdout.trim(), 'alive');
      const r = inSandbox(`kill -9 ${pid} 2>&1; ls /proc | grep -c "^[0-9]"`);
      assert.match(r.stdout, /No such process/);
      assert.ok(Number(r.stdout.trim().split('\n').pop()) < 6, `only the sandbox's own processes: ${r.stdout}`);
      assert.equal(onHost(`kill -0 ${pid} && echo alive`).stdout.trim(), 'alive', 'the host process survived');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('no process survives the end of the run', async () => {
    const marker = `${1000 + (process.pid % 1000)}.${Date.now() % 100000}`;
    const running = () => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status === 0;
    // Control: without a sandbox the same command leaves a daemon behind.
    onHost(`setsid sleep ${marker} </dev/null >/dev/null 2>&1 &`);
    assert.ok(running(), 'control daemon is running');
    spawnSync('pkill', ['-f', `sleep ${marker}`]);
    // Gone before the sandbox runs, so that whatever is found after it is the sandbox's.
    await waitFor(() => !running(), 'the control daemon to die');
    const r = inSandbox(`setsid sleep ${marker} </dev/null >/dev/null 2>&1 & nohup sleep ${marker} >/dev/null 2>&1 & echo started`);
    assert.equal(r.stdout.trim(), 'started');
    const left = spawnSync('pgrep', ['-f', `sleep ${marker}`]);
    assert.notEqual(left.status, 0, `processes left behind: ${left.stdout}`);
  });

  test('ptrace is blocked', { skip: SKIP_PY }, () => {
    const probe = py('import ctypes,os; l=ctypes.CDLL(None,use_errno=True); r=l.ptrace(0,0,0,0); print(r, os.strerror(ctypes.get_errno()) if r else "ok")');
    assert.match(onHost(probe).stdout, /^0 ok/);
    assert.match(inSandbox(probe).stdout, /^-1 Operation not permitted/);
  });

  test('setuid binaries do not raise privileges', { skip: SKIP_NOT_ROOT }, () => {
    const work = projectDir('warden-e2e-');
    try {
      const suid = path.join(work.dir, 'suid-id');
      copyFileSync('/usr/bin/id', suid);
      chmodSync(suid, 0o4755);
      assert.equal(onHostAsProjectOwner(`${suid} -u`).stdout.trim(), '0', 'outside, the setuid copy gives euid 0');
      const r = inSandbox('/sandbox/suid-id -u; id -u; su -c id root 2>&1 </dev/null', ['--workdir', work.dir]);
      const [effective, real] = r.stdout.split('\n');
      assert.notEqual(effective, '0');
      assert.equal(effective, real, 'the setuid bit changed nothing');
      assert.doesNotMatch(r.stdout, /uid=0/);
    } finally {
      work.cleanup();
    }
  });
});

describe('kernel attack surface (seccomp)', { skip: SKIP_NO_BWRAP }, () => {
  test('mount is refused', { skip: SKIP_NOT_ROOT }, () => {
    const dir = tempDir('warden-e2e-mnt-');
    try {
      assert.equal(onHost(`mount -t tmpfs none ${dir.dir} && umount ${dir.dir} && echo mounted`).stdout.trim(), 'mounted');
      const r = inSandbox('mount -t tmpfs none /tmp 2>&1; echo rc=$?');
      assert.match(r.stdout, /rc=[1-9]/);
    } finally {
      dir.cleanup();
    }
  });

  test('new namespaces cannot be created', () => {
    assert.equal(onHost('unshare -U true && unshare -U -n true && echo created').stdout.trim(), 'created');
    for (const flags of ['-U', '-n', '-m', '-p -f', '-r']) {
      const r = inSandbox(`unshare ${flags} true 2>&1; echo rc=$?`);
      assert.match(r.stdout, /rc=[1-9]/, `unshare ${flags}: ${r.stdout}`);
    }
  });

  test('kernel modules cannot be loaded', { skip: SKIP_PY }, () => {
    const probe = py('import ctypes,os; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(313 if os.uname().machine=="x86_64" else 273,-1,b"",0); print(os.strerror(ctypes.get_errno()))');
    // Host root gets past the permission check (EBADF, or ENOSYS on a kernel without modules).
    if (IS_ROOT) assert.match(onHost(probe).stdout, /Bad file descriptor|Function not implemented/);
    assert.match(inSandbox(probe).stdout, /Operation not permitted/);
  });

  test('raw and packet sockets are refused', { skip: SKIP_PY }, () => {
    for (const kind of ['socket.AF_PACKET, socket.SOCK_RAW', 'socket.AF_INET, socket.SOCK_RAW, 1', 'socket.AF_NETLINK, socket.SOCK_RAW, 9']) {
      const probe = py(`import socket\ntry:\n  socket.socket(${kind}); print("opened")\nexcept OSError as e: print(e.strerror)`);
      if (IS_ROOT) assert.equal(onHost(probe).stdout.trim(), 'opened', `host root opens ${kind}`);
      assert.equal(inSandbox(probe).stdout.trim(), 'Operation not permitted', kind);
    }
  });

  test('terminal input injection (TIOCSTI) is refused', { skip: SKIP_PY || (existsSync('/usr/bin/script') ? false : 'needs script(1)') }, () => {
    const probe = py('import fcntl,termios\ntry:\n  fcntl.ioctl(0, termios.TIOCSTI, b"#"); print("injected")\nexcept OSError as e: print(e.strerror)');
    const viaPty = (cmd: string) => spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', input: '', timeout: 30_000, env: testEnv() }).stdout;
    if (IS_ROOT) assert.match(viaPty(probe), /injected/, 'host root can inject into its own terminal');
    assert.match(viaPty(`${process.execPath} ${WARDEN} run -- ${probe}`), /Operation not permitted/);
  });
});

describe('network', { skip: SKIP_NO_BWRAP }, () => {
  let server: net.Server;
  let port = 0;
  before(async () => {
    server = net.createServer((s) => s.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('there is no network at all: not the host loopback, not the world', { skip: SKIP_PY }, () => {
    const probe = py(`import socket\nfor h in [("127.0.0.1", ${port}), ("1.1.1.1", 53), ("10.0.0.1", 80)]:\n  try:\n    socket.create_connection(h, timeout=2); print("connected", h)\n  except OSError as e: print("refused", h[0], e.strerror)`);
    const outside = onHost(probe).stdout;
    assert.match(outside, /connected \('127\.0\.0\.1'/, 'the host reaches its own test server');
    const inside = inSandbox(probe + '; cat /proc/net/dev');
    assert.doesNotMatch(inside.stdout, /connected/);
    assert.match(inside.stdout, /refused 1\.1\.1\.1 Network is unreachable/);
    const interfaces = inside.stdout.split('\n').filter((l) => /^\s*\w+:/.test(l)).map((l) => l.trim().split(':')[0]);
    assert.deepEqual(interfaces, ['lo']);
  });
});

describe('limits', { skip: SKIP_NO_BWRAP }, () => {
  test('core dumps are off and descriptors and processes are bounded', () => {
    const limits = (text: string) => text.split('\n')
      .filter((l) => /^Max (core file size|open files|processes) /.test(l))
      .map((l) => l.replace(/\s+/g, ' ').trim());
    const inside = limits(inSandbox('cat /proc/self/limits').stdout);
    assert.deepEqual(inside, [
      'Max core file size 0 0 bytes',
      'Max processes 4096 4096 processes',
      'Max open files 4096 4096 files',
    ]);
    assert.notDeepEqual(limits(onHost('cat /proc/self/limits').stdout), inside, 'the host has other limits');
  });
});

describe('run behaviour', { skip: SKIP_NO_BWRAP }, () => {
  test('exit codes pass through, 128+N for signals, 127 when not found', () => {
    assert.equal(inSandbox('exit 7').status, 7);
    assert.equal(inSandbox('kill -TERM $$').status, 143);
    const missing = warden(['run', '--', 'no-such-command-xyz']);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /no-such-command-xyz: command not found inside the sandbox/);
  });

  test('stdin and stdout pass through', () => {
    const r = warden(['run', '--', 'sh', '-c', 'tr a-z A-Z; echo err >&2'], { input: 'hello\n' });
    assert.equal(r.stdout, 'HELLO\n');
    assert.equal(r.stderr, 'err\n');
  });
});
