// What a new user hits (issue 11), end to end: deleting a sandbox keeps what the agent wrote; a
// person's project works as the workdir when warden runs as root, without chown, with sane
// ownership; HOME is the sandbox's own; filesystem policy mistakes are caught before bubblewrap;
// changes already in force succeed; sandbox state is true; exec shows denials; small things.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { gatewayPid, IS_ROOT, PROJECT_OWNER, SKIP_NO_BWRAP, WARDEN, inSandbox, newHome, tempDir, waitFor, wardenAsync, writePolicy } from './helpers.js';

interface Deleted { name: string; purged: string | null; removed: string[]; kept: string[] }

describe('sandbox delete keeps what the agent wrote', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  after(() => home.cleanup());

  test('a plain delete keeps the workdir and says where; create uses it again; --purge says what it removed', async () => {
    await home.json(['sandbox', 'create', 's4']);
    assert.equal((await home.run(['exec', 's4', '--', 'sh', '-c', 'echo precious > /sandbox/notes.txt'])).status, 0);
    const workdir = path.join(home.dir, 'sandboxes', 's4', 'workdir');

    const plain = await home.run(['sandbox', 'delete', 's4']);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(readFileSync(path.join(workdir, 'notes.txt'), 'utf8'), 'precious\n', 'a plain delete deletes nothing the agent wrote');
    assert.match(plain.stdout, new RegExp(`sandbox s4 deleted\\nkept ${workdir}\\n`));
    assert.match(plain.stdout, /`warden sandbox create s4` uses what was kept again/);
    assert.deepEqual(await home.json<unknown[]>(['sandbox', 'list']), []);

    const again = await home.run(['sandbox', 'create', 's4']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`using the workdir kept when an earlier sandbox s4 was deleted: ${workdir}`));
    assert.equal((await home.run(['exec', 's4', '--', 'cat', '/sandbox/notes.txt'])).stdout, 'precious\n');

    const purged = await home.json<Deleted>(['sandbox', 'delete', 's4', '--purge']);
    assert.ok(purged.removed.includes(workdir), JSON.stringify(purged));
    assert.equal(purged.purged, workdir);
    assert.equal(existsSync(path.join(home.dir, 'sandboxes', 's4')), false);
  });

  test('--purge after a plain delete removes what was kept; --purge never deletes a --workdir the user gave', async () => {
    await home.json(['sandbox', 'create', 'twice']);
    const kept = await home.json<Deleted>(['sandbox', 'delete', 'twice']);
    assert.deepEqual(kept.removed, []);
    assert.ok(kept.kept.length > 0);
    const purged = await home.run(['sandbox', 'delete', 'twice', '--purge']);
    assert.equal(purged.status, 0, purged.stderr);
    assert.match(purged.stdout, /removed .*sandboxes\/twice\/workdir/);
    assert.equal(existsSync(path.join(home.dir, 'sandboxes', 'twice')), false);

    const project = tempDir('warden-e2e-project-');
    try {
      chmodSync(project.dir, 0o755);
      if (IS_ROOT) chownSync(project.dir, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      await home.json(['sandbox', 'create', 'mine', '--workdir', project.dir]);
      await home.run(['exec', 'mine', '--', 'sh', '-c', 'echo code > /sandbox/app.js']);
      const gone = await home.json<Deleted>(['sandbox', 'delete', 'mine', '--purge']);
      assert.deepEqual(gone.kept, [project.dir]);
      assert.equal(readFileSync(path.join(project.dir, 'app.js'), 'utf8'), 'code\n');
    } finally {
      project.cleanup();
    }
  });
});

