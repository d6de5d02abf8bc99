// Attacks on named sandboxes from the outside review (issue 7): descriptors reaching execs, the
// supervisor as everyone's ancestor, tampering with the supervisor, shared uids, the gateway socket
// and who the audit log says asked. Each with its control.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FRAME, FrameDecoder } from '../../src/sandbox/frames.js';
import { newHome, SKIP_NO_BWRAP, SKIP_NOT_ROOT, WARDEN, waitForOutput, wardenAsync, writePolicy } from './helpers.js';

const PY = '/usr/bin/python3';
const SKIP = SKIP_NO_BWRAP || (existsSync(PY) ? false : 'needs /usr/bin/python3');

describe('named sandboxes: isolation', { skip: SKIP }, () => {
  const home = newHome();
  let server: http.Server;
  let port = 0;
  before(async () => {
    server = http.createServer((_req, res) => res.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    await home.cleanup();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a descriptor open in the caller of `warden exec` (and of the gateway it starts) is not inside', async () => {
    const created = spawnSync('bash', ['-c', `exec 200</ 201</etc; ${process.execPath} ${WARDEN} sandbox create fds --json`],
      { encoding: 'utf8', env: { ...process.env, WARDEN_HOME: home.dir } });
    assert.equal(created.status, 0, created.stderr);
    const listed = spawnSync('bash', ['-c', `exec 200</ 201</etc; ${process.execPath} ${WARDEN} exec fds -- ${PY} -c 'import os; print(" ".join(sorted(os.listdir("/proc/self/fd"), key=int)))'`],
      { encoding: 'utf8', env: { ...process.env, WARDEN_HOME: home.dir } });
    assert.equal(listed.stdout.trim(), '0 1 2 3', listed.stderr);
  });

  test('the supervisor cannot be read, written or entered by anything in the sandbox (non-dumpable)', async () => {
    await home.json(['sandbox', 'create', 'tamper']);
    const probe = `${PY} -c '
import os, subprocess
def attempt(what, fn):
    try:
        fn(); print(what, "OPEN")
    except OSError as e:
        print(what, type(e).__name__)
sup = "2"  # the supervisor: bubblewrap init is 1
attempt("mem", lambda: open("/proc/" + sup + "/mem", "r+b"))
attempt("environ", lambda: open("/proc/" + sup + "/environ", "rb").read())
attempt("fd", lambda: os.listdir("/proc/" + sup + "/fd"))
attempt("ctl", lambda: os.open("/proc/" + sup + "/fd/1", os.O_WRONLY))
peer = subprocess.Popen(["sleep", "30"])
attempt("control-mem", lambda: open("/proc/%d/mem" % peer.pid, "r+b"))
peer.kill()
print(open("/proc/" + sup + "/comm").read().strip())
'`;
    const r = await home.run(['exec', 'tamper', '--', 'sh', '-c', probe]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^mem PermissionError$/m);
    assert.match(r.stdout, /^environ PermissionError$/m);
    assert.match(r.stdout, /^fd PermissionError$/m);
    assert.match(r.stdout, /^ctl PermissionError$/m);
    assert.match(r.stdout, /^control-mem OPEN$/m, 'control: an ordinary process of the same uid is open to it');
    assert.match(r.stdout, /^supervisor$/m, 'pid 2 is the supervisor');
  });

  test('commands started by the supervisor have the identity they would have in `warden run`', async () => {
    const area = path.join(home.dir, '..');
    const nodeOnly = writePolicy(area, `version: 1
network_policies:
  local:
    endpoints:
      - { host: 127.0.0.1, port: ${port}, allowed_ips: [127.0.0.1] }
    binaries:
      - { path: /usr/bin/node }
`, 'node-only.yaml');
    const curlToo = writePolicy(area, `version: 1
network_policies:
  local:
    endpoints:
      - { host: 127.0.0.1, port: ${port}, allowed_ips: [127.0.0.1] }
    binaries:
      - { path: /usr/bin/curl }
`, 'curl.yaml');
    const curl = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/`];
    await home.json(['sandbox', 'create', 'ident', '--policy', nodeOnly]);
    const viaExec = await home.run(['exec', 'ident', '--', ...curl]);
    assert.equal(viaExec.stdout, '403', 'curl is not node, whoever started it');
    const viaRun = await home.run(['run', '--policy', nodeOnly, '--', ...curl]);
    assert.equal(viaRun.stdout, '403', 'the same as in warden run');
    // Not even a policy that names the supervisor itself lets its children through (it is a
    // boundary of every ancestor chain, and its file, placed by warden, has no path a rule could match).
    const supervisorNamed = writePolicy(area, `version: 1
network_policies:
  local:
    endpoints:
      - { host: 127.0.0.1, port: ${port}, allowed_ips: [127.0.0.1] }
    binaries:
      - { path: /.warden/supervisor }
`, 'supervisor.yaml');
    await home.json(['sandbox', 'create', 'ident3', '--policy', supervisorNamed]);
    assert.equal((await home.run(['exec', 'ident3', '--', ...curl])).stdout, '403', 'the supervisor is never an ancestor for policy purposes');
    // Control: the server is reachable for an allowed binary.
    await home.json(['sandbox', 'create', 'ident2', '--policy', curlToo]);
    assert.equal((await home.run(['exec', 'ident2', '--', ...curl])).stdout, '200');
  });

  test('each named sandbox has a uid of its own, kept across stop and start', { skip: SKIP_NOT_ROOT }, async () => {
    await home.json(['sandbox', 'create', 'one']);
    await home.json(['sandbox', 'create', 'two']);
    const uidOf = async (name: string) => (await home.run(['exec', name, '--', 'id', '-u'])).stdout.trim();
    const one = await uidOf('one');
    const two = await uidOf('two');
    assert.notEqual(one, two);
    assert.ok(Number(one) >= 1_800_000_000 && Number(two) >= 1_800_000_000);
    await home.json(['sandbox', 'stop', 'one']);
    await home.json(['sandbox', 'start', 'one']);
    assert.equal(await uidOf('one'), one);
  });

  test('the audit log names the caller from the socket\'s credentials, never from the request', async () => {
    await home.json(['sandbox', 'create', 'who']);
    const reply = await rawRequest(home.dir, { op: 'sandbox.stop', args: { name: 'who' }, actor: 'alice (forged)' });
    assert.match(reply, /"ok":true/);
    const records = (await home.run(['audit', 'export', '--sandbox', 'who'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; actor: string });
    const stopped = records.find((r) => r.kind === 'sandbox.stopped');
    assert.ok(stopped, 'the stop is recorded');
    assert.doesNotMatch(stopped.actor, /alice/);
    assert.match(stopped.actor, new RegExp(`^uid ${process.getuid!()}\\b.* pid \\d+$`));
  });

  test('a caller in another PID namespace (as inside a sandbox) is refused even with the socket in reach', { skip: SKIP_NOT_ROOT }, async () => {
    const socket = path.join(home.dir, 'gateway.sock');
    const script = `import socket; s=socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(socket)}); s.sendall(b'{"op":"sandbox.list","args":{}}\\n'); print(s.recv(4096).decode())`;
    const inside = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', PY, '-c', script], { encoding: 'utf8' });
    assert.match(inside.stdout, /"code":"forbidden".*another pid namespace/, inside.stderr);
    // Control: the same client in the gateway's namespaces is served.
    const outside = spawnSync(PY, ['-c', script], { encoding: 'utf8' });
    assert.match(outside.stdout, /"ok":true/);
    const refused = (await home.run(['audit', 'export'])).stdout.split('\n').filter((line) => line.includes('"gateway.refused"'));
    assert.ok(refused.length > 0, 'the refusal is in the audit log');
  });

  test('a malformed frame from an exec client ends that exec with an error, never the sandbox', async () => {
    await home.json(['sandbox', 'create', 'frames']);
    // Another exec of the same sandbox, running before and (it is checked) after the bad one.
    const sleeper = wardenAsync(['exec', 'frames', '--', 'sh', '-c', 'echo ready; exec sleep 300'], { env: { WARDEN_HOME: home.dir } });
    await waitForOutput(sleeper, 'ready');
    // Runs until the bad frame ends it.
    const output = await rawExec(home.dir, 'frames', ['sleep', '300'], Buffer.concat([
      encodeFrame(FRAME.signal, 0, Buffer.from('nonjson')),
    ]));
    assert.equal(output.exit, 125);
    assert.match(output.stderr, /bad frame from the client/);
    const still = await home.run(['exec', 'frames', '--', 'echo', 'alive']);
    assert.equal(still.stdout, 'alive\n', 'the sandbox and its other execs go on');
    const list = await home.json<Array<{ name: string; state: string }>>(['sandbox', 'list']);
    assert.equal(list.find((s) => s.name === 'frames')?.state, 'running');
    assert.equal(sleeper.ended(), undefined, 'the other exec still runs');
    await home.run(['exec', 'frames', '--', 'pkill', 'sleep']);
    assert.equal((await sleeper.done).status, 143, 'the other exec ran until it was killed');
  });
});

/** One request on the gateway socket, as any local program could send it; returns the reply line. */
function rawRequest(dir: string, request: object): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path.join(dir, 'gateway.sock'));
    let text = '';
    socket.on('data', (chunk) => { text += chunk.toString(); });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(JSON.stringify(request) + '\n');
  });
}

/** An exec with hand-made client frames; returns what came back. */
function rawExec(dir: string, name: string, argv: string[], frames: Buffer): Promise<{ exit: number | undefined; stderr: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path.join(dir, 'gateway.sock'));
    const decoder = new FrameDecoder();
    let replied = false;
    let buffered = Buffer.alloc(0);
    let exit: number | undefined;
    let stderr = '';
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (!replied) {
        buffered = Buffer.concat([buffered, chunk]);
        const newline = buffered.indexOf(10);
        if (newline < 0) return;
        replied = true;
        data = buffered.subarray(newline + 1);
        socket.write(frames);
      }
      for (const frame of decoder.push(data)) {
        if (frame.type === FRAME.stderr) stderr += frame.payload.toString();
        if (frame.type === FRAME.exit) exit = frame.payload.readUInt32BE(0);
      }
    });
    socket.on('close', () => resolve({ exit, stderr }));
    socket.on('error', reject);
    socket.write(JSON.stringify({ op: 'exec', args: { name, argv, env: {}, tty: null } }) + '\n');
  });
}
