// Attacks on the gateway and the proxy from the outside review (issue 8): one sandbox freezing the
// gateway for the others, unbounded exec buffers, borrowed identities, an audit log that fails
// open, bad frames and requests. Each with its control.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { gatewayPid, newHome, SKIP_NO_BWRAP, WARDEN, waitFor, writePolicy } from './helpers.js';

const PY = '/usr/bin/python3';
const CC = ['/usr/bin/cc', '/usr/bin/gcc'].find((candidate) => existsSync(candidate));
const SKIP = SKIP_NO_BWRAP || (existsSync(PY) ? false : 'needs /usr/bin/python3');

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/** Whether a process is asleep writing to a full pipe (its reader is not reading). */
function blockedWriting(pid: number): boolean {
  try {
    return /pipe_write/.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false;
  }
}

/** Resolves when `child` prints `marker`; rejects, with what it printed, if it exits first. */
function outputOrExit(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes(marker)) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
    child.once('close', (code) => reject(new Error(`exited (${code}) before printing ${marker}: ${output}`)));
  });
}

function pgrepNewest(pattern: string): number | undefined {
  const found = spawnSync('pgrep', ['-n', '-f', pattern], { encoding: 'utf8' }).stdout.trim();
  return found ? Number(found) : undefined;
}

describe('gateway and proxy under attack', { skip: SKIP }, () => {
  const home = newHome();
  let server: http.Server;
  let port = 0;
  let policyFile = '';
  const children: ChildProcess[] = [];
  before(async () => {
    server = http.createServer((_req, res) => res.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    policyFile = writePolicy(path.dirname(home.dir), `version: 1
network_policies:
  local:
    endpoints:
      - { host: 127.0.0.1, port: ${port}, allowed_ips: [127.0.0.1] }
    binaries:
      - { path: /usr/bin/curl }
`, 'curl-local.yaml');
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await home.cleanup();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  // The query marks this test's own curls, so looking for them never finds another test's.
  const curl = (): string[] => ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/?attack-test=${process.pid}`];
  const background = (args: string[], stdio: Array<'pipe' | 'ignore'> = ['ignore', 'pipe', 'pipe']) => {
    const child = spawn(process.execPath, [WARDEN, ...args], { stdio: stdio as ['pipe', 'pipe', 'pipe'], env: { ...process.env, WARDEN_HOME: home.dir } });
    children.push(child);
    return child;
  };

  test('a sandbox with thousands of descriptors cannot freeze the gateway for another sandbox', async () => {
    await home.json(['sandbox', 'create', 'attacker', '--policy', policyFile]);
    await home.json(['sandbox', 'create', 'victim', '--policy', policyFile]);
    // 100 processes holding 4,000 descriptors each: 400,000 links for a naive search to read.
    // Each reports on a pipe once it holds them; "ready" comes when all 100 have. They then stay
    // until killed (the sleeps only keep them alive).
    const hoarder = background(['exec', 'attacker', '--', PY, '-c', `
import os, time
r, w = os.pipe()
for i in range(100):
    if os.fork() == 0:
        os.close(r)
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(4000)]
        os.write(w, b"x"); os.close(w)
        time.sleep(300); os._exit(0)
os.close(w)
held = 0
while held < 100:
    chunk = os.read(r, 100)
    if not chunk: break
    held += len(chunk)
print("ready" if held == 100 else "only %d hoarders" % held, flush=True); time.sleep(300)
`]);
    await outputOrExit(hoarder, 'ready');
    const flood = background(['exec', 'attacker', '--', 'sh', '-c', `for i in $(seq 30); do (${curl().map((a) => `'${a}'`).join(' ')}; echo) & done; wait`]);
    let floodOutput = '';
    flood.stdout!.on('data', (d: Buffer) => { floodOutput += d.toString(); });
    // The flood has begun once one of its curls runs or answers (a fast gateway may answer them
    // all before a look at the process table catches one).
    await waitFor(() => (pgrepNewest(`attack-test=${process.pid}`) ?? 0) > 0 || floodOutput.length > 0 || flood.exitCode !== null, "the attacker's curls to start");
    // While the attacker's connections are being identified, the other sandbox is served and the
    // gateway answers. (How much sooner is the load benchmark's to measure, not a test's.)
    const victim = await home.run(['exec', 'victim', '--', ...curl()]);
    const listed = await home.run(['sandbox', 'list', '--json']);
    assert.equal(victim.stdout, '200', victim.stderr);
    assert.equal(listed.status, 0);
    if (flood.exitCode === null) await new Promise((resolve) => flood.once('close', resolve));
    // Every one of the attacker's requests was decided: allowed, or refused once its sandbox's
    // search limit was reached (fail closed), never left hanging or failed otherwise.
    // (30 shells write to one pipe, so one's status and another's newline may interleave.)
    const answers = floodOutput.match(/\d{3}/g) ?? [];
    assert.equal(answers.length, 30, floodOutput);
    for (const answer of answers) assert.match(answer, /^(200|403)$/);
    assert.equal(floodOutput.replace(/\d{3}|\n/g, ''), '', 'nothing but statuses');
    if (answers.includes('403')) {
      const events = (await home.run(['audit', 'export', '--sandbox', 'attacker'])).stdout;
      assert.match(events, /identification limit/);
    }
    hoarder.kill('SIGKILL');
    await home.run(['sandbox', 'delete', 'attacker', '--purge']);
  });

  test('exec output is flow-controlled end to end: a reader that stops pauses the command, gateway memory stays bounded', async () => {
    await home.json(['sandbox', 'create', 'flood']);
    const gateway = gatewayPid(home);
    const before = rssMiB(gateway);
    const reader = background(['exec', 'flood', '--', 'sh', '-c', 'exec head -c 3000000000 /dev/zero'], ['ignore', 'pipe', 'ignore']);
    // Read a little, then stop reading (as `| sleep 25` would).
    await outputOrExit(reader, '');
    reader.stdout!.pause();
    await waitFor(() => {
      const head = pgrepNewest('head -c 3000000000');
      return head !== undefined && blockedWriting(head);
    }, 'the command to block on its full pipe');
    const grown = rssMiB(gateway) - before;
    assert.ok(grown < 64, `the gateway grew by ${grown.toFixed(1)} MiB while the command produced far more than that`);
    reader.kill('SIGKILL');
  });

  test('exec input is flow-controlled too: a command that does not read holds the client back, not the gateway', async () => {
    await home.json(['sandbox', 'create', 'sink']);
    const gateway = gatewayPid(home);
    const before = rssMiB(gateway);
    const writer = background(['exec', 'sink', '--', 'sleep', '60'], ['pipe', 'ignore', 'ignore']);
    writer.stdin!.on('error', () => undefined); // EPIPE once the client is killed at the end
    const chunk = Buffer.alloc(1024 * 1024);
    let written = 0;
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (writer.stdin!.write(chunk)) {
          written += chunk.length;
          if (written > 2 * 1024 ** 3) return resolve(); // never reached when flow control works
        }
        resolve();
      };
      pump();
    });
    assert.ok(written < 64 * 1024 * 1024, `the client could push ${written} bytes before being held back`);
    assert.ok(rssMiB(gateway) - before < 64);
    writer.kill('SIGKILL');
  });

  test('the main command\'s log is bounded (cut over to main.log.1)', async () => {
    const created = await home.run(['sandbox', 'create', 'chatty', '--', 'sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" x; echo done']);
    assert.equal(created.status, 0, created.stderr);
    const log = path.join(home.dir, 'sandboxes', 'chatty', 'main.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').endsWith('done\n'), 'the main command to finish its log');
    assert.ok(statSync(log).size <= 8 * 1024 * 1024);
    assert.ok(statSync(`${log}.1`).size <= 8 * 1024 * 1024);
  });

  test('code planted with LD_PRELOAD cannot borrow an allowed binary\'s identity', { skip: CC ? false : 'needs a C compiler' }, async () => {
    await home.json(['sandbox', 'create', 'borrow', '--policy', policyFile]);
    const workdir = path.join(home.dir, 'sandboxes', 'borrow', 'workdir');
    const source = path.join(path.dirname(home.dir), 'evil.c');
    writeFileSync(source, '__attribute__((constructor)) static void evil(void) {}\n');
    const library = path.join(path.dirname(home.dir), 'evil.so');
    const built = spawnSync(CC!, ['-shared', '-fPIC', '-o', library, source]);
    assert.equal(built.status, 0, built.stderr?.toString());
    // Placed in the workdir, which the sandbox can write: exactly where an agent would put it.
    writeFileSync(path.join(workdir, 'evil.so'), readFileSync(library));
    const preloaded = await home.run(['exec', 'borrow', '--env', 'LD_PRELOAD=/sandbox/evil.so', '--', ...curl()]);
    assert.equal(preloaded.stdout, '403');
    const plain = await home.run(['exec', 'borrow', '--', ...curl()]);
    assert.equal(plain.stdout, '200', 'control: the same binary without the planted code is allowed');
    const events = (await home.run(['audit', 'export', '--sandbox', 'borrow'])).stdout;
    assert.match(events, /binary_tainted/);
    assert.match(events, /not trusted as itself: it runs code from \/sandbox\/evil\.so, which the sandbox can write/);
  });

  test('fuzz: random requests and exec frames never crash or wedge the gateway, and a bad env gets one reply', async () => {
    await home.json(['sandbox', 'create', 'fuzzed']);
    const socketPath = path.join(home.dir, 'gateway.sock');
    const talk = (data: Buffer): Promise<string> => new Promise((resolve) => {
      const socket = net.connect(socketPath);
      let text = '';
      socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.on('connect', () => socket.end(data));
    });
    // One JSON line per reply, even for an exec whose env is bad (it once got two).
    const badEnv = await talk(Buffer.from(JSON.stringify({ op: 'exec', args: { name: 'fuzzed', argv: ['true'], env: { 'A=B': 1 }, tty: null } }) + '\n'));
    assert.equal(badEnv.split('\n').filter(Boolean).length, 1, badEnv);
    assert.match(badEnv, /"ok":false.*bad_request/);
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const samples = [
      JSON.stringify({ op: 'sandbox.get', args: { name: 'fuzzed' } }),
      JSON.stringify({ op: 'policy.update', args: { name: 'fuzzed', changes: [{ op: 'add-endpoint', host: 'x.example', port: 443 }] } }),
      JSON.stringify({ op: 'exec', args: { name: 'fuzzed', argv: ['cat'], env: {}, tty: null } }),
    ];
    // A fixed number of seeded runs (not a time budget): the same inputs on every machine. Each
    // waits for the gateway to close the connection, with no timeout: a wedge fails the test.
    for (let runs = 0; runs < 1000; runs++) {
      const sample = Buffer.from(samples[Math.floor(next() * samples.length)]! + '\n');
      const bytes = [...sample];
      for (let edits = 1 + Math.floor(next() * 5); edits > 0; edits--) bytes.splice(Math.floor(next() * bytes.length), Math.floor(next() * 3), Math.floor(next() * 256));
      // Random frame bytes after the line, as an exec client's input would be.
      const tail = Buffer.from(Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256)));
      await talk(Buffer.concat([Buffer.from(bytes), tail]));
    }
    const still = await home.run(['exec', 'fuzzed', '--', 'echo', 'alive']);
    assert.equal(still.stdout, 'alive\n', still.stderr);
    assert.equal((await home.run(['gateway', 'status'])).status, 0);
  });

  test('no audit record, no action: with the log refusing records, allowed requests and new execs are refused, and doctor says why', async () => {
    await home.json(['sandbox', 'create', 'audited', '--policy', policyFile]);
    assert.equal((await home.run(['exec', 'audited', '--', ...curl()])).stdout, '200', 'control: allowed while the log takes records');
    // An exec that is already running, waiting for a line before it calls out.
    const waiting = background(['exec', 'audited', '--', 'sh', '-c', `read go; ${curl().join(' ')}`], ['pipe', 'pipe', 'pipe']);
    let answer = '';
    waiting.stdout!.on('data', (d: Buffer) => { answer += d.toString(); });
    await waitFor(() => (pgrepNewest('^sh -c read go') ?? 0) > 0, 'the waiting exec to run'); // the shell inside, not the CLI
    // Someone with the database file appends a record outside warden: the head no longer matches.
    const db = new Database(path.join(home.dir, 'warden.db'));
    const last = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    db.prepare('INSERT INTO audit (seq, ts, kind, sandbox, actor, payload, prev_hash, hash) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?)')
      .run(last.seq + 1, new Date().toISOString(), 'forged.record', '{}', last.hash, 'f'.repeat(64));
    db.close();
    waiting.stdin!.write('go\n');
    await new Promise((resolve) => waiting.once('close', resolve));
    assert.equal(answer, '503', 'the request is refused, not relayed without a record');
    const refused = await home.run(['exec', 'audited', '--', 'true']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /could not be recorded in the audit log/);
    const status = await home.run(['gateway', 'status']);
    assert.equal(status.status, 1);
    assert.match(status.stdout, /FAULT: the audit log refused a record/);
    const doctor = await home.run(['doctor']);
    assert.match(doctor.stdout, /FAIL  audit log: .*does not match the audit head/);
  });
});