describe("as root, a person's project is the workdir with no manual step", { skip: SKIP_NO_BWRAP || (IS_ROOT ? false : 'needs root') }, () => {
  const home = newHome();
  // Like /root (0700, root's) with a project of a normal user inside it.
  const area = tempDir('warden-e2e-rootdir-');
  chmodSync(area.dir, 0o700);
  const project = path.join(area.dir, 'code', 'app');
  mkdirSync(project, { recursive: true, mode: 0o755 });
  chownSync(project, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
  after(async () => {
    await home.cleanup();
    area.cleanup();
  });

  test('warden run: the agent writes as its own uid, the files stay the project owner\'s, nothing is world-writable', () => {
    const r = inSandbox('id -u; echo made > made.txt; mkdir sub; echo x > sub/f', ['--workdir', project]);
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(r.stdout.trim(), '0', 'the sandbox is never root');
    for (const file of ['made.txt', 'sub', 'sub/f']) {
      const stat = statSync(path.join(project, file));
      assert.equal(stat.uid, PROJECT_OWNER.uid, `${file} belongs to the project's owner on the host`);
      assert.equal(stat.mode & 0o002, 0, `${file} is not world-writable`);
    }
    assert.equal(statSync(project).mode & 0o777, 0o755, 'the project keeps its mode');
  });

  test('named sandboxes: each its own uid, files the host user adds later are writable inside', async () => {
    await home.json(['sandbox', 'create', 'a', '--workdir', project]);
    await home.json(['sandbox', 'create', 'b', '--workdir', project]);
    const uidA = (await home.run(['exec', 'a', '--', 'id', '-u'])).stdout.trim();
    const uidB = (await home.run(['exec', 'b', '--', 'id', '-u'])).stdout.trim();
    assert.notEqual(uidA, '0');
    assert.notEqual(uidB, '0');
    assert.notEqual(uidA, uidB, 'each sandbox has a uid of its own');
    // The project's owner adds a file (written here by root for them: they cannot enter this
    // test's stand-in for /root, as a real user's own home they could).
    writeFileSync(path.join(project, 'later.txt'), 'later\n', { mode: 0o644 });
    chownSync(path.join(project, 'later.txt'), PROJECT_OWNER.uid, PROJECT_OWNER.gid);
    const wrote = await home.run(['exec', 'a', '--', 'sh', '-c', 'echo agent >> /sandbox/later.txt && cat /sandbox/later.txt']);
    assert.equal(wrote.status, 0, wrote.stderr);
    assert.equal(wrote.stdout, 'later\nagent\n');
    assert.equal(statSync(path.join(project, 'later.txt')).uid, PROJECT_OWNER.uid);
    await home.json(['sandbox', 'delete', 'a']);
    await home.json(['sandbox', 'delete', 'b']);
  });

  test('sandbox create --workdir NEW creates it, owned by the owner of its parent, never root', async () => {
    const fresh = path.join(project, 'fresh', 'dir');
    const created = await home.run(['sandbox', 'create', 'fresh', '--workdir', fresh]);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(statSync(fresh).uid, PROJECT_OWNER.uid);
    assert.equal(statSync(path.join(project, 'fresh')).uid, PROJECT_OWNER.uid);
    const wrote = await home.run(['exec', 'fresh', '--', 'sh', '-c', 'echo hi > /sandbox/x']);
    assert.equal(wrote.status, 0, wrote.stderr);
    assert.equal(statSync(path.join(fresh, 'x')).uid, PROJECT_OWNER.uid);
    await home.json(['sandbox', 'delete', 'fresh']);
  });
});

describe('HOME is the sandbox\'s own, never the project', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  after(() => home.cleanup());

  test('warden run: HOME is a private directory outside the workdir, gone afterwards', () => {
    const project = tempDir('warden-e2e-project-');
    try {
      chmodSync(project.dir, 0o755);
      if (IS_ROOT) chownSync(project.dir, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
      const r = inSandbox('echo "$HOME"; cd && pwd && echo ls > .bash_history && mkdir .npm && ls -A "$HOME"', ['--workdir', project.dir]);
      assert.equal(r.status, 0, r.stderr);
      const [inside] = r.stdout.split('\n');
      assert.ok(inside && inside !== '/sandbox' && !inside.startsWith('/sandbox/'), `HOME ${inside}`);
      assert.match(r.stdout, /\.bash_history\n\.npm\n/);
      assert.deepEqual(readdirSync(project.dir), [], 'nothing lands in the project');
    } finally {
      project.cleanup();
    }
  });

  test('a named sandbox keeps its HOME across stop and start; --purge removes it', async () => {
    await home.json(['sandbox', 'create', 'h']);
    assert.equal((await home.run(['exec', 'h', '--', 'sh', '-c', 'echo remembered > "$HOME/.history"'])).status, 0);
    assert.equal(existsSync(path.join(home.dir, 'sandboxes', 'h', 'workdir', '.history')), false);
    assert.equal(readFileSync(path.join(home.dir, 'sandboxes', 'h', 'home', '.history'), 'utf8'), 'remembered\n');
    await home.json(['sandbox', 'stop', 'h']);
    await home.json(['sandbox', 'start', 'h']);
    assert.equal((await home.run(['exec', 'h', '--', 'sh', '-c', 'cat "$HOME/.history"'])).stdout, 'remembered\n');
    const purged = await home.json<Deleted>(['sandbox', 'delete', 'h', '--purge']);
    assert.ok(purged.removed.includes(path.join(home.dir, 'sandboxes', 'h', 'home')), JSON.stringify(purged));
  });
});

describe('filesystem policy mistakes are caught before bubblewrap starts', { skip: SKIP_NO_BWRAP }, () => {
  const area = tempDir('warden-e2e-fspolicy-');
  const home = newHome();
  after(async () => {
    await home.cleanup();
    area.cleanup();
  });
  const policy = (name: string, yaml: string) => writePolicy(area.dir, `version: 1\nfilesystem_policy:\n${yaml}`, `${name}.yaml`);

  test('a program whose loader the policy leaves out: which path is missing and why, exit 125', { skip: existsSync('/lib64/ld-linux-x86-64.so.2') ? false : 'not an x86-64 glibc host' }, () => {
    const r = inSandbox('echo ran', ['--policy', policy('nolib', '  read_only: [/usr, /bin, /etc]\n')]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /its loader \/lib64\/ld-linux-x86-64\.so\.2 is not visible inside .*Add \/lib64/);
    assert.doesNotMatch(r.stderr, /bwrap:|execvp|cannot execute/);
  });

  test('a policy binding a directory the sandbox cannot enter names it instead of "Can\'t mkdir"', { skip: IS_ROOT ? false : 'needs root (a 0700 directory of another uid)' }, () => {
    const closed = path.join(area.dir, 'closed');
    mkdirSync(path.join(closed, '.ssh'), { recursive: true });
    chmodSync(closed, 0o700);
    const r = inSandbox('echo ran', ['--policy', policy('closed', `  read_only: [/usr, /lib, /lib64, /bin, /etc, ${closed}]\n`)], { env: { HOME: closed } });
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, new RegExp(`inside ${closed}, which the policy binds from the host but the sandbox's uid cannot enter .*Remove ${closed} from the policy`));
    assert.doesNotMatch(r.stderr, /bwrap:/);
  });

  test('--workdir with include_workdir: false is an error, for run and for sandbox create', async () => {
    const file = policy('noworkdir', '  include_workdir: false\n  read_only: [/usr, /lib, /lib64, /bin, /etc]\n');
    const r = inSandbox('true', ['--policy', file, '--workdir', area.dir]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /include_workdir: false, so no workdir would be mounted/);
    const created = await home.run(['sandbox', 'create', 'nowd', '--policy', file, '--workdir', area.dir]);
    assert.equal(created.status, 1);
    assert.match(created.stderr, /include_workdir: false, so no workdir would be mounted/);
    assert.deepEqual(await home.json<unknown[]>(['sandbox', 'list']), []);
  });
});

