// warden run started by an ordinary user (not root): the sandbox keeps that user's uid, and
// the same isolation and egress proxy apply (the proxy listener enters the sandbox's user
// namespace, which that user owns).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SKIP_NO_BWRAP, SKIP_NOT_ROOT, WARDEN, tempDir, waitFor, type Result } from './helpers.js';

const NOBODY = 65534;
const NETNS_ENTER = path.join(path.dirname(WARDEN), '..', 'dist', 'native', 'netns-enter');

/** The checkout must be readable by others for `nobody` to run warden from it. */
function checkoutReadableByOthers(): boolean {
  for (let dir = path.dirname(WARDEN); dir !== '/'; dir = path.dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
  }
  return (statSync(WARDEN).mode & 0o004) !== 0;
}
const SKIP_UNREADABLE = checkoutReadableByOthers() ? false : 'the checkout is not readable by other users';

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function wardenAsNobody(args: string[], home: string): Promise<Result> {
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, WARDEN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: home, WARDEN_HOME: path.join(home, '.warden') }, cwd: home,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
}

describe('warden run as an unprivileged user', { skip: SKIP_NO_BWRAP || SKIP_NOT_ROOT || SKIP_UNREADABLE }, () => {
  const home = tempDir('warden-e2e-nobody-');
  let server: http.Server;
  let port = 0;
  before(async () => {
    chmodSync(home.dir, 0o777);
    server = http.createServer((_req, res) => res.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    home.cleanup();
  });

  test('the sandbox runs as that user, confined the same way', async () => {
    const r = await wardenAsNobody(['run', '--', 'sh', '-c', 'id -u; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ls /root 2>&1'], home.dir);
    assert.equal(r.status, 2, r.stderr); // ls of a missing /root fails
    assert.match(r.stdout, new RegExp(`^${NOBODY}\\n`));
    assert.match(r.stdout, /CapEff:\s+0{16}/);
    assert.match(r.stdout, /NoNewPrivs:\s+1/);
    assert.match(r.stdout, /Seccomp:\s+2/);
    assert.match(r.stdout, /No such file or directory/);
  });

  test('the egress proxy works and denies without root', async () => {
    const policy = path.join(home.dir, 'policy.yaml');
    writeFileSync(policy, `version: 1\nnetwork_policies:\n  local:\n    endpoints:\n      - { host: localhost, port: ${port}, allowed_ips: [127.0.0.1] }\n    binaries:\n      - { path: /usr/bin/curl }\n`);
    chmodSync(policy, 0o644);
    const curl = (url: string) => `curl -sS -o /dev/null -w '%{http_code}\\n' ${url}`;
    const r = await wardenAsNobody(['run', '--policy', policy, '--', 'sh', '-c', `${curl(`http://localhost:${port}/`)}; ${curl(`http://localhost:${port + 1}/`)}`], home.dir);
    assert.equal(r.stdout, '200\n403\n', r.stderr);
    assert.match(r.stderr, /warden: denied \/usr\/bin\/curl/);
  });

  test('netns-enter starts CMD only once the user namespace has its uid map (bubblewrap reports the pid before writing it)', { skip: existsSync(NETNS_ENTER) ? false : 'netns-enter not built' }, async () => {
    // nobody's user and network namespace with no uid map yet: what bubblewrap's child is for a moment.
    const holder = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'unshare', '--user', '--net', 'sleep', '30'], { stdio: 'ignore' });
    let enter: ReturnType<typeof spawn> | undefined;
    try {
      await waitFor(() => comm(holder.pid!) === 'sleep', 'the namespace holder to start');
      enter = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NETNS_ENTER, String(holder.pid), '--', '/bin/cat', '/proc/self/uid_map'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      enter.stdout!.setEncoding('utf8').on('data', (d: string) => { output += d; });
      const ended = new Promise((resolve) => enter!.once('close', resolve));
      let done = false;
      void ended.then(() => { done = true; });
      const sameUserns = () => { try { return readlinkSync(`/proc/${enter!.pid}/ns/user`) === readlinkSync(`/proc/${holder.pid}/ns/user`); } catch { return false; } };
      // Either it waits inside the namespace (correct), or it has already run CMD and ended (wrong).
      await waitFor(() => done || (comm(enter!.pid!) === 'netns-enter' && sameUserns()), 'netns-enter to wait in the namespace');
      assert.equal(done, false, `CMD ran before the uid map existed: ${JSON.stringify(output)}`);
      const map = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', `echo '0 ${NOBODY} 1' > /proc/${holder.pid}/uid_map`], { encoding: 'utf8' });
      assert.equal(map.status, 0, map.stderr);
      await ended;
      assert.match(output, new RegExp(`^\\s*0\\s+${NOBODY}\\s+1\\s*$`), 'CMD saw the map');
    } finally {
      enter?.kill('SIGKILL');
      holder.kill('SIGKILL');
    }
  });

  test('netns-enter joins no network namespace its caller does not own', { skip: existsSync(NETNS_ENTER) ? false : 'netns-enter not built' }, async () => {
    const rootProcess = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const enter = (asNobody: boolean) => spawnSync(asNobody ? 'setpriv' : NETNS_ENTER,
        [...(asNobody ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NETNS_ENTER] : []), String(rootProcess.pid), '--', '/bin/true'],
        { encoding: 'utf8' });
      assert.equal(enter(false).status, 0, 'root may join the namespace of its own process (the control)');
      const refused = enter(true);
      assert.equal(refused.status, 125);
      assert.match(refused.stderr, /netns-enter: .*(Permission denied|Operation not permitted)/);
    } finally {
      rootProcess.kill('SIGKILL');
    }
  });
});
