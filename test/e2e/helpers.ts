import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../wait.js';

/** The repository root (tests run from dist/test/e2e). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const WARDEN = path.join(REPO_ROOT, 'bin', 'warden.js');
export const IS_ROOT = process.getuid?.() === 0;
export const HAS_BWRAP = spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).status === 0;
export const SKIP_NO_BWRAP = HAS_BWRAP ? false : 'bubblewrap is not installed';
export const SKIP_NOT_ROOT = IS_ROOT ? false : 'needs root (as in CI): compares with what host root can do';

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function toResult(r: SpawnSyncReturns<string>): Result {
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

let defaultHome: string | undefined;

/**
 * The environment warden runs with in tests: WARDEN_HOME is this test file's own temporary one
 * (every run writes to the audit log there), unless the test gives one; removed when the test
 * process exits, so nothing is left in the real home.
 */
export function testEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  if (defaultHome === undefined) {
    const home = mkdtempSync(path.join(os.tmpdir(), 'warden-test-home-'));
    defaultHome = home;
    process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  }
  return { ...process.env, WARDEN_HOME: defaultHome, ...env };
}

/** Runs the warden CLI to completion. */
export function warden(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Result {
  return toResult(spawnSync(process.execPath, [WARDEN, ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    env: testEnv(opts.env),
    timeout: opts.timeoutMs ?? 30_000,
  }));
}

/**
 * The `result` of warden's --json envelope (docs/commands.md, "JSON output"), after checking that
 * `ok` says what the exit status says.
 */
export function jsonResult<T>(r: Result): T {
  const envelope = JSON.parse(r.stdout) as { ok: boolean; result: T };
  assert.equal(envelope.ok, r.status === 0, `ok and the exit status disagree: ${r.status} ${r.stdout}`);
  return envelope.result;
}

/** The `result` of a successful --json answer, given its text. */
export function resultOf<T>(stdout: string): T {
  const envelope = JSON.parse(stdout) as { ok: boolean; result: T };
  assert.equal(envelope.ok, true, stdout);
  return envelope.result;
}

/** Runs `sh -c script` in a sandbox with the given extra warden options. */
export function inSandbox(script: string, wardenOptions: string[] = [], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Result {
  return warden(['run', ...wardenOptions, '--', 'sh', '-c', script], opts);
}

/**
 * The owner of the test projects used as workdirs: as root an unprivileged uid that no account
 * uses (a sandbox sees its files as its own through an idmapped mount, and they stay this uid's on
 * disk); otherwise the test's own uid.
 */
export const PROJECT_OWNER = IS_ROOT ? { uid: 4242, gid: 4242 } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** A temporary project directory owned by PROJECT_OWNER, removed by cleanup. */
export function projectDir(prefix: string, parent = os.tmpdir()): { dir: string; cleanup: () => void } {
  const project = tempDir(prefix, parent);
  chmodSync(project.dir, 0o755);
  chownSync(project.dir, PROJECT_OWNER.uid, PROJECT_OWNER.gid);
  return project;
}

/** Runs `sh -c script` on the host as PROJECT_OWNER, an unprivileged uid (root in CI drops to it). */
export function onHostAsProjectOwner(script: string): Result {
  const { uid, gid } = PROJECT_OWNER;
  const argv = IS_ROOT
    ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'sh', '-c', script]
    : ['sh', '-c', script];
  return toResult(spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 }));
}

/** Runs `sh -c script` on the host as the current user (root in CI). */
export function onHost(script: string): Result {
  return toResult(spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 30_000 }));
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix: string, parent = os.tmpdir()): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(parent, prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writePolicy(dir: string, yaml: string, name = 'policy.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/**
 * Starts warden in the background without blocking this process's event loop (needed for
 * signal tests, and whenever the test itself serves what the sandbox talks to).
 */
export interface Background {
  pid: number;
  done: Promise<Result>;
  /** What it printed so far. */
  stdout: () => string;
  /** Its result once it has ended. */
  ended: () => Result | undefined;
}

export function wardenAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Background {
  const child = spawn(process.execPath, [WARDEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv(opts.env) });
  let stdout = '';
  let stderr = '';
  let result: Result | undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<Result>((resolve) => {
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      result = { status, signal, stdout, stderr };
      resolve(result);
    });
  });
  return { pid: child.pid ?? -1, done, stdout: () => stdout, ended: () => result };
}

export { waitFor };

/** Waits until a background run has printed `pattern` on stdout; fails at once if it ends before. */
export async function waitForOutput(run: Background, pattern: RegExp | string): Promise<void> {
  const seen = () => (typeof pattern === 'string' ? run.stdout().includes(pattern) : pattern.test(run.stdout()));
  await waitFor(() => {
    if (seen()) return true;
    const ended = run.ended();
    if (ended) throw new Error(`ended before printing ${String(pattern)}: status ${ended.status}, signal ${ended.signal}\nstdout: ${ended.stdout}\nstderr: ${ended.stderr}`);
    return false;
  }, () => `${String(pattern)} on stdout; so far: ${JSON.stringify(run.stdout())}`);
}


export interface Home {
  dir: string;
  run: (args: string[]) => Promise<Result>;
  json: <T>(args: string[]) => Promise<T>;
  cleanup: () => Promise<void>;
}

/** A WARDEN_HOME of its own; cleanup stops its gateway (which stops its sandboxes) and removes it. */
export function newHome(): Home {
  const temp = tempDir('warden-e2e-gw-');
  chmodSync(temp.dir, 0o711);
  const dir = path.join(temp.dir, 'home');
  const run = (args: string[]) => wardenAsync(args, { env: { WARDEN_HOME: dir }, timeoutMs: 60_000 }).done;
  return {
    dir,
    run,
    json: async <T>(args: string[]) => {
      const result = await run([...args, '--json']);
      assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}${result.stdout}`);
      const envelope = JSON.parse(result.stdout) as { ok: boolean; result: T };
      assert.equal(envelope.ok, true, result.stdout);
      return envelope.result;
    },
    cleanup: async () => {
      await run(['gateway', 'stop']);
      temp.cleanup();
    },
  };
}

export function gatewayPid(home: Home): number {
  const starts = [...readFileSync(path.join(home.dir, 'gateway.log'), 'utf8').matchAll(/gateway (\d+) listening/g)];
  return Number(starts.at(-1)?.[1]);
}

/** An HTTP server of the test's own on 127.0.0.1 (a free port), and how to close it. */
export async function startLoopbackServer(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