describe('a change that is already in force succeeds and says so', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  const area = tempDir('warden-e2e-idem-');
  after(async () => {
    await home.cleanup();
    area.cleanup();
  });

  test('an identical policy set, a repeated add-preset (with --reason) and an update already in force exit 0 without a new revision', async () => {
    const file = writePolicy(area.dir, 'version: 1\nnetwork_policies:\n  local:\n    endpoints: [{ host: example.test, port: 443 }]\n    binaries: [{ path: /usr/bin/curl }]\n');
    await home.json(['sandbox', 'create', 'idem', '--policy', file]);
    const same = await home.run(['policy', 'set', 'idem', file]);
    assert.equal(same.status, 0, same.stderr);
    assert.match(same.stdout, /sandbox idem: already in force \(policy rev 1\); nothing was changed/);

    const added = await home.run(['policy', 'add-preset', 'idem', 'npm', '--reason', 'the agent runs npm install']);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /policy rev 2/);
    const again = await home.run(['policy', 'add-preset', 'idem', 'npm']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /already in force \(policy rev 2\)/);

    const update = await home.run(['policy', 'update', 'idem', '--add-endpoint', 'example.test:443', '--binary', '/usr/bin/curl']);
    assert.equal(update.status, 0, update.stderr);
    assert.match(update.stdout, /already in force \(policy rev 2\); nothing was changed\n {2}change 1 \(add-endpoint example\.test:443\): already allowed by network_policies\.local/);

    const history = await home.json<Array<{ rev: number; reason: string | null }>>(['policy', 'history', 'idem']);
    assert.deepEqual(history.map((h) => h.rev).sort(), [1, 2]);
    assert.ok(history.some((h) => h.reason === 'the agent runs npm install'), JSON.stringify(history));
  });
});

describe('sandbox state is true and visible', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  const area = tempDir('warden-e2e-state-');
  after(async () => {
    await home.cleanup();
    area.cleanup();
  });

  test('a main command that exited shows as exited (code N), and its output is readable with logs --main', async () => {
    const created = await home.run(['sandbox', 'create', 'job', '--', 'sh', '-c', 'echo hello from main; echo oops >&2; exit 3']);
    assert.equal(created.status, 0, created.stderr);
    await waitFor(async () => (await home.json<Array<{ name: string; mainExitCode?: number }>>(['sandbox', 'list']))[0]?.mainExitCode === 3,
      'the main command to exit');
    const list = await home.run(['sandbox', 'list']);
    assert.match(list.stdout, /\njob +exited \(code 3\) /);
    const main = await home.run(['logs', 'job', '--main']);
    assert.equal(main.status, 0, main.stderr);
    assert.equal(main.stdout, 'hello from main\noops\n');
    await home.json(['sandbox', 'create', 'nomain']);
    const none = await home.run(['logs', 'nomain', '--main']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /has no main command output \(it was created without a main command\)/);
    await home.json(['sandbox', 'delete', 'job', '--purge']);
    await home.json(['sandbox', 'delete', 'nomain', '--purge']);
  });

  test('after the gateway is killed, the restarted sandbox has a stopped record before its new start', async () => {
    await home.json(['sandbox', 'create', 'phoenix']);
    const pid = gatewayPid(home);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the gateway to die');
    assert.equal((await home.json<Array<{ name: string; state: string }>>(['sandbox', 'list']))[0]?.state, 'running');
    const records = (await home.run(['logs', 'phoenix', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string });
    const lifecycle = records.map((r) => r.kind).filter((kind) => /^sandbox\.(started|stopped)$/.test(kind));
    assert.deepEqual(lifecycle, ['sandbox.started', 'sandbox.stopped', 'sandbox.started']);
    await home.json(['sandbox', 'delete', 'phoenix', '--purge']);
  });

  test('a create whose start fails does not keep the name', { skip: IS_ROOT ? false : 'needs root (a root-owned workdir is refused at start)' }, async () => {
    const rootOwned = path.join(area.dir, 'root-owned');
    mkdirSync(rootOwned, { mode: 0o755 });
    const failed = await home.run(['sandbox', 'create', 'oops', '--workdir', rootOwned]);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /owned by root[\s\S]*The sandbox was not created/);
    assert.deepEqual(await home.json<unknown[]>(['sandbox', 'list']), []);
    assert.equal(existsSync(path.join(home.dir, 'sandboxes', 'oops')), false);
    await home.json(['sandbox', 'create', 'oops']);
    await home.json(['sandbox', 'delete', 'oops', '--purge']);
  });
});

describe('denials are visible in exec', { skip: SKIP_NO_BWRAP || (existsSync('/usr/bin/curl') ? false : 'needs /usr/bin/curl') }, () => {
  const home = newHome();
  const area = tempDir('warden-e2e-denials-');
  after(async () => {
    await home.cleanup();
    area.cleanup();
  });

  test('exec prints the sandbox\'s denials on its stderr (unless --no-denials); exec NAME CMD -ARGS works without --, and -it is accepted', async () => {
    // The only endpoint is one the test never uses: every request below is refused by the proxy, nothing leaves the machine.
    const file = writePolicy(area.dir, 'version: 1\nnetwork_policies:\n  other:\n    endpoints: [{ host: allowed.test, port: 443 }]\n    binaries: [{ path: /usr/bin/true }]\n');
    await home.json(['sandbox', 'create', 'loud', '--policy', file]);
    const curl = ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://blocked.test/'];
    const told = await home.run(['exec', 'loud', ...curl]);
    assert.equal(told.stdout, '403');
    assert.match(told.stderr, /^warden: denied \/usr\/bin\/curl \(pid \d+\) -> GET blocked\.test:80\/: /m);
    const quiet = await home.run(['exec', '--no-denials', 'loud', '--', ...curl]);
    assert.equal(quiet.stdout, '403');
    assert.equal(quiet.stderr, '');
    const docker = await home.run(['exec', '-iT', 'loud', 'ls', '-d', '/sandbox']);
    assert.equal(docker.status, 0, docker.stderr);
    assert.equal(docker.stdout, '/sandbox\n');
    await home.json(['sandbox', 'delete', 'loud', '--purge']);
  });
});

describe('small things a new user notices', { skip: SKIP_NO_BWRAP }, () => {
  const home = newHome();
  after(() => home.cleanup());

  test('sandbox list on an empty WARDEN_HOME starts no daemon and creates nothing', async () => {
    const list = await home.run(['sandbox', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stderr, /no sandboxes yet/);
    assert.equal(existsSync(home.dir), false, 'WARDEN_HOME is not even created');
    assert.deepEqual(await home.json<unknown[]>(['sandbox', 'list']), []);
    assert.equal((await home.run(['gateway', 'status'])).status, 1);
  });

  test('sandbox get prints for a person unless --json; "no such sandbox" has one code everywhere', async () => {
    await home.json(['sandbox', 'create', 'shown']);
    const get = await home.run(['sandbox', 'get', 'shown']);
    assert.match(get.stdout, /^name: +shown\nstate: +running\n/);
    assert.equal((await home.json<{ name: string }>(['sandbox', 'get', 'shown'])).name, 'shown');
    for (const args of [['sandbox', 'get', 'nope'], ['exec', 'nope', '--json', '--', 'true'], ['logs', 'nope'], ['policy', 'get', 'nope'], ['sandbox', 'stop', 'nope']]) {
      const r = await home.run(args.includes('--json') ? args : [...args, '--json']);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'no_such_sandbox', `${args.join(' ')}: ${r.stdout}`);
    }
    await home.json(['sandbox', 'delete', 'shown', '--purge']);
  });
});

describe('as root, WARDEN_HOME below a directory only root can enter (the default, /root/.warden)', { skip: SKIP_NO_BWRAP || (IS_ROOT ? false : 'needs root') }, () => {
  const area = tempDir('warden-e2e-roothome-');
  chmodSync(area.dir, 0o700);
  const dir = path.join(area.dir, '.warden');
  const env = { WARDEN_HOME: dir };
  const run = (args: string[]) => wardenAsync(args, { env, timeoutMs: 60_000 }).done;
  after(async () => {
    await run(['gateway', 'stop']);
    area.cleanup();
  });

  test('a named sandbox starts, and its workdir and home are its own', async () => {
    const created = await run(['sandbox', 'create', 'deep']);
    assert.equal(created.status, 0, created.stderr);
    const wrote = await run(['exec', 'deep', '--', 'sh', '-c', 'echo w > /sandbox/w && echo h > "$HOME/h" && id -u']);
    assert.equal(wrote.status, 0, wrote.stderr);
    assert.notEqual(wrote.stdout.trim(), '0');
    assert.equal(statSync(path.join(dir, 'sandboxes', 'deep', 'home', 'h')).uid, Number(wrote.stdout.trim()));
    assert.equal((await run(['sandbox', 'delete', 'deep', '--purge'])).status, 0);
  });
});

describe('a relative WARDEN_HOME', { skip: SKIP_NO_BWRAP }, () => {
  const area = tempDir('warden-e2e-relhome-');
  chmodSync(area.dir, 0o711);
  const inArea = (args: string[]) => spawnSync(process.execPath, [WARDEN, ...args], {
    cwd: area.dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, WARDEN_HOME: 'relhome' },
  });
  after(() => {
    inArea(['gateway', 'stop']);
    area.cleanup();
  });

  test('is made absolute once, from the directory warden was started in', () => {
    const created = inArea(['sandbox', 'create', 'rel', '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { result: { workdir: string } }).result.workdir, path.join(area.dir, 'relhome', 'sandboxes', 'rel', 'workdir'));
    assert.ok(existsSync(path.join(area.dir, 'relhome', 'gateway.sock')), 'the gateway (started with cwd /) uses the same home');
    assert.equal(inArea(['sandbox', 'delete', 'rel', '--purge']).status, 0);
  });
});
